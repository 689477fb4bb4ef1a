package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/streamlake/streamlake/bench/benchdata"
	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/record"
)

// memSink is an in-memory Sink that can fail on command.
type memSink struct {
	mu      sync.Mutex
	objects map[string]Object
	puts    int
	failIf  func(key string) error
}

func newMemSink() *memSink { return &memSink{objects: map[string]Object{}} }

func (s *memSink) Put(_ context.Context, obj Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.failIf != nil {
		if err := s.failIf(obj.Key); err != nil {
			return err
		}
	}
	obj.Body = bytes.Clone(obj.Body)
	s.objects[obj.Key] = obj
	return nil
}

var fixedNow = func() time.Time { return time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC) }

const shard = "shardId-000000000000"

// kinesisEvent builds a batch of records of one shard, 1 s apart, from payloads.
func kinesisEvent(payloads ...[]byte) *events.KinesisEvent {
	ev := &events.KinesisEvent{}
	base := time.Date(2026, 11, 21, 13, 59, 58, 0, time.UTC)
	for i, p := range payloads {
		seq := fmt.Sprintf("4966285097458743601234567890123456789012345678901234%04d", i)
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			AwsRegion:      "us-east-1",
			EventID:        shard + ":" + seq,
			EventName:      "aws:kinesis:record",
			EventSource:    "aws:kinesis",
			EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
			EventVersion:   "1.0",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: base.Add(time.Duration(i) * time.Second)},
				Data:                        p,
				PartitionKey:                fmt.Sprintf("sensor-%04d", i%3),
				SequenceNumber:              seq,
				KinesisSchemaVersion:        "1.0",
			},
		})
	}
	return ev
}

func sensor(i int, ts string) []byte {
	return fmt.Appendf(nil, `{"device_id":"sensor-%04d","temperature":2%d.5,"timestamp":%q}`, i%3, i%10, ts)
}

// quarantineReasons returns the reasons ("error") of the records in sink's gzip
// quarantine objects.
func quarantineReasons(t *testing.T, sink *memSink) []any {
	t.Helper()
	var reasons []any
	for k, obj := range sink.objects {
		if strings.HasPrefix(k, "quarantine/") {
			for _, l := range decodeLines(t, ndjson.Gzip, obj.Body) {
				reasons = append(reasons, l["error"])
			}
		}
	}
	return reasons
}

func decodeLines(t *testing.T, c ndjson.Compression, body []byte) []map[string]any {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	switch c {
	case ndjson.Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("gunzip: %v", err)
		}
		r = zr
	case ndjson.Zstd:
		zr, err := zstd.NewReader(r)
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		defer zr.Close()
		r = zr
	}
	var out []map[string]any
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, sc.Bytes())
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read lines: %v", err)
	}
	return out
}

