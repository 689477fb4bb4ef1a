package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/bench/benchdata"
)

// stdDecode is how HandleJSON decodes an event with encoding/json: it reports
// false where HandleJSON returns an *EventError.
func stdDecode(data []byte) (events.KinesisEvent, bool) {
	var probe struct {
		Records *json.RawMessage `json:"Records"`
	}
	var ev events.KinesisEvent
	if json.Unmarshal(data, &probe) != nil || probe.Records == nil || json.Unmarshal(data, &ev) != nil {
		return events.KinesisEvent{}, false
	}
	return ev, true
}

// checkDecode asserts that when the fast decoder accepts data, encoding/json
// accepts it too and decodes the same event.
func checkDecode(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	d := decoderPool.Get().(*eventDecoder)
	defer d.release()
	got, ok := d.decode(data)
	if !ok {
		return false
	}
	want, wantOK := stdDecode(data)
	if !wantOK {
		t.Fatalf("decode(%q) accepted an event that encoding/json rejects", data)
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Fatalf("decode(%q) differs from encoding/json (-want +got):\n%s", data, diff)
	}
	return true
}

// decodeCases are events the fast decoder must take (true) or leave to
// encoding/json (false).
var decodeCases = []struct {
	event string
	fast  bool
}{
	{`{"Records":[]}`, true},
	{" \n{ \"Records\" : [ ] } \t", true},
	{`{"Records":[{}]}`, true},
	{`{"Records":[{"kinesis":{}}]}`, true},
	{`{"Records":[{"kinesis":{"data":""}}]}`, true},
	{`{"Records":[{"kinesis":{"data":"SGVsbG8=","approximateArrivalTimestamp":1545084650.987,"partitionKey":"k\u00e9"}}]}`, false},
	{`{"Records":[{"kinesis":{"data":"SGVsbG8=","approximateArrivalTimestamp":1545084650.987,"partitionKey":"kë"}}]}`, true},
	{`{"Records":[{"kinesis":{"approximateArrivalTimestamp":-1.5e3}},{"kinesis":{"approximateArrivalTimestamp":0}}]}`, true},
	{`{"Records":[{"kinesis":{"approximateArrivalTimestamp":1e400}}]}`, false},
	{`{"Records":[{"kinesis":{"approximateArrivalTimestamp":"1"}}]}`, false},
	{`{"Records":[{"kinesis":{"approximateArrivalTimestamp":null}}]}`, false},
	{`{"Records":[{"kinesis":{"data":"%%%"}}]}`, false},
	{`{"Records":[{"kinesis":{"data":"SGk="}}]}`, true},
	{`{"Records":[{"kinesis":{"data":"SA=="}}]}`, true},
	{"{\"Records\":[{\"kinesis\":{\"data\":\"SGk=\n\n\n\n\"}}]}", false},
	{"{\"Records\":[{\"kinesis\":{\"data\":\"S\rGk=\r\n\n\"}}]}", false},
	{`{"Records":[{"kinesis":{"data":"SGk\u003d"}}]}`, false},
	{`{"Records":[{"kinesis":{"data":"SGk=SGk="}}]}`, false},
	{`{"Records":[{"kinesis":{"data":null}}]}`, false},
	{`{"Records":[{"eventID":"a","eventID":"b"}]}`, false},
	{`{"Records":[{"EventID":"a"}]}`, false},
	{`{"records":[]}`, false},
	{`{"Records":[],"Records":[]}`, false},
	{`{"Records":null}`, false},
	{`{"Records":[null]}`, false},
	{`{"Records":[1]}`, false},
	{`{"Records":[]} x`, false},
	{`{"Records":[],}`, false},
	{`{"Records":[{},]}`, false},
	{`{"Records":[{"eventSource":"aws:kinesis","other":1}]}`, false},
	{`{"Records":[{"eventSource":"a` + "\x01" + `"}]}`, false},
	{`{"Records":[{"eventSource":"a` + "\xff" + `"}]}`, false},
	{`{}`, false},
	{`[]`, false},
	{``, false},
}

func TestDecodeEvent(t *testing.T) {
	for _, tc := range decodeCases {
		if got := checkDecode(t, []byte(tc.event)); got != tc.fast {
			t.Errorf("decode(%q) ok = %v; want %v", tc.event, got, tc.fast)
		}
	}
}

