package record

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAppendPayload(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
		kind Kind
	}{
		{"object keeps key order", []byte(`{"z":1,"a":{"b":[1,2]}}`), `{"z":1,"a":{"b":[1,2]}}`, JSON},
		{"whitespace compacted", []byte("{\n  \"a\": 1,\n  \"b\": \"x y\"\n}\n"), `{"a":1,"b":"x y"}`, JSON},
		{"array", []byte(`[1,"two",null]`), `[1,"two",null]`, JSON},
		{"scalar string", []byte(`"hello"`), `"hello"`, JSON},
		{"number kept by representation", []byte(`300.0`), `300.0`, JSON},
		{"big number kept", []byte(`{"n":123456789012345678901234567890e400}`), `{"n":123456789012345678901234567890e400}`, JSON},
		{"text", []byte("temp sensor offline °C"), `{"message":"temp sensor offline °C"}`, Text},
		{"text with quotes and newline", []byte("a \"b\"\nc\\"), `{"message":"a \"b\"\nc\\"}`, Text},
		{"text with control char", []byte("a\x01b"), `{"message":"a\u0001b"}`, Text},
		{"html not escaped", []byte("<a & b>"), `{"message":"<a & b>"}`, Text},
		{"line separator escaped", []byte("a\u2028b"), `{"message":"a\u2028b"}`, Text},
		{"next line escaped in text", []byte("a\u0085b\u2029c"), `{"message":"a\u0085b\u2029c"}`, Text},
		{"line separators escaped in compact JSON", []byte("{\"s\":\"a\u2028b\u2029c\u0085d\",\"t\":\"\u00e9\"}"), `{"s":"a\u2028b\u2029c\u0085d","t":"é"}`, JSON},
		{"line separators escaped in JSON to compact", []byte("{ \"s\": \"\u2028\" }"), `{"s":"\u2028"}`, JSON},
		{"other non-ASCII JSON kept", []byte("{\"s\":\"\u00e9\u2027\u202a\u0084\"}"), "{\"s\":\"\u00e9\u2027\u202a\u0084\"}", JSON},
		{"truncated JSON is text", []byte(`{"a":`), `{"message":"{\"a\":"}`, Text},
		{"empty is text", []byte{}, `{"message":""}`, Text},
		{"binary", []byte{0x1f, 0x8b, 0x08, 0x00, 0xff}, `{"data_base64":"H4sIAP8="}`, Binary},
		{"invalid UTF-8 inside JSON is binary", []byte("{\"a\":\"\xff\"}"), `{"data_base64":"` + base64.StdEncoding.EncodeToString([]byte("{\"a\":\"\xff\"}")) + `"}`, Binary},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, kind := AppendPayload([]byte("prefix:"), tc.data)
			if s := strings.TrimPrefix(string(got), "prefix:"); s != tc.want || kind != tc.kind {
				t.Errorf("AppendPayload(%q) = %s, %v; want %s, %v", tc.data, s, kind, tc.want, tc.kind)
			}
			if !json.Valid(got[len("prefix:"):]) {
				t.Errorf("AppendPayload(%q) produced invalid JSON %s", tc.data, got)
			}
		})
	}
}

