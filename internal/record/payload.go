package record

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Kind says how a payload was represented in the output line.
type Kind uint8

// Payload kinds. The zero value is JSON.
const (
	// JSON: the payload was valid UTF-8 JSON and is stored as is (compacted).
	JSON Kind = iota
	// Text: valid UTF-8 that is not JSON, stored as {"message": "<text>"}.
	Text
	// Binary: not UTF-8 (or text whose escaped form would exceed
	// MaxMessageBytes), stored as {"data_base64": "<standard base64>"}.
	Binary
)

func (k Kind) String() string {
	switch k {
	case JSON:
		return "json"
	case Text:
		return "text"
	case Binary:
		return "binary"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// AppendPayload appends the JSON representation of a Kinesis payload to dst and says
// which kind it was. Nothing is dropped for its format: valid UTF-8 JSON is appended
// compacted (so that it fits on one NDJSON line), other UTF-8 text is wrapped as
// {"message": …} (unless that would exceed MaxMessageBytes), and anything else as
// {"data_base64": …}. An empty payload is text.
func AppendPayload(dst []byte, data []byte) ([]byte, Kind) {
	out, kind, _ := appendPayload(dst, data, "", false)
	return out, kind
}

// AppendPayloadMember is AppendPayload that also returns what
// TopLevelMember(out[len(dst):], name) returns, found for a compact JSON object
// in the same pass that validates it, rather than in a second pass over the
// payload: the processor's default transform looks up the event time of every
// record.
func AppendPayloadMember(dst []byte, data []byte, name string) (out []byte, kind Kind, member []byte, ok bool) {
	n := len(dst)
	out, kind, m := appendPayload(dst, data, name, true)
	member, ok = memberAt(out, n, name, m)
	return out, kind, member, ok
}

// memberAt returns the member name of the payload out[n:], whose value
// scanJSONMember found at m (positions in the payload): looked up with
// TopLevelMember when it did not look.
func memberAt(out []byte, n int, name string, m [2]int) ([]byte, bool) {
	switch m[0] {
	case unknownMember:
		return TopLevelMember(out[n:], name)
	case noMember:
		return nil, false
	}
	return out[n+m[0] : n+m[1] : n+m[1]], true
}

// appendPayload is AppendPayload with scanJSONMember's member lookup, the
// positions made relative to the appended payload; member[0] is unknownMember
// unless the lookup was done on a payload appended as it is.
func appendPayload(dst []byte, data []byte, name string, look bool) ([]byte, Kind, [2]int) {
	unknown := [2]int{unknownMember, 0}
	if !utf8.Valid(data) {
		return appendBase64(dst, data), Binary, unknown
	}
	if len(data) > 0 {
		// compact is false for JSON with a line separator in a string too.
		valid, compact, member := scanJSONMember(data, name, look, nil)
		if valid && compact {
			return append(dst, data...), JSON, member
		}
		if valid {
			n := len(dst)
			buf := bytes.NewBuffer(dst) // no allocation when dst has room
			if err := json.Compact(buf, data); err == nil {
				return escapeLineSeparators(buf.Bytes(), n), JSON, unknown
			}
		}
	}
	n := len(dst)
	dst = append(dst, `{"message":`...)
	dst = AppendString(dst, data)
	if len(dst)-n > MaxMessageBytes {
		// Escapes made the text too long for a line (a control byte takes
		// six): base64 is at most a third longer than the data.
		return appendBase64(dst[:n], data), Binary, unknown
	}
	return append(dst, '}'), Text, unknown
}

// MaxMessageBytes bounds the {"message": …} form of a text payload: text whose
// escaped form would be longer (megabytes of control characters, which take six
// bytes each) is stored as {"data_base64": …} instead, a third longer than the
// data, so that the line of any record Kinesis can hold (10 MiB) stays within
// ndjson.MaxLineBytes (16 MiB).
const MaxMessageBytes = 12 << 20

func appendBase64(dst, data []byte) []byte {
	dst = append(dst, `{"data_base64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, data)
	return append(dst, `"}`...)
}

// AppendString appends s as a JSON string literal. s must be valid UTF-8. Unlike
// encoding/json it does not escape <, > and & (the output is not HTML), so text
// round-trips byte for byte.
func AppendString(dst []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b >= 0x20 && b != '"' && b != '\\' && b < utf8.RuneSelf {
			i++
			continue
		}
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if isLineSeparator(r) {
				dst = append(dst, s[start:i]...)
				dst = appendUnicodeEscape(dst, r)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch b {
		case '"', '\\':
			dst = append(dst, '\\', b)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// isLineSeparator reports whether r is U+0085 (next line), U+2028 (line
// separator) or U+2029 (paragraph separator): valid unescaped in a JSON string,
// but line ends to readers that split text on every Unicode line break, such as
// Python's str.splitlines and JavaScript before ES2019. Output lines carry them
// escaped (the same JSON value), so that every reader sees one line per record.
func isLineSeparator(r rune) bool {
	return r == '\u0085' || r == '\u2028' || r == '\u2029'
}

// escapeLineSeparators rewrites, in out[n:], valid UTF-8 JSON text, every line
// separator (isLineSeparator) as its \u escape. In valid JSON they can only be
// inside strings, where the escape stands for the same character.
func escapeLineSeparators(out []byte, n int) []byte {
	if !hasLineSeparator(out[n:]) {
		return out
	}
	text := bytes.Clone(out[n:])
	out = out[:n]
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		if isLineSeparator(r) {
			out = append(out, text[start:i]...)
			out = appendUnicodeEscape(out, r)
			start = i + size
		}
		i += size
	}
	return append(out, text[start:]...)
}

// appendUnicodeEscape appends r, a rune of the Basic Multilingual Plane, as a
// JSON \uXXXX escape.
func appendUnicodeEscape(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}

// hasLineSeparator reports whether the UTF-8 text b holds a line separator
// (isLineSeparator): U+0085 is C2 85, U+2028 and U+2029 are E2 80 A8 and A9.
func hasLineSeparator(b []byte) bool {
	for i := 0; i+1 < len(b); i++ {
		if isLineSeparatorAt(b, i) {
			return true
		}
	}
	return false
}

// isLineSeparatorAt reports whether the UTF-8 text b has a line separator
// (isLineSeparator) at b[i].
func isLineSeparatorAt(b []byte, i int) bool {
	switch b[i] {
	case 0xC2:
		return i+1 < len(b) && b[i+1] == 0x85
	case 0xE2:
		return i+2 < len(b) && b[i+1] == 0x80 && b[i+2]&^1 == 0xA8
	}
	return false
}