// TestDecodeEventSamples decodes the sample events (indented, as the events/
// files are) and benchmark events (compact, as Lambda sends them): all take the
// fast path and equal encoding/json's result.
func TestDecodeEventSamples(t *testing.T) {
	files, err := filepath.Glob("../../events/kinesis-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("sample events: %v, %v", files, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !checkDecode(t, raw) {
			t.Errorf("decode(%s) took the slow path; want the fast one", f)
		}
	}
	for _, n := range []int{1, 100, 1000} {
		raw, err := benchdata.SensorEventJSON(n)
		if err != nil {
			t.Fatal(err)
		}
		if !checkDecode(t, raw) {
			t.Errorf("decode(sensor event of %d records) took the slow path; want the fast one", n)
		}
	}
}

// TestDecodeEventReuse checks that a pooled decoder's second event does not see
// the first one's records or data.
func TestDecodeEventReuse(t *testing.T) {
	d := new(eventDecoder)
	big, err := benchdata.SensorEventJSON(50)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.decode(big); !ok {
		t.Fatal("decode(50 records) took the slow path")
	}
	small := []byte(`{"Records":[{"kinesis":{"data":"SGk="}}]}`)
	got, ok := d.decode(small)
	if !ok {
		t.Fatal("decode(1 record) took the slow path")
	}
	want, _ := stdDecode(small)
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("second decode differs from encoding/json (-want +got):\n%s", diff)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.event))
	}
	raw, err := benchdata.SensorEventJSON(3)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	if sample, err := os.ReadFile("../../events/kinesis-mixed-payloads.json"); err == nil {
		f.Add(sample)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
	})
}

// TestPlainASCII checks plainASCII's contract: plain exactly for printable
// ASCII without '\\'; special only when there is a control byte or '\\'; nonASCII
// only when there is a byte >= 0x80 (str then checks the rest the slow way).
func TestPlainASCII(t *testing.T) {
	check := func(s []byte) {
		hasSpecial, hasHigh := false, false
		for _, c := range s {
			hasSpecial = hasSpecial || c < 0x20 || c == '\\'
			hasHigh = hasHigh || c >= 0x80
		}
		got := plainASCII(s)
		switch {
		case (got == plain) != (!hasSpecial && !hasHigh),
			got == special && !hasSpecial,
			got == nonASCII && !hasHigh:
			t.Fatalf("plainASCII(%q) = %d; has special %v, has non-ASCII %v", s, got, hasSpecial, hasHigh)
		}
	}
	base := []byte("arn:aws:kinesis:us-east-1:123456789012:stream/streamlake-sensor-stream")
	for pos := range base {
		for _, c := range []byte{0, 0x1f, 0x20, '"', '[', '\\', ']', 0x7f, 0x80, 0xc3, 0xff} {
			s := append([]byte(nil), base...)
			s[pos] = c
			check(s)
			check(s[:pos+1])
			check(s[pos:])
		}
	}
	for _, s := range []string{"", "é", "é\\xxxxxx", "ééééxxxx\\", "\x01éééééé", "xxxxxxxx\x7f"} {
		check([]byte(s))
	}
	// Strings the decoder must refuse even though plainASCII calls them nonASCII.
	for _, v := range []string{"é\\\\xxxxx", "é\x01xxxxxx"} {
		p := parser{b: []byte(`"` + v + `"`)}
		if _, ok := p.str(); ok {
			t.Errorf("str(%q) accepted a string with an escape or a control byte", v)
		}
	}
}

// layoutFirst is the first record of the layout tests: a record as Lambda sends
// it, whose layout a second record follows or not.
const layoutFirst = `{"awsRegion":"us-east-1","eventID":"shardId-000000000000:4965","eventName":"aws:kinesis:record","eventSource":"aws:kinesis",` +
	`"eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","eventVersion":"1.0","invokeIdentityArn":"arn:aws:iam::123456789012:role/r",` +
	`"kinesis":{"approximateArrivalTimestamp":1795268400.001,"data":"SGk=","partitionKey":"k1","sequenceNumber":"4965","kinesisSchemaVersion":"1.0"}}`

// layoutFirstKinesis is layoutFirst in the order of the sample events in AWS's
// documentation: the kinesis object (and so the sequence number) before the
// eventID.
const layoutFirstKinesis = `{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"k1","sequenceNumber":"4965","data":"SGk=","approximateArrivalTimestamp":1795268400.001},` +
	`"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000000:4965","eventName":"aws:kinesis:record",` +
	`"invokeIdentityArn":"arn:aws:iam::123456789012:role/r","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}`

