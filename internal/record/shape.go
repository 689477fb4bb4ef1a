package record

import (
	"bytes"
	"unicode/utf8"
)

// valueSpan is where scanJSONMember found a string ('"') or number ('0') value.
type valueSpan struct {
	start, end int
	kind       byte
}

// PayloadScanner is AppendPayloadMember for the payloads of one batch, which
// mostly share one shape: the same member names in the same order, with only
// the values of strings and numbers differing (a sensor's readings). It learns
// the shape of a compact JSON payload, the text between its string and number
// values, and checks a later payload against it: the same text around a valid
// string or number where the shape has one makes the same valid, compact JSON
// (any valid JSON string or number may stand for another), with the member at
// the same value. That costs a comparison per stretch of text and a scan of
// each value, instead of the full scan. Any other payload takes the full scan,
// and a valid compact one becomes the shape. The results are
// AppendPayloadMember's, byte for byte (FuzzPayloadScanner checks it).
//
// The zero value looks up no member; Reset sets the member and forgets the
// shape. A PayloadScanner is not safe for concurrent use.
type PayloadScanner struct {
	name string
	// The shape: text[lits[0]] value 0 text[lits[1]] … value n-1
	// text[lits[n]], where kinds[k] is value k's kind.
	text   []byte
	lits   [][2]int
	kinds  []byte
	member int // the value that is the member, or noMember, or unknownMember
	known  bool
	vals   []valueSpan // scratch
}

// Reset makes s look up member name and forget the shape it learned.
func (s *PayloadScanner) Reset(name string) {
	s.name, s.known = name, false
}

// Append appends the JSON representation of data to dst as AppendPayloadMember
// (dst, data, name) does, name being the one given to Reset, and returns what it
// returns.
func (s *PayloadScanner) Append(dst, data []byte) (out []byte, kind Kind, member []byte, ok bool) {
	return s.scan(dst, data, true)
}

// Payload is Append without the copy when data is its own JSON representation
// (compact JSON, the common case): out is then data itself and member a slice
// of it, and dst is not used. Otherwise it returns what Append(dst, data)
// returns. The caller that appends the payload somewhere else anyway saves a
// copy.
func (s *PayloadScanner) Payload(dst, data []byte) (out []byte, kind Kind, member []byte, ok bool) {
	return s.scan(dst, data, false)
}

// scan is Append, or Payload when copyData is false.
func (s *PayloadScanner) scan(dst, data []byte, copyData bool) (out []byte, kind Kind, member []byte, ok bool) {
	if s.known {
		if m, fits := s.fits(data); fits && utf8.Valid(data) {
			return s.same(dst, data, m, copyData)
		}
	}
	if !utf8.Valid(data) {
		return AppendPayloadMember(dst, data, s.name)
	}
	s.vals = s.vals[:0]
	valid, compact, m := scanJSONMember(data, s.name, true, &s.vals)
	if !valid || !compact {
		return AppendPayloadMember(dst, data, s.name)
	}
	s.learn(data, m)
	return s.same(dst, data, m, copyData)
}

// same returns the valid, compact data, whose member is at m, as its own JSON
// representation: appended to dst if copyData, else data itself.
func (s *PayloadScanner) same(dst, data []byte, m [2]int, copyData bool) (out []byte, kind Kind, member []byte, ok bool) {
	n := 0
	out = data
	if copyData {
		n = len(dst)
		out = append(dst, data...)
	}
	member, ok = memberAt(out, n, s.name, m)
	return out, JSON, member, ok
}

// learn makes the valid, compact data, whose values scanJSONMember put in
// s.vals and whose member is at m, the shape.
func (s *PayloadScanner) learn(data []byte, m [2]int) {
	if m[0] == unknownMember {
		s.known = false // a value nested too deep: s.vals is incomplete
		return
	}
	s.text = append(s.text[:0], data...)
	s.lits = s.lits[:0]
	s.kinds = s.kinds[:0]
	// The member is noMember, or one of the values, or else an object, an
	// array or a literal, which Append looks up in the payload.
	s.member = m[0]
	if m[0] >= 0 {
		s.member = unknownMember
	}
	at := 0
	for k, v := range s.vals {
		s.lits = append(s.lits, [2]int{at, v.start})
		s.kinds = append(s.kinds, v.kind)
		if v.start == m[0] && v.end == m[1] {
			s.member = k
		}
		at = v.end
	}
	s.lits = append(s.lits, [2]int{at, len(data)})
	s.known = true
}

// fits reports whether data has s's shape and, if so, where its member is (as
// scanJSONMember reports it).
func (s *PayloadScanner) fits(data []byte) ([2]int, bool) {
	i := 0
	lit := s.text[s.lits[0][0]:s.lits[0][1]]
	if !bytes.HasPrefix(data, lit) {
		return [2]int{}, false
	}
	i += len(lit)
	m := [2]int{s.member, 0}
	for k, kind := range s.kinds {
		start := i
		if kind == '"' {
			if i >= len(data) || data[i] != '"' {
				return [2]int{}, false
			}
			var sep bool
			if i, sep = scanString(data, i); sep {
				return [2]int{}, false // the output escapes it: not data as it is
			}
		} else {
			i = scanNumber(data, i)
		}
		if i < 0 {
			return [2]int{}, false
		}
		if k == s.member {
			m = [2]int{start, i}
		}
		lit := s.text[s.lits[k+1][0]:s.lits[k+1][1]]
		if !bytes.HasPrefix(data[i:], lit) {
			return [2]int{}, false
		}
		i += len(lit)
	}
	return m, i == len(data)
}
