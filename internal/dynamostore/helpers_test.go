package dynamostore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/s3store"
	"github.com/streamlake/streamlake/internal/summary"
)

// reading is one sensor record as the tests generate it. Values are decimal text.
type reading struct {
	device string
	at     time.Time
	temp   string
	hum    string // "" for absent
}

// line renders r as a processor output line; stamp varies processing_timestamp
// (a retry rewrites the same records with a new one).
func (r reading) line(seq int, stamp string) string {
	od := fmt.Sprintf(`{"device_id":%q,"temperature":%s`, r.device, r.temp)
	if r.hum != "" {
		od += `,"humidity":` + r.hum
	}
	od += fmt.Sprintf(`,"timestamp":%q,"location":{"lat":52.52,"lon":13.405},"battery_level":"n/a"}`, r.at.Format("2006-01-02T15:04:05.000Z"))
	return fmt.Sprintf(`{"original_data":%s,"processing_timestamp":%q,"partition_key":%q,"sequence_number":"%d","event_id":"shardId-000000000000:%d","processed":true,"shard_id":"shardId-000000000000","approximate_arrival_timestamp":%q}`,
		od, stamp, r.device, seq, seq, r.at.Add(time.Second).Format("2006-01-02T15:04:05.000Z"))
}

// readings returns n records of devices devices over hours hours.
func readings(seed uint64, n, devices, hours int) []reading {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	out := make([]reading, n)
	for i := range out {
		out[i] = reading{
			device: fmt.Sprintf("sensor-%04d", r.IntN(devices)+1),
			at:     base.Add(time.Duration(r.Int64N(int64(hours) * int64(time.Hour)))).Truncate(time.Millisecond),
			temp:   fmt.Sprintf("%.2f", (r.Float64()-0.3)*40),
		}
		if r.IntN(3) > 0 {
			out[i].hum = fmt.Sprintf("%.1f", r.Float64()*100)
		}
	}
	return out
}

// wideReadings returns one record per device for devices devices in one hour:
// devices device-hours plus one fleet-hour.
func wideReadings(seed uint64, devices int) []reading {
	out := readings(seed, devices, 1, 1)
	for i := range out {
		out[i].device = fmt.Sprintf("wide-%05d", i)
	}
	return out
}

// body renders records as a gzip object body.
func body(recs []reading, stamp string) []byte {
	var plain bytes.Buffer
	for i, r := range recs {
		plain.WriteString(r.line(i+1, stamp))
		plain.WriteByte('\n')
	}
	return gzipBytes(plain.Bytes())
}

func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// expected computes the summaries of records directly from the test's own
// values, independently of the aggregator's parser.
func expected(tb testing.TB, recs []reading) map[summary.Key]*summary.Summary {
	tb.Helper()
	out := map[summary.Key]*summary.Summary{}
	for _, r := range recs {
		hour := r.at.UTC().Truncate(time.Hour)
		for _, k := range []summary.Key{
			{PK: "DEVICE#" + r.device, SK: "HOUR#" + hour.Format("2006-01-02T15")},
			{PK: "FLEET", SK: "HOUR#" + hour.Format("2006-01-02T15")},
		} {
			s := out[k]
			if s == nil {
				s = &summary.Summary{First: r.at, Last: r.at, Fields: map[string]summary.Field{}}
				out[k] = s
			}
			s.Count++
			if r.at.Before(s.First) {
				s.First = r.at
			}
			if r.at.After(s.Last) {
				s.Last = r.at
			}
			for name, v := range map[string]string{"temperature": r.temp, "humidity": r.hum} {
				if v == "" {
					continue
				}
				d, err := summary.ParseDecimal(v)
				if err != nil {
					tb.Fatal(err)
				}
				f, ok := s.Fields[name]
				if !ok || d.Cmp(f.Min) < 0 {
					f.Min = d
				}
				if !ok || d.Cmp(f.Max) > 0 {
					f.Max = d
				}
				f.N++
				f.Sum = f.Sum.Add(d)
				s.Fields[name] = f
			}
		}
	}
	return out
}

