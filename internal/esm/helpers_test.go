package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/onfailure"
)

const (
	testFunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:processor"
	testRoleARN     = "arn:aws:iam::123456789012:role/processor-role"
	drainTimeout    = 30 * time.Second
)

// env is a moto-backed Kinesis + SQS environment for one test.
type env struct {
	t   testing.TB
	ctx context.Context
	kin *kinesis.Client
	sqs *sqs.Client
}

var nameSeq atomic.Int64

// uniqueName returns a resource name of the test's own (tests share one moto).
func uniqueName(t testing.TB, max int) string {
	name := regexp.MustCompile(`[^A-Za-z0-9-]+`).ReplaceAllString(t.Name(), "-")
	suffix := fmt.Sprintf("-%d-%d", time.Now().UnixNano()%1e6, nameSeq.Add(1))
	if len(name)+len(suffix) > max {
		name = name[:max-len(suffix)]
	}
	return name + suffix
}

func newEnv(t testing.TB) *env {
	t.Helper()
	motoserver.ForTest(t)
	ctx := t.Context()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return &env{t: t, ctx: ctx, kin: kinesis.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg)}
}

// stream creates a stream with n shards and returns its ARN and shard ids.
func (e *env) stream(n int) (string, []string) {
	e.t.Helper()
	name := uniqueName(e.t, 120)
	if _, err := e.kin.CreateStream(e.ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(n))}); err != nil {
		e.t.Fatalf("create stream: %v", err)
	}
	out, err := e.kin.DescribeStreamSummary(e.ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		e.t.Fatalf("describe stream: %v", err)
	}
	arn := aws.ToString(out.StreamDescriptionSummary.StreamARN)
	shards, err := e.kin.ListShards(e.ctx, &kinesis.ListShardsInput{StreamARN: aws.String(arn)})
	if err != nil {
		e.t.Fatalf("list shards: %v", err)
	}
	var ids []string
	for _, s := range shards.Shards {
		ids = append(ids, aws.ToString(s.ShardId))
	}
	return arn, ids
}

// queue creates an SQS queue and returns its URL and ARN.
func (e *env) queue() (url, arn string) {
	e.t.Helper()
	out, err := e.sqs.CreateQueue(e.ctx, &sqs.CreateQueueInput{QueueName: aws.String(uniqueName(e.t, 80))})
	if err != nil {
		e.t.Fatalf("create queue: %v", err)
	}
	attrs, err := e.sqs.GetQueueAttributes(e.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		e.t.Fatalf("get queue attributes: %v", err)
	}
	return aws.ToString(out.QueueUrl), attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// put is one record to put and, after put, where it went.
type put struct {
	Key, Data    string
	Shard, Seq   string
	ExplicitHash string
}

// putAll writes records with PutRecords (moto never fails entries) and fills in
// their shard and sequence number.
func (e *env) putAll(arn string, recs []put) []put {
	e.t.Helper()
	out := make([]put, 0, len(recs))
	for start := 0; start < len(recs); start += 500 {
		chunk := recs[start:min(start+500, len(recs))]
		var entries []ktypes.PutRecordsRequestEntry
		for _, r := range chunk {
			ent := ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(r.Key), Data: []byte(r.Data)}
			if r.ExplicitHash != "" {
				ent.ExplicitHashKey = aws.String(r.ExplicitHash)
			}
			entries = append(entries, ent)
		}
		res, err := e.kin.PutRecords(e.ctx, &kinesis.PutRecordsInput{StreamARN: aws.String(arn), Records: entries})
		if err != nil {
			e.t.Fatalf("put records: %v", err)
		}
		if n := aws.ToInt32(res.FailedRecordCount); n != 0 {
			e.t.Fatalf("put records: %d failed", n)
		}
		for i, r := range chunk {
			r.Shard = aws.ToString(res.Records[i].ShardId)
			r.Seq = aws.ToString(res.Records[i].SequenceNumber)
			out = append(out, r)
		}
	}
	return out
}

