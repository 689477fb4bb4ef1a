package esm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/filter"
	"github.com/streamlake/streamlake/internal/onfailure"
)

// The tests in this file replay scenarios whose outcome was recorded against a
// real AWS account, and check that the emulation (against moto server) gives the
// same outcome. Each names the recording it follows. Unless stated otherwise the
// recordings are LocalStack's snapshot tests at commit 8b9a79f05846
// (github.com/localstack/localstack, March 2026), files
//
//	tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_kinesis.snapshot.json
//	tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_sqs.snapshot.json
//
// with the scenario (mapping settings, records, function behaviour) in the
// .py file of the same name; every snapshot used here is marked
// @markers.aws.validated there, i.e. it was recorded against AWS. Where the
// recorded run depended on timing that a test cannot reproduce (how many
// retries fit into 60 s), the test checks the relation the recording shows, not
// the number.
//
// The AWS documentation's own examples are replayed by the other conformance
// files: the Kinesis event and on-failure record of [S3, S9]
// (event_test.go, testdata/*.golden.json), every partial batch response case of
// [S2] (TestConformanceBatchItemFailuresVariants), the SQS event of [Q1]
// (TestSQSEventDecodes) and the SQS partial batch responses of [Q5]
// (TestParseSQSBatchItemFailures). Where a recording and the documentation
// disagree or the documentation is silent ("" and [] responses, the on-failure
// record of an age discard, retry counting after a partial batch response,
// md5OfMessageAttributes), the recording wins; README.md lists these.

// recordedRun is a replayed Kinesis scenario's outcome.
type recordedRun struct {
	e     *env
	puts  []put
	fn    *fakeFunction
	m     *KinesisMapping
	url   string
	ofr   []onfailure.Record
	calls map[string]int // deliveries per sequence number
}

// replayKinesis runs a one-shard mapping over recs with cfg (the stream and an
// on-failure queue are filled in) until drained.
func replayKinesis(t *testing.T, recs []put, cfg func(*Config), respond func(call int, b invokedBatch) (Invocation, error)) *recordedRun {
	t.Helper()
	e := newEnv(t)
	arn, _ := e.stream(1)
	url, qarn := e.queue()
	r := &recordedRun{e: e, url: url}
	r.puts = e.putAll(arn, recs)
	r.fn = newFake(t, respond)
	c := withQueue(baseConfig(arn), url, qarn)
	cfg(&c)
	r.m = e.mapping(c, r.fn)
	drain(t, r.m)
	r.ofr = e.onFailureRecords(url)
	r.calls = map[string]int{}
	for _, b := range r.fn.batches() {
		for _, s := range b.seqs() {
			r.calls[s]++
		}
	}
	checkAccounting(t, r.m.Stats())
	return r
}