// harness is an aggregator wired to moto, with a counting DynamoDB client.
type harness struct {
	*env
	counter *countingClient
	store   *dynamostore.Store
	agg     *summary.Aggregator
}

const prefix = "processed"

func newHarness(tb testing.TB) *harness {
	e := newEnv(tb)
	return e.harness(tb, nil)
}

// item reads the table's item pk, sk (consistently).
func (h *harness) item(tb testing.TB, pk, sk string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := h.ddb.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(h.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil {
		tb.Fatal(err)
	}
	return out.Item
}

// harness builds an aggregator on e; wrap, if not nil, wraps the DynamoDB client.
func (e *env) harness(tb testing.TB, wrap func(dynamostore.API) dynamostore.API, opts ...dynamostore.Option) *harness {
	tb.Helper()
	// Every client of the env shares one serializing gate (see serialClient).
	cc := &countingClient{API: serialClient{API: e.ddb, mu: &e.mu}}
	var api dynamostore.API = cc
	if wrap != nil {
		api = wrap(cc)
	}
	store := dynamostore.New(api, e.table, opts...)
	agg, err := summary.NewAggregator(s3store.NewReader(e.s3), store, summary.Config{},
		summary.WithPrefix(prefix), summary.WithLogger(testLogger(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	return &harness{env: e, counter: cc, store: store, agg: agg}
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelError}))
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// objectKey returns a processed object key of the test.
func objectKey(shard, seq int) string {
	return fmt.Sprintf("%s/year=2026/month=11/day=21/hour=13/shardId-%012d-%d.ndjson.gz", prefix, shard, seq)
}

// put stores an object and returns its ETag (without quotes).
func (e *env) put(tb testing.TB, key string, b []byte) string {
	tb.Helper()
	out, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(b)})
	if err != nil {
		tb.Fatalf("put %s: %v", key, err)
	}
	return strings.Trim(aws.ToString(out.ETag), `"`)
}

// notification returns the S3 ObjectCreated:Put notification body for key, with
// the key URL-encoded as S3 does.
func (e *env) notification(key, etag string) string {
	return fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-11-21T13:40:07.000Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:AROAEXAMPLE:processor"},"requestParameters":{"sourceIPAddress":"10.0.0.1"},"responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S"},"s3":{"s3SchemaVersion":"1.0","configurationId":"processed-objects","bucket":{"name":%q,"ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":"arn:aws:s3:::%s"},"object":{"key":%q,"size":1024,"eTag":%q,"sequencer":"0055AED6DCD90281E5"}}}]}`,
		e.bucket, e.bucket, url.QueryEscape(key), etag)
}

var msgSeq atomic.Int64

// message wraps a body in an SQS message.
func message(body string) events.SQSMessage {
	n := msgSeq.Add(1)
	return events.SQSMessage{
		MessageId:      fmt.Sprintf("059f36b4-87a3-44ab-83d2-%012d", n),
		ReceiptHandle:  fmt.Sprintf("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a-%d", n),
		Body:           body,
		Attributes:     map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1795873207000"},
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:streamlake-aggregator",
		EventSource:    "aws:sqs",
		AWSRegion:      "us-east-1",
	}
}

// handle runs one SQS batch through the handler and fails the test on any
// batch item failure.
func (h *harness) handle(tb testing.TB, msgs ...events.SQSMessage) {
	tb.Helper()
	resp, err := h.agg.Handle(context.Background(), events.SQSEvent{Records: msgs})
	if err != nil {
		tb.Fatalf("Handle: %v", err)
	}
	if len(resp.BatchItemFailures) > 0 {
		tb.Fatalf("Handle reported failures %v", resp.BatchItemFailures)
	}
}

