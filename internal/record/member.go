package record

import (
	"bytes"
	"encoding/json"
	"unsafe"
)

// TopLevelMember returns the raw value of the member name of a compact JSON object
// (as AppendPayload produces), without decoding the object: the transform hot path
// looks at one or two fields of every record and must not allocate. It reports false
// if obj is not an object or has no such member. Member names are compared as JSON
// reads them (NameEquals): "time\u0073tamp" is the member timestamp, as it is for
// encoding/json and for the aggregator. When a name repeats, the last one wins, as
// in encoding/json.
func TopLevelMember(obj []byte, name string) ([]byte, bool) {
	if len(obj) < 2 || obj[0] != '{' {
		return nil, false
	}
	var found []byte
	ok := false
	i := 1
	for i < len(obj) && obj[i] != '}' {
		if obj[i] == ',' {
			i++
		}
		if i >= len(obj) || obj[i] != '"' {
			return nil, false
		}
		end := SkipString(obj, i)
		if end >= len(obj) || end-1 <= i {
			return nil, false // an unterminated name: not a JSON object
		}
		key := obj[i+1 : end-1]
		i = end
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i++
		vend := SkipValue(obj, i)
		if vend <= i {
			return nil, false
		}
		if NameEquals(key, name) {
			found, ok = obj[i:vend], true
		}
		i = vend
	}
	return found, ok
}

// Lookup returns the raw value at path in the compact JSON object obj: path[0]
// is a member of obj, path[1] a member of that member's value, and so on (the
// field "location.lat" is the path ["location", "lat"]). Each step is
// TopLevelMember's.
func Lookup(obj []byte, path []string) ([]byte, bool) {
	v := obj
	for _, name := range path {
		var ok bool
		if v, ok = TopLevelMember(v, name); !ok {
			return nil, false
		}
	}
	return v, len(path) > 0
}

// NameEquals reports whether raw, a member name as written in valid JSON (the
// text between its quotes), is name once its escapes are decoded as
// encoding/json decodes them. A name without a backslash is compared as it is,
// with no allocation; the processor's check and the aggregator both read
// member names with it, so that they find the same member.
func NameEquals(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == name
	}
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if err := json.Unmarshal(q, &s); err != nil {
		return false
	}
	return s == name
}

// StringValue returns the contents of a JSON string value that has no escapes, as a
// string that aliases v (no copy): it is only valid while v is unchanged. It reports
// false for other values and for strings with escapes.
func StringValue(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') >= 0 {
		return "", false
	}
	if len(inner) == 0 {
		return "", true
	}
	return unsafe.String(&inner[0], len(inner)), true
}

// SkipString returns the index just past the JSON string that starts at b[i] ==
// '"', or len(b) if it is not terminated. It does not validate the string: it is
// for walking JSON that is known to be valid (encoding/json.Valid or package
// record's own scan accepted it), without decoding it.
func SkipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// SkipValue returns the index just past the JSON value that starts at b[i] (i
// itself if i >= len(b)), in valid JSON, with or without whitespace: a number or
// literal ends at the first ',', '}', ']' or whitespace. Like SkipString it does
// not validate.
func SkipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = SkipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !isJSONSpace(b[j]) {
		j++
	}
	return j
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