// TestRecordedKinesisBatchItemFailures follows
// TestKinesisSource::test_kinesis_report_batch_item_failures (recorded
// 2025-11-25): BatchSize 3, MaximumBatchingWindowInSeconds 1,
// MaximumRetryAttempts 3, ReportBatchItemFailures, 6 records (partition keys
// test_0…test_5) of which the last is always reported failed. AWS delivered
// test_0…test_4 once and test_5 five times (once in its batch, then 1 + 3
// times alone as a new batch), and sent one on-failure record: condition
// RetryAttemptsExhausted, approximateInvokeCount 4, responseContext
// {200, $LATEST, null}, batchSize 1, start = end = test_5's sequence number.
func TestRecordedKinesisBatchItemFailures(t *testing.T) {
	var recs []put
	for i := range 6 {
		recs = append(recs, put{Key: fmt.Sprintf("test_%d", i), Data: fmt.Sprintf(`{"should_fail": %v}`, i == 5)})
	}
	var failSeq atomic.Value
	r := replayKinesis(t, recs, func(c *Config) {
		c.BatchSize = 3
		c.MaximumBatchingWindowInSeconds = 1
		c.MaximumRetryAttempts = new(3)
		c.FunctionResponseTypes = []string{ReportBatchItemFailures}
	}, func(call int, b invokedBatch) (Invocation, error) {
		var failed []string
		for _, rec := range b.event.Records {
			var d struct {
				ShouldFail bool `json:"should_fail"`
			}
			if err := json.Unmarshal(rec.Kinesis.Data, &d); err != nil {
				return Invocation{}, err
			}
			if d.ShouldFail {
				failed = append(failed, fmt.Sprintf(`{"itemIdentifier":%q}`, rec.Kinesis.SequenceNumber))
				failSeq.Store(rec.Kinesis.SequenceNumber)
			}
		}
		body := `{"batchItemFailures":[`
		for i, f := range failed {
			if i > 0 {
				body += ","
			}
			body += f
		}
		return respondJSON(body + "]}"), nil
	})
	want := map[string]int{}
	for i, p := range r.puts {
		want[p.Seq] = 1
		if i == 5 {
			want[p.Seq] = 5
		}
	}
	if diff := cmp.Diff(want, r.calls); diff != "" {
		t.Errorf("deliveries per record (-want +got):\n%s", diff)
	}
	if len(r.ofr) != 1 {
		t.Fatalf("got %d on-failure records; want 1", len(r.ofr))
	}
	got := r.ofr[0]
	last := r.puts[5].Seq
	if got.RequestContext.Condition != onfailure.ConditionRetryAttemptsExhausted || got.RequestContext.ApproximateInvokeCount != 4 ||
		got.ResponseContext != (onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"}) ||
		got.KinesisBatchInfo.BatchSize != 1 || got.KinesisBatchInfo.StartSequenceNumber != last || got.KinesisBatchInfo.EndSequenceNumber != last {
		t.Errorf("on-failure record = %+v; want RetryAttemptsExhausted, approximateInvokeCount 4, {200 $LATEST null}, record 6 alone", got)
	}
	if s, _ := failSeq.Load().(string); s != last {
		t.Errorf("the function reported %q failed; want %q", s, last)
	}
}

// TestRecordedKinesisBatchItemSuccess follows
// TestKinesisSource::test_kinesis_report_batch_item_success_scenarios (recorded
// 2025-11-25): BatchSize 1, MaximumBatchingWindowInSeconds 1,
// MaximumRetryAttempts 2, ReportBatchItemFailures, one record; each of these
// responses is a complete success: exactly one invocation.
func TestRecordedKinesisBatchItemSuccess(t *testing.T) {
	for _, tc := range []struct{ id, body string }{
		{"empty_string_success", `""`},
		{"empty_list_success", `[]`},
		{"null_success", `null`},
		{"empty_dict_success", `{}`},
		{"empty_batch_item_failure_success", `{"batchItemFailures": []}`},
		{"null_batch_item_failure_success", `{"batchItemFailures": null}`},
	} {
		t.Run(tc.id, func(t *testing.T) {
			r := replayKinesis(t, []put{{Key: "test", Data: "hello"}}, func(c *Config) {
				c.BatchSize = 1
				c.MaximumBatchingWindowInSeconds = 1
				c.MaximumRetryAttempts = new(2)
				c.FunctionResponseTypes = []string{ReportBatchItemFailures}
			}, func(int, invokedBatch) (Invocation, error) { return respondJSON(tc.body), nil })
			if n := len(r.fn.batches()); n != 1 {
				t.Errorf("response %s: %d invocations; want 1", tc.body, n)
			}
			if len(r.ofr) != 0 || r.m.Stats().DroppedRecords != 0 {
				t.Errorf("response %s: %d on-failure records, %d dropped; want none", tc.body, len(r.ofr), r.m.Stats().DroppedRecords)
			}
		})
	}
}

// TestRecordedKinesisBatchItemFailureScenarios follows
// TestKinesisSource::test_kinesis_report_batch_item_failure_scenarios (recorded
// 2025-11-25): BatchSize 1, MaximumBatchingWindowInSeconds 1,
// MaximumRetryAttempts 2, ReportBatchItemFailures, one record; each response
// fails the whole batch: 3 invocations, then an on-failure record with
// RetryAttemptsExhausted, approximateInvokeCount 3, statusCode 200, $LATEST,
// functionError null (Unhandled for the exception), batchSize 1.
func TestRecordedKinesisBatchItemFailureScenarios(t *testing.T) {
	for _, tc := range []struct {
		id       string
		response Invocation
		fnError  *string
	}{
		{"item_identifier_not_present_failure", respondJSON(`{"batchItemFailures": [{"itemIdentifier": 123}]}`), nil},
		{"empty_string_item_identifier_failure", respondJSON(`{"batchItemFailures": [{"itemIdentifier": ""}]}`), nil},
		{"null_item_identifier_failure", respondJSON(`{"batchItemFailures": [{"itemIdentifier": null}]}`), nil},
		{"invalid_key_foo_failure", respondJSON(`{"batchItemFailures": [{"foo": 123}]}`), nil},
		{"invalid_key_foo_null_value_failure", respondJSON(`{"batchItemFailures": [{"foo": null}]}`), nil},
		{"unhandled_exception_in_function", Invocation{FunctionError: "Unhandled", ErrorMessage: "division by zero"}, new(onfailure.FunctionErrorUnhandled)},
	} {
		t.Run(tc.id, func(t *testing.T) {
			r := replayKinesis(t, []put{{Key: "test", Data: "hello"}}, func(c *Config) {
				c.BatchSize = 1
				c.MaximumBatchingWindowInSeconds = 1
				c.MaximumRetryAttempts = new(2)
				c.FunctionResponseTypes = []string{ReportBatchItemFailures}
			}, func(int, invokedBatch) (Invocation, error) { return tc.response, nil })
			if n := len(r.fn.batches()); n != 3 {
				t.Errorf("%d invocations; want 3", n)
			}
			if len(r.ofr) != 1 {
				t.Fatalf("got %d on-failure records; want 1", len(r.ofr))
			}
			got := r.ofr[0]
			wantCtx := onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: tc.fnError}
			if got.RequestContext.Condition != onfailure.ConditionRetryAttemptsExhausted || got.RequestContext.ApproximateInvokeCount != 3 ||
				!cmp.Equal(wantCtx, got.ResponseContext) || got.KinesisBatchInfo.BatchSize != 1 ||
				got.KinesisBatchInfo.StartSequenceNumber != r.puts[0].Seq || got.KinesisBatchInfo.EndSequenceNumber != r.puts[0].Seq {
				t.Errorf("on-failure record = %+v; want RetryAttemptsExhausted, 3, %+v, the record", got, wantCtx)
			}
		})
	}
}

