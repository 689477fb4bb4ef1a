package record

import (
	"bytes"
	"encoding/json"
)

// maxStack is the nesting depth scanJSON tracks itself; deeper values (which
// sensor payloads never have) are left to encoding/json, whose own limit is
// 10,000, so the answer is the same at any depth.
const maxStack = 64

// byteClass classifies bytes inside a JSON string: 0 for a byte that is copied
// through (including almost every byte >= 0x80: like encoding/json.Valid,
// scanJSON does not check UTF-8, AppendPayload does that first), 1 for '"',
// '\\', the control characters, and the first bytes of the Unicode line
// separators (isLineSeparator), which end the fast loop.
var byteClass = func() (t [256]uint8) {
	for i := 0; i < 0x20; i++ {
		t[i] = 1
	}
	t['"'] = 1
	t['\\'] = 1
	t[0xC2] = 1
	t[0xE2] = 1
	return t
}()

// scanJSON reports whether data is exactly one valid JSON value (with optional
// surrounding whitespace), with the same answer as encoding/json.Valid, and
// whether it is compact: free of whitespace outside strings, so that
// encoding/json.Compact would return it unchanged, and of the Unicode line
// separators that output lines carry escaped (isLineSeparator).
//
// It exists because json.Valid, a general state machine that calls a function per
// byte, runs at about 300 MB/s and was the largest cost of the processor's hot
// path; this single pass with a table-driven string loop is several times faster.
// FuzzScanJSON checks it against json.Valid and json.Compact.
func scanJSON(data []byte) (valid, compact bool) {
	valid, compact, _ = scanJSONMember(data, "", false, nil)
	return valid, compact
}

// noMember and unknownMember are the values of scanJSONMember's member[0] when
// there is no such member, and when it did not look.
const (
	noMember      = -1
	unknownMember = -2
)

// scanJSONMember is scanJSON that, if look is true, also finds in the same pass
// the value of the top-level member name when data is an object, as
// TopLevelMember does on compact text (the last of repeated names): the value is
// data[member[0]:member[1]], member[0] is noMember if there is none and
// unknownMember if it did not look (look is false, the value nests deeper than
// scanJSON tracks, or a top-level name has escapes, which TopLevelMember
// decodes). The positions are those of
// data: they are TopLevelMember's answer only when data is compact. If vals is
// not nil, the strings and numbers that are values (not member names) are
// appended to it, in order; on a deep value they are incomplete (member says
// unknownMember then).
func scanJSONMember(data []byte, name string, look bool, vals *[]valueSpan) (valid, compact bool, member [2]int) {
	var stack [maxStack]byte // '{' or '[' per open container
	depth := 0
	compact = true
	i := 0
	n := len(data)
	member = [2]int{unknownMember, 0}
	if look {
		member[0] = noMember
	}
	// want is 1 from a top-level name equal to name to its value, 2 within
	// that value.
	want := 0
	mstart := 0
	escaped := false // a top-level name has an escape

value:
	if j := skipWS(data, i); j != i {
		i, compact = j, false
	}
	if i >= n {
		return false, false, member
	}
	if want == 1 {
		mstart, want = i, 2
	}
	switch c := data[i]; c {
	case '{':
		i++
		if j := skipWS(data, i); j != i {
			i, compact = j, false
		}
		if i < n && data[i] == '}' {
			i++
			goto end
		}
		if depth == maxStack {
			valid, compact = deepValid(data)
			return valid, compact, [2]int{unknownMember, 0}
		}
		stack[depth] = '{'
		depth++
		goto key
	case '[':
		i++
		if j := skipWS(data, i); j != i {
			i, compact = j, false
		}
		if i < n && data[i] == ']' {
			i++
			goto end
		}
		if depth == maxStack {
			valid, compact = deepValid(data)
			return valid, compact, [2]int{unknownMember, 0}
		}
		stack[depth] = '['
		depth++
		goto value
	case '"':
		start := i
		var sep bool
		if i, sep = scanString(data, i); i < 0 {
			return false, false, member
		}
		compact = compact && !sep
		if vals != nil {
			*vals = append(*vals, valueSpan{start, i, '"'})
		}
	case 't':
		if !hasLiteral(data, i, "true") {
			return false, false, member
		}
		i += 4
	case 'f':
		if !hasLiteral(data, i, "false") {
			return false, false, member
		}
		i += 5
	case 'n':
		if !hasLiteral(data, i, "null") {
			return false, false, member
		}
		i += 4
	default:
		start := i
		if i = scanNumber(data, i); i < 0 {
			return false, false, member
		}
		if vals != nil {
			*vals = append(*vals, valueSpan{start, i, '0'})
		}
	}

end: // a value ended at i
	if want == 2 && depth == 1 {
		member, want = [2]int{mstart, i}, 0
	}
	if j := skipWS(data, i); j != i {
		i, compact = j, false
	}
	if depth == 0 {
		if escaped {
			member = [2]int{unknownMember, 0}
		}
		return i == n, compact, member
	}
	if i >= n {
		return false, false, member
	}
	switch data[i] {
	case ',':
		i++
		if stack[depth-1] == '{' {
			goto key
		}
		goto value
	case '}':
		if stack[depth-1] != '{' {
			return false, false, member
		}
	case ']':
		if stack[depth-1] != '[' {
			return false, false, member
		}
	default:
		return false, false, member
	}
	i++
	depth--
	goto end

key: // inside an object, before a member name
	if j := skipWS(data, i); j != i {
		i, compact = j, false
	}
	if i >= n || data[i] != '"' {
		return false, false, member
	}
	if look && depth == 1 {
		k := i + 1
		var sep bool
		if i, sep = scanString(data, i); i < 0 {
			return false, false, member
		}
		compact = compact && !sep
		switch raw := data[k : i-1]; {
		case string(raw) == name:
			want = 1
		case bytes.IndexByte(raw, '\\') >= 0:
			// A name spelled with escapes may be name once decoded: leave
			// the lookup to TopLevelMember, which decodes it.
			escaped = true
		}
	} else {
		var sep bool
		if i, sep = scanString(data, i); i < 0 {
			return false, false, member
		}
		compact = compact && !sep
	}
	if j := skipWS(data, i); j != i {
		i, compact = j, false
	}
	if i >= n || data[i] != ':' {
		return false, false, member
	}
	i++
	goto value
}

