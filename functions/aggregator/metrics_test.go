package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/metrics"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/record"
)

// The metric lines are checked on the real binary, built as for Lambda but for
// this machine, behind the local Runtime API host, against S3 and DynamoDB in
// moto server.

var (
	metricsBuildOnce sync.Once
	metricsBinary    string
	metricsBuildErr  error
)

func metricsTestBinary(t *testing.T) string {
	t.Helper()
	metricsBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "aggregator-bin")
		if err != nil {
			metricsBuildErr = err
			return
		}
		metricsBinary, metricsBuildErr = lambdahost.Build(context.Background(), ".", dir)
	})
	if metricsBuildErr != nil {
		t.Fatal(metricsBuildErr)
	}
	return metricsBinary
}

type metricsOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *metricsOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// notification is an SQS message carrying an S3 ObjectCreated notification.
func s3Notification(id, bucket, key string) map[string]any {
	body, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": "ObjectCreated:Put",
		"s3": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": url.QueryEscape(key)}},
	}}})
	return map[string]any{"messageId": id, "receiptHandle": "rh-" + id, "body": string(body), "eventSource": "aws:sqs",
		"eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:aggregator-metrics", "awsRegion": "us-east-1",
		"attributes": map[string]string{"ApproximateReceiveCount": "1"}}
}

