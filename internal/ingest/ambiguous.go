package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
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
// json.Unmarshal would accept (which then reports its own error). It runs on
// the encoding/json path only: the fast decoder refuses a repeated member or
// another case itself.
func ambiguousMember(payload []byte) string {
	return ambiguousIn(payload, eventShape())
}

// shape is the JSON names of the fields of a struct that encoding/json decodes
// an object into, and the shapes of the objects (or arrays of objects) that
// some of them hold.
type shape struct {
	fields []string
	nested map[string]*shape
}

// eventShape is events.KinesisEvent's, taken from its struct tags so that it
// follows aws-lambda-go; made on the first use, as only events the fast decoder
// declines need it, not every cold start.
var eventShape = sync.OnceValue(func() *shape { return shapeOf(reflect.TypeFor[events.KinesisEvent]()) })

// shapeOf returns the shape of struct type t as encoding/json sees it: each
// exported field by its tag's name (or its Go name), the fields of an embedded
// struct as its own, and a field of a struct type (or a slice of one) that has
// no UnmarshalJSON of its own as nested.
func shapeOf(t reflect.Type) *shape {
	s := &shape{nested: map[string]*shape{}}
	unmarshaler := reflect.TypeFor[json.Unmarshaler]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		ft := f.Type
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			sub := shapeOf(ft)
			s.fields = append(s.fields, sub.fields...)
			for k, v := range sub.nested {
				s.nested[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.fields = append(s.fields, name)
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshaler) {
			s.nested[name] = shapeOf(ft)
		}
	}
	return s
}

// field returns the field a member name fills, or "".
func (s *shape) field(name string) string {
	for _, f := range s.fields {
		if strings.EqualFold(name, f) {
			return f
		}
	}
	return ""
}

// frame is an open object or array of the walk in ambiguousIn.
type frame struct {
	object    bool
	s         *shape            // the object's shape, or the array's elements'; nil: not read
	seen      map[string]string // the object's members so far, by field
	expectKey bool              // the object's next token is a member name
	name      string            // the member that holds this value ("" at the top)
	index     int               // the array's next element
}

// ambiguousIn is ambiguousMember for payload, walked once with json.Decoder's
// tokens (no value is copied), objects of shape s at the top.
func ambiguousIn(payload []byte, s *shape) string {
	dec := json.NewDecoder(bytes.NewReader(payload))
	var stack []frame
	next := s // the shape of the next object (or array of them) opened
	name := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return "" // the end, or an error json.Unmarshal reports itself
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			top := &stack[n-1]
			if tok == json.Delim('}') {
				stack = closeValue(stack[:n-1])
				continue
			}
			key, _ := tok.(string)
			top.expectKey = false
			next, name = nil, key
			if top.s == nil {
				continue
			}
			f := top.s.field(key)
			if f == "" {
				continue
			}
			if prev, ok := top.seen[f]; ok {
				if prev == key {
					return fmt.Sprintf("%s has the member %q twice", where(stack), key)
				}
				return fmt.Sprintf("%s has the members %q and %q, which encoding/json reads as one", where(stack), prev, key)
			}
			if top.seen == nil {
				top.seen = map[string]string{}
			}
			top.seen[f] = key
			next = top.s.nested[f]
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			s := next
			if n := len(stack); n > 0 && !stack[n-1].object {
				s = stack[n-1].s // an element of an array of objects
			}
			stack = append(stack, frame{object: tok == json.Delim('{'), s: s, expectKey: tok == json.Delim('{'), name: name})
			next, name = nil, ""
		case json.Delim(']'):
			stack = closeValue(stack[:len(stack)-1])
		default:
			stack = closeValue(stack)
		}
	}
}

// closeValue notes, in the frame that holds it, that a value ended.
func closeValue(stack []frame) []frame {
	if n := len(stack); n > 0 {
		if top := &stack[n-1]; top.object {
			top.expectKey = true
		} else {
			top.index++
		}
	}
	return stack
}

// where names the object at the top of stack as the other errors name things:
// "the event", "record 3", "record 3: kinesis" (and, for a shape aws-lambda-go
// might add, the path of member names and indexes).
func where(stack []frame) string {
	inRecords := len(stack) >= 3 && !stack[1].object && stack[1].name == "Records"
	switch {
	case len(stack) == 1:
		return "the event"
	case inRecords && len(stack) == 3:
		return fmt.Sprintf("record %d", stack[1].index)
	case inRecords && len(stack) == 4:
		return fmt.Sprintf("record %d: %s", stack[1].index, stack[3].name)
	}
	var b strings.Builder
	b.WriteString("the event")
	for i := 1; i < len(stack); i++ {
		if stack[i-1].object {
			b.WriteString("." + stack[i].name)
		} else {
			fmt.Fprintf(&b, "[%d]", stack[i-1].index)
		}
	}
	return b.String()
}