// records makes n records with keys key-0…key-(keys-1) and JSON data.
func records(n, keys int, prefix string) []put {
	recs := make([]put, n)
	for i := range recs {
		k := fmt.Sprintf("key-%d", i%keys)
		recs[i] = put{Key: k, Data: fmt.Sprintf(`{"n":%d,"key":%q,"tag":%q}`, i, k, prefix)}
	}
	return recs
}

// readRange re-reads a sequence range of a shard as a redrive tool would [S3]:
// GetShardIterator AT_SEQUENCE_NUMBER start, then GetRecords up to end.
func (e *env) readRange(arn, shard, start, end string) []string {
	e.t.Helper()
	it, err := e.kin.GetShardIterator(e.ctx, &kinesis.GetShardIteratorInput{
		StreamARN: aws.String(arn), ShardId: aws.String(shard),
		ShardIteratorType: ktypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(start),
	})
	if err != nil {
		e.t.Fatalf("get shard iterator at %s: %v", start, err)
	}
	iter := it.ShardIterator
	var seqs []string
	for iter != nil {
		out, err := e.kin.GetRecords(e.ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: aws.String(arn)})
		if err != nil {
			e.t.Fatalf("get records: %v", err)
		}
		if len(out.Records) == 0 {
			break
		}
		for _, r := range out.Records {
			seq := aws.ToString(r.SequenceNumber)
			if compareSeq(seq, end) > 0 {
				return seqs
			}
			seqs = append(seqs, seq)
		}
		iter = out.NextShardIterator
	}
	return seqs
}

// receiveAll returns the bodies of all messages in a queue.
func (e *env) receiveAll(url string) []string {
	e.t.Helper()
	var bodies []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		// A short visibility timeout and a delete of what was read: if the
		// answer to a receive is lost and the SDK receives again, the messages
		// the lost answer held come back after a few seconds instead of
		// hiding until the test has ended.
		out, err := e.sqs.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 3})
		if err != nil {
			e.t.Fatalf("receive messages: %v", err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := e.sqs.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				e.t.Fatalf("delete message: %v", err)
			}
		}
		if len(out.Messages) > 0 {
			continue
		}
		attrs, err := e.sqs.GetQueueAttributes(e.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			e.t.Fatalf("queue attributes: %v", err)
		}
		if attrs.Attributes["ApproximateNumberOfMessages"] == "0" && attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			return bodies
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("queue %s still holds messages after 30s: %v", url, attrs.Attributes)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// onFailureRecords decodes the on-failure records in a queue, checking the
// exact JSON shape of each.
func (e *env) onFailureRecords(url string) []onfailure.Record {
	e.t.Helper()
	var recs []onfailure.Record
	for _, body := range e.receiveAll(url) {
		checkOnFailureShape(e.t, body)
		var r onfailure.Record
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			e.t.Fatalf("decode on-failure record %s: %v", body, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// baseConfig is a mapping config with fast emulator knobs for tests.
func baseConfig(streamARN string) Config {
	return Config{
		FunctionARN:       testFunctionARN,
		StreamARN:         streamARN,
		StartingPosition:  StartingPositionTrimHorizon,
		InvokeIdentityArn: testRoleARN,
		PollInterval:      10 * time.Millisecond,
		RetryBackoff:      time.Millisecond,
	}
}

// withQueue adds an SQS on-failure destination.
func withQueue(cfg Config, url, arn string) Config {
	cfg.DestinationConfig.OnFailure = &OnFailureDestination{Destination: arn, QueueURL: url}
	return cfg
}

// mapping builds a mapping over the env's clients.
func (e *env) mapping(cfg Config, inv Invoker) *KinesisMapping {
	e.t.Helper()
	m, err := New(cfg, e.kin, e.sqs, inv)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	return m
}

// drain runs m until every record already put is processed.
func drain(t *testing.T, m *KinesisMapping) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), drainTimeout)
	defer cancel()
	done := make(chan struct{})
	close(done)
	if err := m.RunUntilDrained(ctx, done); err != nil {
		t.Fatalf("RunUntilDrained: %v", err)
	}
}