// TestDecodeEventLayoutIDs checks the eventID and sequence number of records
// decoded by the layout, in both key orders, when they share their text as
// Lambda sends them and when they do not.
func TestDecodeEventLayoutIDs(t *testing.T) {
	for _, first := range []string{layoutFirst, layoutFirstKinesis} {
		for _, ids := range [][2]string{
			{"shardId-000000000000:4966", "4966"},
			{"shardId-000000000000:49661", "4966"},
			{"shardId-000000000000:4966", "966"},
			{"shardId-000000000001:4966", "4966"},
			{"shardId-000000000000-4966", "4966"},
			{"4966", "4966"},
			{":4966", "4966"},
			{"shardId-000000000000:", ""},
			{"", ""},
			{"shardId-000000000000:4966", "4966\\u0031"},
			{"shardId-000000000000:4966\\u0031", "4966"},
			{"shardId-000000000000:4966\\\"", "4966"},
			{"shardId-000000000000:49é", "49é"},
			{"shardId-000000000000:49\xff", "49\xff"},
		} {
			second := strings.NewReplacer(`"shardId-000000000000:4965"`, `"`+ids[0]+`"`, `"4965"`, `"`+ids[1]+`"`).Replace(first)
			data := []byte(`{"Records":[` + first + `,` + second + `,` + first + `]}`)
			fast := checkDecode(t, data)
			// Escapes and invalid UTF-8 leave the event to encoding/json.
			if want := !strings.ContainsAny(ids[0]+ids[1], `\"`) && utf8.ValidString(ids[0]+ids[1]); fast != want {
				t.Errorf("decode(%s) ok = %v; want %v", data, fast, want)
			}
			if d := new(eventDecoder); fast {
				if d.decode(data); d.byLay != 2 {
					t.Errorf("decode(%s) decoded %d records by the layout; want 2", data, d.byLay)
				}
			}
		}
	}
}

// TestDecodeEventLayout checks records that follow the first record's layout
// (decoded by it) and records that differ from it in every way the layout must
// notice (decoded member by member, or left to encoding/json): the result is
// always encoding/json's.
func TestDecodeEventLayout(t *testing.T) {
	cases := []struct {
		name, second string
		byLayout     bool // decoded by the layout
		fast         bool // decoded by the fast decoder at all
	}{
		{"same", layoutFirst, true, true},
		{"other values", strings.NewReplacer(`:4965"`, `:4966"`, `"4965"`, `"4966"`, `.001`, `.5`, `SGk=`, `SGVsbG8=`, `"k1"`, `"k2"`).Replace(layoutFirst), true, true},
		{"integer arrival", strings.Replace(layoutFirst, `1795268400.001`, `1795268400`, 1), true, true},
		{"long arrival", strings.Replace(layoutFirst, `1795268400.001`, `1795268400.0012345678`, 1), true, true},
		{"exponent arrival", strings.Replace(layoutFirst, `1795268400.001`, `1.7952684e9`, 1), true, true},
		{"empty data", strings.Replace(layoutFirst, `SGk=`, ``, 1), true, true},
		{"non-ASCII key", strings.Replace(layoutFirst, `"k1"`, `"kë"`, 1), true, true},
		{"other region", strings.Replace(layoutFirst, `us-east-1"`, `eu-west-1"`, 1), false, true},
		{"other key order", strings.Replace(layoutFirst, `"awsRegion":"us-east-1","eventID":"shardId-000000000000:4965"`, `"eventID":"shardId-000000000000:4965","awsRegion":"us-east-1"`, 1), false, true},
		{"whitespace", strings.Replace(layoutFirst, `"eventName":`, `"eventName": `, 1), false, true},
		{"missing key", strings.Replace(layoutFirst, `,"kinesisSchemaVersion":"1.0"`, ``, 1), false, true},
		{"extra key", strings.Replace(layoutFirst, `"awsRegion"`, `"x":1,"awsRegion"`, 1), false, false},
		{"escaped key", strings.Replace(layoutFirst, `"k1"`, `"k\u0031"`, 1), false, false},
		{"escaped quote", strings.Replace(layoutFirst, `"k1"`, `"k\"1"`, 1), false, false},
		{"control byte", strings.Replace(layoutFirst, `"k1"`, "\"k\x011\"", 1), false, false},
		{"bad UTF-8", strings.Replace(layoutFirst, `"k1"`, "\"k\xff\"", 1), false, false},
		{"null data", strings.Replace(layoutFirst, `"SGk="`, `null`, 1), false, false},
		{"bad base64", strings.Replace(layoutFirst, `SGk=`, `SGk`, 1), false, false},
		{"newline in base64", strings.Replace(layoutFirst, `SGk=`, `SG\nk=`, 1), false, false},
		{"string arrival", strings.Replace(layoutFirst, `1795268400.001`, `"1795268400.001"`, 1), false, false},
		{"duplicate key", strings.Replace(layoutFirst, `"eventName"`, `"eventID":"x","eventName"`, 1), false, false},
		{"truncated", layoutFirst[:len(layoutFirst)-1] + `,`, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, third := range []string{"", "," + layoutFirst} {
				data := []byte(`{"Records":[` + layoutFirst + `,` + tc.second + third + `]}`)
				if got := checkDecode(t, data); got != tc.fast {
					t.Fatalf("decode(%s) ok = %v; want %v", data, got, tc.fast)
				}
				if !tc.fast {
					continue
				}
				d := new(eventDecoder)
				d.decode(data)
				want := 0
				if tc.byLayout {
					want++
				}
				if third != "" {
					want++ // a record after one that left the layout follows it again
				}
				if d.byLay != want {
					t.Errorf("decode(%s) decoded %d records by the layout; want %d", data, d.byLay, want)
				}
			}
		})
	}
}