func newTestProcessor(t *testing.T, sink Sink, c ndjson.Compression) *Processor {
	t.Helper()
	p, err := New(sink, Config{Compression: c, Now: fixedNow, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHandleWritesOneObjectPerBatch(t *testing.T) {
	for _, c := range []ndjson.Compression{ndjson.Gzip, ndjson.Zstd, ndjson.None} {
		t.Run(string(c), func(t *testing.T) {
			sink := newMemSink()
			p := newTestProcessor(t, sink, c)
			var payloads [][]byte
			for i := 0; i < 5; i++ {
				payloads = append(payloads, sensor(i, "2026-11-21T13:40:00Z"))
			}
			ev := kinesisEvent(payloads...)
			resp, err := p.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("BatchItemFailures = %#v; want empty, non-nil", resp.BatchItemFailures)
			}
			wantKey := "processed/year=2026/month=11/day=21/hour=13/" + shard + "-" + ev.Records[0].Kinesis.SequenceNumber + c.Extension()
			if len(sink.objects) != 1 {
				t.Fatalf("objects = %d; want 1", len(sink.objects))
			}
			obj, ok := sink.objects[wantKey]
			if !ok {
				t.Fatalf("object %s not written; have %v", wantKey, keys(sink))
			}
			if obj.Metadata[MetaRecordCount] != "5" || obj.Metadata[MetaLastSequenceNumber] != ev.Records[4].Kinesis.SequenceNumber {
				t.Errorf("metadata = %v", obj.Metadata)
			}
			if obj.ContentType != c.ContentType() {
				t.Errorf("ContentType = %q; want %q", obj.ContentType, c.ContentType())
			}
			lines := decodeLines(t, c, obj.Body)
			if len(lines) != 5 {
				t.Fatalf("lines = %d; want 5", len(lines))
			}
			for i, l := range lines {
				r := ev.Records[i]
				var orig map[string]any
				_ = json.Unmarshal(payloads[i], &orig)
				want := map[string]any{
					"original_data":                 orig,
					"processing_timestamp":          "2026-11-21T14:00:00.000Z",
					"partition_key":                 r.Kinesis.PartitionKey,
					"sequence_number":               r.Kinesis.SequenceNumber,
					"event_id":                      r.EventID,
					"processed":                     true,
					"shard_id":                      shard,
					"approximate_arrival_timestamp": r.Kinesis.ApproximateArrivalTimestamp.UTC().Format(time.RFC3339Nano),
				}
				if i == 0 {
					want["approximate_arrival_timestamp"] = "2026-11-21T13:59:58.000Z"
				} else {
					want["approximate_arrival_timestamp"] = r.Kinesis.ApproximateArrivalTimestamp.UTC().Format("2006-01-02T15:04:05.000Z")
				}
				if d := cmp.Diff(want, l); d != "" {
					t.Errorf("line %d (-want +got):\n%s", i, d)
				}
			}
		})
	}
}

// onlyObject returns the body of the one gzip object sink holds, and its lines
// decompressed.
func onlyObject(t *testing.T, sink *memSink) (body, lines []byte) {
	t.Helper()
	if len(sink.objects) != 1 {
		t.Fatalf("objects %q; want one", keys(sink))
	}
	for _, o := range sink.objects {
		body = o.Body
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if lines, err = io.ReadAll(zr); err != nil {
		t.Fatal(err)
	}
	return body, lines
}

func keys(s *memSink) []string {
	var k []string
	for key := range s.objects {
		k = append(k, key)
	}
	return k
}

func TestHandleSameBatchTwiceOverwritesOneKey(t *testing.T) {
	sink := newMemSink()
	p := newTestProcessor(t, sink, ndjson.Gzip)
	ev := kinesisEvent(sensor(1, "2026-11-21T13:40:00Z"), sensor(2, "2026-11-21T13:40:01Z"))
	for i := 0; i < 2; i++ {
		if _, err := p.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(sink.objects) != 1 || sink.puts != 2 {
		t.Errorf("objects = %d after %d puts; want 1 object", len(sink.objects), sink.puts)
	}
}

func TestHandleMixedPayloads(t *testing.T) {
	sink := newMemSink()
	p := newTestProcessor(t, sink, ndjson.Gzip)
	binary := []byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x01}
	ev := kinesisEvent(
		[]byte(`{"z":1,"a":2}`),
		[]byte("plain text °C"),
		binary,
		[]byte{},
		[]byte("  [1, 2]\n"),
	)
	if _, err := p.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	_, raw := onlyObject(t, sink)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	want := []string{
		`{"original_data":{"z":1,"a":2},`,
		`{"original_data":{"message":"plain text °C"},`,
		`{"original_data":{"data_base64":"` + base64.StdEncoding.EncodeToString(binary) + `"},`,
		`{"original_data":{"message":""},`,
		`{"original_data":[1,2],`,
	}
	if len(lines) != len(want) {
		t.Fatalf("lines = %d; want %d", len(lines), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %s; want prefix %s", i, lines[i], w)
		}
	}
}

// TestUnicodeLineSeparatorsAreEscaped: U+0085, U+2028 and U+2029 are valid
// unescaped in JSON strings, but readers that split text on every Unicode line
// break (Python's str.splitlines, JavaScript before ES2019) would cut a line
// holding one in two. Every line of an object carries them escaped: in JSON
// payloads (the same value), in text and in metadata.
func TestUnicodeLineSeparatorsAreEscaped(t *testing.T) {
	sink := newMemSink()
	p := newTestProcessor(t, sink, ndjson.Gzip)
	sensor := `{"device_id":"sensor-0001","temperature":21.5,"timestamp":"2026-11-21T13:40:00Z","note":"%s"}`
	payloads := [][]byte{
		[]byte(fmt.Sprintf(sensor, "ok")), // the shape that later payloads fit
		[]byte(fmt.Sprintf(sensor, "a\u2028b")),
		[]byte(fmt.Sprintf(sensor, "c\u2029d\u0085e")),
		[]byte("{ \"note\": \"\u2028\" }"),
		[]byte("text\u2028with\u0085breaks"),
	}
	ev := kinesisEvent(payloads...)
	ev.Records[1].Kinesis.PartitionKey = "key\u2028one"
	if _, err := p.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	body, raw := onlyObject(t, sink)
	if bytes.ContainsAny(raw, "\u0085\u2028\u2029") {
		t.Errorf("object holds an unescaped Unicode line separator:\n%s", raw)
	}
	lines := decodeLines(t, ndjson.Gzip, body)
	if len(lines) != len(payloads) {
		t.Fatalf("lines = %d; want %d", len(lines), len(payloads))
	}
	for i, data := range payloads[:4] {
		var want any
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if got := lines[i]["original_data"]; !reflect.DeepEqual(got, want) {
			t.Errorf("line %d original_data = %v; want the payload's value %v", i, got, want)
		}
	}
	if got := lines[4]["original_data"]; !reflect.DeepEqual(got, map[string]any{"message": string(payloads[4])}) {
		t.Errorf("text line original_data = %v; want {message: %q}", got, payloads[4])
	}
	if got := lines[1]["partition_key"]; got != "key\u2028one" {
		t.Errorf("partition_key = %q; want %q", got, "key\u2028one")
	}
}

func TestHandleQuarantinesRejectedRecords(t *testing.T) {
	sink := newMemSink()
	p := newTestProcessor(t, sink, ndjson.Gzip)
	ev := kinesisEvent(
		sensor(0, "2026-11-21T13:40:00Z"),
		sensor(1, "yesterday"),
		[]byte(`{"timestamp":true}`),
		sensor(3, "2026-11-21T13:40:03Z"),
		sensor(4, "2026-11-21T13:40:04.123456"), // Python's datetime.utcnow().isoformat()
		[]byte(`{"device_id":"d","timestamp":1795268405000}`),
		sensor(6, "2026-11-21 13:40:06"),
		[]byte(`{"timestamp":-1}`),
	)
	resp, err := p.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v; want success", resp, err)
	}
	if len(sink.objects) != 2 || sink.puts != 2 {
		t.Fatalf("objects = %v after %d PUTs; want processed + one quarantine object in 2 PUTs", keys(sink), sink.puts)
	}
	processed := sink.objects["processed/year=2026/month=11/day=21/hour=13/"+shard+"-"+ev.Records[0].Kinesis.SequenceNumber+".ndjson.gz"]
	var gotSeq []any
	for _, l := range decodeLines(t, ndjson.Gzip, processed.Body) {
		gotSeq = append(gotSeq, l["sequence_number"])
	}
	wantSeq := []any{ev.Records[0].Kinesis.SequenceNumber, ev.Records[3].Kinesis.SequenceNumber,
		ev.Records[4].Kinesis.SequenceNumber, ev.Records[5].Kinesis.SequenceNumber, ev.Records[6].Kinesis.SequenceNumber}
	if diff := cmp.Diff(wantSeq, gotSeq); diff != "" {
		t.Errorf("processed records (-want +got):\n%s", diff)
	}
	first, last := ev.Records[1].Kinesis, ev.Records[7].Kinesis
	key := ndjson.ObjectKey("quarantine", first.ApproximateArrivalTimestamp.Time, shard, first.SequenceNumber, ndjson.Gzip)
	obj, ok := sink.objects[key]
	if !ok {
		t.Fatalf("quarantine object %s missing: %v", key, keys(sink))
	}
	wantMeta := map[string]string{MetaRecordCount: "3", MetaFirstSequenceNumber: first.SequenceNumber, MetaLastSequenceNumber: last.SequenceNumber}
	if diff := cmp.Diff(wantMeta, obj.Metadata); diff != "" {
		t.Errorf("quarantine metadata (-want +got):\n%s", diff)
	}
	tests := []struct {
		rec    int
		reason string
	}{
		{1, `timestamp "yesterday" is not a date-time (RFC 3339 or ISO 8601) nor an epoch number`},
		{2, `timestamp is a boolean, want a date-time string or epoch seconds or milliseconds`},
		{7, `timestamp -1 is a negative number, want a date-time string or epoch seconds or milliseconds`},
	}
	lines := decodeLines(t, ndjson.Gzip, obj.Body)
	if len(lines) != len(tests) {
		t.Fatalf("quarantine lines = %v; want %d", lines, len(tests))
	}
	for i, tc := range tests {
		r := ev.Records[tc.rec]
		if l := lines[i]; l["error"] != tc.reason || l["processed"] != false || l["sequence_number"] != r.Kinesis.SequenceNumber {
			t.Errorf("quarantine line %d = %v; want record %d with error %q", i, l, tc.rec, tc.reason)
		}
	}
}

// A quarantine reason says what is wrong with the event time and what to send
// instead, so that the producer's owner can fix it from the reason alone.
func TestEventTimeReasonsSayWhatIsWrong(t *testing.T) {
	const notTime = ` is not a date-time (RFC 3339 or ISO 8601) nor an epoch number`
	tests := []struct {
		value  string // the raw JSON value of timestamp
		reason string
	}{
		{`"yesterday"`, `timestamp "yesterday"` + notTime},
		{`"2025-07-12"`, `timestamp "2025-07-12"` + notTime +
			`: a date without a time of day has no hour; add one, as in 2025-07-12T00:00:00Z`},
		{`"2016-12-31T23:59:60Z"`, `timestamp "2016-12-31T23:59:60Z"` + notTime +
			`: second 60 is out of range 00–59 (leap seconds are not read)`},
		{`"2025-07-12T24:00:00Z"`, `timestamp "2025-07-12T24:00:00Z"` + notTime +
			`: hour 24 is out of range 00–23 (write the end of a day as 00:00 of the next)`},
		{`"2025-02-30T10:00:00Z"`, `timestamp "2025-02-30T10:00:00Z"` + notTime +
			`: day 30 is out of range for 2025-02 (01–28)`},
		{`"2025-13-01T10:00:00Z"`, `timestamp "2025-13-01T10:00:00Z"` + notTime +
			`: month 13 is out of range 01–12`},
		{`"2025-07-12T14:61:00Z"`, `timestamp "2025-07-12T14:61:00Z"` + notTime +
			`: minute 61 is out of range 00–59`},
		{`"2025-07-12T14:03:05+24:00"`, `timestamp "2025-07-12T14:03:05+24:00"` + notTime +
			`: offset +24:00 is out of range (hours 00–23, minutes 00–59)`},
		{`"9999-12-31T23:30:00-01:00"`, `timestamp "9999-12-31T23:30:00-01:00"` + notTime +
			`: in UTC it is outside years 0000–9999`},
		{`"20250712"`, `timestamp "20250712"` + notTime +
			`: a string of digits is read as an epoch time only from 2001-09-09 to 2286-11-20 (as one, it would be 1970-08-23T09:11:52Z); send a date-time such as 2025-07-12T14:03:05Z, or the epoch time as a JSON number`},
		{`"20250712T140305Z"`, `timestamp "20250712T140305Z"` + notTime +
			`: ISO 8601's basic format (without - and :) is not read; send the extended format, 2025-07-12T14:03:05Z`},
		{`" 2025-07-12T14:03:05Z"`, `timestamp " 2025-07-12T14:03:05Z"` + notTime +
			`: it has spaces around it; send the time alone`},
		{`"2025-07-12T16:03:05[Europe/Berlin]"`, `timestamp "2025-07-12T16:03:05[Europe/Berlin]"` + notTime +
			`: a time zone name without an offset is not read (the instant depends on the zone's rules); send the offset too, as Java's ZonedDateTime.toString() does: 2025-07-12T16:03:05+02:00[Europe/Berlin]`},
		{`"2025-07-12T16:03:05+02:00[!Europe/Berlin]"`, `timestamp "2025-07-12T16:03:05+02:00[!Europe/Berlin]"` + notTime +
			`: a critical suffix tag ([!…]) is not read; send it without the !`},
		{`"2025-02-30T16:03:05+02:00[Europe/Berlin]"`, `timestamp "2025-02-30T16:03:05+02:00[Europe/Berlin]"` + notTime +
			`: day 30 is out of range for 2025-02 (01–28)`},
		{`"2025-07-12 14:03:05 EST"`, `timestamp "2025-07-12 14:03:05 EST"` + notTime +
			`: zone EST is not read (a zone abbreviation can name more than one offset); send the zone's numeric offset instead (2025-07-12 14:03:05 ±hhmm), or the time in UTC followed by UTC`},
		{`-1752328985`, `timestamp -1752328985 is a negative number, want a date-time string or epoch seconds or milliseconds`},
		{`-1e-400`, `timestamp -1e-400 is a negative number, want a date-time string or epoch seconds or milliseconds`},
		// Zero with a minus sign is not negative; the sign is what is refused.
		{`-0`, `timestamp -0 is zero with a minus sign, want a date-time string or epoch seconds or milliseconds`},
		{`-0.000e7`, `timestamp -0.000e7 is zero with a minus sign, want a date-time string or epoch seconds or milliseconds`},
		{`12345678901234567890`, `timestamp 12345678901234567890 is a number out of range (1e19 or more), want a date-time string or epoch seconds or milliseconds`},
		{`true`, `timestamp is a boolean, want a date-time string or epoch seconds or milliseconds`},
	}
	for _, tc := range tests {
		sink := newMemSink()
		p := newTestProcessor(t, sink, ndjson.Gzip)
		// The first record is checked as the Processor checks while it scans a
		// payload, the second by the Transform as a custom pipeline calls it.
		payload := []byte(`{"device_id":"d","timestamp":` + tc.value + `}`)
		if resp, err := p.Handle(context.Background(), kinesisEvent(payload)); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("Handle = %v, %v", resp, err)
		}
		reasons := quarantineReasons(t, sink)
		_, err := ValidateEventTime.Transform(&Record{Payload: payload, Kind: record.JSON})
		if err != nil {
			reasons = append(reasons, err.Error())
		}
		if diff := cmp.Diff([]any{tc.reason, tc.reason}, reasons); diff != "" {
			t.Errorf("timestamp %s: reasons (-want +got):\n%s", tc.value, diff)
		}
	}
}

// The check reads the field the aggregator groups by (TIME_FIELD), nested
// fields included, and reads member names as JSON does: a second spelling of
// the member with escapes is the same member, and the last one counts, as it
// does for the aggregator.
func TestEventTimeFieldAsTheAggregatorReadsIt(t *testing.T) {
	tests := []struct {
		field   string
		payload string
		reason  string // "" for processed
	}{
		{"timestamp", `{"device_id":"d1","timestamp":"2026-11-21T13:40:00Z","time\u0073tamp":"yesterday"}`,
			`timestamp "yesterday" is not a date-time (RFC 3339 or ISO 8601) nor an epoch number`},
		{"timestamp", `{"time\u0073tamp":"yesterday","timestamp":"2026-11-21T13:40:00Z"}`, ""},
		{"event_time", `{"event_time":"yesterday"}`,
			`event_time "yesterday" is not a date-time (RFC 3339 or ISO 8601) nor an epoch number`},
		{"event_time", `{"event_time":"2026-11-21T09:00:00Z","timestamp":"n/a"}`, ""},
		{"meta.time", `{"meta":{"time":true},"timestamp":"n/a"}`,
			`meta.time is a boolean, want a date-time string or epoch seconds or milliseconds`},
		{"meta.time", `{"meta":{"time":1795268405000}}`, ""},
		{"meta.time", `{"meta":"2026-11-21T09:00:00Z"}`, ""}, // no such member: nothing to check
	}
	for _, tc := range tests {
		tr, err := ValidateEventTimeAt(tc.field)
		if err != nil {
			t.Fatal(err)
		}
		for _, transform := range []Transform{tr, TransformFunc(tr.Transform)} {
			sink := newMemSink()
			p, err := New(sink, Config{Now: fixedNow, Logger: slog.New(slog.DiscardHandler), Transform: transform})
			if err != nil {
				t.Fatal(err)
			}
			// The record after the first takes the batch's learned shape.
			ev := kinesisEvent([]byte(tc.payload), []byte(tc.payload))
			if resp, err := p.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle = %v, %v", resp, err)
			}
			reasons := quarantineReasons(t, sink)
			var want []any
			if tc.reason != "" {
				want = []any{tc.reason, tc.reason}
			}
			if diff := cmp.Diff(want, reasons); diff != "" {
				t.Errorf("field %s, payload %s: quarantine reasons (-want +got):\n%s", tc.field, tc.payload, diff)
			}
		}
	}
	for _, bad := range []string{"", ".a", "a.", "a..b"} {
		if _, err := ValidateEventTimeAt(bad); err == nil {
			t.Errorf("ValidateEventTimeAt(%q) accepted an empty member name", bad)
		}
	}
}