// TestRecordedKinesisOnFailureDestination follows
// TestKinesisSource::test_kinesis_event_source_mapping_with_on_failure_destination_config
// (recorded 2025-11-25): BatchSize 1, MaximumBatchingWindowInSeconds 1,
// MaximumRetryAttempts 1, a function that raises: 2 invocations, then
// RetryAttemptsExhausted, approximateInvokeCount 2, responseContext {200,
// $LATEST, Unhandled}, batchSize 1. The SNS variant
// (…_with_sns_on_failure_destination_config) records the same document as the
// notification's Message; the emulation supports SQS destinations only.
func TestRecordedKinesisOnFailureDestination(t *testing.T) {
	r := replayKinesis(t, []put{{Key: "custom", Data: `{"input": "hello", "value": "world", "raise_error": 1}`}}, func(c *Config) {
		c.BatchSize = 1
		c.MaximumBatchingWindowInSeconds = 1
		c.MaximumRetryAttempts = new(1)
	}, func(int, invokedBatch) (Invocation, error) { return fail("Test exception"), nil })
	if n := len(r.fn.batches()); n != 2 {
		t.Errorf("%d invocations; want 2", n)
	}
	if len(r.ofr) != 1 {
		t.Fatalf("got %d on-failure records; want 1", len(r.ofr))
	}
	got := r.ofr[0]
	want := onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: new(onfailure.FunctionErrorUnhandled)}
	if got.RequestContext.Condition != onfailure.ConditionRetryAttemptsExhausted || got.RequestContext.ApproximateInvokeCount != 2 ||
		!cmp.Equal(want, got.ResponseContext) || got.KinesisBatchInfo.BatchSize != 1 {
		t.Errorf("on-failure record = %+v; want RetryAttemptsExhausted, 2, %+v, batchSize 1", got, want)
	}
}

// TestRecordedKinesisRecordAgeBeforeIngestion follows
// TestKinesisSource::test_kinesis_maximum_record_age_exceeded[expire-before-ingestion]
// (recorded 2025-11-25): a record older than MaximumRecordAgeInSeconds 60 when
// the mapping starts (BatchSize 1, window 1, MaximumRetryAttempts 0) is never
// delivered; its on-failure record has condition RecordAgeExceeded,
// approximateInvokeCount 1, batchSize 1, and no responseContext key.
func TestRecordedKinesisRecordAgeBeforeIngestion(t *testing.T) {
	r := replayKinesis(t, []put{{Key: "test", Data: "stream-data"}}, func(c *Config) {
		c.BatchSize = 1
		c.MaximumBatchingWindowInSeconds = 1
		c.MaximumRetryAttempts = new(0)
		c.MaximumRecordAgeInSeconds = new(60)
		c.Clock = func() time.Time { return time.Now().Add(61 * time.Second) }
	}, nil)
	if n := len(r.fn.batches()); n != 0 {
		t.Errorf("%d invocations; want 0", n)
	}
	if len(r.ofr) != 1 {
		t.Fatalf("got %d on-failure records; want 1", len(r.ofr))
	}
	got := r.ofr[0]
	if got.RequestContext.Condition != onfailure.ConditionRecordAgeExceeded || got.RequestContext.ApproximateInvokeCount != 1 ||
		got.ResponseContext != (onfailure.ResponseContext{}) || got.KinesisBatchInfo.BatchSize != 1 {
		t.Errorf("on-failure record = %+v; want RecordAgeExceeded, approximateInvokeCount 1, no responseContext, batchSize 1", got)
	}
}