// TestDecodeEventLayoutSensor checks that every record of a sensor batch but
// the first is decoded by the layout.
func TestDecodeEventLayoutSensor(t *testing.T) {
	raw, err := benchdata.SensorEventJSON(100)
	if err != nil {
		t.Fatal(err)
	}
	d := new(eventDecoder)
	if _, ok := d.decode(raw); !ok || d.byLay != 99 {
		t.Errorf("decode(sensor event of 100 records) ok = %v, %d records by the layout; want true, 99", ok, d.byLay)
	}
}

// FuzzDecodeEventLayout decodes events whose first record fixes a layout and
// whose second record is arbitrary text: whatever the fast decoder accepts must
// be what encoding/json decodes.
func FuzzDecodeEventLayout(f *testing.F) {
	f.Add([]byte(layoutFirst))
	f.Add([]byte(strings.Replace(layoutFirst, `SGk=`, `SGVsbG8=`, 1)))
	f.Add([]byte(strings.Replace(layoutFirst, `1795268400.001`, `17952684000.25`, 1)))
	f.Add([]byte(strings.Replace(layoutFirstKinesis, `4965`, `4966`, 2)))
	f.Fuzz(func(t *testing.T, second []byte) {
		for _, first := range []string{layoutFirst, layoutFirstKinesis} {
			data := append([]byte(`{"Records":[`+first+`,`), second...)
			checkDecode(t, append(data, `]}`...))
			checkDecode(t, append(data, `,`+first+`]}`...))
		}
	})
}

// checkPlainNumber checks plainNumber on text against number and
// strconv.ParseFloat (what encoding/json decodes a float64 with): when it reads
// a number it reads the one number reads, to ParseFloat's value; otherwise it
// consumes nothing.
func checkPlainNumber(t *testing.T, text []byte) {
	t.Helper()
	p := parser{b: text}
	got, ok := p.plainNumber()
	if !ok {
		if p.i != 0 {
			t.Fatalf("plainNumber(%q) failed but consumed %d bytes", text, p.i)
		}
		return
	}
	q := parser{b: text}
	num, numOK := q.number()
	want, err := strconv.ParseFloat(string(num), 64)
	if !numOK || err != nil || q.i != p.i || got != want {
		t.Fatalf("plainNumber(%q) = %v, read %d bytes; number read %q (%v) = %v (%v)", text, got, p.i, num, numOK, want, err)
	}
}

func TestPlainNumber(t *testing.T) {
	for _, tc := range []struct {
		text string
		ok   bool
		n    int // bytes read
	}{
		{"1545084650.987}", true, 14},
		{"1545084650,", true, 10},
		{"0", true, 1},
		{"0.5", true, 3},
		{"999999999999999", true, 15},
		{"99999999999.9999", true, 16},
		{"9999999999999999", false, 0}, // 16 digits
		{"99999999999.99999", false, 0},
		{"01", false, 0},
		{"1.", false, 0},
		{"1.x", false, 0},
		{"-1", false, 0},
		{"1e3", false, 0},
		{"1.5E3", false, 0},
		{".5", false, 0},
		{"", false, 0},
		{"18446744073709551617", false, 0}, // 20 digits: would overflow uint64
	} {
		p := parser{b: []byte(tc.text)}
		_, ok := p.plainNumber()
		if ok != tc.ok || p.i != tc.n {
			t.Errorf("plainNumber(%q): ok %v, read %d; want %v, %d", tc.text, ok, p.i, tc.ok, tc.n)
		}
		checkPlainNumber(t, []byte(tc.text))
	}
}