// What a custom transform returns becomes original_data only as one compact
// JSON value: indented JSON is compacted (one record, one line), and output
// that is not JSON is quarantined with a reason, never written as a broken line.
func TestTransformOutputIsOneJSONLine(t *testing.T) {
	outputs := map[string][]byte{
		"indented": []byte("{\n  \"device_id\": \"d1\",\n  \"n\": [1, 2]\n}"),
		"scalar":   []byte(` 42 `),
		"text":     []byte(`not json`),
		"binary":   []byte("{\"a\":\"\xff\"}"),
		"empty":    nil,
		"copy":     nil, // a copy of the payload
	}
	order := []string{"indented", "scalar", "text", "binary", "empty", "copy"}
	tr := TransformFunc(func(r *Record) ([]byte, error) {
		name := string(r.Payload[len(`{"case":"`) : len(r.Payload)-len(`"}`)])
		if name == "copy" {
			return bytes.Clone(r.Payload), nil
		}
		return outputs[name], nil
	})
	var payloads [][]byte
	for _, name := range order {
		payloads = append(payloads, fmt.Appendf(nil, `{"case":%q}`, name))
	}
	sink := newMemSink()
	p, err := New(sink, Config{Now: fixedNow, Logger: slog.New(slog.DiscardHandler), Transform: tr})
	if err != nil {
		t.Fatal(err)
	}
	ev := kinesisEvent(payloads...)
	if resp, err := p.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", resp, err)
	}
	var processed, reasons []any
	for k, obj := range sink.objects {
		lines := decodeLines(t, ndjson.Gzip, obj.Body)
		if n := strconv.Itoa(len(lines)); obj.Metadata[MetaRecordCount] != n {
			t.Errorf("%s: record-count %s, %s lines", k, obj.Metadata[MetaRecordCount], n)
		}
		for _, l := range lines {
			if strings.HasPrefix(k, "quarantine/") {
				reasons = append(reasons, l["error"])
			} else {
				processed = append(processed, l["original_data"])
			}
		}
	}
	wantProcessed := []any{map[string]any{"device_id": "d1", "n": []any{1.0, 2.0}}, 42.0, map[string]any{"case": "copy"}}
	if diff := cmp.Diff(wantProcessed, processed); diff != "" {
		t.Errorf("processed original_data (-want +got):\n%s", diff)
	}
	wantReasons := []any{"transform returned 8 bytes that are not JSON", "transform returned 9 bytes that are not JSON",
		"transform returned an empty payload"}
	if diff := cmp.Diff(wantReasons, reasons); diff != "" {
		t.Errorf("quarantine reasons (-want +got):\n%s", diff)
	}
}