func TestAppendPayloadBinaryRoundTrip(t *testing.T) {
	data := make([]byte, 256)
	for i := range data {
		data[i] = byte(i)
	}
	out, kind := AppendPayload(nil, data)
	if kind != Binary {
		t.Fatalf("kind = %v; want binary", kind)
	}
	var v struct {
		DataBase64 []byte `json:"data_base64"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if string(v.DataBase64) != string(data) {
		t.Errorf("binary payload did not round-trip")
	}
}

func TestAppendLine(t *testing.T) {
	m := &Meta{
		PartitionKey:   "sensor-0001",
		SequenceNumber: "49590338271490256608559692538361571095921575989136588898",
		EventID:        "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
		ShardID:        "shardId-000000000006",
		ArrivalTime:    time.Date(2026, 11, 21, 13, 40, 5, 123e6, time.UTC),
	}
	line := AppendLine(nil, []byte(`{"a":1}`), m, "2026-11-21T13:41:00.000Z", "")
	want := `{"original_data":{"a":1},"processing_timestamp":"2026-11-21T13:41:00.000Z","partition_key":"sensor-0001",` +
		`"sequence_number":"49590338271490256608559692538361571095921575989136588898",` +
		`"event_id":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898",` +
		`"processed":true,"shard_id":"shardId-000000000006","approximate_arrival_timestamp":"2026-11-21T13:40:05.123Z"}` + "\n"
	if string(line) != want {
		t.Errorf("AppendLine = %s\nwant %s", line, want)
	}
	agg := *m
	agg.Aggregated, agg.SubSequenceNumber = true, 12
	line = AppendLine(nil, []byte(`{"a":1}`), &agg, "2026-11-21T13:41:00.000Z", "")
	want = strings.Replace(want, `","event_id"`, `","sub_sequence_number":12,"event_id"`, 1)
	if string(line) != want {
		t.Errorf("AppendLine(a KPL user record) = %s\nwant %s", line, want)
	}
	q := AppendLine(nil, []byte(`{"a":1}`), &Meta{PartitionKey: "k\"ey\xff", ArrivalTime: m.ArrivalTime}, "t", "bad \"time\"")
	var v map[string]any
	if err := json.Unmarshal(q, &v); err != nil {
		t.Fatalf("quarantine line is not JSON: %v: %s", err, q)
	}
	if v["error"] != `bad "time"` || v["processed"] != false || v["partition_key"] != "k\"ey\uFFFD" {
		t.Errorf("quarantine line = %s", q)
	}
}

func TestCompareSequenceNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "2", -1},
		{"10", "9", 1}, // lexical order would say -1
		{"49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692538361571095921575989136588898", 0},
		{"49590338271490256608559692538361571095921575989136588898", "9", 1},
		{"049", "49", 0},
	}
	for _, tc := range tests {
		got, err := CompareSequenceNumbers(tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("CompareSequenceNumbers(%s, %s) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "12a", "-1", " 1"} {
		if _, err := CompareSequenceNumbers(bad, "1"); err == nil {
			t.Errorf("CompareSequenceNumbers(%q, 1) = nil error; want error", bad)
		}
	}
}

func TestTopLevelMember(t *testing.T) {
	obj := []byte(`{"a":{"timestamp":"inner"},"s":"x\"}","timestamp":"2026-11-21T13:40:00Z","n":[1,{"b":2}],"last":null}`)
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"timestamp", `"2026-11-21T13:40:00Z"`, true},
		{"a", `{"timestamp":"inner"}`, true},
		{"s", `"x\"}"`, true},
		{"n", `[1,{"b":2}]`, true},
		{"last", `null`, true},
		{"missing", ``, false},
	}
	for _, tc := range tests {
		got, ok := TopLevelMember(obj, tc.name)
		if string(got) != tc.want || ok != tc.ok {
			t.Errorf("TopLevelMember(obj, %q) = %s, %v; want %s, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := TopLevelMember([]byte(`[1]`), "a"); ok {
		t.Errorf("TopLevelMember on an array found a member")
	}
	// Names are compared as JSON reads them: the escaped spelling is the same
	// member, and the last of the two wins.
	escaped := []struct{ obj, name, want string }{
		{`{"timestamp":"x","time\u0073tamp":"y"}`, "timestamp", `"y"`},
		{`{"time\u0073tamp":"y","timestamp":"x"}`, "timestamp", `"x"`},
		{`{"a\"b":1}`, `a"b`, `1`},
		{`{"\u00e9t\u00e9":2}`, "été", `2`},
	}
	for _, tc := range escaped {
		if got, ok := TopLevelMember([]byte(tc.obj), tc.name); !ok || string(got) != tc.want {
			t.Errorf("TopLevelMember(%s, %q) = %s, %v; want %s", tc.obj, tc.name, got, ok, tc.want)
		}
		_, _, got, ok := AppendPayloadMember(nil, []byte(tc.obj), tc.name)
		if !ok || string(got) != tc.want {
			t.Errorf("AppendPayloadMember(%s, %q) member = %s, %v; want %s", tc.obj, tc.name, got, ok, tc.want)
		}
	}
	if got, ok := Lookup([]byte(`{"a":{"b":{"c":1}},"x":2}`), []string{"a", "b", "c"}); !ok || string(got) != "1" {
		t.Errorf("Lookup a.b.c = %s, %v; want 1", got, ok)
	}
	if _, ok := Lookup([]byte(`{"a":{"b":1}}`), []string{"a", "c"}); ok {
		t.Errorf("Lookup a.c found a member")
	}
	if got, ok := TopLevelMember([]byte(`{"a":1,"a":2}`), "a"); !ok || string(got) != "2" {
		t.Errorf("TopLevelMember duplicate = %s; want the last value 2", got)
	}
	if s, ok := StringValue([]byte(`"a\"b"`)); ok {
		t.Errorf("StringValue with escapes = %q, true; want false", s)
	}
}

func BenchmarkAppendPayloadSensor(b *testing.B) {
	data := []byte(`{"device_id":"sensor-0007","temperature":21.43,"humidity":48.2,"timestamp":"2026-11-21T13:40:05Z","location":{"lat":52.52,"lon":13.405},"battery_level":87}`)
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendPayload(buf[:0], data)
	}
}

// Text whose {"message"} form would outgrow a line (control bytes take six
// bytes each) is stored as base64, which any record Kinesis holds fits in.
func TestAppendPayloadLongEscapedText(t *testing.T) {
	small := bytes.Repeat([]byte{1}, 1<<20) // 6 MiB escaped: still a message
	out, kind := AppendPayload(nil, small)
	if kind != Text || len(out) != 6<<20+len(`{"message":""}`) {
		t.Errorf("1 MiB of control bytes: kind %v, %d bytes; want text, %d", kind, len(out), 6<<20+len(`{"message":""}`))
	}
	big := bytes.Repeat([]byte{1}, 3<<20) // 18 MiB escaped
	var sc PayloadScanner
	sc.Reset("timestamp")
	for _, got := range []func() ([]byte, Kind){
		func() ([]byte, Kind) { return AppendPayload([]byte("x"), big) },
		func() ([]byte, Kind) {
			out, kind, _, _ := AppendPayloadMember([]byte("x"), big, "timestamp")
			return out, kind
		},
		func() ([]byte, Kind) { out, kind, _, _ := sc.Append([]byte("x"), big); return out, kind },
	} {
		out, kind := got()
		var v struct {
			Data []byte `json:"data_base64"`
		}
		if kind != Binary || out[0] != 'x' || json.Unmarshal(out[1:], &v) != nil || !bytes.Equal(v.Data, big) {
			t.Fatalf("3 MiB of control bytes: kind %v, %d bytes; want data_base64 of the data", kind, len(out))
		}
	}
}