func TestAggregatorMetricLines(t *testing.T) {
	binary := metricsTestBinary(t)
	motoserver.ForTest(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const bucket, table = "aggregator-metrics", "aggregator-metrics-summaries"
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(cfg)
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
	}); err != nil {
		t.Fatal(err)
	}

	// One processed object: two devices, a record without a device, a
	// temperature that is not a number and a humidity outside the summable
	// domain, all in one hour.
	payloads := []string{
		`{"device_id":"sensor-0001","temperature":20.5,"humidity":40,"timestamp":"2026-11-21T13:05:00.000Z"}`,
		`{"device_id":"sensor-0002","temperature":22,"humidity":41,"timestamp":"2026-11-21T13:06:00.000Z"}`,
		`{"temperature":5,"timestamp":"2026-11-21T13:07:00.000Z"}`,
		`{"device_id":"sensor-0001","temperature":"hot","humidity":42,"timestamp":"2026-11-21T13:08:00.000Z"}`,
		`{"device_id":"sensor-0002","temperature":23,"humidity":1e37,"timestamp":"2026-11-21T13:09:00.000Z"}`,
	}
	var raw bytes.Buffer
	for i, p := range payloads {
		seq := fmt.Sprint(i + 1)
		raw.Write(record.AppendLine(nil, []byte(p), &record.Meta{PartitionKey: "k", SequenceNumber: seq, EventID: "shardId-000000000000:" + seq,
			ShardID: "shardId-000000000000", ArrivalTime: time.Date(2026, 11, 21, 13, 10, 0, 0, time.UTC)}, "2026-11-21T13:10:01.000Z", ""))
		raw.WriteByte('\n')
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	key := "processed/year=2026/month=11/day=21/hour=13/shardId-000000000000-1.ndjson.gz"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(gz.Bytes())}); err != nil {
		t.Fatal(err)
	}

	var out metricsOutput
	host := lambdahost.New(lambdahost.Config{
		Binary: binary, FunctionName: "metrics-stack-aggregator", MemoryMB: 256, Timeout: 30 * time.Second, LogFormat: "JSON",
		Env:    map[string]string{"TABLE_NAME": table, "BUCKET_NAME": bucket, "METRICS_NAMESPACE": "streamlake-test", "SERVICE_NAME": "metrics-stack"},
		Stdout: &out, Stderr: &out,
	})
	invoke := func(records ...map[string]any) lambdahost.Result {
		t.Helper()
		ev, _ := json.Marshal(map[string]any{"Records": records})
		res, err := host.Invoke(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := invoke(s3Notification("m1", bucket, key))
	// The same notification again (a duplicate), a message that is not one, and
	// the same key in another bucket (acknowledged, not read: BUCKET_NAME).
	bad := s3Notification("m3", bucket, key)
	bad["body"] = "not a notification"
	second := invoke(s3Notification("m2", bucket, key), bad, s3Notification("m4", "another-bucket", key))
	notSQS := invoke()
	host.Close() // flushes the output
	if first.Err != nil || second.Err != nil || notSQS.Err == nil {
		t.Fatalf("results %+v, %+v, %+v; want two successes and a function error\n%s", first, second, notSQS, out.buf.String())
	}

	byRequest := map[string]*metrics.Event{}
	for _, l := range strings.Split(strings.TrimSpace(out.buf.String()), "\n") {
		if !metrics.IsEMF([]byte(l)) {
			continue
		}
		e, err := metrics.Validate([]byte(l), time.Now())
		if err != nil {
			t.Errorf("metrics.Validate(%s) = %v", l, err)
			continue
		}
		if e.Directives[0].Namespace != "streamlake-test" || e.Members["Service"] != "metrics-stack" || e.Members["FunctionName"] != "metrics-stack-aggregator" {
			t.Errorf("EMF line %s: want the configured namespace, service and function", l)
		}
		for _, d := range e.Directives {
			for _, m := range d.Metrics {
				known := false
				for _, c := range metrics.AggregatorMetrics() {
					known = known || c.Name == m.Name && c.Unit == m.Unit
				}
				if !known {
					t.Errorf("metric %s (%s) is not in metrics.AggregatorMetrics()", m.Name, m.Unit)
				}
			}
		}
		id, _ := e.Members["requestId"].(string)
		if byRequest[id] != nil {
			t.Errorf("request %s has two metric lines", id)
		}
		byRequest[id] = e
	}
	for _, tc := range []struct {
		name string
		res  lambdahost.Result
		want map[string]float64
	}{
		{"first", first, map[string]float64{"MessagesReceived": 1, "MessagesFailed": 0, "ObjectsAggregated": 1, "DuplicatesSkipped": 0,
			"RecordsAggregated": 4, "SummaryItemsUpdated": 3, "RecordsMissingDevice": 1, "ValuesNotNumeric": 1, "ValuesOutOfRange": 1, "RecordsMissingTime": 0,
			"RecordsTimeFallback": 0, "LinesMalformed": 0}},
		{"duplicate, bad message and another bucket", second, map[string]float64{"MessagesReceived": 3, "MessagesFailed": 1, "ObjectsAggregated": 0,
			"DuplicatesSkipped": 1, "RecordsAggregated": 0, "SummaryItemsUpdated": 0}},
		{"not an SQS event", notSQS, map[string]float64{"MessagesReceived": 0, "ObjectsAggregated": 0}},
	} {
		e := byRequest[tc.res.RequestID]
		if e == nil {
			t.Errorf("%s: no metric line for request %s\n%s", tc.name, tc.res.RequestID, out.buf.String())
			continue
		}
		for name, want := range tc.want {
			if got, ok := e.Value(name); !ok || got != want {
				t.Errorf("%s: %s = %v (present %v); want %v", tc.name, name, got, ok, want)
			}
		}
		if d, ok := e.Value("AggregationDuration"); !ok || d < 0 || d > float64(tc.res.Duration.Milliseconds()+1) {
			t.Errorf("%s: AggregationDuration = %v; want between 0 and the invoke duration %v", tc.name, d, tc.res.Duration)
		}
	}
	if len(byRequest) != 3 {
		t.Errorf("%d metric lines for 3 invocations", len(byRequest))
	}
}

// TestMissingConfigurationIsAnInitError runs the binary without a required
// variable: the function fails its init (Runtime.ExitError) and says which.
func TestMissingConfigurationIsAnInitError(t *testing.T) {
	binary := metricsTestBinary(t)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no table", map[string]string{"BUCKET_NAME": "b"}, "TABLE_NAME is not set"},
		{"no bucket", map[string]string{"TABLE_NAME": "t"}, "BUCKET_NAME is not set"},
		{"bad concurrency", map[string]string{"TABLE_NAME": "t", "BUCKET_NAME": "b", "OBJECT_CONCURRENCY": "0"}, `OBJECT_CONCURRENCY "0"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr metricsOutput
			host := lambdahost.New(lambdahost.Config{Binary: binary, FunctionName: "streamlake-aggregator", Timeout: 10 * time.Second,
				Env: tc.env, Stderr: &stderr})
			res, err := host.Invoke(context.Background(), []byte(`{"Records":[]}`))
			host.Close() // flushes the function's output
			if err != nil {
				t.Fatal(err)
			}
			if res.Err == nil || res.Err.Type != "Runtime.ExitError" || !strings.Contains(stderr.buf.String(), tc.want) {
				t.Errorf("result %+v, stderr %q; want Runtime.ExitError and %q", res.Err, stderr.buf.String(), tc.want)
			}
		})
	}
}
