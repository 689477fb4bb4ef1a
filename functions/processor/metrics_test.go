package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/metrics"
	"github.com/streamlake/streamlake/internal/motoserver"
)

// lineBuffer collects the function's stdout.
type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lineBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSuffix(l.buf.String(), "\n"), "\n")
}

// TestMetricLines runs the real binary and checks what it prints: one valid EMF line
// per invocation with the right values, and JSON log lines with the request id.
func TestMetricLines(t *testing.T) {
	motoserver.ForTest(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bucket := "processor-metrics"
	client := s3.NewFromConfig(cfg)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	batch, err := os.ReadFile("../../events/kinesis-poison.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(batch, &ev); err != nil {
		t.Fatal(err)
	}
	bytesIn := 0
	for _, r := range ev.Records {
		bytesIn += len(r.Kinesis.Data)
	}
	quarantined := 0
	for _, r := range ev.Records {
		if expect(t, r.Kinesis.Data).quarantined {
			quarantined++
		}
	}
	if quarantined == 0 {
		t.Fatal("kinesis-poison.json has no record the processor quarantines")
	}

	run := func(t *testing.T, bucket string, events ...[]byte) ([]lambdahost.Result, []string) {
		t.Helper()
		var out lineBuffer
		host := lambdahost.New(lambdahost.Config{
			Binary: binary, FunctionName: "metrics-stack-processor", MemoryMB: 256, Timeout: 30 * time.Second, LogFormat: "JSON",
			Env:    map[string]string{"BUCKET_NAME": bucket, "METRICS_NAMESPACE": "streamlake-test", "SERVICE_NAME": "metrics-stack"},
			Stdout: &out, Stderr: testWriter{t},
		})
		var results []lambdahost.Result
		for _, e := range events {
			res, err := host.Invoke(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			results = append(results, res)
		}
		host.Close() // flushes the output
		return results, out.lines()
	}
	// emfLines validates every EMF line and returns them by request id.
	emfLines := func(t *testing.T, lines []string) map[string]*metrics.Event {
		t.Helper()
		byRequest := map[string]*metrics.Event{}
		for _, l := range lines {
			if !metrics.IsEMF([]byte(l)) {
				var log map[string]any
				if err := json.Unmarshal([]byte(l), &log); err != nil {
					t.Errorf("stdout line is neither EMF nor a JSON log: %s", l)
					continue
				}
				for k := range log {
					if strings.ContainsAny(k, "_- ") {
						t.Errorf("log key %q is not camelCase: %s", k, l)
					}
				}
				if log["requestId"] == nil || log["message"] == nil || log["level"] == nil {
					t.Errorf("log line without requestId, message or level: %s", l)
				}
				continue
			}
			e, err := metrics.Validate([]byte(l), time.Now())
			if err != nil {
				t.Errorf("metrics.Validate(%s) = %v", l, err)
				continue
			}
			if d := e.Directives[0]; d.Namespace != "streamlake-test" || e.Members["Service"] != "metrics-stack" || e.Members["FunctionName"] != "metrics-stack-processor" {
				t.Errorf("EMF line namespace %q, members %v; want the configured namespace, service and function", d.Namespace, e.Members)
			}
			for _, d := range e.Directives {
				for _, m := range d.Metrics {
					if !inCatalog(m) {
						t.Errorf("metric %s (%s) is not in metrics.ProcessorMetrics()", m.Name, m.Unit)
					}
				}
			}
			id, _ := e.Members["requestId"].(string)
			if byRequest[id] != nil {
				t.Errorf("request %q has two EMF lines", id)
			}
			byRequest[id] = e
		}
		return byRequest
	}
	check := func(t *testing.T, e *metrics.Event, want map[string]float64) {
		t.Helper()
		if e == nil {
			t.Fatal("no EMF line for the invocation")
		}
		for name, w := range want {
			if got, ok := e.Value(name); !ok || got != w {
				t.Errorf("%s = %v (present %v); want %v", name, got, ok, w)
			}
		}
	}

	t.Run("stored", func(t *testing.T) {
		results, lines := run(t, bucket, batch, batch)
		byRequest := emfLines(t, lines)
		if len(byRequest) != 2 {
			t.Fatalf("%d EMF lines for 2 invocations:\n%s", len(byRequest), strings.Join(lines, "\n"))
		}
		for _, res := range results {
			e := byRequest[res.RequestID]
			check(t, e, map[string]float64{
				"RecordsReceived": float64(len(ev.Records)), "RecordsWritten": float64(len(ev.Records) - quarantined),
				"RecordsQuarantined": float64(quarantined), "ObjectsWritten": float64(1 + min(quarantined, 1)),
				"BytesIn": float64(bytesIn), "BatchFailures": 0,
			})
			if v, _ := e.Value("BytesOut"); v <= 0 {
				t.Errorf("BytesOut = %v; want > 0", v)
			}
			age, _ := e.Value("OldestRecordAge")
			wantAge := time.Since(ev.Records[0].Kinesis.ApproximateArrivalTimestamp.Time)
			if age <= 0 || time.Duration(age*float64(time.Millisecond)) > wantAge {
				t.Errorf("OldestRecordAge = %v ms; want between 0 and %v", age, wantAge)
			}
			if d, ok := e.Value("BatchDuration"); !ok || d < 0 || d > float64(res.Duration.Milliseconds()+1) {
				t.Errorf("BatchDuration = %v ms; want between 0 and the invoke duration %v", d, res.Duration)
			}
			if e.Members["shardId"] != strings.SplitN(ev.Records[0].EventID, ":", 2)[0] || e.Members["traceId"] == nil {
				t.Errorf("members %v; want shardId and traceId", e.Members)
			}
		}
	})
	t.Run("S3 failure", func(t *testing.T) {
		results, lines := run(t, "processor-metrics-no-such-bucket", batch)
		check(t, emfLines(t, lines)[results[0].RequestID], map[string]float64{
			"RecordsReceived": float64(len(ev.Records)), "RecordsWritten": 0, "ObjectsWritten": 0, "BytesOut": 0, "BatchFailures": 1,
		})
		errorLogs := 0
		for _, l := range lines {
			if strings.Contains(l, `"level":"ERROR"`) && strings.Contains(l, `"objectKey"`) && strings.Contains(l, results[0].RequestID) {
				errorLogs++
			}
		}
		if errorLogs != 1 {
			t.Errorf("%d error logs with objectKey and the request id; want 1:\n%s", errorLogs, strings.Join(lines, "\n"))
		}
	})
	t.Run("invalid event", func(t *testing.T) {
		results, lines := run(t, bucket, []byte(`{"hello":"world"}`), []byte(`{"Records":[]}`))
		byRequest := emfLines(t, lines)
		check(t, byRequest[results[0].RequestID], map[string]float64{"InvalidEvents": 1})
		check(t, byRequest[results[1].RequestID], map[string]float64{"RecordsReceived": 0, "ObjectsWritten": 0})
		if len(byRequest) != 2 {
			t.Errorf("%d EMF lines for 2 invocations", len(byRequest))
		}
	})
}

func inCatalog(d metrics.Definition) bool {
	for _, m := range metrics.ProcessorMetrics() {
		if m.Name == d.Name && m.Unit == d.Unit {
			return true
		}
	}
	return false
}
