package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/motoserver"
)

// These tests run the real processor binary, built as for Lambda but for this
// machine, behind the local Runtime API host, against S3 in moto server.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "processor-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary, err = lambdahost.Build(context.Background(), ".", dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type fixture struct {
	s3     *s3.Client
	bucket string
	host   *lambdahost.Host
}

func newFixture(t *testing.T, bucket string, env map[string]string) *fixture {
	t.Helper()
	motoserver.ForTest(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"BUCKET_NAME": bucket}
	for k, v := range env {
		vars[k] = v
	}
	host := lambdahost.New(lambdahost.Config{
		Binary: binary, FunctionName: "streamlake-processor", MemoryMB: 256, Timeout: 30 * time.Second,
		Env: vars, LogFormat: "JSON", Stderr: testWriter{t}, Stdout: testWriter{t},
	})
	t.Cleanup(func() { host.Close() })
	return &fixture{s3: client, bucket: bucket, host: host}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("function: %s", bytes.TrimSpace(p))
	return len(p), nil
}

func (f *fixture) invoke(t *testing.T, event []byte) lambdahost.Result {
	t.Helper()
	res, err := f.host.Invoke(context.Background(), event)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	return res
}

// objects returns every current object of the bucket: key -> decompressed lines.
func (f *fixture) objects(t *testing.T, prefix string) map[string][]map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string][]map[string]any{}
	list, err := f.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		obj, err := f.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatalf("%s is not gzip: %v", aws.ToString(o.Key), err)
		}
		raw, err := io.ReadAll(zr)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var lines []map[string]any
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s: line is not JSON: %s", aws.ToString(o.Key), sc.Bytes())
			}
			lines = append(lines, m)
		}
		out[aws.ToString(o.Key)] = lines
	}
	return out
}

// expectation is what a record must become, computed here independently of the
// processor's code.
type expectation struct {
	originalData any
	quarantined  bool
}

func expect(t *testing.T, data []byte) expectation {
	t.Helper()
	var v any
	switch {
	case !utf8.Valid(data):
		return expectation{originalData: map[string]any{"data_base64": base64.StdEncoding.EncodeToString(data)}}
	case len(data) == 0 || json.Unmarshal(data, &v) != nil:
		return expectation{originalData: map[string]any{"message": string(data)}}
	}
	if obj, ok := v.(map[string]any); ok {
		if ts, ok := obj["timestamp"]; ok && ts != nil {
			s, isString := ts.(string)
			readable := false
			// RFC 3339, and ISO 8601 without an offset (taken as UTC) as the
			// recipe's generator writes it, with T or a space.
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
				if _, err := time.Parse(layout, s); isString && err == nil {
					readable = true
				}
			}
			if n, isNumber := ts.(float64); isNumber && n >= 0 && n < 1e19 {
				readable = true // epoch seconds or milliseconds
			}
			if !readable {
				return expectation{originalData: v, quarantined: true}
			}
		}
	}
	return expectation{originalData: v}
}