// TestRecordedKinesisRecordAgeWhileRetrying follows
// TestKinesisSource::test_kinesis_maximum_record_age_exceeded[expire-while-retrying]
// (recorded 2025-11-25): MaximumRetryAttempts -1, MaximumRecordAgeInSeconds
// 60, a function that always fails: the record is retried until it is too
// old, then discarded with condition RecordAgeExceeded and no responseContext
// key. AWS's record says approximateInvokeCount 8 (the retries that fitted
// into 60 s); the emulation's count is the invocations made plus the attempt at
// which it discarded the record.
func TestRecordedKinesisRecordAgeWhileRetrying(t *testing.T) {
	var offset atomic.Int64
	r := replayKinesis(t, []put{{Key: "test", Data: "stream-data"}}, func(c *Config) {
		c.BatchSize = 1
		c.MaximumBatchingWindowInSeconds = 1
		c.MaximumRetryAttempts = new(-1)
		c.MaximumRecordAgeInSeconds = new(60)
		c.Clock = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	}, func(call int, _ invokedBatch) (Invocation, error) {
		if call == 6 {
			offset.Store(int64(61 * time.Second))
		}
		return fail("echo failure"), nil
	})
	n := len(r.fn.batches())
	if n != 7 {
		t.Errorf("%d invocations; want 7 (the clock jumps during the 7th)", n)
	}
	if len(r.ofr) != 1 {
		t.Fatalf("got %d on-failure records; want 1", len(r.ofr))
	}
	got := r.ofr[0]
	if got.RequestContext.Condition != onfailure.ConditionRecordAgeExceeded || got.RequestContext.ApproximateInvokeCount != n+1 ||
		got.ResponseContext != (onfailure.ResponseContext{}) || got.KinesisBatchInfo.BatchSize != 1 {
		t.Errorf("on-failure record = %+v; want RecordAgeExceeded, approximateInvokeCount %d, no responseContext", got, n+1)
	}
}

// TestRecordedKinesisRecordAgeDiscardRecords follows
// TestKinesisSource::test_kinesis_maximum_record_age_exceeded_discard_records
// (recorded 2025-11-25): one record put, then (after it aged past
// MaximumRecordAgeInSeconds 60) five more; the mapping (BatchSize 10, window 1,
// MaximumRetryAttempts 0) discards the old one alone (RecordAgeExceeded,
// approximateInvokeCount 1, batchSize 1, no responseContext) and delivers the
// five others.
func TestRecordedKinesisRecordAgeDiscardRecords(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	url, qarn := e.queue()
	first := e.putAll(arn, []put{{Key: "test", Data: "stream-data"}})
	afterFirst := time.Now()
	time.Sleep(4 * time.Second)
	var rest []put
	for i := range 5 {
		rest = append(rest, put{Key: "test", Data: fmt.Sprintf("stream-data-%d", i+1)})
	}
	rest = e.putAll(arn, rest)
	fn := newFake(t, nil)
	c := withQueue(baseConfig(arn), url, qarn)
	c.BatchSize = 10
	c.MaximumBatchingWindowInSeconds = 1
	c.MaximumRetryAttempts = new(0)
	c.MaximumRecordAgeInSeconds = new(60)
	// A frozen clock 61 s after the first record: it is older than 60 s, the
	// others (put 4 s later) are not, however long the run takes.
	frozen := afterFirst.Add(61 * time.Second)
	c.Clock = func() time.Time { return frozen }
	m := e.mapping(c, fn)
	drain(t, m)
	checkAccounting(t, m.Stats())
	if diff := cmp.Diff(seqsOf(rest), fn.delivered()); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	ofr := e.onFailureRecords(url)
	if len(ofr) != 1 {
		t.Fatalf("got %d on-failure records; want 1", len(ofr))
	}
	got := ofr[0]
	if got.RequestContext.Condition != onfailure.ConditionRecordAgeExceeded || got.RequestContext.ApproximateInvokeCount != 1 ||
		got.ResponseContext != (onfailure.ResponseContext{}) || got.KinesisBatchInfo.BatchSize != 1 ||
		got.KinesisBatchInfo.StartSequenceNumber != first[0].Seq {
		t.Errorf("on-failure record = %+v; want RecordAgeExceeded, 1, no responseContext, the first record alone", got)
	}
}

// jsonKeys returns the keys of a JSON object in document order.
func jsonKeys(t *testing.T, obj []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", obj)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("decode %s: %v", obj, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("decode %s: %v", obj, err)
		}
	}
	return keys
}

// firstRecord returns the raw JSON of Records[0] of an event.
func firstRecord(t *testing.T, event []byte) []byte {
	t.Helper()
	var ev struct{ Records []json.RawMessage }
	if err := json.Unmarshal(event, &ev); err != nil || len(ev.Records) == 0 {
		t.Fatalf("event without records: %v %s", err, event)
	}
	return ev.Records[0]
}

