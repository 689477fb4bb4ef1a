package summary

import (
	"bytes"
	"encoding/json"
	"unsafe"

	"github.com/streamlake/streamlake/internal/record"
)

// The helpers below walk JSON that encoding/json.Valid has accepted, so they need
// no error handling of their own; they allow the whitespace JSON allows.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// members iterates over the members of a valid JSON object.
type members struct {
	b []byte
	i int
}

// newMembers starts iterating over v; ok is false if v is not an object.
func newMembers(v []byte) (members, bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return members{}, false
	}
	return members{b: v, i: i + 1}, true
}

// next returns the raw name (between the quotes, escapes not decoded) and the value
// of the next member.
func (m *members) next() (name, value []byte, ok bool) {
	i := skipSpace(m.b, m.i)
	if i < len(m.b) && m.b[i] == ',' {
		i = skipSpace(m.b, i+1)
	}
	if i >= len(m.b) || m.b[i] != '"' {
		return nil, nil, false
	}
	end := record.SkipString(m.b, i)
	name = m.b[i+1 : end-1]
	i = skipSpace(m.b, end)
	i = skipSpace(m.b, i+1) // past ':'
	vend := record.SkipValue(m.b, i)
	m.i = vend
	return name, m.b[i:vend], true
}

// nameIs reports whether a raw member name equals s once unescaped: the
// processor's check reads names the same way (record.NameEquals).
func nameIs(raw []byte, s string) bool { return record.NameEquals(raw, s) }

// member returns the value of the member called name of the object v.
func member(v []byte, name string) ([]byte, bool) {
	it, ok := newMembers(v)
	if !ok {
		return nil, false
	}
	var found []byte
	ok = false
	for {
		n, val, more := it.next()
		if !more {
			return found, ok
		}
		if nameIs(n, name) {
			found, ok = val, true // the last duplicate wins, as in encoding/json
		}
	}
}

// lookup follows path (member names) from v.
func lookup(v []byte, path []string) ([]byte, bool) {
	for _, p := range path {
		var ok bool
		if v, ok = member(v, p); !ok {
			return nil, false
		}
	}
	return v, true
}

// isNull reports whether v is the literal null.
func isNull(v []byte) bool { return string(v) == "null" }

// stringValue returns the string a JSON string value holds. Without escapes the
// result aliases v (no copy) and is only valid while v is.
func stringValue(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		if len(inner) == 0 {
			return "", true
		}
		return unsafe.String(&inner[0], len(inner)), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// bytesString returns b as a string that aliases it.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