func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob("../../events/kinesis-*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("sample events: %v, %v", files, err)
	}
	for i, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.KinesisEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, fmt.Sprintf("processor-sample-%d", i), nil)
			res := f.invoke(t, raw)
			if res.Err != nil {
				t.Fatalf("function error: %v", res.Err)
			}
			if string(res.Payload) != `{"batchItemFailures":[]}` {
				t.Fatalf("response = %s; want no failures", res.Payload)
			}
			first := ev.Records[0]
			shard := strings.SplitN(first.EventID, ":", 2)[0]
			at := first.Kinesis.ApproximateArrivalTimestamp.Round(time.Millisecond).UTC()
			wantKey := fmt.Sprintf("processed/year=%04d/month=%02d/day=%02d/hour=%02d/%s-%s.ndjson.gz",
				at.Year(), at.Month(), at.Day(), at.Hour(), shard, first.Kinesis.SequenceNumber)
			processed := f.objects(t, "processed/")
			quarantine := f.objects(t, "quarantine/")
			if len(processed) != 1 || processed[wantKey] == nil && len(processed) == 1 && !hasKey(processed, wantKey) {
				t.Fatalf("processed objects = %v; want exactly %s", keysOf(processed), wantKey)
			}
			lines := processed[wantKey]
			// A KPL aggregated record is a record per user record, with its
			// own partition key and its index as sub_sequence_number.
			type userRecord struct {
				r    events.KinesisEventRecord
				data []byte
				key  string
				sub  any // nil: not an aggregate's (the line has no sub_sequence_number)
			}
			var recs []userRecord
			for _, r := range ev.Records {
				users, ok := kpl.Parse(nil, r.Kinesis.Data)
				if !ok {
					recs = append(recs, userRecord{r, r.Kinesis.Data, r.Kinesis.PartitionKey, nil})
				}
				for j, u := range users {
					recs = append(recs, userRecord{r, u.Data, u.PartitionKey, float64(j)})
				}
			}
			// The batch's quarantined records share one object, keyed by the first of them.
			var qlines []map[string]any
			for _, u := range recs {
				if r := u.r; expect(t, u.data).quarantined {
					qat := r.Kinesis.ApproximateArrivalTimestamp.Round(time.Millisecond).UTC()
					qkey := fmt.Sprintf("quarantine/year=%04d/month=%02d/day=%02d/hour=%02d/%s-%s.ndjson.gz",
						qat.Year(), qat.Month(), qat.Day(), qat.Hour(), shard, r.Kinesis.SequenceNumber)
					if qlines = quarantine[qkey]; len(quarantine) != 1 || qlines == nil {
						t.Fatalf("quarantine objects = %v; want exactly %s", keysOf(quarantine), qkey)
					}
					break
				}
			}
			next, qnext := 0, 0
			for _, u := range recs {
				r := u.r
				want := expect(t, u.data)
				meta := map[string]any{
					"partition_key":                 u.key,
					"sub_sequence_number":           u.sub,
					"sequence_number":               r.Kinesis.SequenceNumber,
					"event_id":                      r.EventID,
					"shard_id":                      shard,
					"approximate_arrival_timestamp": r.Kinesis.ApproximateArrivalTimestamp.Round(time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z"),
				}
				var got map[string]any
				if want.quarantined {
					if qnext >= len(qlines) {
						t.Fatalf("quarantine object has %d lines; quarantined records continue", len(qlines))
					}
					got = qlines[qnext]
					qnext++
					if got["processed"] != false || !strings.Contains(fmt.Sprint(got["error"]), "timestamp") {
						t.Errorf("quarantine line %v: want processed=false and a timestamp error", got)
					}
				} else {
					if next >= len(lines) {
						t.Fatalf("processed object has %d lines; records continue", len(lines))
					}
					got = lines[next]
					next++
					if got["processed"] != true {
						t.Errorf("line %v: processed != true", got)
					}
				}
				if d := cmp.Diff(want.originalData, got["original_data"]); d != "" {
					t.Errorf("record %s original_data (-want +got):\n%s", r.Kinesis.SequenceNumber, d)
				}
				for k, v := range meta {
					if got[k] != v {
						t.Errorf("record %s: %s = %v; want %v", r.Kinesis.SequenceNumber, k, got[k], v)
					}
				}
				if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(got["processing_timestamp"])); err != nil {
					t.Errorf("processing_timestamp %v: %v", got["processing_timestamp"], err)
				}
			}
			if next != len(lines) {
				t.Errorf("processed object has %d lines; want %d", len(lines), next)
			}
			if qnext != len(qlines) {
				t.Errorf("quarantine object has %d lines; want %d", len(qlines), qnext)
			}
			if total := next + qnext; total != len(recs) {
				t.Errorf("stored %d records (processed %d + quarantined %d); event has %d", total, next, qnext, len(recs))
			}

			// Invoking the same event again overwrites the same objects.
			if res := f.invoke(t, raw); res.Err != nil || res.ColdStart {
				t.Errorf("second invoke: err %v, cold start %v; want a warm success", res.Err, res.ColdStart)
			}
			if again := f.objects(t, ""); len(again) != len(processed)+len(quarantine) {
				t.Errorf("after a second invoke objects = %v; want the same %d keys", keysOf(again), len(processed)+len(quarantine))
			}
		})
	}
}

func hasKey(m map[string][]map[string]any, k string) bool { _, ok := m[k]; return ok }

