package filter

import (
	"errors"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is the deepest container nesting accepted in record data, Jackson's
// default StreamReadConstraints limit. Deeper data is treated as not JSON; the
// limit also bounds the scanner's recursion.
const maxDepth = 1000

var (
	errSyntax = errors.New("filter: record data is not valid JSON")
	errUTF8   = errors.New("filter: record data is not valid UTF-8")
	errDepth  = errors.New("filter: record data nests deeper than 1000 levels")
)

// vkind is the JSON type of a tape value.
type vkind uint8

const (
	kObject vkind = iota + 1
	kArray
	kString
	kNumber
	kTrue
	kFalse
	kNull
)

// Number parse states cached on a tape value.
const (
	numUnparsed uint8 = iota
	numFinite
	numOutOfRange
)

// value is one entry of the tape: a value on a referenced path. Containers link
// their children through first/next; object members carry their trie node in key.
type value struct {
	kind  vkind
	inBuf bool  // string bytes (unescaped) are in scratch.buf, not in data
	num   uint8 // numUnparsed, numFinite, numOutOfRange
	key   int32 // trie node of an object member, -1 otherwise
	start int32 // scalar bytes: data[start:end] (strings without quotes) or buf[start:end]
	end   int32
	first int32 // first child, -1 if none
	next  int32 // next sibling, -1 if none
	f     float64
}

// scratch is the per-call state of Match, reused through Criteria.pool.
type scratch struct {
	data []byte
	pos  int
	tape []value
	buf  []byte
	t    *trie
}

// parse scans data, which must be exactly one JSON value, keeping the values on
// paths in t. It returns the tape index of the root value.
func (s *scratch) parse(data []byte, t *trie) (int32, error) {
	s.data, s.pos, s.t = data, 0, t
	s.tape, s.buf = s.tape[:0], s.buf[:0]
	s.skipWS()
	root, err := s.value(0, 0)
	if err != nil {
		return -1, err
	}
	s.skipWS()
	if s.pos != len(s.data) {
		return -1, errSyntax
	}
	return root, nil
}

func (s *scratch) skipWS() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scratch) push(v value) int32 {
	s.tape = append(s.tape, v)
	return int32(len(s.tape) - 1)
}

// value parses the value at s.pos, whose path is trie node node, at container
// depth depth (the number of enclosing containers).
func (s *scratch) value(node int32, depth int) (int32, error) {
	if s.pos >= len(s.data) {
		return -1, errSyntax
	}
	switch c := s.data[s.pos]; c {
	case '{':
		return s.object(node, depth+1)
	case '[':
		return s.array(node, depth+1)
	case '"':
		start, end, esc, err := s.scanString()
		if err != nil {
			return -1, err
		}
		v := value{kind: kString, key: -1, first: -1, next: -1, start: int32(start), end: int32(end)}
		if esc {
			b := len(s.buf)
			s.buf = unescape(s.buf, s.data[start:end])
			v.inBuf, v.start, v.end = true, int32(b), int32(len(s.buf))
		}
		return s.push(v), nil
	case 't', 'f', 'n':
		k, err := s.scanLiteral()
		if err != nil {
			return -1, err
		}
		return s.push(value{kind: k, key: -1, first: -1, next: -1}), nil
	default:
		start := s.pos
		if err := s.scanNumber(); err != nil {
			return -1, err
		}
		return s.push(value{kind: kNumber, key: -1, first: -1, next: -1, start: int32(start), end: int32(s.pos)}), nil
	}
}

func (s *scratch) object(node int32, depth int) (int32, error) {
	if depth > maxDepth {
		return -1, errDepth
	}
	if !s.t.hasChildren(node) {
		// A leaf path holding an object: it has no value for the matchers, so
		// only validate it.
		if err := s.skipObject(depth); err != nil {
			return -1, err
		}
		return s.push(value{kind: kObject, key: -1, first: -1, next: -1}), nil
	}
	idx := s.push(value{kind: kObject, key: -1, first: -1, next: -1})
	if s.enter('}') {
		return idx, nil
	}
	last := int32(-1)
	for ; ; s.skipWS() {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return -1, errSyntax
		}
		kstart, kend, esc, err := s.scanString()
		if err != nil {
			return -1, err
		}
		var child int32
		if esc {
			mark := len(s.buf)
			s.buf = unescape(s.buf, s.data[kstart:kend])
			child = s.t.lookup(node, s.buf[mark:])
			s.buf = s.buf[:mark]
		} else {
			child = s.t.lookup(node, s.data[kstart:kend])
		}
		if err := s.colon(); err != nil {
			return -1, err
		}
		if child < 0 {
			if err := s.skip(depth); err != nil {
				return -1, err
			}
		} else {
			ci, err := s.value(child, depth)
			if err != nil {
				return -1, err
			}
			s.tape[ci].key = child
			s.link(idx, &last, ci)
		}
		if more, err := s.more('}'); !more {
			return idx, err
		}
	}
}

func (s *scratch) array(node int32, depth int) (int32, error) {
	if depth > maxDepth {
		return -1, errDepth
	}
	idx := s.push(value{kind: kArray, key: -1, first: -1, next: -1})
	if s.enter(']') {
		return idx, nil
	}
	last := int32(-1)
	for ; ; s.skipWS() {
		ci, err := s.value(node, depth)
		if err != nil {
			return -1, err
		}
		s.link(idx, &last, ci)
		if more, err := s.more(']'); !more {
			return idx, err
		}
	}
}

