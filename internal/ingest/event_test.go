package ingest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

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