func keysOf(m map[string][]map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

func TestS3FailureReportsFirstRecord(t *testing.T) {
	raw, err := os.ReadFile("../../events/kinesis-sensor-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	// The function writes to a bucket that does not exist: every PutObject fails.
	f := newFixture(t, "processor-s3-failure", map[string]string{"BUCKET_NAME": "processor-no-such-bucket"})
	for i := 0; i < 2; i++ {
		res := f.invoke(t, raw)
		if res.Err != nil {
			t.Fatalf("invoke %d: function error %v; want a partial batch response", i, res.Err)
		}
		want := fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":"%s"}]}`, ev.Records[0].Kinesis.SequenceNumber)
		if string(res.Payload) != want {
			t.Errorf("invoke %d: response = %s; want %s", i, res.Payload, want)
		}
		if i == 1 && res.ColdStart {
			t.Errorf("the process restarted after an S3 failure; want it to keep running")
		}
	}
}

// TIME_FIELD, which the template gives both functions, is the member the
// function checks: a record whose event time there is unreadable is
// quarantined, and a "timestamp" member is then just data.
func TestTimeFieldFromEnvironment(t *testing.T) {
	f := newFixture(t, "processor-time-field", map[string]string{"TIME_FIELD": "meta.event_time"})
	payloads := []string{
		`{"device_id":"d1","meta":{"event_time":"2026-11-21T09:00:00Z"},"timestamp":"n/a"}`,
		`{"device_id":"d2","meta":{"event_time":"yesterday"},"timestamp":"2026-11-21T09:00:00Z"}`,
	}
	var ev events.KinesisEvent
	arrival := time.Date(2026, 11, 21, 9, 0, 1, 0, time.UTC)
	for i, p := range payloads {
		seq := fmt.Sprintf("4966285097458743601234567890123456789012345678901234%04d", i)
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			EventID: "shardId-000000000000:" + seq, EventSource: "aws:kinesis", EventName: "aws:kinesis:record",
			Kinesis: events.KinesisRecord{Data: []byte(p), PartitionKey: "d", SequenceNumber: seq,
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival}},
		})
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if res := f.invoke(t, raw); res.Err != nil || string(res.Payload) != `{"batchItemFailures":[]}` {
		t.Fatalf("result %+v, %s; want no failures", res.Err, res.Payload)
	}
	var processed, quarantined []any
	for key, lines := range f.objects(t, "") {
		for _, l := range lines {
			if strings.HasPrefix(key, "quarantine/") {
				quarantined = append(quarantined, l["error"])
			} else {
				processed = append(processed, l["original_data"].(map[string]any)["device_id"])
			}
		}
	}
	if diff := cmp.Diff([]any{"d1"}, processed); diff != "" {
		t.Errorf("processed devices (-want +got):\n%s", diff)
	}
	want := []any{`meta.event_time "yesterday" is not a date-time (RFC 3339 or ISO 8601) nor an epoch number`}
	if diff := cmp.Diff(want, quarantined); diff != "" {
		t.Errorf("quarantine reasons (-want +got):\n%s", diff)
	}
}

func TestMalformedEvents(t *testing.T) {
	f := newFixture(t, "processor-malformed", nil)
	tests := []struct{ name, event, want string }{
		{"not a Kinesis event", `{"hello":"world"}`, `no "Records" array`},
		{"SQS event", `{"Records":[{"messageId":"m1","body":"{}","eventSource":"aws:sqs"}]}`, `eventSource is "aws:sqs"`},
		{"array", `[]`, "not a JSON object"},
		{"bad base64", `{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"%%%"}}]}`, "decode"},
	}
	for _, tc := range tests {
		res := f.invoke(t, []byte(tc.event))
		if res.Err == nil || res.Err.Type != "EventError" || !strings.Contains(res.Err.Message, tc.want) {
			t.Errorf("%s: result %+v; want EventError containing %q", tc.name, res.Err, tc.want)
		}
	}
	if n := len(f.objects(t, "")); n != 0 {
		t.Errorf("malformed events wrote %d objects", n)
	}
}

func TestMissingConfigurationIsAnInitError(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad compression", map[string]string{"COMPRESSION": "lz4", "BUCKET_NAME": "b"}, `COMPRESSION: unknown compression "lz4"`},
		{"no bucket", map[string]string{}, "BUCKET_NAME is not set"},
		{"bad time field", map[string]string{"TIME_FIELD": "meta..time", "BUCKET_NAME": "b"}, `TIME_FIELD: event time field "meta..time": empty member name`},
	}
	for _, tc := range tests {
		var stderr bytes.Buffer
		host := lambdahost.New(lambdahost.Config{Binary: binary, FunctionName: "streamlake-processor", Timeout: 10 * time.Second,
			Env: tc.env, Stderr: &stderr})
		res, err := host.Invoke(context.Background(), []byte(`{"Records":[]}`))
		host.Close() // flushes the function's output
		if err != nil {
			t.Fatal(err)
		}
		if res.Err == nil || res.Err.Type != "Runtime.ExitError" || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s: result %+v, stderr %q; want Runtime.ExitError and %q", tc.name, res.Err, stderr.String(), tc.want)
		}
	}
}
