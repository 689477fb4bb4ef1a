package metrics

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"
)

var testNow = time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC)

func newTestWriter(t *testing.T, buf *bytes.Buffer) *Writer {
	t.Helper()
	w, err := New(buf, Config{Namespace: "streamlake", Service: "my-stack", FunctionName: "my-stack-processor", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestEmitWritesOneValidLine(t *testing.T) {
	var buf bytes.Buffer
	w := newTestWriter(t, &buf)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	//lint:ignore SA1029 aws-lambda-go stores the trace header under this string key
	ctx = context.WithValue(ctx, "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793")
	var s Set
	s.Add("RecordsReceived", Count, 500)
	s.Add("BytesIn", Bytes, 123456789)
	s.AddDuration("BatchDuration", 1500*time.Microsecond)
	s.Add("BatchDuration", Milliseconds, 2)
	s.Property("shardId", "shardId-000000000000")
	if err := w.Emit(ctx, &s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "}\n") {
		t.Fatalf("Emit wrote %q; want one line", out)
	}
	ev, err := Validate(buf.Bytes(), testNow)
	if err != nil {
		t.Fatalf("Validate(Emit output) = %v\n%s", err, out)
	}
	want := &Event{
		Timestamp: testNow,
		Directives: []Directive{{
			Namespace:  "streamlake",
			Dimensions: [][]string{{"Service"}, {"Service", "FunctionName"}},
			Metrics:    []Definition{{Name: "RecordsReceived", Unit: Count}, {Name: "BytesIn", Unit: Bytes}, {Name: "BatchDuration", Unit: Milliseconds}},
		}},
		Values: map[string][]float64{"RecordsReceived": {500}, "BytesIn": {123456789}, "BatchDuration": {1.5, 2}},
		Members: map[string]any{
			"Service": "my-stack", "FunctionName": "my-stack-processor", "RecordsReceived": 500.0, "BytesIn": 123456789.0,
			"BatchDuration": []any{1.5, 2.0}, "shardId": "shardId-000000000000", "requestId": "req-1",
			"traceId": "Root=1-5759e988-bd862e3fe1be46a994272793",
		},
	}
	if d := cmp.Diff(want, ev); d != "" {
		t.Errorf("Validate(Emit output) mismatch (-want +got):\n%s", d)
	}
	if !strings.Contains(out, `"BytesIn":123456789,`) {
		t.Errorf("Emit wrote %s; want integers without an exponent", out)
	}
}

func TestEmitSplitsDirectivesOver100Metrics(t *testing.T) {
	var buf bytes.Buffer
	w := newTestWriter(t, &buf)
	var s Set
	for i := range 250 {
		s.Add("M"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+itoa(i), Count, float64(i))
	}
	if err := w.Emit(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	ev, err := Validate(buf.Bytes(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, d := range ev.Directives {
		sizes = append(sizes, len(d.Metrics))
	}
	if d := cmp.Diff([]int{100, 100, 50}, sizes); d != "" {
		t.Errorf("directive sizes (-want +got):\n%s", d)
	}
	if len(ev.Values) != 250 {
		t.Errorf("Validate found %d metrics; want 250", len(ev.Values))
	}
}

func itoa(i int) string { return string(appendNumber(nil, float64(i))) }

func TestEmitRejectsInvalidSets(t *testing.T) {
	tests := []struct {
		name string
		fill func(*Set)
		want string
	}{
		{"empty", func(*Set) {}, "empty set"},
		{"no name", func(s *Set) { s.Add("", Count, 1) }, "metric name"},
		{"long name", func(s *Set) { s.Add(strings.Repeat("n", 256), Count, 1) }, "metric name"},
		{"bad unit", func(s *Set) { s.Add("X", "Records", 1) }, "not a CloudWatch unit"},
		{"NaN", func(s *Set) { s.Add("X", Count, math.NaN()) }, "not a finite number"},
		{"Inf", func(s *Set) { s.Add("X", Count, math.Inf(1)) }, "not a finite number"},
		{"too many values", func(s *Set) {
			for i := range 101 {
				s.Add("X", Count, float64(i))
			}
		}, "101 values"},
		{"reserved name", func(s *Set) { s.Add("Service", Count, 1) }, "reserved"},
		{"property shadows metric", func(s *Set) { s.Add("X", Count, 1); s.Property("X", "y") }, "property"},
		{"property not JSON", func(s *Set) { s.Add("X", Count, 1); s.Property("p", make(chan int)) }, "property p"},
		// The line carries the invocation's request and trace ids under these keys.
		{"metric named requestId", func(s *Set) { s.Add(KeyRequestID, Count, 1) }, "reserved"},
		{"metric named traceId", func(s *Set) { s.Add(KeyTraceID, Count, 1) }, "reserved"},
		{"property named traceId", func(s *Set) { s.Add("X", Count, 1); s.Property(KeyTraceID, "t") }, "reserved"},
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	//lint:ignore SA1029 aws-lambda-go stores the trace header under this string key
	ctx = context.WithValue(ctx, "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newTestWriter(t, &buf)
			var s Set
			tc.fill(&s)
			err := w.Emit(ctx, &s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Emit = %v; want an error containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Emit wrote %q after an error", buf.String())
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"space in namespace", Config{Namespace: "my app"}, "namespace"},
		{"AWS namespace", Config{Namespace: "AWS/Lambda"}, "reserved"},
		{"namespace starting with a colon", Config{Namespace: ":acme"}, "starts with ':'"},
		{"long namespace", Config{Namespace: strings.Repeat("a", 257)}, "namespace"},
		{"long service", Config{Service: strings.Repeat("s", 1025)}, "dimension value"},
		{"non-ASCII service", Config{Service: "Anlage Süd"}, "ASCII"},
		{"blank service", Config{Service: "  "}, "other than whitespace"},
		{"control character in function name", Config{FunctionName: "f\tn"}, "control characters"},
	}
	for _, tc := range tests {
		if _, err := New(&bytes.Buffer{}, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("New(nil writer) = nil error; want an error")
	}
}

func TestDefaultsAndEnv(t *testing.T) {
	env := map[string]string{EnvNamespace: "acme/iot", EnvService: "plant-7", EnvFunctionName: "plant-7-processor"}
	cfg := ConfigFromEnv(func(k string) string { return env[k] })
	if d := cmp.Diff(Config{Namespace: "acme/iot", Service: "plant-7", FunctionName: "plant-7-processor"}, cfg); d != "" {
		t.Errorf("ConfigFromEnv (-want +got):\n%s", d)
	}
	var buf bytes.Buffer
	w, err := New(&buf, ConfigFromEnv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	var s Set
	s.Add("X", None, 0)
	if err := w.Emit(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	ev, err := Validate(buf.Bytes(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ev.Directives[0].Namespace != DefaultNamespace || ev.Members["Service"] != DefaultService || ev.Members["FunctionName"] != DefaultFunctionName {
		t.Errorf("defaults: namespace %q, members %v", ev.Directives[0].Namespace, ev.Members)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEmitReportsWriteErrors(t *testing.T) {
	w, _ := New(failingWriter{}, Config{})
	var s Set
	s.Add("X", Count, 1)
	if err := w.Emit(context.Background(), &s); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Emit = %v; want the write error", err)
	}
}

// lineCounter checks that each Write is one whole line.
type lineCounter struct {
	mu    sync.Mutex
	lines [][]byte
}

func (l *lineCounter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, bytes.Clone(p))
	return len(p), nil
}

func TestEmitConcurrentLinesDoNotInterleave(t *testing.T) {
	lc := &lineCounter{}
	w, _ := New(lc, Config{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				var s Set
				s.Add("Worker", Count, float64(i))
				s.Add("Iteration", Count, float64(j))
				if err := w.Emit(context.Background(), &s); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if len(lc.lines) != 400 {
		t.Fatalf("%d writes; want 400", len(lc.lines))
	}
	for _, l := range lc.lines {
		if _, err := Validate(l, time.Now()); err != nil {
			t.Fatalf("Validate(%s) = %v", l, err)
		}
	}
}

func BenchmarkEmit(b *testing.B) {
	var buf bytes.Buffer
	w, _ := New(&buf, Config{Service: "streamlake", FunctionName: "streamlake-processor"})
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5"})
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		var s Set
		for _, n := range []string{"RecordsReceived", "RecordsWritten", "RecordsQuarantined", "ObjectsWritten", "BatchFailures"} {
			s.Add(n, Count, 1000)
		}
		s.Add("BytesIn", Bytes, 250000)
		s.Add("BytesOut", Bytes, 40000)
		s.Add("BatchDuration", Milliseconds, 12.5)
		s.Add("OldestRecordAge", Milliseconds, 1500)
		s.Property("shardId", "shardId-000000000000")
		if err := w.Emit(ctx, &s); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
