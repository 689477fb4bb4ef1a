package ingest

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// parser is a cursor over JSON text.
type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) consume(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// key reads a member name and its colon. Names are short: a plain loop beats
// IndexByte's setup. Only printable ASCII without escapes is accepted; every
// name the decoder knows is.
func (p *parser) key() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			k := p.b[start:p.i]
			p.i++
			p.ws()
			return k, p.consume(':')
		}
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// literal consumes lit if the text continues with it.
func (p *parser) literal(lit []byte) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != string(lit) {
		return false
	}
	p.i += len(lit)
	return true
}

// same reports whether the next value is the string prev (already validated
// when it was decoded), and if so skips it: the fields that repeat in every
// record of a batch cost one comparison.
func (p *parser) same(prev string) bool {
	end := p.i + 1 + len(prev)
	if prev == "" || end >= len(p.b) || p.b[p.i] != '"' || p.b[end] != '"' || string(p.b[p.i+1:end]) != prev {
		return false
	}
	p.i = end + 1
	return true
}

// str reads a string that has no escapes and is valid UTF-8 and returns its
// contents (which encoding/json would return unchanged).
func (p *parser) str() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	n := bytes.IndexByte(p.b[p.i:], '"')
	if n < 0 {
		return nil, false
	}
	s := p.b[p.i : p.i+n]
	p.i += n + 1
	switch plainASCII(s) {
	case plain:
		return s, true
	case nonASCII:
		return s, utf8.Valid(s) && bytes.IndexByte(s, '\\') < 0 && !hasControl(s)
	}
	return nil, false
}

// rawStr reads a string and returns its contents unchecked: the caller must
// reject what a JSON string cannot hold unescaped, and escapes.
func (p *parser) rawStr() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	n := bytes.IndexByte(p.b[p.i:], '"')
	if n < 0 {
		return nil, false
	}
	s := p.b[p.i : p.i+n]
	p.i += n + 1
	return s, true
}

// padding counts the '=' that end a base64 text.
func padding(s []byte) int {
	n := 0
	for i := len(s) - 1; i >= 0 && n < 2 && s[i] == '='; i-- {
		n++
	}
	return n
}

// String contents classes.
const (
	plain    = iota // printable ASCII without '\\'
	nonASCII        // has bytes >= 0x80, maybe others
	special         // has '\\' or a control character
)

// plainASCII classifies s eight bytes at a time.
func plainASCII(s []byte) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	class := plain
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		if x&highs != 0 {
			class = nonASCII
			continue // decided by the caller's slower checks
		}
		// A byte < 0x20 or equal to '\\' (0x5c) has its high bit set in the
		// result (the classic "has zero byte" test, on x and on x ^ '\\'s).
		lt := (x - 0x20*ones) & ^x
		bs := x ^ 0x5c*ones
		eq := (bs - ones) & ^bs
		if (lt|eq)&highs != 0 {
			return special
		}
	}
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			class = nonASCII
		case c < 0x20 || c == '\\':
			return special
		}
	}
	return class
}

func hasControl(s []byte) bool {
	for _, c := range s {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() ([]byte, bool) {
	b, i := p.b, p.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	p.i = i
	return b[start:i], true
}

// float reads a JSON number and returns the float64 encoding/json decodes it
// to: plainNumber's one pass for the digits Lambda writes, strconv.ParseFloat
// (which encoding/json uses) for the rest. It reports false for text that is
// not a number, or one out of a float64's range.
func (p *parser) float() (float64, bool) {
	if f, ok := p.plainNumber(); ok {
		return f, true
	}
	num, ok := p.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(&num[0], len(num)), 64)
	return f, err == nil
}

// plainNumber reads a number written as Lambda writes approximateArrivalTimestamp,
// digits with an optional fraction (1545084650.987), of at most 15 digits and
// without an exponent, and returns the float64 that strconv.ParseFloat (and so
// encoding/json) makes of it, reading the text once and without ParseFloat's
// general machinery: the digits make an integer below 2^52 and the fraction a
// power of ten up to 1e15, both exact in a float64, so their IEEE quotient is the
// correctly rounded value of the number, which is what ParseFloat returns (its
// own exact fast path is this division). For any other text it consumes nothing
// and reports false: float reads it with number and strconv.ParseFloat.
func (p *parser) plainNumber() (float64, bool) {
	b, i := p.b, p.i
	var mant uint64
	for ; i < len(b) && b[i]-'0' <= 9; i++ {
		mant = mant*10 + uint64(b[i]-'0')
	}
	digits := i - p.i
	if digits == 0 || digits > 1 && b[p.i] == '0' {
		return 0, false // not a number, or a leading zero JSON does not allow
	}
	frac := 0
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
			mant = mant*10 + uint64(b[i]-'0')
		}
		frac = i - j
		if frac == 0 {
			return 0, false
		}
	}
	if digits+frac > 15 || i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		return 0, false
	}
	p.i = i
	f := float64(mant)
	if frac > 0 {
		f /= pow10[frac]
	}
	return f, true
}

// pow10 holds the powers of ten that are exact in a float64 and that
// plainNumber divides by.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}
