package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"

	"github.com/streamlake/streamlake/internal/record"
)

func fuzzProcessor(sink Sink) *Processor {
	p, _ := New(sink, Config{Now: fixedNow, Logger: slog.New(slog.DiscardHandler)})
	return p
}

// storedSeqs returns the sequence numbers of every stored line, and the lines.
func storedSeqs(t *testing.T, sink *memSink) ([]string, []map[string]any) {
	t.Helper()
	var seqs []string
	var lines []map[string]any
	for _, o := range sink.objects {
		for _, l := range decodeLinesNumber(t, o.Body) {
			s, _ := l["sequence_number"].(string)
			seqs = append(seqs, s)
			lines = append(lines, l)
		}
	}
	sort.Strings(seqs)
	return seqs, lines
}

// FuzzHandleJSON feeds arbitrary bytes as the Lambda event and as record data.
// The handler must never panic; an event it rejects is an *EventError and stores
// nothing; for an event it accepts, and for a valid event built around the data,
// every record ends up in exactly one stored line (processed or quarantined), whose
// original_data is the record's payload as package record encodes it. Seeds are in
// testdata/fuzz/FuzzHandleJSON.
func FuzzHandleJSON(f *testing.F) {
	ev, _ := json.Marshal(kinesisEvent(sensor(0, "2026-11-21T13:40:00Z"), []byte("text")))
	f.Add(ev, []byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, event, data []byte) {
		ctx := context.Background()

		// 1. An arbitrary event.
		sink := newMemSink()
		resp, err := fuzzProcessor(sink).HandleJSON(ctx, event)
		var ee *EventError
		switch {
		case err != nil && !errors.As(err, &ee):
			t.Fatalf("HandleJSON error %T %v; want *EventError", err, err)
		case err != nil && len(sink.objects) != 0:
			t.Fatalf("HandleJSON rejected the event (%v) but stored %d objects", err, len(sink.objects))
		case err == nil:
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("HandleJSON with a healthy sink = %v; want no failures", resp)
			}
			var ke events.KinesisEvent
			if err := json.Unmarshal(event, &ke); err != nil {
				t.Fatalf("HandleJSON accepted an event encoding/json cannot decode: %v", err)
			}
			var want []string
			for _, r := range ke.Records {
				want = append(want, r.Kinesis.SequenceNumber)
			}
			sort.Strings(want)
			got, _ := storedSeqs(t, sink)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("stored lines for sequence numbers %v; the event has %v", got, want)
			}
		}

		// 2. A valid event around the data, directly and as JSON.
		valid := kinesisEvent(data, sensor(1, "2026-11-21T13:40:00Z"), data)
		raw, err := json.Marshal(valid)
		if err != nil {
			t.Fatal(err)
		}
		for _, viaJSON := range []bool{false, true} {
			sink := newMemSink()
			p := fuzzProcessor(sink)
			if viaJSON {
				resp, err = p.HandleJSON(ctx, raw)
			} else {
				resp, err = p.Handle(ctx, valid)
			}
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle(valid event, viaJSON %v) = %v, %v", viaJSON, resp, err)
			}
			got, lines := storedSeqs(t, sink)
			if len(got) != 3 {
				t.Fatalf("stored %d lines for 3 records of %q", len(got), data)
			}
			payload, _ := record.AppendPayload(nil, data)
			for _, l := range lines {
				if l["sequence_number"] == valid.Records[1].Kinesis.SequenceNumber {
					continue
				}
				orig, _ := json.Marshal(l["original_data"])
				if !sameJSON(orig, payload) {
					t.Fatalf("original_data %s; want %s", orig, payload)
				}
			}
		}
	})
}

// sameJSON reports whether x and y are the same JSON value (numbers compared by
// their text, so values beyond float64 compare too).
func sameJSON(x, y []byte) bool {
	decode := func(b []byte) (any, bool) {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		return v, dec.Decode(&v) == nil
	}
	a, okA := decode(x)
	b, okB := decode(y)
	return okA && okB && reflect.DeepEqual(a, b)
}

// decodeLinesNumber decodes gzip NDJSON lines keeping numbers as json.Number, so
// that numbers beyond float64 (valid JSON) decode.
func decodeLinesNumber(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	dec := json.NewDecoder(zr)
	dec.UseNumber()
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("line is not JSON: %v", err)
		}
		out = append(out, m)
	}
}

// FuzzDefaultTransform checks that the default transform, which the processor
// runs on the event time it finds while scanning the payload, stores exactly
// what the same check stores when it looks the member up in the scanned payload
// (a TransformFunc the processor cannot tell from any other): the same objects,
// byte for byte, the same quarantine reasons.
func FuzzDefaultTransform(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2026-11-21T13:40:00Z"}`))
	f.Add([]byte(`{"timestamp":"yesterday","a":1}`))
	f.Add([]byte(`{"a":{"timestamp":"x"},"timestamp":1752329000}`))
	f.Add([]byte(`{ "timestamp" : "x" }`))
	f.Add([]byte(`{"timestamp":null}`))
	f.Add([]byte(`"timestamp"`))
	f.Add([]byte(`{"timestamp":"2026-11-21T13:40:00Z","time\u0073tamp":"x"}`))
	f.Add([]byte(`{"a":{"time\u0073tamp":"x"},"\u0061":{"timestamp":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev := kinesisEvent(data, sensor(1, "2026-11-21T13:40:00Z"), data)
		stored := func(tr Transform) map[string]Object {
			sink := newMemSink()
			p, err := New(sink, Config{Now: fixedNow, Logger: slog.New(slog.DiscardHandler), Transform: tr})
			if err != nil {
				t.Fatal(err)
			}
			if resp, err := p.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle = %v, %v", resp, err)
			}
			return sink.objects
		}
		fused := stored(nil)
		if diff := cmp.Diff(stored(TransformFunc(ValidateEventTime.Transform)), fused); diff != "" {
			t.Fatalf("objects for data %q differ (-member lookup +fused):\n%s", data, diff)
		}
		nested, err := ValidateEventTimeAt("a.timestamp")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(stored(TransformFunc(nested.Transform)), stored(nested)); diff != "" {
			t.Fatalf("a.timestamp: objects for data %q differ (-member lookup +fused):\n%s", data, diff)
		}
	})
}