// A custom transform's error becomes the reason, cut to its first KiB at a
// character: the line holds the record already.
func TestLongReasonIsCut(t *testing.T) {
	long := strings.Repeat("é", 5000) // 2 bytes each
	sink := newMemSink()
	tr := TransformFunc(func(*Record) ([]byte, error) { return nil, errors.New(long) })
	p, err := New(sink, Config{Now: fixedNow, Logger: slog.New(slog.DiscardHandler), Transform: tr})
	if err != nil {
		t.Fatal(err)
	}
	ev := kinesisEvent(sensor(0, "2026-11-21T13:40:00Z"))
	if resp, err := p.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", resp, err)
	}
	r := ev.Records[0].Kinesis
	obj := sink.objects[ndjson.ObjectKey("quarantine", r.ApproximateArrivalTimestamp.Time, shard, r.SequenceNumber, ndjson.Gzip)]
	lines := decodeLines(t, ndjson.Gzip, obj.Body)
	if want := strings.Repeat("é", 512) + "…"; len(lines) != 1 || lines[0]["error"] != want {
		t.Errorf("quarantine lines %v; want one with the error's first 512 characters and …", lines)
	}
}

// deadlineSink records the deadline of each Put's context and fails the Put
// once that deadline has passed, as an S3 client does.
type deadlineSink struct {
	deadlines []time.Time
	block     bool // wait for the context to end
}