// drainAfter runs m until it has drained what is put before more returns:
// once ready holds (checked every few milliseconds, until the drain timeout),
// it calls more, which may put records, reshard, or wait, and then lets m
// drain.
func drainAfter(t *testing.T, m *KinesisMapping, ready func() bool, more func(ctx context.Context)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), drainTimeout)
	defer cancel()
	produced := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- m.RunUntilDrained(ctx, produced) }()
	for !ready() && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	more(ctx)
	close(produced)
	if err := <-errc; err != nil {
		t.Fatalf("RunUntilDrained: %v", err)
	}
}

// checkAccounting checks that every polled record is filtered, succeeded or
// dropped, none pending.
func checkAccounting(t *testing.T, st Stats) {
	t.Helper()
	if got := st.FilteredRecords + st.SucceededRecords + st.DroppedRecords; got != st.PolledRecords {
		t.Errorf("filtered %d + succeeded %d + dropped %d = %d; want polled %d",
			st.FilteredRecords, st.SucceededRecords, st.DroppedRecords, got, st.PolledRecords)
	}
	for _, sh := range st.Shards {
		if sh.PendingRecords != 0 {
			t.Errorf("shard %s has %d pending records after drain; want 0", sh.ShardID, sh.PendingRecords)
		}
		if sh.LastSequenceRead != sh.Checkpoint {
			t.Errorf("shard %s checkpoint %q; want the last record read %q", sh.ShardID, sh.Checkpoint, sh.LastSequenceRead)
		}
	}
}

// invokedBatch is one invocation the fake function saw.
type invokedBatch struct {
	raw   []byte
	event events.KinesisEvent
}

func (b invokedBatch) seqs() []string {
	s := make([]string, len(b.event.Records))
	for i, r := range b.event.Records {
		s[i] = r.Kinesis.SequenceNumber
	}
	return s
}

func (b invokedBatch) contains(pred func(events.KinesisEventRecord) bool) bool {
	for _, r := range b.event.Records {
		if pred(r) {
			return true
		}
	}
	return false
}

// fakeFunction is a scripted function: respond decides each invocation's
// outcome (nil: success with a null response). It records every batch.
type fakeFunction struct {
	t       *testing.T
	respond func(call int, b invokedBatch) (Invocation, error)
	delay   time.Duration

	mu    sync.Mutex
	calls []invokedBatch

	inflight, maxInflight atomic.Int64
}

func newFake(t *testing.T, respond func(call int, b invokedBatch) (Invocation, error)) *fakeFunction {
	return &fakeFunction{t: t, respond: respond}
}

func (f *fakeFunction) Invoke(ctx context.Context, payload []byte) (Invocation, error) {
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxInflight.Load()
		if n <= m || f.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		f.t.Errorf("invocation payload is not a Kinesis event: %v", err)
	}
	b := invokedBatch{raw: append([]byte(nil), payload...), event: ev}
	f.mu.Lock()
	call := len(f.calls)
	f.calls = append(f.calls, b)
	f.mu.Unlock()
	if f.delay > 0 {
		if !sleep(ctx, f.delay) {
			return Invocation{}, ctx.Err()
		}
	}
	if f.respond == nil {
		return Invocation{Payload: []byte("null")}, nil
	}
	return f.respond(call, b)
}

func (f *fakeFunction) batches() []invokedBatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]invokedBatch(nil), f.calls...)
}

// batchSeqs lists the sequence numbers of each invocation.
func (f *fakeFunction) batchSeqs() [][]string {
	var out [][]string
	for _, b := range f.batches() {
		out = append(out, b.seqs())
	}
	return out
}

// delivered returns every sequence number delivered, in invocation order.
func (f *fakeFunction) delivered() []string {
	var out []string
	for _, b := range f.batches() {
		out = append(out, b.seqs()...)
	}
	return out
}

func fail(msg string) Invocation {
	return Invocation{FunctionError: "errorString", ErrorMessage: msg, Payload: []byte(`{"errorMessage":"` + msg + `","errorType":"errorString"}`)}
}

func respondJSON(body string) Invocation { return Invocation{Payload: []byte(body)} }