// skipWS returns the index of the first byte at or after i that is not JSON
// whitespace.
func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// deepValid answers for values nested deeper than scanJSON tracks.
func deepValid(data []byte) (valid, compact bool) {
	if !json.Valid(data) {
		return false, false
	}
	return true, isCompact(data)
}

// isCompact reports whether the valid JSON data has no whitespace outside strings.
func isCompact(data []byte) bool {
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			return false
		case '"':
			end, sep := scanString(data, i)
			if sep {
				return false
			}
			i = end - 1
		}
	}
	return true
}

// scanString returns the index just past the JSON string that starts at data[i]
// == '"', or -1 if it is not a valid string, and whether the string holds a
// Unicode line separator (isLineSeparator), which the output escapes.
func scanString(data []byte, i int) (end int, sep bool) {
	i++
	for {
		for i < len(data) && byteClass[data[i]] == 0 {
			i++
		}
		if i >= len(data) {
			return -1, sep
		}
		switch data[i] {
		case '"':
			return i + 1, sep
		case '\\':
			i++
			if i >= len(data) {
				return -1, sep
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(data) || !isHex(data[i+1]) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) {
					return -1, sep
				}
				i += 5
			default:
				return -1, sep
			}
		case 0xC2, 0xE2:
			sep = sep || isLineSeparatorAt(data, i)
			i++
		default: // a control character
			return -1, sep
		}
	}
}

// scanNumber returns the index just past the JSON number that starts at data[i],
// or -1 if there is none: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) int {
	n := len(data)
	if i < n && data[i] == '-' {
		i++
	}
	switch {
	case i < n && data[i] == '0':
		i++
	case i < n && data[i] >= '1' && data[i] <= '9':
		i++
		for i < n && isDigit(data[i]) {
			i++
		}
	default:
		return -1
	}
	if i < n && data[i] == '.' {
		i++
		if i >= n || !isDigit(data[i]) {
			return -1
		}
		for i < n && isDigit(data[i]) {
			i++
		}
	}
	if i < n && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < n && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= n || !isDigit(data[i]) {
			return -1
		}
		for i < n && isDigit(data[i]) {
			i++
		}
	}
	return i
}

func hasLiteral(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
