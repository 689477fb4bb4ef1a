package filter

import (
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// opKind is the test a matcher applies to one leaf value.
type opKind uint8

const (
	opExactString  opKind = iota // string equal to s
	opExactNumber                // number whose text is s
	opTrue                       // literal true
	opFalse                      // literal false
	opNull                       // literal null
	opPrefix                     // string starting with s
	opSuffix                     // string ending with s
	opEqualFold                  // string equal to s ignoring case
	opPrefixFold                 // string starting with s ignoring case
	opSuffixFold                 // string ending with s ignoring case
	opNumeric                    // number within lo/hi
	opExists                     // any leaf
	opNotStrings                 // anything but a string in strs
	opNotNumbers                 // anything but a number equal to one in nums
	opNotPrefix                  // anything but a string starting with one in strs
	opNotSuffix                  // anything but a string ending with one in strs
	opNotEqualFold               // anything but a string equal to one in strs ignoring case
)

// bound is one side of a numeric range.
type bound uint8

const (
	boundNone bound = iota
	boundExcl
	boundIncl
)

// matcher is one compiled match value of a field.
type matcher struct {
	kind       opKind
	loOp, hiOp bound
	s          string
	strs       []string
	nums       []float64
	lo, hi     float64
}

// objMatches reports whether pattern p matches the tape value vi (-1: missing).
// An array matches if any element does; anything that is not an object is
// tested as an empty object.
func (s *scratch) objMatches(p *objPattern, vi int32) bool {
	if vi < 0 {
		return p.emptyOK
	}
	switch v := &s.tape[vi]; v.kind {
	case kObject:
		for i := range p.fields {
			f := &p.fields[i]
			if !s.fieldMatches(f, s.member(vi, f.node)) {
				return false
			}
		}
		return true
	case kArray:
		if v.first < 0 {
			return p.emptyOK
		}
		for c := v.first; c >= 0; c = s.tape[c].next {
			if s.objMatches(p, c) {
				return true
			}
		}
		return false
	default:
		return p.emptyOK
	}
}

// member returns the last member of object vi on trie node node (duplicate
// keys: the last one wins), or -1.
func (s *scratch) member(vi, node int32) int32 {
	found := int32(-1)
	for c := s.tape[vi].first; c >= 0; c = s.tape[c].next {
		if s.tape[c].key == node {
			found = c
		}
	}
	return found
}

func (s *scratch) fieldMatches(f *fieldPattern, vi int32) bool {
	if f.obj != nil {
		return s.objMatches(f.obj, vi)
	}
	if vi < 0 {
		return f.leaf.absentOK
	}
	sawLeaf, matched := s.leafMatches(f.leaf, vi)
	return matched || (!sawLeaf && f.leaf.absentOK)
}

// leafMatches tests the leaf values at vi (array elements, flattened) against
// the field's matchers. sawLeaf reports whether there was any leaf value.
func (s *scratch) leafMatches(l *leafPattern, vi int32) (sawLeaf, matched bool) {
	switch v := &s.tape[vi]; v.kind {
	case kObject:
		return false, false
	case kArray:
		for c := v.first; c >= 0; c = s.tape[c].next {
			saw, m := s.leafMatches(l, c)
			if m {
				return true, true
			}
			sawLeaf = sawLeaf || saw
		}
		return sawLeaf, false
	}
	for i := range l.matchers {
		if s.test(&l.matchers[i], vi) {
			return true, true
		}
	}
	return true, false
}

// str returns the unescaped bytes of string value v.
func (s *scratch) str(v *value) []byte {
	if v.inBuf {
		return s.buf[v.start:v.end]
	}
	return s.data[v.start:v.end]
}

// number returns the value of number vi; ok is false beyond the float64 range.
func (s *scratch) number(vi int32) (f float64, ok bool) {
	v := &s.tape[vi]
	if v.num == numUnparsed {
		// The conversion does not allocate for numbers up to 32 bytes long.
		f, err := strconv.ParseFloat(string(s.data[v.start:v.end]), 64)
		if err != nil || math.IsInf(f, 0) {
			v.num = numOutOfRange
		} else {
			v.num, v.f = numFinite, f
		}
	}
	return v.f, v.num == numFinite
}

// test applies one matcher to the leaf value vi.
func (s *scratch) test(m *matcher, vi int32) bool {
	v := &s.tape[vi]
	switch m.kind {
	case opExactString:
		return v.kind == kString && string(s.str(v)) == m.s
	case opExactNumber:
		return v.kind == kNumber && string(s.data[v.start:v.end]) == m.s
	case opTrue:
		return v.kind == kTrue
	case opFalse:
		return v.kind == kFalse
	case opNull:
		return v.kind == kNull
	case opPrefix:
		return v.kind == kString && hasPrefix(s.str(v), m.s)
	case opSuffix:
		return v.kind == kString && hasSuffix(s.str(v), m.s)
	case opEqualFold:
		return v.kind == kString && equalFold(s.str(v), m.s)
	case opPrefixFold:
		return v.kind == kString && hasPrefixFold(s.str(v), m.s)
	case opSuffixFold:
		return v.kind == kString && hasSuffixFold(s.str(v), m.s)
	case opNumeric:
		if v.kind != kNumber {
			return false
		}
		f, ok := s.number(vi)
		return ok && m.inRange(f)
	case opExists:
		return true
	case opNotStrings:
		if v.kind == kString {
			b := s.str(v)
			for _, x := range m.strs {
				if string(b) == x {
					return false
				}
			}
		}
		return true
	case opNotNumbers:
		if v.kind == kNumber {
			if f, ok := s.number(vi); ok {
				for _, x := range m.nums {
					if f == x {
						return false
					}
				}
			}
		}
		return true
	case opNotPrefix, opNotSuffix:
		if v.kind != kString {
			return true
		}
		b := s.str(v)
		for _, x := range m.strs {
			if m.kind == opNotPrefix && hasPrefix(b, x) || m.kind == opNotSuffix && hasSuffix(b, x) {
				return false
			}
		}
		return true
	case opNotEqualFold:
		if v.kind == kString {
			b := s.str(v)
			for _, x := range m.strs {
				if equalFold(b, x) {
					return false
				}
			}
		}
		return true
	}
	return false
}

func (m *matcher) inRange(f float64) bool {
	switch m.loOp {
	case boundExcl:
		if !(f > m.lo) {
			return false
		}
	case boundIncl:
		if !(f >= m.lo) {
			return false
		}
	}
	switch m.hiOp {
	case boundExcl:
		return f < m.hi
	case boundIncl:
		return f <= m.hi
	}
	return true
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

func hasSuffix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[len(b)-len(p):]) == p
}

// runeEqualFold reports whether a and b are equal under Unicode simple case
// folding, as strings.EqualFold defines it.
func runeEqualFold(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// foldPrefixLen matches p against the start of b ignoring case and returns the
// number of bytes of b consumed, or -1.
func foldPrefixLen(b []byte, p string) int {
	i := 0
	for _, pr := range p {
		if i >= len(b) {
			return -1
		}
		br, n := rune(b[i]), 1
		if br >= utf8.RuneSelf {
			br, n = utf8.DecodeRune(b[i:])
		}
		if !runeEqualFold(br, pr) {
			return -1
		}
		i += n
	}
	return i
}

func equalFold(b []byte, p string) bool {
	return foldPrefixLen(b, p) == len(b)
}

func hasPrefixFold(b []byte, p string) bool {
	return foldPrefixLen(b, p) >= 0
}

func hasSuffixFold(b []byte, p string) bool {
	i := len(b)
	for j := len(p); j > 0; {
		pr, pn := utf8.DecodeLastRuneInString(p[:j])
		j -= pn
		if i == 0 {
			return false
		}
		br, bn := utf8.DecodeLastRune(b[:i])
		if !runeEqualFold(br, pr) {
			return false
		}
		i -= bn
	}
	return true
}