func seqsOf(recs []put) []string {
	s := make([]string, len(recs))
	for i, r := range recs {
		s[i] = r.Seq
	}
	return s
}

func hasData(substr string) func(events.KinesisEventRecord) bool {
	return func(r events.KinesisEventRecord) bool { return strings.Contains(string(r.Kinesis.Data), substr) }
}

// checkOnFailureShape checks that an on-failure record has exactly AWS's fields
// with AWS's JSON types [S3].
func checkOnFailureShape(t testing.TB, body string) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("on-failure record is not JSON: %v\n%s", err, body)
	}
	iso := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	digits := regexp.MustCompile(`^[0-9]+$`)
	want := map[string]map[string]string{
		"":                {"requestContext": "object", "responseContext": "object", "version": "string", "timestamp": "string", "KinesisBatchInfo": "object"},
		"requestContext":  {"requestId": "string", "functionArn": "string", "condition": "string", "approximateInvokeCount": "number"},
		"responseContext": {"statusCode": "number", "executedVersion": "string", "functionError": "string|null"},
		"KinesisBatchInfo": {"shardId": "string", "startSequenceNumber": "string", "endSequenceNumber": "string",
			"approximateArrivalOfFirstRecord": "string", "approximateArrivalOfLastRecord": "string", "batchSize": "number", "streamArn": "string"},
	}
	typeOf := func(v any) string {
		switch v.(type) {
		case map[string]any:
			return "object"
		case string:
			return "string"
		case float64:
			return "number"
		case nil:
			return "null"
		}
		return fmt.Sprintf("%T", v)
	}
	// Only records discarded after invocations (RetryAttemptsExhausted) have a
	// responseContext; records discarded for age (and the project's
	// MaximumPayloadSizeExceeded) have none, as AWS records it (LocalStack
	// test_lambda_integration_kinesis.snapshot.json,
	// test_kinesis_maximum_record_age_exceeded[*]).
	rc0, _ := doc["requestContext"].(map[string]any)
	if rc0["condition"] != onfailure.ConditionRetryAttemptsExhausted {
		delete(want, "responseContext")
		delete(want[""], "responseContext")
		if _, ok := doc["responseContext"]; ok {
			t.Errorf("on-failure record with condition %v has a responseContext: %s", rc0["condition"], body)
		}
	}
	for section, fields := range want {
		obj := doc
		if section != "" {
			obj, _ = doc[section].(map[string]any)
		}
		if len(obj) != len(fields) {
			t.Errorf("on-failure record %s has %d fields; want %d: %s", section, len(obj), len(fields), body)
		}
		for name, typ := range fields {
			v, ok := obj[name]
			if !ok {
				t.Errorf("on-failure record %s.%s is missing: %s", section, name, body)
				continue
			}
			if got := typeOf(v); !strings.Contains("|"+typ+"|", "|"+got+"|") {
				t.Errorf("on-failure record %s.%s is a JSON %s; want %s", section, name, got, typ)
			}
		}
	}
	if v := doc["version"]; v != "1.0" {
		t.Errorf("version = %v; want 1.0", v)
	}
	if ts, _ := doc["timestamp"].(string); !iso.MatchString(ts) {
		t.Errorf("timestamp = %q; want ISO-8601 UTC with ms", ts)
	}
	info, _ := doc["KinesisBatchInfo"].(map[string]any)
	for _, f := range []string{"approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord"} {
		if s, _ := info[f].(string); !iso.MatchString(s) {
			t.Errorf("KinesisBatchInfo.%s = %q; want ISO-8601 UTC with ms", f, s)
		}
	}
	for _, f := range []string{"startSequenceNumber", "endSequenceNumber"} {
		if s, _ := info[f].(string); !digits.MatchString(s) {
			t.Errorf("KinesisBatchInfo.%s = %q; want a decimal sequence number", f, s)
		}
	}
	rc, _ := doc["requestContext"].(map[string]any)
	if id, _ := rc["requestId"].(string); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("requestContext.requestId = %q; want a UUID", id)
	}
}