func (s *deadlineSink) Put(ctx context.Context, obj Object) error {
	dl, _ := ctx.Deadline()
	s.deadlines = append(s.deadlines, dl)
	if s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// The processor stops its S3 writes DeadlineMargin before the invocation's
// deadline, so that a slow or failing write is a batch item failure (retried
// from the batch's first record) rather than a function timeout.
func TestWritesStopBeforeTheDeadline(t *testing.T) {
	ev := kinesisEvent(sensor(0, "2026-11-21T13:40:00Z"), sensor(1, "bad"))
	outer := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), outer)
	defer cancel()
	sink := &deadlineSink{}
	p, err := New(sink, Config{Now: fixedNow, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := p.Handle(ctx, ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", resp, err)
	}
	if len(sink.deadlines) != 2 {
		t.Fatalf("%d PUTs; want the processed and the quarantine object", len(sink.deadlines))
	}
	for i, dl := range sink.deadlines {
		if want := outer.Add(-DeadlineMargin); !dl.Equal(want) {
			t.Errorf("PUT %d deadline %v; want %v, DeadlineMargin before the invocation's", i, dl, want)
		}
	}

	// A write that does not finish by then is reported, well before the
	// invocation's deadline. With 2 s left, the margin is 500 ms.
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sink = &deadlineSink{block: true}
	p, err = New(sink, Config{Now: fixedNow, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Handle(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Kinesis.SequenceNumber {
		t.Fatalf("Handle = %v, %v; want the first record reported", resp, err)
	}
	if ctx.Err() != nil {
		t.Errorf("Handle returned after the invocation's deadline")
	}

	// Without a deadline (a caller other than Lambda), the writes have none.
	sink = &deadlineSink{}
	if p, err = New(sink, Config{Now: fixedNow, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Handle(context.Background(), ev); err != nil || len(sink.deadlines) != 2 || !sink.deadlines[0].IsZero() {
		t.Errorf("Handle without a deadline: %v, PUT deadlines %v; want two PUTs without one", err, sink.deadlines)
	}
}

// A batch of nothing but unreadable event times costs two PUTs (the empty
// processed object and one quarantine object), whatever its size.
func TestHandleQuarantineFloodIsOneObject(t *testing.T) {
	const n = 10000
	payloads := make([][]byte, n)
	for i := range payloads {
		payloads[i] = sensor(i, fmt.Sprintf("broken clock %d", i))
	}
	ev := kinesisEvent(payloads...)
	sink := newMemSink()
	p := newTestProcessor(t, sink, ndjson.Gzip)
	resp, err := p.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v; want success", resp, err)
	}
	if sink.puts != 2 || len(sink.objects) != 2 {
		t.Fatalf("%d PUTs, objects %d; want 2 (processed + quarantine)", sink.puts, len(sink.objects))
	}
	r0 := ev.Records[0].Kinesis
	obj := sink.objects[ndjson.ObjectKey("quarantine", r0.ApproximateArrivalTimestamp.Time, shard, r0.SequenceNumber, ndjson.Gzip)]
	lines := decodeLines(t, ndjson.Gzip, obj.Body)
	if len(lines) != n || obj.Metadata[MetaRecordCount] != fmt.Sprint(n) || obj.Metadata[MetaLastSequenceNumber] != ev.Records[n-1].Kinesis.SequenceNumber {
		t.Fatalf("quarantine object: %d lines, metadata %v; want %d", len(lines), obj.Metadata, n)
	}
	for i, l := range lines {
		if l["sequence_number"] != ev.Records[i].Kinesis.SequenceNumber || l["error"] == nil {
			t.Fatalf("line %d = %v; want record %d with an error", i, l, i)
		}
	}
}

// Retries (the same batch, a superset, bisected halves) leave each quarantined
// record in exactly one latest quarantine object version.
func TestQuarantineRetriesOverwrite(t *testing.T) {
	good := func(i int) []byte { return sensor(i, "2026-11-21T13:40:00Z") }
	bad := func(i int) []byte { return sensor(i, "never") }
	ev := kinesisEvent(good(0), bad(1), good(2), bad(3), good(4), bad(5))
	sub := func(from, to int) *events.KinesisEvent {
		return &events.KinesisEvent{Records: ev.Records[from:to]}
	}
	tests := []struct {
		name     string
		attempts []*events.KinesisEvent
	}{
		{"same batch twice", []*events.KinesisEvent{ev, ev}},
		{"bisect after a full attempt", []*events.KinesisEvent{ev, sub(0, 3), sub(3, 6)}},
		{"bisect, prefix without poison", []*events.KinesisEvent{ev, sub(0, 1), sub(1, 6)}},
		{"prefix then superset", []*events.KinesisEvent{sub(0, 4), ev}},
		{"deeper bisect", []*events.KinesisEvent{ev, sub(0, 3), sub(0, 2), sub(2, 3), sub(3, 6)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := newMemSink()
			p := newTestProcessor(t, sink, ndjson.Gzip)
			for _, a := range tc.attempts {
				if resp, err := p.Handle(context.Background(), a); err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("Handle = %v, %v", resp, err)
				}
			}
			seen := map[any]int{}
			for k, o := range sink.objects {
				if strings.HasPrefix(k, "quarantine/") {
					for _, l := range decodeLines(t, ndjson.Gzip, o.Body) {
						seen[l["sequence_number"]]++
					}
				}
			}
			want := map[any]int{}
			for _, i := range []int{1, 3, 5} {
				want[ev.Records[i].Kinesis.SequenceNumber] = 1
			}
			if diff := cmp.Diff(want, seen); diff != "" {
				t.Errorf("quarantined copies per record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandleAllQuarantinedStillWritesProcessedObject(t *testing.T) {
	sink := newMemSink()
	p := newTestProcessor(t, sink, ndjson.Gzip)
	ev := kinesisEvent(sensor(0, "never"))
	if _, err := p.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	key := "processed/year=2026/month=11/day=21/hour=13/" + shard + "-" + ev.Records[0].Kinesis.SequenceNumber + ".ndjson.gz"
	obj, ok := sink.objects[key]
	if !ok {
		t.Fatalf("empty processed object not written: %v", keys(sink))
	}
	if n := len(decodeLines(t, ndjson.Gzip, obj.Body)); n != 0 || obj.Metadata[MetaRecordCount] != "0" {
		t.Errorf("processed object has %d lines, metadata %v; want 0", n, obj.Metadata)
	}
}

func TestHandleStorageFailureReportsFirstUnstoredRecord(t *testing.T) {
	slowDown := errors.New("SlowDown: please reduce your request rate")
	tests := []struct {
		name   string
		failIf func(key string) error
	}{
		{"processed object fails", func(key string) error {
			if strings.HasPrefix(key, "processed/") {
				return slowDown
			}
			return nil
		}},
		{"quarantine object fails", func(key string) error {
			if strings.HasPrefix(key, "quarantine/") {
				return slowDown
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := newMemSink()
			sink.failIf = tc.failIf
			p := newTestProcessor(t, sink, ndjson.Gzip)
			ev := kinesisEvent(sensor(0, "2026-11-21T13:40:00Z"), sensor(1, "bad"), sensor(2, "2026-11-21T13:40:02Z"))
			resp, err := p.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle returned a function error %v; want a partial batch response", err)
			}
			want := []events.KinesisBatchItemFailure{{ItemIdentifier: ev.Records[0].Kinesis.SequenceNumber}}
			if d := cmp.Diff(want, resp.BatchItemFailures); d != "" {
				t.Errorf("BatchItemFailures (-want +got):\n%s", d)
			}
			// The retry starts at the same record: it must succeed and overwrite.
			sink.failIf = nil
			if resp, _ := p.Handle(context.Background(), ev); len(resp.BatchItemFailures) != 0 {
				t.Errorf("retry failed: %v", resp)
			}
			if len(sink.objects) != 2 {
				t.Errorf("after retry objects = %v; want processed + one quarantine", keys(sink))
			}
		})
	}
}

func TestHandleJSONRejectsNonKinesisEvents(t *testing.T) {
	sink := newMemSink()
	p := newTestProcessor(t, sink, ndjson.Gzip)
	good := kinesisEvent(sensor(0, "2026-11-21T13:40:00Z"))
	mutate := func(f func(r *events.KinesisEventRecord)) string {
		ev := kinesisEvent(sensor(0, "2026-11-21T13:40:00Z"), sensor(1, "2026-11-21T13:40:00Z"))
		f(&ev.Records[1])
		b, _ := json.Marshal(ev)
		return string(b)
	}
	goodJSON, _ := json.Marshal(good)
	tests := []struct {
		name, event, want string
	}{
		{"empty", ``, "not a JSON object"},
		{"array", `[1]`, "not a JSON object"},
		{"no Records", `{"foo":1}`, `no "Records" array`},
		{"truncated", string(goodJSON[:len(goodJSON)/2]), "decode"},
		{"Records not an array", `{"Records":{}}`, "decode"},
		{"bad base64", `{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"!!"}}]}`, "decode"},
		{"SQS event", `{"Records":[{"messageId":"1","body":"x","eventSource":"aws:sqs"}]}`, `eventSource is "aws:sqs"`},
		{"bad sequence number", mutate(func(r *events.KinesisEventRecord) { r.Kinesis.SequenceNumber = "abc" }), `sequenceNumber "abc"`},
		{"bad eventID", mutate(func(r *events.KinesisEventRecord) { r.EventID = "x" }), `eventID "x"`},
		{"two shards", mutate(func(r *events.KinesisEventRecord) {
			r.EventID = "shardId-000000000001:" + r.Kinesis.SequenceNumber
		}), "differs from the batch's shard"},
		{"no arrival time", mutate(func(r *events.KinesisEventRecord) { r.Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{} }), "approximateArrivalTimestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.HandleJSON(context.Background(), json.RawMessage(tc.event))
			var ee *EventError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("HandleJSON(%.60s) error = %v; want an EventError containing %q", tc.event, err, tc.want)
			}
		})
	}
	if len(sink.objects) != 0 {
		t.Errorf("invalid events wrote objects: %v", keys(sink))
	}
}

// TestLambdaHandlerContract invokes through aws-lambda-go's handler adapter, so the
// JSON contract (what Lambda sends and receives) is what is tested.
func TestLambdaHandlerContract(t *testing.T) {
	sink := newMemSink()
	p := newTestProcessor(t, sink, ndjson.Gzip)
	h := lambda.NewHandler(p.HandleJSON)
	ev, _ := json.Marshal(kinesisEvent(sensor(0, "2026-11-21T13:40:00Z")))
	out, err := h.Invoke(context.Background(), ev)
	if err != nil || string(out) != `{"batchItemFailures":[]}` {
		t.Errorf("Invoke = %s, %v; want {\"batchItemFailures\":[]}", out, err)
	}
	out, err = h.Invoke(context.Background(), []byte(`{"Records":[]}`))
	if err != nil || string(out) != `{"batchItemFailures":[]}` {
		t.Errorf("Invoke(empty batch) = %s, %v; want success", out, err)
	}
	sink.failIf = func(string) error { return errors.New("InternalError") }
	out, err = h.Invoke(context.Background(), ev)
	want := `{"batchItemFailures":[{"itemIdentifier":"` + kinesisEvent(nil).Records[0].Kinesis.SequenceNumber + `"}]}`
	if err != nil || string(out) != want {
		t.Errorf("Invoke with S3 failing = %s, %v; want %s", out, err, want)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"hello":"world"}`)); err == nil {
		t.Errorf("Invoke(non-Kinesis event) = nil error; want an error")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	if _, err := New(newMemSink(), Config{Compression: "lz4"}); err == nil || !strings.Contains(err.Error(), `unknown compression "lz4"`) {
		t.Errorf("New(lz4) error = %v", err)
	}
	if _, err := New(newMemSink(), Config{ProcessedPrefix: "x", QuarantinePrefix: "x/"}); err == nil {
		t.Errorf("New(same prefixes) = nil error")
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Errorf("New(nil sink) = nil error")
	}
}

// TestArrivalTimeKeepsLambdasMilliseconds: Lambda sends 1545084650.987; the line and
// the key must say .987, not the .986 that float decoding truncates to. The
// same instant written as other JSON numbers (an exponent, as Java's
// Double.toString writes it, as the Kinesis API reference's GetRecords example
// has it and some hand-made test events do; trailing zeros; no fraction) reads
// the same.
func TestArrivalTimeKeepsLambdasMilliseconds(t *testing.T) {
	for _, tc := range []struct{ arrival, line, key string }{
		{"1545084650.987", "2018-12-17T22:10:50.987Z", "year=2018/month=12/day=17/hour=22/"},
		{"1.545084650987E9", "2018-12-17T22:10:50.987Z", "year=2018/month=12/day=17/hour=22/"},
		{"1.545084650987e+9", "2018-12-17T22:10:50.987Z", "year=2018/month=12/day=17/hour=22/"},
		{"1545084650.98700", "2018-12-17T22:10:50.987Z", "year=2018/month=12/day=17/hour=22/"},
		{"1.654161514132E9", "2022-06-02T09:18:34.132Z", "year=2022/month=06/day=02/hour=09/"},
		{"1545084650", "2018-12-17T22:10:50.000Z", "year=2018/month=12/day=17/hour=22/"},
		{"1545084650.9996", "2018-12-17T22:10:51.000Z", "year=2018/month=12/day=17/hour=22/"},
		// The first and last times accepted (badinput_test.go has those just beyond).
		{"1", "1970-01-01T00:00:01.000Z", "year=1970/month=01/day=01/hour=00/"},
		{"0.9996", "1970-01-01T00:00:01.000Z", "year=1970/month=01/day=01/hour=00/"},
		{"253402300799.999", "9999-12-31T23:59:59.999Z", "year=9999/month=12/day=31/hour=23/"},
	} {
		t.Run(tc.arrival, func(t *testing.T) {
			sink := newMemSink()
			p := newTestProcessor(t, sink, ndjson.None)
			ev := `{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"49590338271490256608559692538361571095921575989136588898",` +
				`"data":"e30=","approximateArrivalTimestamp":` + tc.arrival + `},"eventSource":"aws:kinesis","eventVersion":"1.0",` +
				`"eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898","eventName":"aws:kinesis:record",` +
				`"invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-role","awsRegion":"us-east-2","eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}]}`
			resp, err := p.HandleJSON(context.Background(), json.RawMessage(ev))
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("HandleJSON = %v, %v", resp, err)
			}
			if len(sink.objects) != 1 {
				t.Fatalf("%d objects; want 1", len(sink.objects))
			}
			for k, o := range sink.objects {
				if want := ndjson.DefaultProcessedPrefix + "/" + tc.key; !strings.HasPrefix(k, want) {
					t.Errorf("key %s; want it under %s", k, want)
				}
				lines := decodeLines(t, ndjson.None, o.Body)
				if got := lines[0]["approximate_arrival_timestamp"]; got != tc.line {
					t.Errorf("approximate_arrival_timestamp = %v; want %s", got, tc.line)
				}
			}
		})
	}
}

// TestCompressedBodyIsTheLinesCompressed checks that the processor's compressed
// object is, byte for byte, its uncompressed lines compressed in one Write by the
// same encoder: collecting lines into chunks before compressing them changes no
// byte of the object.
func TestCompressedBodyIsTheLinesCompressed(t *testing.T) {
	ev, err := benchdata.SensorEvent(2000) // several chunks of lines
	if err != nil {
		t.Fatal(err)
	}
	ev.Records[7].Kinesis.Data = []byte(`{"timestamp":"not a time"}`) // and a quarantined record
	body := func(c ndjson.Compression) []byte {
		sink := newMemSink()
		p, err := New(sink, Config{Compression: c, Now: fixedNow, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := p.Handle(context.Background(), &ev); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("Handle = %v, %v", resp, err)
		}
		for k, o := range sink.objects {
			if strings.HasPrefix(k, ndjson.DefaultProcessedPrefix+"/") {
				return o.Body
			}
		}
		t.Fatal("no processed object")
		return nil
	}
	lines := body(ndjson.None)
	if len(lines) < 2*lineChunk {
		t.Fatalf("lines are %d bytes; want several chunks of %d", len(lines), lineChunk)
	}
	for _, c := range []ndjson.Compression{ndjson.Gzip, ndjson.Zstd} {
		enc := ndjson.NewEncoder(c)
		enc.Reset()
		if err := enc.Write(lines); err != nil {
			t.Fatal(err)
		}
		want, err := enc.Finish()
		if err != nil {
			t.Fatal(err)
		}
		if got := body(c); !bytes.Equal(got, want) {
			t.Errorf("%s object (%d bytes) differs from its lines compressed in one write (%d bytes)", c, len(got), len(want))
		}
	}
}

// TestRoundMillisecond checks roundMillisecond against time.Time.Round.
func TestRoundMillisecond(t *testing.T) {
	base := []time.Time{time.Unix(1795268400, 0), time.Unix(-1795268400, 0), time.Unix(0, 0), time.Now()}
	for _, b := range base {
		for _, ns := range []int64{0, 1, 499999, 500000, 500001, 999999, 1000000, 986999999, 987000000, 987499999, 987500000, 999999999} {
			for _, tm := range []time.Time{b.Add(time.Duration(ns)), b.Add(-time.Duration(ns))} {
				if got, want := roundMillisecond(tm), tm.Round(time.Millisecond); !got.Equal(want) || got != want {
					t.Fatalf("roundMillisecond(%v) = %v; want %v", tm, got, want)
				}
			}
		}
	}
}

// An event time whose UTC instant is outside years 0000–9999 (an offset can move
// 9999-12-31 into the year 10000) is quarantined: the aggregator rejects it the
// same way, and its hour has no four-digit year.
func TestCheckEventTimeYearRange(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{`"9999-12-31T22:59:59-01:00"`, true},
		{`"9999-12-31T23:30:00-01:00"`, false},
		{`"0000-01-01T01:00:00+01:00"`, true},
		{`"0000-01-01T00:30:00+01:00"`, false},
	} {
		if err := ValidateEventTime.(*eventTimeCheck).check([]byte(tc.v), true); (err == nil) != tc.ok {
			t.Errorf("the check of %s = %v; want accepted %v", tc.v, err, tc.ok)
		}
	}
}

// TestKPLAggregatedRecords checks that a KPL aggregated record becomes a line
// for each of its user records, with the user record's partition key and its
// index as sub_sequence_number, each processed or quarantined on its own; and
// that data that only looks like an aggregate is one record as before.
func TestKPLAggregatedRecords(t *testing.T) {
	agg := kpl.Aggregate([]kpl.Record{
		{PartitionKey: "device-a", Data: sensor(10, "2026-11-21T13:40:00Z")},
		{PartitionKey: "device-b", Data: sensor(11, "not a time")},
		{PartitionKey: "device-a", Data: sensor(12, "2026-11-21T13:40:02.5")},
	})
	corrupt := bytes.Clone(agg)
	corrupt[len(corrupt)-1] ^= 1 // the digest no longer matches
	ev := kinesisEvent(sensor(0, "2026-11-21T13:40:00Z"), agg, corrupt, sensor(3, "2026-11-21T13:40:03Z"))
	sink := newMemSink()
	p := newTestProcessor(t, sink, ndjson.Gzip)
	resp, err := p.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v; want success", resp, err)
	}
	r0 := ev.Records[0].Kinesis
	at := r0.ApproximateArrivalTimestamp.Time
	processed := sink.objects[ndjson.ObjectKey("processed", at, shard, r0.SequenceNumber, ndjson.Gzip)]
	quarantined := sink.objects[ndjson.ObjectKey("quarantine", ev.Records[1].Kinesis.ApproximateArrivalTimestamp.Time, shard, ev.Records[1].Kinesis.SequenceNumber, ndjson.Gzip)]
	type line struct {
		Seq, Key, Device string
		Sub              any
	}
	read := func(body []byte) []line {
		var out []line
		for _, l := range decodeLines(t, ndjson.Gzip, body) {
			var device string
			if d, ok := l["original_data"].(map[string]any); ok {
				device, _ = d["device_id"].(string)
			}
			out = append(out, line{Seq: l["sequence_number"].(string), Key: l["partition_key"].(string), Device: device, Sub: l["sub_sequence_number"]})
		}
		return out
	}
	seq := func(i int) string { return ev.Records[i].Kinesis.SequenceNumber }
	wantProcessed := []line{
		{seq(0), "sensor-0000", "sensor-0000", nil},
		{seq(1), "device-a", "sensor-0001", 0.0},
		{seq(1), "device-a", "sensor-0000", 2.0},
		{seq(2), "sensor-0002", "", nil},
		{seq(3), "sensor-0000", "sensor-0000", nil},
	}
	if diff := cmp.Diff(wantProcessed, read(processed.Body)); diff != "" {
		t.Errorf("processed lines (-want +got):\n%s", diff)
	}
	if processed.Metadata[MetaRecordCount] != "5" {
		t.Errorf("processed record count = %s; want 5", processed.Metadata[MetaRecordCount])
	}
	// The corrupt aggregate is one binary record, stored whole as data_base64
	// without a sub_sequence_number.
	l := decodeLines(t, ndjson.Gzip, processed.Body)
	if d, _ := l[3]["original_data"].(map[string]any); d == nil || d["data_base64"] != base64.StdEncoding.EncodeToString(corrupt) {
		t.Errorf("the corrupt aggregate is stored as %v; want its data_base64", l[3]["original_data"])
	}
	wantQuarantined := []line{{seq(1), "device-b", "sensor-0002", 1.0}}
	if diff := cmp.Diff(wantQuarantined, read(quarantined.Body)); diff != "" {
		t.Errorf("quarantined lines (-want +got):\n%s", diff)
	}
}

// TestKPLAggregateOfSmallRecordsCostsLittleMemory checks that the user records
// of an aggregate are not held all at once: the KPL packs up to 10 MiB of them
// into one Kinesis record, and a few bytes of data each make hundreds of
// thousands in a batch, whose headers would be a heap many times the size of
// the invocation payload.
func TestKPLAggregateOfSmallRecordsCostsLittleMemory(t *testing.T) {
	const n = 200_000
	users := make([]kpl.Record, n)
	for i := range users {
		users[i] = kpl.Record{PartitionKey: "k", Data: []byte{}}
	}
	ev := kinesisEvent(kpl.Aggregate(users))
	p := newTestProcessor(t, newMemSink(), ndjson.Gzip)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, err := p.Handle(context.Background(), ev)
	runtime.ReadMemStats(&after)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v; want success", resp, err)
	}
	// What remains is the batch's own: the compressor, the line buffer and
	// the object (about 6 bytes a line here, but grown by doubling, and copied
	// by the sink), not the headers of the user records (64 bytes each, and
	// as much again while their slices grow).
	if perRecord := float64(after.TotalAlloc-before.TotalAlloc) / n; perRecord > 96 {
		t.Errorf("Handle allocated %.0f bytes per user record; want at most 96", perRecord)
	}
}