// FuzzPlainNumber checks plainNumber against number and strconv.ParseFloat.
func FuzzPlainNumber(f *testing.F) {
	for _, s := range []string{"1545084650.987", "0", "01", "1e3", "1.", "99999999999.9999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkPlainNumber)
}

// FuzzPlainNumberDigits checks plainNumber on every number of at most 15
// digits with a fraction of every length.
func FuzzPlainNumberDigits(f *testing.F) {
	f.Add(uint64(1795268400001), uint8(3))
	f.Fuzz(func(t *testing.T, mant uint64, frac uint8) {
		s := strconv.FormatUint(mant%1e15, 10)
		if k := int(frac % 16); k > 0 && k < len(s) {
			s = s[:len(s)-k] + "." + s[len(s)-k:]
		}
		p := parser{b: []byte(s + ",")}
		if _, ok := p.plainNumber(); !ok || p.i != len(s) {
			t.Fatalf("plainNumber(%q) = %v, read %d bytes; want all of it", s, ok, p.i)
		}
		checkPlainNumber(t, []byte(s+","))
	})
}

// FuzzDecodeBase64 checks decodeBase64 against encoding/base64: it accepts a
// text exactly when StdEncoding decodes it with no byte skipped, to the same
// bytes. The texts are the base64 of data with one byte replaced by c, so that
// the vector decoder's blocks see every kind of byte at every position, and
// data itself as text.
func FuzzDecodeBase64(f *testing.F) {
	sensor := []byte(`{"device_id":"sensor-0001","temperature":16.26,"humidity":51.99,"timestamp":"2026-11-21T13:40:00.000Z"}`)
	f.Add(sensor, uint16(0), byte('A'))
	f.Add(sensor, uint16(40), byte('\n'))
	f.Add(sensor, uint16(70), byte('='))
	f.Add(sensor, uint16(3), byte('"'))
	f.Add(sensor, uint16(135), byte('B'))       // non-zero trailing bits
	f.Add(sensor[:100], uint16(135), byte('=')) // padding
	f.Add([]byte("QUJD\r\nREVG"), uint16(1), byte(0xff))
	f.Fuzz(func(t *testing.T, data []byte, pos uint16, c byte) {
		text := []byte(base64.StdEncoding.EncodeToString(data))
		if len(text) > 0 {
			text[int(pos)%len(text)] = c
		}
		for _, s := range [][]byte{text, data} {
			dst := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
			m, ok := decodeBase64(dst, s)
			want := make([]byte, len(dst))
			n, err := base64.StdEncoding.Decode(want, s)
			wantOK := err == nil && len(s)%4 == 0 && n == len(s)/4*3-padding(s)
			if ok != wantOK || ok && !bytes.Equal(dst[:m], want[:n]) {
				t.Fatalf("decodeBase64(%q) = %q, %v; encoding/base64: %q, %v", s, dst[:m], ok, want[:n], err)
			}
		}
	})
}

// TestStringArenaSizing checks that an arena's first chunk has the size it was
// told (what the previous event's strings took), that later chunks are the
// default size, that used counts every string's bytes, and that strings made
// before a new chunk keep their contents.
func TestStringArenaSizing(t *testing.T) {
	a := stringArena{next: 100}
	first := a.make([]byte("shardId-000000000000:4965"))
	if cap(a.chunk) != 100 {
		t.Fatalf("first chunk has room for %d bytes, want 100", cap(a.chunk))
	}
	long := a.join("x", bytes.Repeat([]byte("y"), 99))
	if cap(a.chunk) != arenaChunk {
		t.Fatalf("second chunk has room for %d bytes, want %d", cap(a.chunk), arenaChunk)
	}
	if first != "shardId-000000000000:4965" || long != "x"+strings.Repeat("y", 99) {
		t.Fatalf("strings changed: %q, %q", first, long)
	}
	if a.used != 25+100 {
		t.Fatalf("used = %d, want 125", a.used)
	}
	var fresh stringArena
	fresh.make([]byte("a"))
	if cap(fresh.chunk) != arenaChunk {
		t.Fatalf("an arena without a size starts with %d bytes, want %d", cap(fresh.chunk), arenaChunk)
	}
}