// enter moves past the opening bracket at s.pos and reports whether the
// container is empty, in which case it also moves past the closing one.
func (s *scratch) enter(closing byte) bool {
	s.pos++
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == closing {
		s.pos++
		return true
	}
	return false
}

// colon moves past the ':' after an object key and the blanks around it.
func (s *scratch) colon() error {
	s.skipWS()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		return errSyntax
	}
	s.pos++
	s.skipWS()
	return nil
}

// more moves past what follows a container's element: it reports true after a
// ',' (another element follows; blanks before it are left to the caller) and
// false after the closing bracket; anything else is a syntax error.
func (s *scratch) more(closing byte) (bool, error) {
	s.skipWS()
	if s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',':
			s.pos++
			return true, nil
		case closing:
			s.pos++
			return false, nil
		}
	}
	return false, errSyntax
}

// link appends tape value ci to the children of container idx, whose last
// child so far is *last (-1 for none).
func (s *scratch) link(idx int32, last *int32, ci int32) {
	if *last < 0 {
		s.tape[idx].first = ci
	} else {
		s.tape[*last].next = ci
	}
	*last = ci
}

// skip validates the value at s.pos without recording it; depth is the number
// of enclosing containers.
func (s *scratch) skip(depth int) error {
	if s.pos >= len(s.data) {
		return errSyntax
	}
	switch s.data[s.pos] {
	case '{':
		if depth+1 > maxDepth {
			return errDepth
		}
		return s.skipObject(depth + 1)
	case '[':
		if depth+1 > maxDepth {
			return errDepth
		}
		return s.skipArray(depth + 1)
	case '"':
		_, _, _, err := s.scanString()
		return err
	case 't', 'f', 'n':
		_, err := s.scanLiteral()
		return err
	default:
		return s.scanNumber()
	}
}

// skipObject validates the object at s.pos, which is at depth depth.
func (s *scratch) skipObject(depth int) error {
	if s.enter('}') {
		return nil
	}
	for ; ; s.skipWS() {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return errSyntax
		}
		if _, _, _, err := s.scanString(); err != nil {
			return err
		}
		if err := s.colon(); err != nil {
			return err
		}
		if err := s.skip(depth); err != nil {
			return err
		}
		if more, err := s.more('}'); !more {
			return err
		}
	}
}

func (s *scratch) skipArray(depth int) error {
	if s.enter(']') {
		return nil
	}
	for ; ; s.skipWS() {
		if err := s.skip(depth); err != nil {
			return err
		}
		if more, err := s.more(']'); !more {
			return err
		}
	}
}

// plain marks the bytes that may appear unescaped in a JSON string and need no
// further checking: printable ASCII except '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString validates the string starting at the quote at s.pos and moves past
// its closing quote. start:end is its content; esc reports escape sequences.
func (s *scratch) scanString() (start, end int, esc bool, err error) {
	d := s.data
	i := s.pos + 1
	start = i
	for i < len(d) {
		c := d[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.pos = i + 1
			return start, i, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(d) {
				return 0, 0, false, errSyntax
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return 0, 0, false, errSyntax
				}
				i += 6
			default:
				return 0, 0, false, errSyntax
			}
		case c < 0x20:
			return 0, 0, false, errSyntax
		default:
			r, n := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && n == 1 {
				return 0, 0, false, errUTF8
			}
			i += n
		}
	}
	return 0, 0, false, errSyntax
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) rune {
	switch {
	case c <= '9':
		return rune(c - '0')
	case c >= 'a':
		return rune(c-'a') + 10
	default:
		return rune(c-'A') + 10
	}
}

// hex4 decodes four validated hex digits.
func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// unescape appends the decoded content of a validated JSON string to dst. Like
// encoding/json, an unpaired UTF-16 surrogate becomes U+FFFD.
func unescape(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		if c != '\\' {
			j := i + 1
			for j < len(src) && src[j] != '\\' {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		switch e := src[i+1]; e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(src[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(src) && src[i] == '\\' && src[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(src[i+2:])); dec != unicode.ReplacementChar {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = unicode.ReplacementChar
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
		i += 2
	}
	return dst
}

// scanLiteral validates true, false or null at s.pos.
func (s *scratch) scanLiteral() (vkind, error) {
	rest := s.data[s.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		s.pos += 4
		return kTrue, nil
	case len(rest) >= 5 && string(rest[:5]) == "false":
		s.pos += 5
		return kFalse, nil
	case len(rest) >= 4 && string(rest[:4]) == "null":
		s.pos += 4
		return kNull, nil
	}
	return 0, errSyntax
}

// skipDigits returns the index of the first byte at or after i in d that is
// not an ASCII digit.
func skipDigits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// scanNumber validates an RFC 8259 number at s.pos. What follows it is checked
// by the caller, which expects a delimiter.
func (s *scratch) scanNumber() error {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	if i >= len(d) {
		return errSyntax
	}
	switch c := d[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = skipDigits(d, i+1)
	default:
		return errSyntax
	}
	if i < len(d) && d[i] == '.' {
		j := skipDigits(d, i+1)
		if j == i+1 {
			return errSyntax
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := skipDigits(d, i)
		if j == i {
			return errSyntax
		}
		i = j
	}
	s.pos = i
	return nil
}
