package esm

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

// recordedRun is a replayed Kinesis scenario's outcome.
type recordedRun struct {
	e     *env
	puts  []put
	fn    *fakeFunction
	m     *KinesisMapping
	url   string
	ofr   []OnFailureRecord
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
	if got.RequestContext.Condition != ConditionRetryAttemptsExhausted || got.RequestContext.ApproximateInvokeCount != 4 ||
		got.ResponseContext != (OnFailureResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"}) ||
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
		{"unhandled_exception_in_function", Invocation{FunctionError: "Unhandled", ErrorMessage: "division by zero"}, new(FunctionErrorUnhandled)},
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
			wantCtx := OnFailureResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: tc.fnError}
			if got.RequestContext.Condition != ConditionRetryAttemptsExhausted || got.RequestContext.ApproximateInvokeCount != 3 ||
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
	want := OnFailureResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: new(FunctionErrorUnhandled)}
	if got.RequestContext.Condition != ConditionRetryAttemptsExhausted || got.RequestContext.ApproximateInvokeCount != 2 ||
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
	if got.RequestContext.Condition != ConditionRecordAgeExceeded || got.RequestContext.ApproximateInvokeCount != 1 ||
		got.ResponseContext != (OnFailureResponseContext{}) || got.KinesisBatchInfo.BatchSize != 1 {
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
	if got.RequestContext.Condition != ConditionRecordAgeExceeded || got.RequestContext.ApproximateInvokeCount != n+1 ||
		got.ResponseContext != (OnFailureResponseContext{}) || got.KinesisBatchInfo.BatchSize != 1 {
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
	if got.RequestContext.Condition != ConditionRecordAgeExceeded || got.RequestContext.ApproximateInvokeCount != 1 ||
		got.ResponseContext != (OnFailureResponseContext{}) || got.KinesisBatchInfo.BatchSize != 1 ||
		got.KinesisBatchInfo.StartSequenceNumber != first[0].Seq {
		t.Errorf("on-failure record = %+v; want RecordAgeExceeded, 1, no responseContext, the first record alone", got)
	}
}
