package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// ambiguousMember reports a member that encoding/json would read into a field
// of events.KinesisEvent that another member of the same object fills too:
// encoding/json matches member names to fields without regard to case
// (bytes.EqualFold) and keeps the last value, so an event with "Records" twice
// (or "Records" and "records") would be read as its last array alone, and a
// record with two "data" members as its last payload, dropping the others
// without a word. Lambda never sends such an event; HandleJSON refuses it
// rather than guess. Only members that encoding/json maps to a field are
// compared (others, such as a tumbling window's "state", are not read). It
// returns "" when there is none, and when the text is not JSON that
// json.Unmarshal would accept (which then reports its own error).
func ambiguousMember(payload []byte) string {
	return ambiguousIn(payload, "the event", eventShape)
}

// shape is the fields of an object encoding/json decodes into a struct, and the
// shapes of the objects (or arrays of objects) that some of them hold.
type shape struct {
	fields []string
	nested map[string]*shape
}

// The JSON names of events.KinesisEvent's, events.KinesisEventRecord's and
// events.KinesisRecord's fields.
var (
	kinesisShape = &shape{fields: []string{"approximateArrivalTimestamp", "data", "encryptionType", "partitionKey", "sequenceNumber", "kinesisSchemaVersion"}}
	recordShape  = &shape{
		fields: []string{"eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn", "awsRegion", "eventSourceARN", "kinesis"},
		nested: map[string]*shape{"kinesis": kinesisShape},
	}
	eventShape = &shape{fields: []string{"Records"}, nested: map[string]*shape{"Records": recordShape}}
)

// field returns the field a member name fills, or "".
func (s *shape) field(name string) string {
	for _, f := range s.fields {
		if strings.EqualFold(name, f) {
			return f
		}
	}
	return ""
}

// ambiguousIn is ambiguousMember for the value raw, an object of shape s or an
// array of them, at path.
func ambiguousIn(raw []byte, path string, s *shape) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return ""
		}
		for i, e := range elems {
			if msg := ambiguousIn(e, fmt.Sprintf("%s[%d]", path, i), s); msg != "" {
				return msg
			}
		}
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	seen := map[string]string{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		name, _ := t.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return ""
		}
		f := s.field(name)
		if f == "" {
			continue
		}
		if prev, ok := seen[f]; ok {
			if prev == name {
				return fmt.Sprintf("%s has the member %q twice", path, name)
			}
			return fmt.Sprintf("%s has the members %q and %q, which encoding/json reads into one field", path, prev, name)
		}
		seen[f] = name
		if sub := s.nested[f]; sub != nil {
			if msg := ambiguousIn(val, path+"."+name, sub); msg != "" {
				return msg
			}
		}
	}
	return ""
}