// check compares the table with want. extremes false ignores min/max/first/last.
func (h *harness) check(tb testing.TB, want map[summary.Key]*summary.Summary, extremes bool) {
	tb.Helper()
	got, err := h.store.ScanSummaries(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, d := range summary.Compare(want, got) {
		if !extremes && (d.What == "first" || d.What == "last" || strings.HasSuffix(d.What, ".min") || strings.HasSuffix(d.What, ".max")) {
			continue
		}
		if n++; n <= 20 {
			tb.Errorf("table differs: %s", d)
		}
	}
	if n > 20 {
		tb.Errorf("… %d differences in all", n)
	}
	if len(want) == 0 {
		tb.Fatal("check called with no expected summaries")
	}
}

// countingClient counts DynamoDB write calls and the actions they carry.
type countingClient struct {
	dynamostore.API
	mu         sync.Mutex
	writes     int // actions in successful writes
	maxActions int
	calls      int
}

func (c *countingClient) record(actions int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes += actions
	c.calls++
	c.maxActions = max(c.maxActions, actions)
}

func (c *countingClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if len(in.TransactItems) > 100 {
		return nil, fmt.Errorf("test: transaction with %d actions", len(in.TransactItems))
	}
	out, err := c.API.TransactWriteItems(ctx, in, opts...)
	if err == nil {
		c.record(len(in.TransactItems))
	}
	return out, err
}

func (c *countingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := c.API.UpdateItem(ctx, in, opts...)
	if err == nil {
		c.record(1)
	}
	return out, err
}

func (c *countingClient) snapshot() (writes, calls, maxActions int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.calls, c.maxActions
}

var errCrash = errors.New("test: aggregator crashed")

// crashingClient lets the first `allow` writes through, then fails every write:
// before sending it (lostResponse false) or after DynamoDB committed it
// (lostResponse true, a timeout after the commit).
type crashingClient struct {
	dynamostore.API
	allow        int
	lostResponse bool
	mu           sync.Mutex
	n            int
}

func (c *crashingClient) gate() (send, fail bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	switch {
	case c.n <= c.allow:
		return true, false
	case c.n == c.allow+1 && c.lostResponse:
		return true, true
	}
	return false, true
}

func (c *crashingClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	send, fail := c.gate()
	var out *dynamodb.TransactWriteItemsOutput
	var err error
	if send {
		out, err = c.API.TransactWriteItems(ctx, in, opts...)
	}
	if fail {
		return nil, errCrash
	}
	return out, err
}

func (c *crashingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	send, fail := c.gate()
	var out *dynamodb.UpdateItemOutput
	var err error
	if send {
		out, err = c.API.UpdateItem(ctx, in, opts...)
	}
	if fail {
		return nil, errCrash
	}
	return out, err
}

// readAll returns the current objects under the prefix, as a report would read
// them.
func (e *env) readAll(tb testing.TB) []summary.Object {
	tb.Helper()
	ctx := context.Background()
	out, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket), Prefix: aws.String(prefix + "/")})
	if err != nil {
		tb.Fatal(err)
	}
	var objs []summary.Object
	for _, o := range out.Contents {
		g, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: o.Key})
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(g.Body)
		g.Body.Close()
		if err != nil {
			tb.Fatal(err)
		}
		objs = append(objs, summary.Object{Key: aws.ToString(o.Key), Body: b})
	}
	return objs
}

// serialClient passes one DynamoDB request at a time to moto. moto's
// TransactWriteItems is not isolated between concurrent requests (it applies
// actions one by one and rolls back by restoring a copy of the whole table),
// whereas DynamoDB transactions are serializable and single-item operations
// atomic. Serializing requests restores those guarantees while the aggregators
// around it still interleave their steps request by request.
type serialClient struct {
	dynamostore.API
	mu *sync.Mutex
}

func (c serialClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.API.GetItem(ctx, in, opts...)
}

func (c serialClient) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.API.BatchGetItem(ctx, in, opts...)
}

func (c serialClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.API.UpdateItem(ctx, in, opts...)
}

func (c serialClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.API.TransactWriteItems(ctx, in, opts...)
}