// TestRecordedKinesisTrimHorizon follows
// TestKinesisSource::test_kinesis_event_source_trim_horizon (recorded
// 2025-11-25): 10 records of key test_0 and 10 of key test_1 put before the
// mapping starts (TRIM_HORIZON, BatchSize 10, window 0), 10 of key test_3
// after: three invocations of 10 records each, one key per batch, in order;
// each record's keys in AWS's order.
func TestRecordedKinesisTrimHorizon(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	mk := func(key string) []put {
		var out []put
		for j := range 10 {
			out = append(out, put{Key: key, Data: fmt.Sprintf(`{"record_id": %d}`, j)})
		}
		return out
	}
	before := e.putAll(arn, append(mk("test_0"), mk("test_1")...))
	fn := newFake(t, nil)
	c := baseConfig(arn)
	c.BatchSize = 10
	m := e.mapping(c, fn)
	var after []put
	drainAfter(t, m, func() bool { return len(fn.batches()) >= 2 }, func(context.Context) {
		after = e.putAll(arn, mk("test_3"))
	})
	all := seqsOf(append(before, after...))
	if diff := cmp.Diff([][]string{all[:10], all[10:20], all[20:]}, fn.batchSeqs()); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	rec := firstRecord(t, fn.batches()[0].raw)
	if diff := cmp.Diff([]string{"kinesis", "eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn", "awsRegion", "eventSourceARN"}, jsonKeys(t, rec)); diff != "" {
		t.Errorf("record keys (-recorded +got):\n%s", diff)
	}
	var r struct{ Kinesis json.RawMessage }
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data", "approximateArrivalTimestamp"}, jsonKeys(t, r.Kinesis)); diff != "" {
		t.Errorf("kinesis keys (-recorded +got):\n%s", diff)
	}
}

// TestRecordedKinesisFilterJSONPattern follows
// TestKinesisEventFiltering::test_kinesis_event_filtering_json_pattern
// (recorded 2025-11-25): a mapping with the filter
// {"data": {"event_type": ["function_1"]}} (BatchSize 1, window 1,
// MaximumRetryAttempts 1) receives only the records whose data matches; the
// others are never invoked and count as processed.
func TestRecordedKinesisFilterJSONPattern(t *testing.T) {
	crit, err := filter.Compile([]string{`{"data": {"event_type": ["function_1"]}}`})
	if err != nil {
		t.Fatal(err)
	}
	recs := []put{
		{Key: "test", Data: `{"event_type": "function_1", "n": 1}`},
		{Key: "test", Data: `{"event_type": "function_2", "n": 2}`},
		{Key: "test", Data: `{"event_type": "function_1", "n": 3}`},
	}
	r := replayKinesis(t, recs, func(c *Config) {
		c.BatchSize = 1
		c.MaximumBatchingWindowInSeconds = 1
		c.MaximumRetryAttempts = new(1)
		c.FilterCriteria = crit
	}, nil)
	if diff := cmp.Diff([]string{r.puts[0].Seq, r.puts[2].Seq}, r.fn.delivered()); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	if st := r.m.Stats(); st.FilteredRecords != 1 {
		t.Errorf("FilteredRecords = %d; want 1", st.FilteredRecords)
	}
}

// TestRecordedKinesisEmptyProvided follows TestKinesisSource::test_kinesis_empty_provided
// (recorded 2025-11-25): a provided.al2023 function that returns an empty
// response, without ReportBatchItemFailures (BatchSize 1, window 1,
// MaximumRetryAttempts 2), is invoked exactly once.
func TestRecordedKinesisEmptyProvided(t *testing.T) {
	r := replayKinesis(t, []put{{Key: "test", Data: "hello"}}, func(c *Config) {
		c.BatchSize = 1
		c.MaximumBatchingWindowInSeconds = 1
		c.MaximumRetryAttempts = new(2)
	}, func(int, invokedBatch) (Invocation, error) { return Invocation{}, nil })
	if n := len(r.fn.batches()); n != 1 {
		t.Errorf("%d invocations; want 1", n)
	}
}

