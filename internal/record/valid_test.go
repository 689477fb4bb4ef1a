package record

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var scanJSONCases = []string{
	``, ` `, `1`, `-0`, `-`, `01`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `-1.5e10`, `.5`, `+1`, `1e+5`, `2E5`,
	`"a"`, `"\u00e9\n\"\\\/\b\f\r\t"`, `"\u12"`, `"\x"`, "\"a\x01\"", `"unterminated`, "\"\xff\xfe\"",
	`true`, `false`, `null`, `tru`, `nul`, `truex`, `true false`,
	// Invalid texts as long as the literal, and a literal's misspelling inside a container.
	`trux`, `falsy`, `nulx`, `[tru]`, `{"a":nul}`,
	// A string cut short after an escape, and \u escapes that are not four hex digits.
	`"\`, `"\u12zz"`, `"\uzz12"`, `"\u00E9"`,
	"\"a\u2028\"", "{\"\u2029\":1}", "[\"\u0085\"]", "\"\u00a9\u2027\u202a\"", "\"\xc2", "\"\xe2\x80",
	`{}`, `[]`, `{ }`, `[ ]`, `{"a":1}`, `{"a" : 1 }`, `{"a":1,}`, `{"a"}`, `{1:2}`, `{"a":1 "b":2}`,
	`[1,2,[3,{"x":[]}]]`, `[1,]`, `[,1]`, `[1 2]`, `{"a":[}`, `[}`, `{]`, `]`, `}`,
	// Closers that do not match the open container after a value; a member name
	// without its opening quote; a name without its colon.
	`[1}`, `{"a":1]`, `[{"a":1]]`, `{a":1}`, `{"a" 1}`, `{"a"=1}`, `{"a":1,b":2}`,
	" \t\n\r{\"a\": \"b c\"}\n", `{"message":"hello world"}`,
	`{"device_id":"sensor-0007","temperature":21.43,"humidity":48.2,"timestamp":"2026-11-21T13:40:05Z","location":{"lat":52.52,"lon":13.405},"battery_level":87}`,
	strings.Repeat("[", maxStack) + strings.Repeat("]", maxStack),
	strings.Repeat("[", maxStack+1) + strings.Repeat("]", maxStack+1),
	strings.Repeat("[", maxStack+1) + " " + strings.Repeat("]", maxStack+1),
	strings.Repeat("[ ", maxStack+1) + "1" + strings.Repeat("]", maxStack+1),
	strings.Repeat("[", maxStack+1) + strings.Repeat("]", maxStack),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

// checkScanJSON compares scanJSON with encoding/json: valid must equal
// json.Valid, and compact must say whether json.Compact leaves data unchanged
// and it has no Unicode line separator (U+0085, U+2028, U+2029), which the
// output escapes.
func checkScanJSON(t *testing.T, data []byte) {
	t.Helper()
	valid, compact := scanJSON(data)
	if want := json.Valid(data); valid != want {
		t.Fatalf("scanJSON(%q) valid = %v; json.Valid = %v", data, valid, want)
	}
	if !valid {
		return
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		t.Fatalf("json.Compact(%q) = %v on a valid value", data, err)
	}
	if want := bytes.Equal(buf.Bytes(), data) && !strings.ContainsAny(string(data), "\u0085\u2028\u2029"); compact != want {
		t.Fatalf("scanJSON(%q) compact = %v; json.Compact changes it: %v", data, compact, want)
	}
}

func TestScanJSON(t *testing.T) {
	for _, c := range scanJSONCases {
		checkScanJSON(t, []byte(c))
	}
}

func FuzzScanJSON(f *testing.F) {
	for _, c := range scanJSONCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScanJSON(t, data)
	})
}

func BenchmarkScanJSONSensor(b *testing.B) {
	data := []byte(`{"device_id":"sensor-0007","temperature":21.43,"humidity":48.20,"timestamp":"2026-11-21T13:40:05.000Z","location":{"lat":52.5200,"lon":13.4050},"battery_level":87.0}`)
	b.Run("scanJSON", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if ok, _ := scanJSON(data); !ok {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if !json.Valid(data) {
				b.Fatal("invalid")
			}
		}
	})
}
