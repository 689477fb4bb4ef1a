package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/onfailure"
)

// TestConformanceBatchItemFailuresVariants: every shape of a partial batch
// response, with ReportBatchItemFailures on (and off), and how the next
// invocation looks [S2].
func TestConformanceBatchItemFailuresVariants(t *testing.T) {
	type variant struct {
		name     string
		report   bool
		response func(seqs []string) string // the first invocation's response
		// wantSecond is the index of the first record of the retry, -1 if the
		// first invocation must be a complete success.
		wantSecond int
	}
	item := func(id string) string { return fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, id) }
	fixed := func(body string) func([]string) string { return func([]string) string { return body } }
	variants := []variant{
		{"null response", true, fixed("null"), -1},
		{"empty body", true, fixed(""), -1},
		{"empty object", true, fixed("{}"), -1},
		{"null list", true, fixed(`{"batchItemFailures":null}`), -1},
		{"empty list", true, fixed(`{"batchItemFailures":[]}`), -1},
		{"empty identifier", true, fixed(item("")), 0},
		{"null identifier", true, fixed(`{"batchItemFailures":[{"itemIdentifier":null}]}`), 0},
		{"wrong key", true, func(s []string) string { return fmt.Sprintf(`{"batchItemFailures":[{"itemId":%q}]}`, s[2]) }, 0},
		{"unknown sequence number", true, fixed(item("99999999")), 0},
		{"malformed JSON", true, fixed(`{"batchItemFailures":[{"itemIdentifier":`), 0},
		{"not an object", true, fixed(`"done"`), 0},
		// Recorded from AWS (LocalStack test_lambda_integration_kinesis.snapshot.json,
		// TestKinesisSource::test_kinesis_report_batch_item_success_scenarios
		// [empty_string_success], [empty_list_success]): complete success.
		{"empty JSON string (recorded)", true, fixed(`""`), -1},
		{"empty JSON list (recorded)", true, fixed(`[]`), -1},
		{"non-empty list", true, fixed(`[1]`), 0},
		{"partial", true, func(s []string) string { return item(s[2]) }, 2},
		{"lowest of several", true, func(s []string) string {
			return fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q},{"itemIdentifier":%q}]}`, s[3], s[1])
		}, 1},
		{"first record", true, func(s []string) string { return item(s[0]) }, 0},
		{"ignored without ReportBatchItemFailures", false, func(s []string) string { return item(s[1]) }, -1},
		{"malformed ignored without ReportBatchItemFailures", false, fixed("{"), -1},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			e := newEnv(t)
			arn, _ := e.stream(1)
			puts := e.putAll(arn, records(4, 4, "bif"))
			all := seqsOf(puts)
			fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
				if call == 0 {
					return respondJSON(v.response(b.seqs())), nil
				}
				return respondJSON(`{"batchItemFailures":[]}`), nil
			})
			cfg := baseConfig(arn)
			if v.report {
				cfg.FunctionResponseTypes = []string{ReportBatchItemFailures}
			}
			m := e.mapping(cfg, fn)
			drain(t, m)
			want := [][]string{all}
			if v.wantSecond >= 0 {
				want = append(want, all[v.wantSecond:])
			}
			if diff := cmp.Diff(want, fn.batchSeqs()); diff != "" {
				t.Errorf("invocations (-want +got):\n%s", diff)
			}
			st := m.Stats()
			checkAccounting(t, st)
			if st.DroppedRecords != 0 {
				t.Errorf("dropped %d records; want 0", st.DroppedRecords)
			}
		})
	}
}

// TestConformancePartialFailureRedelivery: after a partial batch response the
// records before the reported one are checkpointed and never redelivered; the
// reported record and every record after it are [S2].
func TestConformancePartialFailureRedelivery(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	puts := e.putAll(arn, records(6, 2, "partial"))
	all := seqsOf(puts)
	var m *KinesisMapping
	var checkpointAtRetry atomic.Value
	fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		switch call {
		case 0:
			return respondJSON(fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, all[3])), nil
		case 1:
			checkpointAtRetry.Store(m.Stats().Shards[0].Checkpoint)
		}
		return respondJSON(`{"batchItemFailures":[]}`), nil
	})
	cfg := baseConfig(arn)
	cfg.FunctionResponseTypes = []string{ReportBatchItemFailures}
	m = e.mapping(cfg, fn)
	drain(t, m)
	if diff := cmp.Diff([][]string{all, all[3:]}, fn.batchSeqs()); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	if got := checkpointAtRetry.Load(); got != all[2] {
		t.Errorf("checkpoint during the retry = %v; want %s, just before the reported record", got, all[2])
	}
	st := m.Stats()
	if st.PartialFailures != 1 || st.Retries != 1 || st.SucceededRecords != 6 {
		t.Errorf("Stats() = %+v; want 1 partial failure, 1 retry, 6 succeeded", st)
	}
	checkAccounting(t, st)
}

// TestConformancePartialFailureExhaustsRetries: after a partial batch response
// the remaining records are a new batch whose attempts count from there; a
// partial failure at its first record consumes MaximumRetryAttempts; the
// on-failure record covers only the remaining records, with a null
// functionError and statusCode 200 [S2, S3]. The counting follows AWS's
// recording (LocalStack test_lambda_integration_kinesis.snapshot.json,
// TestKinesisSource::test_kinesis_report_batch_item_failures).
func TestConformancePartialFailureExhaustsRetries(t *testing.T) {
	for _, bisect := range []bool{false, true} {
		t.Run(fmt.Sprintf("bisect=%v", bisect), func(t *testing.T) {
			e := newEnv(t)
			arn, _ := e.stream(1)
			url, qarn := e.queue()
			puts := e.putAll(arn, records(5, 1, "partial-exhaust"))
			all := seqsOf(puts)
			fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
				return respondJSON(fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, all[2])), nil
			})
			cfg := withQueue(baseConfig(arn), url, qarn)
			cfg.FunctionResponseTypes = []string{ReportBatchItemFailures}
			cfg.MaximumRetryAttempts = new(2)
			cfg.BisectBatchOnFunctionError = bisect
			m := e.mapping(cfg, fn)
			drain(t, m)

			// all once, then all[2:] as a new batch: 1 + 2 retries.
			if diff := cmp.Diff([][]string{all, all[2:], all[2:], all[2:]}, fn.batchSeqs()); diff != "" {
				t.Errorf("invocations (-want +got):\n%s", diff)
			}
			ofr := e.onFailureRecords(url)
			if len(ofr) != 1 {
				t.Fatalf("got %d on-failure records; want 1", len(ofr))
			}
			r := ofr[0]
			if r.RequestContext.Condition != onfailure.ConditionRetryAttemptsExhausted || r.RequestContext.ApproximateInvokeCount != 3 ||
				r.ResponseContext.StatusCode != 200 || r.ResponseContext.FunctionError != nil {
				t.Errorf("on-failure record = %+v; want RetryAttemptsExhausted, 3 invocations, status 200, null functionError", r)
			}
			info := r.KinesisBatchInfo
			if got := e.readRange(arn, info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber); !cmp.Equal(got, all[2:]) {
				t.Errorf("on-failure range re-reads %v; want %v", got, all[2:])
			}
			if info.BatchSize != 3 {
				t.Errorf("batchSize = %d; want 3", info.BatchSize)
			}
			checkAccounting(t, m.Stats())
		})
	}
}

// TestConformanceRetriesExhausted: a failing batch is invoked 1 +
// MaximumRetryAttempts times, then one on-failure record is sent whose sequence
// range re-reads exactly the discarded records, the checkpoint moves past them
// and processing continues [S1, S3].
func TestConformanceRetriesExhausted(t *testing.T) {
	for _, retries := range []int{0, 2} {
		t.Run(fmt.Sprintf("MaximumRetryAttempts=%d", retries), func(t *testing.T) {
			e := newEnv(t)
			arn, shards := e.stream(1)
			url, qarn := e.queue()
			bad := e.putAll(arn, records(5, 2, "bad"))
			good := e.putAll(arn, records(3, 2, "good"))
			fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
				if b.contains(hasData(`"tag":"bad"`)) {
					return fail("cannot process"), nil
				}
				return respondJSON("null"), nil
			})
			cfg := withQueue(baseConfig(arn), url, qarn)
			cfg.BatchSize = 5
			cfg.MaximumRetryAttempts = new(retries)
			m := e.mapping(cfg, fn)
			drain(t, m)

			var want [][]string
			for i := 0; i <= retries; i++ {
				want = append(want, seqsOf(bad))
			}
			want = append(want, seqsOf(good))
			if diff := cmp.Diff(want, fn.batchSeqs()); diff != "" {
				t.Errorf("invocations (-want +got):\n%s", diff)
			}
			ofr := e.onFailureRecords(url)
			if len(ofr) != 1 {
				t.Fatalf("got %d on-failure records; want 1", len(ofr))
			}
			r := ofr[0]
			wantRC := onfailure.RequestContext{RequestID: r.RequestContext.RequestID, FunctionARN: testFunctionARN,
				Condition: onfailure.ConditionRetryAttemptsExhausted, ApproximateInvokeCount: retries + 1}
			if diff := cmp.Diff(wantRC, r.RequestContext); diff != "" {
				t.Errorf("requestContext (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: new("Unhandled")}, r.ResponseContext); diff != "" {
				t.Errorf("responseContext (-want +got):\n%s", diff)
			}
			info := r.KinesisBatchInfo
			if info.ShardID != shards[0] || info.StreamARN != arn || info.BatchSize != 5 ||
				info.StartSequenceNumber != bad[0].Seq || info.EndSequenceNumber != bad[4].Seq {
				t.Errorf("KinesisBatchInfo = %+v; want shard %s, stream %s, records %s..%s", info, shards[0], arn, bad[0].Seq, bad[4].Seq)
			}
			if got := e.readRange(arn, info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber); !cmp.Equal(got, seqsOf(bad)) {
				t.Errorf("on-failure range re-reads %v; want exactly the discarded records %v", got, seqsOf(bad))
			}
			st := m.Stats()
			if st.DroppedRetries != 5 || st.OnFailureMessages != 1 || st.OnFailureRecords != 5 || st.Retries != int64(retries) ||
				st.FunctionErrors != int64(retries+1) {
				t.Errorf("Stats() = %+v; want 5 dropped for retries, 1 message, %d retries", st, retries)
			}
			if got := st.Shards[0].Checkpoint; got != good[2].Seq {
				t.Errorf("checkpoint = %s; want %s", got, good[2].Seq)
			}
			checkAccounting(t, st)
		})
	}
}

// TestConformanceBisectIsolatesPoisonRecord: with BisectBatchOnFunctionError a
// failing batch is split (first ⌈N/2⌉ records first; splits consume no retries)
// until the poison record is alone; only it is dead-lettered and its on-failure
// range re-reads exactly that record [S1, S3].
func TestConformanceBisectIsolatesPoisonRecord(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	url, qarn := e.queue()
	recs := records(8, 3, "bisect")
	recs[4].Data = `{"poison":true}`
	puts := e.putAll(arn, recs)
	all := seqsOf(puts)
	fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		if b.contains(hasData("poison")) {
			return Invocation{FunctionError: "Runtime.ExitError", ErrorMessage: "exit status 2"}, nil
		}
		return respondJSON("null"), nil
	})
	cfg := withQueue(baseConfig(arn), url, qarn)
	cfg.BisectBatchOnFunctionError = true
	cfg.MaximumRetryAttempts = new(1)
	m := e.mapping(cfg, fn)
	drain(t, m)

	want := [][]string{
		all,      // 1-8 fails
		all[:4],  // first half succeeds
		all[4:],  // 5-8 fails
		all[4:6], // 5-6 fails
		all[4:5], // 5 fails
		all[4:5], // 5 retried once (MaximumRetryAttempts 1), fails: discarded
		all[5:6], // 6 succeeds
		all[6:],  // 7-8 succeed
	}
	if diff := cmp.Diff(want, fn.batchSeqs()); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	ofr := e.onFailureRecords(url)
	if len(ofr) != 1 {
		t.Fatalf("got %d on-failure records; want 1", len(ofr))
	}
	r := ofr[0]
	if r.RequestContext.ApproximateInvokeCount != 2 || r.RequestContext.Condition != onfailure.ConditionRetryAttemptsExhausted ||
		r.ResponseContext.FunctionError == nil || *r.ResponseContext.FunctionError != "Unhandled" {
		t.Errorf("on-failure record = %+v; want 2 invocations of the isolated record, Unhandled", r)
	}
	info := r.KinesisBatchInfo
	if got := e.readRange(arn, info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber); !cmp.Equal(got, []string{all[4]}) {
		t.Errorf("on-failure range re-reads %v; want only the poison record %s", got, all[4])
	}
	st := m.Stats()
	if st.Bisects != 3 || st.Retries != 1 || st.DroppedRecords != 1 || st.SucceededRecords != 7 {
		t.Errorf("Stats() = %+v; want 3 bisects, 1 retry, 1 dropped, 7 succeeded", st)
	}
	checkAccounting(t, st)
}

// TestConformanceBisectOnOddBatch: the first half of an odd batch is the larger
// one (project decision), and a response failure is not bisected.
func TestConformanceBisectOnOddBatch(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	puts := e.putAll(arn, records(5, 5, "odd"))
	all := seqsOf(puts)
	fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		switch call {
		case 0:
			return fail("boom"), nil
		case 1:
			return respondJSON(`{"batchItemFailures":[{"itemIdentifier":""}]}`), nil // whole (sub)batch failed, not a function error
		}
		return respondJSON("null"), nil
	})
	cfg := baseConfig(arn)
	cfg.BisectBatchOnFunctionError = true
	cfg.FunctionResponseTypes = []string{ReportBatchItemFailures}
	m := e.mapping(cfg, fn)
	drain(t, m)
	want := [][]string{all, all[:3], all[:3], all[3:]}
	if diff := cmp.Diff(want, fn.batchSeqs()); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	if st := m.Stats(); st.Bisects != 1 || st.InvalidResponses != 1 {
		t.Errorf("Stats() = %+v; want 1 bisect and 1 invalid response", st)
	}
}

// TestConformanceRecordAge: records older than MaximumRecordAgeInSeconds are
// discarded with condition RecordAgeExceeded, before any invocation
// (approximateInvokeCount 1) or while retrying (invocations + 1), with no
// responseContext [S1, S3], as AWS records it (LocalStack
// test_lambda_integration_kinesis.snapshot.json,
// TestKinesisSource::test_kinesis_maximum_record_age_exceeded[expire-before-ingestion],
// [expire-while-retrying]).
func TestConformanceRecordAge(t *testing.T) {
	t.Run("never invoked", func(t *testing.T) {
		e := newEnv(t)
		arn, _ := e.stream(1)
		url, qarn := e.queue()
		puts := e.putAll(arn, records(4, 2, "old"))
		cfg := withQueue(baseConfig(arn), url, qarn)
		cfg.MaximumRecordAgeInSeconds = new(60)
		cfg.Clock = func() time.Time { return time.Now().Add(2 * time.Minute) }
		fn := newFake(t, nil)
		m := e.mapping(cfg, fn)
		drain(t, m)
		if n := len(fn.batches()); n != 0 {
			t.Errorf("function invoked %d times; want 0 for expired records", n)
		}
		ofr := e.onFailureRecords(url)
		if len(ofr) != 1 {
			t.Fatalf("got %d on-failure records; want 1", len(ofr))
		}
		r := ofr[0]
		if r.RequestContext.Condition != "RecordAgeExceeded" || r.RequestContext.ApproximateInvokeCount != 1 ||
			r.ResponseContext != (onfailure.ResponseContext{}) || r.KinesisBatchInfo.BatchSize != 4 ||
			r.KinesisBatchInfo.StartSequenceNumber != puts[0].Seq || r.KinesisBatchInfo.EndSequenceNumber != puts[3].Seq {
			t.Errorf("on-failure record = %+v; want RecordAgeExceeded, approximateInvokeCount 1, no responseContext, the 4 records", r)
		}
		st := m.Stats()
		if st.DroppedRecordAge != 4 {
			t.Errorf("DroppedRecordAge = %d; want 4", st.DroppedRecordAge)
		}
		checkAccounting(t, st)
	})
	t.Run("while retrying", func(t *testing.T) {
		e := newEnv(t)
		arn, _ := e.stream(1)
		url, qarn := e.queue()
		puts := e.putAll(arn, records(3, 1, "aging"))
		var offset atomic.Int64
		fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
			if call == 2 {
				offset.Store(int64(5 * time.Minute)) // the records age while the batch keeps failing
			}
			return Invocation{FunctionError: "Sandbox.Timedout", ErrorMessage: "Task timed out"}, nil
		})
		cfg := withQueue(baseConfig(arn), url, qarn)
		cfg.MaximumRecordAgeInSeconds = new(60) // retries are infinite by default
		cfg.Clock = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		m := e.mapping(cfg, fn)
		drain(t, m)
		if n := len(fn.batches()); n != 3 {
			t.Errorf("function invoked %d times; want 3 before the records expired", n)
		}
		ofr := e.onFailureRecords(url)
		if len(ofr) != 1 {
			t.Fatalf("got %d on-failure records; want 1", len(ofr))
		}
		r := ofr[0]
		if r.RequestContext.Condition != "RecordAgeExceeded" || r.RequestContext.ApproximateInvokeCount != 4 ||
			r.ResponseContext != (onfailure.ResponseContext{}) ||
			r.KinesisBatchInfo.StartSequenceNumber != puts[0].Seq || r.KinesisBatchInfo.EndSequenceNumber != puts[2].Seq {
			t.Errorf("on-failure record = %+v; want RecordAgeExceeded at attempt 4 (3 invocations), no responseContext", r)
		}
	})
}

// flakyInvoker fails the first n calls with a host error, then delegates.
type flakyInvoker struct {
	Invoker
	failures atomic.Int64
}

func (f *flakyInvoker) Invoke(ctx context.Context, payload []byte) (Invocation, error) {
	if f.failures.Add(-1) >= 0 {
		return Invocation{}, errors.New("runtime host unavailable")
	}
	return f.Invoker.Invoke(ctx, payload)
}

// TestConformanceHostErrorsDoNotConsumeRetries: errors before the function runs
// are retried without counting against MaximumRetryAttempts [S3].
func TestConformanceHostErrorsDoNotConsumeRetries(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	puts := e.putAll(arn, records(3, 1, "host"))
	fn := newFake(t, nil)
	inv := &flakyInvoker{Invoker: fn}
	inv.failures.Store(3)
	cfg := baseConfig(arn)
	cfg.MaximumRetryAttempts = new(0)
	m := e.mapping(cfg, inv)
	drain(t, m)
	if diff := cmp.Diff([][]string{seqsOf(puts)}, fn.batchSeqs()); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	st := m.Stats()
	if st.InvokeErrors != 3 || st.Retries != 0 || st.DroppedRecords != 0 {
		t.Errorf("Stats() = %+v; want 3 host errors, 0 retries, 0 dropped", st)
	}

	// Host errors before a function error leave the batch its retries: with
	// MaximumRetryAttempts 1, a function error after 3 host errors is retried
	// once, and the retry succeeds.
	arn2, _ := e.stream(1)
	puts2 := e.putAll(arn2, records(3, 1, "host-then-error"))
	fn2 := newFake(t, func(call int, _ invokedBatch) (Invocation, error) {
		if call == 0 {
			return fail("boom"), nil
		}
		return Invocation{}, nil
	})
	inv2 := &flakyInvoker{Invoker: fn2}
	inv2.failures.Store(3)
	cfg2 := baseConfig(arn2)
	cfg2.MaximumRetryAttempts = new(1)
	m2 := e.mapping(cfg2, inv2)
	drain(t, m2)
	if diff := cmp.Diff([][]string{seqsOf(puts2), seqsOf(puts2)}, fn2.batchSeqs()); diff != "" {
		t.Errorf("after host errors and a function error: invocations (-want +got):\n%s", diff)
	}
	if st := m2.Stats(); st.InvokeErrors != 3 || st.Retries != 1 || st.DroppedRecords != 0 {
		t.Errorf("after host errors and a function error: Stats() = %+v; want 3 host errors, 1 retry, 0 dropped", st)
	}
}

// failingSQS fails the first n SendMessage calls, recording the shard's
// checkpoint at each failure.
type failingSQS struct {
	SQSAPI
	failures    atomic.Int64
	m           atomic.Pointer[KinesisMapping]
	checkpoints []string
}

func (f *failingSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if f.failures.Add(-1) >= 0 {
		f.checkpoints = append(f.checkpoints, f.m.Load().Stats().Shards[0].Checkpoint)
		return nil, errors.New("queue unavailable")
	}
	return f.SQSAPI.SendMessage(ctx, in, opts...)
}

// TestConformanceOnFailureSendIsRetried: a failed SendMessage is retried and the
// checkpoint does not move past the discarded records until it succeeds: nothing
// is lost [S3].
func TestConformanceOnFailureSendIsRetried(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	url, qarn := e.queue()
	first := e.putAll(arn, records(1, 1, "ok"))
	bad := e.putAll(arn, records(2, 1, "bad"))
	fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		if b.contains(hasData(`"tag":"bad"`)) {
			return fail("bad"), nil
		}
		return respondJSON("null"), nil
	})
	sq := &failingSQS{SQSAPI: e.sqs}
	sq.failures.Store(3)
	cfg := withQueue(baseConfig(arn), url, qarn)
	cfg.MaximumRetryAttempts = new(0)
	cfg.BatchSize = 1
	m, err := New(cfg, e.kin, sq, fn)
	if err != nil {
		t.Fatal(err)
	}
	sq.m.Store(m)
	drain(t, m)
	if diff := cmp.Diff([]string{first[0].Seq, first[0].Seq, first[0].Seq}, sq.checkpoints); diff != "" {
		t.Errorf("checkpoints while SendMessage failed (-want +got):\n%s", diff)
	}
	ofr := e.onFailureRecords(url)
	if len(ofr) != 2 {
		t.Fatalf("got %d on-failure records; want 2 (one per 1-record batch)", len(ofr))
	}
	st := m.Stats()
	if st.OnFailureSendErrors != 3 || st.OnFailureMessages != 2 {
		t.Errorf("Stats() = %+v; want 3 send errors, 2 messages", st)
	}
	if got := st.Shards[0].Checkpoint; got != bad[1].Seq {
		t.Errorf("checkpoint = %s; want %s", got, bad[1].Seq)
	}
}

// TestConformanceNoDestination: without an on-failure destination discarded
// records are counted and reported through OnDiscard, and processing continues.
func TestConformanceNoDestination(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	bad := e.putAll(arn, records(2, 1, "bad"))
	good := e.putAll(arn, records(2, 1, "good"))
	fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		if b.contains(hasData(`"tag":"bad"`)) {
			return fail("bad"), nil
		}
		return respondJSON("null"), nil
	})
	var discards []Discard
	cfg := baseConfig(arn)
	cfg.BatchSize = 2
	cfg.MaximumRetryAttempts = new(0)
	cfg.OnDiscard = func(d Discard) { discards = append(discards, d) } // one lane: no concurrency
	m := e.mapping(cfg, fn)
	drain(t, m)
	if len(discards) != 1 || discards[0].Sent || !cmp.Equal(discards[0].SequenceNumbers, seqsOf(bad)) {
		t.Errorf("OnDiscard calls = %+v; want one, not sent, for %v", discards, seqsOf(bad))
	}
	if got := m.Stats().Shards[0].Checkpoint; got != good[1].Seq {
		t.Errorf("checkpoint = %s; want %s", got, good[1].Seq)
	}
}

// TestConformanceInfiniteRetries: MaximumRetryAttempts -1 (and 10000, the old
// rendering of infinity) retries a failing batch until it succeeds [S1, S9].
func TestConformanceInfiniteRetries(t *testing.T) {
	for _, retries := range []*int{nil, new(-1), new(10000)} {
		name := "default"
		if retries != nil {
			name = fmt.Sprint(*retries)
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			arn, _ := e.stream(1)
			puts := e.putAll(arn, records(2, 1, "retry"))
			fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
				if call < 12 {
					return fail("not yet"), nil
				}
				return respondJSON("null"), nil
			})
			cfg := baseConfig(arn)
			cfg.MaximumRetryAttempts = retries
			m := e.mapping(cfg, fn)
			drain(t, m)
			if n := len(fn.batches()); n != 13 {
				t.Errorf("invocations = %d; want 13 (12 failures, then success)", n)
			}
			st := m.Stats()
			if st.Retries != 12 || st.DroppedRecords != 0 || st.SucceededRecords != int64(len(puts)) {
				t.Errorf("Stats() = %+v; want 12 retries, nothing dropped", st)
			}
		})
	}
}

// TestConformanceOnFailureRecordFields: the on-failure record carries every
// field with AWS's types and the values of the discarded records: arrival times
// of the first and last record, the last invocation's request id [S3].
func TestConformanceOnFailureRecordFields(t *testing.T) {
	e := newEnv(t)
	arn, shards := e.stream(1)
	url, qarn := e.queue()
	puts := e.putAll(arn, records(3, 1, "fields"))
	const requestID = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
	fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		inv := fail("boom")
		inv.RequestID = requestID
		return inv, nil
	})
	cfg := withQueue(baseConfig(arn), url, qarn)
	cfg.MaximumRetryAttempts = new(0)
	before := time.Now()
	m := e.mapping(cfg, fn)
	drain(t, m)

	bodies := e.receiveAll(url)
	if len(bodies) != 1 {
		t.Fatalf("got %d on-failure messages; want 1", len(bodies))
	}
	checkOnFailureShape(t, bodies[0])
	var r onfailure.Record
	if err := json.Unmarshal([]byte(bodies[0]), &r); err != nil {
		t.Fatal(err)
	}
	// The arrival times are those of the records, as GetRecords reports them.
	out, err := e.kin.GetShardIterator(e.ctx, &kinesis.GetShardIteratorInput{StreamARN: aws.String(arn), ShardId: aws.String(shards[0]), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.kin.GetRecords(e.ctx, &kinesis.GetRecordsInput{ShardIterator: out.ShardIterator, StreamARN: aws.String(arn)})
	if err != nil || len(got.Records) != 3 {
		t.Fatalf("GetRecords = %d records, %v; want 3", len(got.Records), err)
	}
	want := onfailure.Record{
		RequestContext:  onfailure.RequestContext{RequestID: requestID, FunctionARN: testFunctionARN, Condition: "RetryAttemptsExhausted", ApproximateInvokeCount: 1},
		ResponseContext: onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: new("Unhandled")},
		Version:         "1.0",
		Timestamp:       r.Timestamp,
		KinesisBatchInfo: onfailure.KinesisBatchInfo{
			ShardID:                         shards[0],
			StartSequenceNumber:             puts[0].Seq,
			EndSequenceNumber:               puts[2].Seq,
			ApproximateArrivalOfFirstRecord: onfailure.Time(got.Records[0].ApproximateArrivalTimestamp.Truncate(time.Millisecond)),
			ApproximateArrivalOfLastRecord:  onfailure.Time(got.Records[2].ApproximateArrivalTimestamp.Truncate(time.Millisecond)),
			BatchSize:                       3,
			StreamARN:                       arn,
		},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("on-failure record (-want +got):\n%s", diff)
	}
	ts, err := time.Parse(time.RFC3339Nano, r.Timestamp)
	if err != nil || ts.Before(before.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("timestamp = %s (%v); want the time of the discard", r.Timestamp, err)
	}
}