// sqsIntegrationFunction is LocalStack's lambda_sqs_integration.py: each
// record's body says how many deliveries fail ({"fail_attempts": n}); while
// ApproximateReceiveCount <= n the whole invocation fails.
func sqsIntegrationFunction(_ int, b sqsBatch) (Invocation, error) {
	for _, r := range b.event.Records {
		var body struct {
			FailAttempts int `json:"fail_attempts"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			return Invocation{FunctionError: "Unhandled", ErrorMessage: "JSONDecodeError: " + err.Error()}, nil
		}
		if n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"]); body.FailAttempts >= n {
			return Invocation{FunctionError: "Unhandled", ErrorMessage: "failed attempt"}, nil
		}
	}
	return Invocation{Payload: []byte("null")}, nil
}

// sqsBatchItemFailureFunction is LocalStack's lambda_sqs_batch_item_failure.py:
// records whose fail_attempts >= ApproximateReceiveCount are reported in
// batchItemFailures; overwrite, if not "", is returned instead.
func sqsBatchItemFailureFunction(overwrite string) func(int, sqsBatch) (Invocation, error) {
	return func(_ int, b sqsBatch) (Invocation, error) {
		var resp events.SQSEventResponse
		resp.BatchItemFailures = []events.SQSBatchItemFailure{}
		for _, r := range b.event.Records {
			var body struct {
				FailAttempts int `json:"fail_attempts"`
			}
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
				return Invocation{FunctionError: "Unhandled", ErrorMessage: err.Error()}, nil
			}
			if n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"]); body.FailAttempts >= n {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		if overwrite != "" {
			return Invocation{Payload: []byte(overwrite)}, nil
		}
		js, err := json.Marshal(resp)
		return Invocation{Payload: js}, err
	}
}

// sqsWithDLQ creates a source queue with the visibility timeout and a
// RedrivePolicy to a new dead-letter queue; it returns both queues' URLs and
// the source's ARN.
func (e *env) sqsWithDLQ(visibility, maxReceiveCount int) (url, arn, dlqURL string) {
	e.t.Helper()
	dlqURL, dlqARN := e.sqsQueue(nil)
	attrs := map[string]string{"VisibilityTimeout": strconv.Itoa(visibility)}
	if maxReceiveCount > 0 {
		attrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlqARN, maxReceiveCount)
	}
	url, arn = e.sqsQueue(attrs)
	return url, arn, dlqURL
}

// receiveCounts lists ApproximateReceiveCount of each delivery of id, in order.
func receiveCounts(f *sqsFunction, id string) []string {
	var out []string
	for _, b := range f.batches() {
		for _, r := range b.event.Records {
			if r.MessageId == id {
				out = append(out, r.Attributes["ApproximateReceiveCount"])
			}
		}
	}
	return out
}

// TestRecordedSQSRetryAfterVisibilityTimeout follows
// test_failing_lambda_retries_after_visibility_timeout (recorded 2025-11-25;
// visibility timeout 5 s there, 2 s here): BatchSize 1, a message whose first
// delivery fails is delivered again (ApproximateReceiveCount 2) no earlier than
// the visibility timeout after the first, succeeds and is deleted: no third
// delivery. Its events carry no md5OfMessageAttributes (window 0).
func TestRecordedSQSRetryAfterVisibilityTimeout(t *testing.T) {
	e := newEnv(t)
	url, arn, _ := e.sqsWithDLQ(2, 0)
	ids := e.send(url, `{"destination": "q", "fail_attempts": 1}`)
	fn := newSQSFunction(t, sqsIntegrationFunction)
	cfg := sqsConfig(url, arn)
	cfg.BatchSize = 1
	drainSQS(t, e.sqsMapping(cfg, fn))
	if diff := cmp.Diff([]string{"1", "2"}, receiveCounts(fn, ids[0])); diff != "" {
		t.Errorf("ApproximateReceiveCount of the deliveries (-want +got):\n%s", diff)
	}
	if b := fn.batches(); len(b) == 2 && b[1].at.Sub(b[0].at) < 2*time.Second {
		t.Errorf("second delivery %v after the first; want at least the 2 s visibility timeout", b[1].at.Sub(b[0].at))
	}
	if diff := cmp.Diff([]string{"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"},
		jsonKeys(t, firstRecord(t, fn.batches()[0].raw))); diff != "" {
		t.Errorf("record keys (-recorded +got):\n%s", diff)
	}
	if visible, inFlight := e.depth(url); visible != "0" || inFlight != "0" {
		t.Errorf("queue holds %s visible, %s in flight; want none", visible, inFlight)
	}
}

// TestRecordedSQSRedrivePolicy follows test_redrive_policy_with_failing_lambda
// (recorded 2025-11-25): maxReceiveCount 2, a message failing every delivery
// is delivered twice (ApproximateReceiveCount 1, 2) and then found in the
// dead-letter queue with its body unchanged.
func TestRecordedSQSRedrivePolicy(t *testing.T) {
	e := newEnv(t)
	url, arn, dlq := e.sqsWithDLQ(1, 2)
	body := `{"destination": "q", "fail_attempts": 2}`
	ids := e.send(url, body)
	fn := newSQSFunction(t, sqsIntegrationFunction)
	cfg := sqsConfig(url, arn)
	cfg.BatchSize = 1
	drainSQS(t, e.sqsMapping(cfg, fn))
	if diff := cmp.Diff([]string{"1", "2"}, receiveCounts(fn, ids[0])); diff != "" {
		t.Errorf("ApproximateReceiveCount of the deliveries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{body}, e.receiveAll(dlq)); diff != "" {
		t.Errorf("dead-letter queue (-want +got):\n%s", diff)
	}
}

// TestRecordedSQSReportBatchItemFailures follows test_report_batch_item_failures
// (recorded 2025-03-03 on a FIFO queue; the emulation has standard queues
// only, which does not change this scenario's outcome): BatchSize 10, window 0,
// ReportBatchItemFailures, maxReceiveCount 2, messages 1–4 failing 0, 1, 1, 2
// times. AWS invoked twice: with messages 1–4, then with 2, 3, 4
// (ApproximateReceiveCount 2); message 4 ends in the dead-letter queue; there
// is no third invocation.
func TestRecordedSQSReportBatchItemFailures(t *testing.T) {
	e := newEnv(t)
	url, arn, dlq := e.sqsWithDLQ(2, 2)
	var bodies []string
	for i, fails := range []int{0, 1, 1, 2} {
		bodies = append(bodies, fmt.Sprintf(`{"message": %d, "fail_attempts": %d}`, i+1, fails))
	}
	ids := e.send(url, bodies...)
	fn := newSQSFunction(t, sqsBatchItemFailureFunction(""))
	cfg := sqsConfig(url, arn)
	cfg.BatchSize = 10
	cfg.FunctionResponseTypes = []string{ReportBatchItemFailures}
	drainSQS(t, e.sqsMapping(cfg, fn))
	var got [][]string
	for _, b := range fn.batches() {
		ids := b.ids()
		slices.Sort(ids)
		got = append(got, ids)
	}
	want := [][]string{slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(ids[1:]))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{bodies[3]}, e.receiveAll(dlq)); diff != "" {
		t.Errorf("dead-letter queue (-want +got):\n%s", diff)
	}
}

// TestRecordedSQSBatchFailsOnFunctionError follows
// test_report_batch_item_failures_on_lambda_error (recorded 2025-11-25):
// ReportBatchItemFailures, maxReceiveCount 2, two messages, one of which makes
// the function raise (its body is not JSON): the whole batch fails each time
// and both messages end in the dead-letter queue.
func TestRecordedSQSBatchFailsOnFunctionError(t *testing.T) {
	e := newEnv(t)
	url, arn, dlq := e.sqsWithDLQ(1, 2)
	bodies := []string{"{not a json body", `{"message": 2, "fail_attempts": 0}`}
	e.send(url, bodies...)
	fn := newSQSFunction(t, sqsIntegrationFunction)
	cfg := sqsConfig(url, arn)
	cfg.FunctionResponseTypes = []string{ReportBatchItemFailures}
	st := drainSQS(t, e.sqsMapping(cfg, fn))
	got := e.receiveAll(dlq)
	slices.Sort(got)
	want := slices.Clone(bodies)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dead-letter queue (-want +got):\n%s", diff)
	}
	if st.DeletedMessages != 0 {
		t.Errorf("DeletedMessages = %d; want 0", st.DeletedMessages)
	}
}

// TestRecordedSQSInvalidResponseFailsBatch follows
// test_report_batch_item_failures_invalid_result_json_batch_fails (recorded
// 2025-11-25): the response {"batchItemFailures": [{"foo":"notvalid"}]} fails
// the whole batch; with maxReceiveCount 2 the message is delivered twice and
// ends in the dead-letter queue.
func TestRecordedSQSInvalidResponseFailsBatch(t *testing.T) {
	e := newEnv(t)
	url, arn, dlq := e.sqsWithDLQ(1, 2)
	body := `{"message": 1, "fail_attempts": 0}`
	ids := e.send(url, body)
	fn := newSQSFunction(t, sqsBatchItemFailureFunction(`{"batchItemFailures": [{"foo":"notvalid"}]}`))
	cfg := sqsConfig(url, arn)
	cfg.FunctionResponseTypes = []string{ReportBatchItemFailures}
	drainSQS(t, e.sqsMapping(cfg, fn))
	if diff := cmp.Diff([]string{"1", "2"}, receiveCounts(fn, ids[0])); diff != "" {
		t.Errorf("ApproximateReceiveCount of the deliveries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{body}, e.receiveAll(dlq)); diff != "" {
		t.Errorf("dead-letter queue (-want +got):\n%s", diff)
	}
}

// TestRecordedSQSEmptyResponseSucceeds follows
// test_report_batch_item_failures_empty_json_batch_succeeds (recorded
// 2025-11-25): the response {} is complete success: one invocation, the
// message deleted, the dead-letter queue (maxReceiveCount 1) empty.
func TestRecordedSQSEmptyResponseSucceeds(t *testing.T) {
	e := newEnv(t)
	url, arn, dlq := e.sqsWithDLQ(1, 1)
	e.send(url, `{"message": 1, "fail_attempts": 0}`)
	fn := newSQSFunction(t, sqsBatchItemFailureFunction("{}"))
	cfg := sqsConfig(url, arn)
	cfg.FunctionResponseTypes = []string{ReportBatchItemFailures}
	st := drainSQS(t, e.sqsMapping(cfg, fn))
	if len(fn.batches()) != 1 || st.DeletedMessages != 1 {
		t.Errorf("%d invocations, %d deleted; want 1 and 1", len(fn.batches()), st.DeletedMessages)
	}
	if got := e.receiveAll(dlq); len(got) != 0 {
		t.Errorf("dead-letter queue holds %q; want nothing", got)
	}
}

// TestRecordedSQSEventShapeWithWindow follows
// TestSQSEventSourceMapping::test_sqs_event_source_mapping (recorded
// 2025-11-25): default BatchSize, MaximumBatchingWindowInSeconds 1, one message {"foo": "bar"} without message attributes: the record's keys
// in AWS's order with "md5OfMessageAttributes": null, the system attributes in
// AWS's order.
func TestRecordedSQSEventShapeWithWindow(t *testing.T) {
	e := newEnv(t)
	url, arn, _ := e.sqsWithDLQ(30, 0)
	e.send(url, `{"foo": "bar"}`)
	fn := newSQSFunction(t, nil)
	cfg := sqsConfig(url, arn)
	cfg.MaximumBatchingWindowInSeconds = 1
	drainSQS(t, e.sqsMapping(cfg, fn))
	if len(fn.batches()) != 1 {
		t.Fatalf("%d invocations; want 1", len(fn.batches()))
	}
	rec := firstRecord(t, fn.batches()[0].raw)
	if diff := cmp.Diff([]string{"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"},
		jsonKeys(t, rec)); diff != "" {
		t.Errorf("record keys (-recorded +got):\n%s", diff)
	}
	var r struct {
		Attributes json.RawMessage
		MD5        *string         `json:"md5OfMessageAttributes"`
		MsgAttrs   json.RawMessage `json:"messageAttributes"`
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	if r.MD5 != nil || string(r.MsgAttrs) != "{}" {
		t.Errorf("md5OfMessageAttributes = %v, messageAttributes = %s; want null and {}", r.MD5, r.MsgAttrs)
	}
	if diff := cmp.Diff([]string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}, jsonKeys(t, r.Attributes)); diff != "" {
		t.Errorf("attributes keys (-recorded +got):\n%s", diff)
	}
}

// TestRecordedSQSMessageAttributes follows
// test_message_body_and_attributes_passed_correctly (recorded 2025-11-25):
// BatchSize 1, window 0, a message with attributes Title and Author (String)
// and WeeksOn (Number): each attribute is {stringValue, stringListValues: [],
// binaryListValues: [], dataType} and md5OfMessageAttributes is SQS's digest,
// d25a6aea97eb8f585bfa92d314504a92 for these three. (AWS listed the
// attributes as WeeksOn, Author, Title, an order of its own; the emulation
// lists them by name, and JSON objects are unordered.)
func TestRecordedSQSMessageAttributes(t *testing.T) {
	e := newEnv(t)
	url, arn, _ := e.sqsWithDLQ(30, 0)
	_, err := e.sqs.SendMessage(e.ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String(`{"destination": "q", "fail_attempts": 0}`),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"Title":   {DataType: aws.String("String"), StringValue: aws.String("The Whistler")},
			"Author":  {DataType: aws.String("String"), StringValue: aws.String("John Grisham")},
			"WeeksOn": {DataType: aws.String("Number"), StringValue: aws.String("6")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fn := newSQSFunction(t, nil)
	cfg := sqsConfig(url, arn)
	cfg.BatchSize = 1
	drainSQS(t, e.sqsMapping(cfg, fn))
	rec := firstRecord(t, fn.batches()[0].raw)
	var r struct {
		MsgAttrs map[string]json.RawMessage `json:"messageAttributes"`
		MD5      *string                    `json:"md5OfMessageAttributes"`
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"WeeksOn": `{"stringValue":"6","stringListValues":[],"binaryListValues":[],"dataType":"Number"}`,
		"Author":  `{"stringValue":"John Grisham","stringListValues":[],"binaryListValues":[],"dataType":"String"}`,
		"Title":   `{"stringValue":"The Whistler","stringListValues":[],"binaryListValues":[],"dataType":"String"}`,
	}
	got := map[string]string{}
	for k, v := range r.MsgAttrs {
		got[k] = string(v)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messageAttributes (-recorded +got):\n%s", diff)
	}
	if r.MD5 == nil || *r.MD5 != "d25a6aea97eb8f585bfa92d314504a92" {
		t.Errorf("md5OfMessageAttributes = %v; want the recorded d25a6aea97eb8f585bfa92d314504a92", r.MD5)
	}
}
