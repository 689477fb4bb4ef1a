package esm

// Conformance tests that run the real function binary testdata/failfn (an
// aws-lambda-go Kinesis function) behind lambdahost's Runtime API, instead of a
// Go fake: function errors, crashes (Runtime.ExitError), timeouts
// (Sandbox.Timedout) and partial batch responses all come from a real process.
// What the function received is read back from the log file it appends one JSON
// line to per invocation.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/onfailure"
)

// The failfn binary is built once per test binary, on first use, into a
// temporary directory that TestMain removes.
var (
	failfnOnce sync.Once
	failfnDir  string
	failfnPath string
	failfnErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if failfnDir != "" {
		os.RemoveAll(failfnDir)
	}
	os.Exit(code)
}

// failfnBinary returns the path of the built testdata/failfn bootstrap.
func failfnBinary(t *testing.T) string {
	t.Helper()
	failfnOnce.Do(func() {
		failfnDir, failfnErr = os.MkdirTemp("", "esm-failfn-")
		if failfnErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		failfnPath, failfnErr = lambdahost.Build(ctx, filepath.Join("testdata", "failfn"), filepath.Join(failfnDir, "task"))
	})
	if failfnErr != nil {
		t.Fatalf("build testdata/failfn: %v", failfnErr)
	}
	return failfnPath
}

// lambdaFunction is what lambdaInvoker needs of a lambdahost Host or Pool.
type lambdaFunction interface {
	Invoke(ctx context.Context, payload []byte) (lambdahost.Result, error)
}

// lambdaInvoker adapts a lambdahost Host or Pool to Invoker: a function error
// (returned error, crash, timeout) becomes Invocation.FunctionError with a nil
// error, a host error stays an error (retried by the mapping without consuming
// a retry). It records the function error types it saw. It is safe for
// concurrent use.
type lambdaInvoker struct {
	fn lambdaFunction

	mu         sync.Mutex
	errorTypes []string
}

func (l *lambdaInvoker) Invoke(ctx context.Context, payload []byte) (Invocation, error) {
	res, err := l.fn.Invoke(ctx, payload)
	if err != nil {
		return Invocation{}, fmt.Errorf("invoke failfn: %w", err)
	}
	inv := Invocation{Payload: res.Payload, RequestID: res.RequestID}
	if res.Err != nil {
		inv.FunctionError, inv.ErrorMessage = res.Err.Type, res.Err.Message
		l.mu.Lock()
		l.errorTypes = append(l.errorTypes, res.Err.Type)
		l.mu.Unlock()
	}
	return inv, nil
}

// functionErrorTypes returns the function error types seen, in order.
func (l *lambdaInvoker) functionErrorTypes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errorTypes)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// failfn is one deployment of testdata/failfn for a test.
type failfn struct {
	t      *testing.T
	log    string // FAILFN_LOG
	inv    *lambdaInvoker
	output *syncBuffer
}

// failfnOptions configures newFailfn.
type failfnOptions struct {
	envs    int           // execution environments: 1 is a Host, more a Pool
	timeout time.Duration // function timeout; 0 means 3 s
	sleep   time.Duration // FAILFN_SLEEP_MS
}

// newFailfn starts (lazily) the real function with its own log and state
// directory; it is closed when the test ends.
func newFailfn(t *testing.T, o failfnOptions) *failfn {
	t.Helper()
	dir := t.TempDir()
	f := &failfn{t: t, log: filepath.Join(dir, "invocations.jsonl"), output: &syncBuffer{}}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := lambdahost.Config{
		Binary:       failfnBinary(t),
		FunctionName: "failfn",
		Timeout:      o.timeout,
		Env:          map[string]string{"FAILFN_LOG": f.log, "FAILFN_STATE_DIR": state},
		Stdout:       f.output,
		Stderr:       f.output,
	}
	if o.sleep > 0 {
		cfg.Env["FAILFN_SLEEP_MS"] = fmt.Sprint(o.sleep.Milliseconds())
	}
	var fn interface {
		lambdaFunction
		Close() error
	}
	if o.envs > 1 {
		fn = lambdahost.NewPool(cfg, o.envs)
	} else {
		fn = lambdahost.New(cfg)
	}
	f.inv = &lambdaInvoker{fn: fn}
	t.Cleanup(func() {
		fn.Close()
		if t.Failed() {
			out := f.output.String()
			t.Logf("failfn output (last 4 KB):\n%s", out[max(0, len(out)-4096):])
		}
	})
	return f
}

// fnRecord and fnInvocation mirror the log lines of testdata/failfn.
type fnRecord struct {
	Seq          string `json:"seq"`
	PartitionKey string `json:"partitionKey"`
	Key          string `json:"key"`
	N            int    `json:"n"`
	Cmd          string `json:"cmd"`
}

type fnInvocation struct {
	PID       int        `json:"pid"`
	RequestID string     `json:"requestId"`
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
	Records   []fnRecord `json:"records"`
	Outcome   string     `json:"outcome"`
	Failures  []string   `json:"failures"`
}

func (b fnInvocation) seqs() []string {
	s := make([]string, len(b.Records))
	for i, r := range b.Records {
		s[i] = r.Seq
	}
	return s
}

// invocations reads the function's log: one entry per invocation, in the order
// they were logged.
func (f *failfn) invocations() []fnInvocation {
	f.t.Helper()
	data, err := os.ReadFile(f.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		f.t.Fatalf("read failfn log: %v", err)
	}
	var out []fnInvocation
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var b fnInvocation
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			f.t.Fatalf("failfn log line %q: %v", sc.Text(), err)
		}
		out = append(out, b)
	}
	if err := sc.Err(); err != nil {
		f.t.Fatalf("read failfn log: %v", err)
	}
	return out
}

// batchSeqs lists the sequence numbers of each logged invocation.
func (f *failfn) batchSeqs() [][]string {
	var out [][]string
	for _, b := range f.invocations() {
		out = append(out, b.seqs())
	}
	return out
}

// outcomes lists the outcome of each logged invocation.
func (f *failfn) outcomes() []string {
	var out []string
	for _, b := range f.invocations() {
		out = append(out, b.Outcome)
	}
	return out
}

// cmdRecords makes n records with keys k0…k(keys-1) whose data is a failfn
// command: "ok", or cmds[i] for record i.
func cmdRecords(n, keys int, cmds map[int]string) []put {
	recs := make([]put, n)
	for i := range recs {
		k := fmt.Sprintf("k%d", i%keys)
		cmd := "ok"
		if c, ok := cmds[i]; ok {
			cmd = c
		}
		recs[i] = put{Key: k, Data: fmt.Sprintf(`{"key":%q,"n":%d,"cmd":%q}`, k, i, cmd)}
	}
	return recs
}

// arrivals returns the approximateArrivalTimestamp of every record of a shard,
// by sequence number, as GetRecords reports it.
func (e *env) arrivals(arn, shard string) map[string]time.Time {
	e.t.Helper()
	it, err := e.kin.GetShardIterator(e.ctx, &kinesis.GetShardIteratorInput{
		StreamARN: aws.String(arn), ShardId: aws.String(shard), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		e.t.Fatalf("get shard iterator: %v", err)
	}
	out := map[string]time.Time{}
	for iter := it.ShardIterator; iter != nil; {
		res, err := e.kin.GetRecords(e.ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: aws.String(arn)})
		if err != nil {
			e.t.Fatalf("get records: %v", err)
		}
		if len(res.Records) == 0 {
			break
		}
		for _, r := range res.Records {
			out[aws.ToString(r.SequenceNumber)] = aws.ToTime(r.ApproximateArrivalTimestamp)
		}
		iter = res.NextShardIterator
	}
	return out
}

// TestBinaryBisectIsolatesPoisonRecord: a record whose invocation returns an
// error is isolated by bisecting (first ⌈N/2⌉ records first, splits consume no
// retries); only it is dead-lettered, after 1 + MaximumRetryAttempts
// invocations alone, and the on-failure record's range re-reads exactly it
// [S1, S3].
func TestBinaryBisectIsolatesPoisonRecord(t *testing.T) {
	e := newEnv(t)
	arn, shards := e.stream(1)
	url, qarn := e.queue()
	all := seqsOf(e.putAll(arn, cmdRecords(8, 3, map[int]string{4: "error"})))
	fn := newFailfn(t, failfnOptions{})
	cfg := withQueue(baseConfig(arn), url, qarn)
	cfg.BisectBatchOnFunctionError = true
	cfg.MaximumRetryAttempts = new(1)
	m := e.mapping(cfg, fn.inv)
	drain(t, m)

	wantSeqs := [][]string{
		all,      // 1-8 fail
		all[:4],  // first half succeeds
		all[4:],  // 5-8 fail
		all[4:6], // 5-6 fail
		all[4:5], // 5 fails
		all[4:5], // 5 retried once, fails: discarded
		all[5:6], // 6 succeeds
		all[6:],  // 7-8 succeed
	}
	if diff := cmp.Diff(wantSeqs, fn.batchSeqs()); diff != "" {
		t.Errorf("batches the function received (-want +got):\n%s", diff)
	}
	wantOutcomes := []string{"error", "ok", "error", "error", "error", "error", "ok", "ok"}
	if diff := cmp.Diff(wantOutcomes, fn.outcomes()); diff != "" {
		t.Errorf("invocation outcomes (-want +got):\n%s", diff)
	}
	for _, typ := range fn.inv.functionErrorTypes() {
		if typ != "errorString" {
			t.Errorf("function error type %q; want errorString (a returned error)", typ)
		}
	}

	ofr := e.onFailureRecords(url)
	if len(ofr) != 1 {
		t.Fatalf("got %d on-failure records; want 1", len(ofr))
	}
	r := ofr[0]
	invs := fn.invocations()
	wantRC := onfailure.RequestContext{RequestID: invs[5].RequestID, FunctionARN: testFunctionARN,
		Condition: onfailure.ConditionRetryAttemptsExhausted, ApproximateInvokeCount: 2}
	if diff := cmp.Diff(wantRC, r.RequestContext); diff != "" {
		t.Errorf("requestContext (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: new(onfailure.FunctionErrorUnhandled)}, r.ResponseContext); diff != "" {
		t.Errorf("responseContext (-want +got):\n%s", diff)
	}
	info := r.KinesisBatchInfo
	if info.ShardID != shards[0] || info.StreamARN != arn || info.BatchSize != 1 ||
		info.StartSequenceNumber != all[4] || info.EndSequenceNumber != all[4] {
		t.Errorf("KinesisBatchInfo = %+v; want only the poison record %s of %s", info, all[4], shards[0])
	}
	if got := e.readRange(arn, info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber); !cmp.Equal(got, []string{all[4]}) {
		t.Errorf("on-failure range re-reads %v; want only the poison record %s", got, all[4])
	}
	st := m.Stats()
	if st.Bisects != 3 || st.Retries != 1 || st.DroppedRecords != 1 || st.SucceededRecords != 7 || st.FunctionErrors != 5 {
		t.Errorf("Stats() = %+v; want 3 bisects, 1 retry, 5 function errors, 1 dropped, 7 succeeded", st)
	}
	checkAccounting(t, st)
}

// TestBinaryRetriesExhausted: a batch whose invocation keeps failing is invoked
// 1 + MaximumRetryAttempts times, then discarded with one on-failure record
// whose every field is checked and whose range re-reads exactly the discarded
// records; processing continues after them [S1, S3].
func TestBinaryRetriesExhausted(t *testing.T) {
	e := newEnv(t)
	arn, shards := e.stream(1)
	url, qarn := e.queue()
	bad := seqsOf(e.putAll(arn, cmdRecords(5, 2, map[int]string{2: "error"})))
	good := seqsOf(e.putAll(arn, cmdRecords(3, 2, nil)))
	fn := newFailfn(t, failfnOptions{})
	cfg := withQueue(baseConfig(arn), url, qarn)
	cfg.BatchSize = 5
	cfg.MaximumRetryAttempts = new(2)
	before := time.Now()
	m := e.mapping(cfg, fn.inv)
	drain(t, m)

	if diff := cmp.Diff([][]string{bad, bad, bad, good}, fn.batchSeqs()); diff != "" {
		t.Errorf("batches the function received (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"errorString", "errorString", "errorString"}, fn.inv.functionErrorTypes()); diff != "" {
		t.Errorf("function error types (-want +got):\n%s", diff)
	}
	ofr := e.onFailureRecords(url) // also checks the exact JSON shape
	if len(ofr) != 1 {
		t.Fatalf("got %d on-failure records; want 1", len(ofr))
	}
	r := ofr[0]
	arrival := e.arrivals(arn, shards[0])
	want := onfailure.Record{
		RequestContext: onfailure.RequestContext{
			RequestID:              fn.invocations()[2].RequestID, // the last invocation of the batch
			FunctionARN:            testFunctionARN,
			Condition:              onfailure.ConditionRetryAttemptsExhausted,
			ApproximateInvokeCount: 3, // 1 + MaximumRetryAttempts
		},
		ResponseContext: onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: new(onfailure.FunctionErrorUnhandled)},
		Version:         "1.0",
		Timestamp:       r.Timestamp,
		KinesisBatchInfo: onfailure.KinesisBatchInfo{
			ShardID:                         shards[0],
			StartSequenceNumber:             bad[0],
			EndSequenceNumber:               bad[4],
			ApproximateArrivalOfFirstRecord: onfailure.Time(arrival[bad[0]].Truncate(time.Millisecond)),
			ApproximateArrivalOfLastRecord:  onfailure.Time(arrival[bad[4]].Truncate(time.Millisecond)),
			BatchSize:                       5,
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
	info := r.KinesisBatchInfo
	if got := e.readRange(arn, info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber); !cmp.Equal(got, bad) {
		t.Errorf("on-failure range re-reads %v; want exactly the discarded records %v", got, bad)
	}
	st := m.Stats()
	if st.DroppedRetries != 5 || st.OnFailureMessages != 1 || st.OnFailureRecords != 5 || st.Retries != 2 || st.FunctionErrors != 3 || st.SucceededRecords != 3 {
		t.Errorf("Stats() = %+v; want 5 dropped for retries, 1 on-failure message, 2 retries, 3 function errors, 3 succeeded", st)
	}
	if got := st.Shards[0].Checkpoint; got != good[2] {
		t.Errorf("checkpoint = %s; want %s, past the discarded records", got, good[2])
	}
	checkAccounting(t, st)
}

// TestBinaryUnrunnableBootstrap: a bootstrap that cannot be started (here not
// executable) fails each invocation with the function error Lambda reports,
// Runtime.InvalidEntrypoint, so the mapping spends MaximumRetryAttempts on it
// and sends the batch to the on-failure destination instead of retrying it as
// a host error forever; a bisect splits it as any function error does [S1, S3].
func TestBinaryUnrunnableBootstrap(t *testing.T) {
	for _, bisect := range []bool{false, true} {
		t.Run(fmt.Sprintf("BisectBatchOnFunctionError=%v", bisect), func(t *testing.T) {
			e := newEnv(t)
			arn, _ := e.stream(1)
			url, qarn := e.queue()
			recs := seqsOf(e.putAll(arn, cmdRecords(2, 2, nil)))
			binary := filepath.Join(t.TempDir(), "bootstrap")
			if err := os.WriteFile(binary, []byte("#!/bin/sh\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			fn := lambdahost.New(lambdahost.Config{Binary: binary, FunctionName: "failfn"})
			t.Cleanup(func() { fn.Close() })
			inv := &lambdaInvoker{fn: fn}
			cfg := withQueue(baseConfig(arn), url, qarn)
			cfg.MaximumRetryAttempts = new(1)
			cfg.BisectBatchOnFunctionError = bisect
			m := e.mapping(cfg, inv)
			drain(t, m)

			// Without a bisect: the batch, then 1 retry. With one: the batch,
			// split into each record, each retried once.
			wantInvocations, wantRanges := 2, [][]string{recs}
			if bisect {
				wantInvocations, wantRanges = 5, [][]string{recs[:1], recs[1:]}
			}
			types := inv.functionErrorTypes()
			if len(types) != wantInvocations {
				t.Errorf("function errors %v; want %d Runtime.InvalidEntrypoint", types, wantInvocations)
			}
			for _, typ := range types {
				if typ != lambdahost.ErrorTypeInvalidEntrypoint {
					t.Errorf("function error type %q; want Runtime.InvalidEntrypoint", typ)
				}
			}
			ofr := e.onFailureRecords(url)
			var gotRanges [][]string
			for _, r := range ofr {
				gotRanges = append(gotRanges, e.readRange(arn, r.KinesisBatchInfo.ShardID, r.KinesisBatchInfo.StartSequenceNumber, r.KinesisBatchInfo.EndSequenceNumber))
				if r.RequestContext.Condition != onfailure.ConditionRetryAttemptsExhausted || r.RequestContext.ApproximateInvokeCount != 2 ||
					r.ResponseContext.FunctionError == nil || *r.ResponseContext.FunctionError != onfailure.FunctionErrorUnhandled {
					t.Errorf("on-failure record context %+v, %+v; want RetryAttemptsExhausted after 2 invocations, functionError Unhandled", r.RequestContext, r.ResponseContext)
				}
			}
			if diff := cmp.Diff(wantRanges, gotRanges); diff != "" {
				t.Errorf("on-failure records' ranges (-want +got):\n%s", diff)
			}
			st := m.Stats()
			if st.InvokeErrors != 0 || st.FunctionErrors != int64(wantInvocations) || st.DroppedRecords != 2 {
				t.Errorf("Stats() = %+v; want no host errors, %d function errors, 2 dropped", st, wantInvocations)
			}
			checkAccounting(t, st)
		})
	}
}

// TestBinaryPartialFailure: the function's real batchItemFailures response
// checkpoints the records before the lowest reported sequence number and
// redelivers exactly the records from it onward; without ReportBatchItemFailures
// the response is ignored [S2].
func TestBinaryPartialFailure(t *testing.T) {
	for _, report := range []bool{true, false} {
		t.Run(fmt.Sprintf("ReportBatchItemFailures=%v", report), func(t *testing.T) {
			e := newEnv(t)
			arn, _ := e.stream(1)
			// Two records report themselves failed on their first delivery; the
			// lower one decides where the retry starts.
			all := seqsOf(e.putAll(arn, cmdRecords(6, 2, map[int]string{2: "partial-once", 4: "partial-once"})))
			fn := newFailfn(t, failfnOptions{})
			cfg := baseConfig(arn)
			if report {
				cfg.FunctionResponseTypes = []string{ReportBatchItemFailures}
			}
			m := e.mapping(cfg, fn.inv)
			drain(t, m)

			invs := fn.invocations()
			if len(invs) == 0 || !cmp.Equal(invs[0].Failures, []string{all[2], all[4]}) {
				t.Fatalf("first invocation = %+v; want it to report %s and %s", invs, all[2], all[4])
			}
			want := [][]string{all}
			if report {
				want = append(want, all[2:])
			}
			if diff := cmp.Diff(want, fn.batchSeqs()); diff != "" {
				t.Errorf("batches the function received (-want +got):\n%s", diff)
			}
			st := m.Stats()
			wantPartial, wantRetries := int64(0), int64(0)
			if report {
				wantPartial, wantRetries = 1, 1
			}
			if st.PartialFailures != wantPartial || st.Retries != wantRetries || st.SucceededRecords != 6 || st.DroppedRecords != 0 || st.FunctionErrors != 0 {
				t.Errorf("Stats() = %+v; want %d partial failures, %d retries, 6 succeeded, none dropped", st, wantPartial, wantRetries)
			}
			checkAccounting(t, st)
		})
	}
}

// TestBinaryParallelizationFactorKeepsKeyOrder: with ParallelizationFactor 4
// the batches of one shard run in 4 concurrent lanes (distinct function
// processes, overlapping in time), each lane holds whole partition keys, and
// records of a key are processed in order, also across a failed and retried
// batch [S1].
func TestBinaryParallelizationFactorKeepsKeyOrder(t *testing.T) {
	const pf = 4
	e := newEnv(t)
	arn, _ := e.stream(1)
	puts := e.putAll(arn, cmdRecords(64, 8, map[int]string{21: "error-once"}))
	fn := newFailfn(t, failfnOptions{envs: pf, sleep: 30 * time.Millisecond})
	cfg := baseConfig(arn)
	cfg.ParallelizationFactor = pf
	cfg.BatchSize = 4
	m := e.mapping(cfg, fn.inv)
	drain(t, m)

	invs := fn.invocations()
	lastByKey := map[string]string{}
	succeeded := map[string]int{}
	var failed []fnInvocation
	for _, b := range invs {
		lane := -1
		for _, r := range b.Records {
			if l := laneOf(r.PartitionKey, pf); lane >= 0 && l != lane {
				t.Errorf("invocation %s mixes lanes %d and %d", b.RequestID, lane, l)
			} else {
				lane = l
			}
		}
		if b.Outcome != "ok" {
			failed = append(failed, b)
			continue
		}
		for _, r := range b.Records {
			if prev, ok := lastByKey[r.PartitionKey]; ok && compareSeq(r.Seq, prev) <= 0 {
				t.Errorf("key %s: record %s processed after %s", r.PartitionKey, r.Seq, prev)
			}
			lastByKey[r.PartitionKey] = r.Seq
			succeeded[r.Seq]++
		}
	}
	for _, p := range puts {
		if succeeded[p.Seq] != 1 {
			t.Errorf("record %s processed %d times; want once", p.Seq, succeeded[p.Seq])
		}
	}
	if len(failed) != 1 || !slices.Contains(failed[0].seqs(), puts[21].Seq) || failed[0].Outcome != "error" {
		t.Errorf("failed invocations = %+v; want one, with record %s", failed, puts[21].Seq)
	}

	pids := map[int]bool{}
	overlap := false
	for i, a := range invs {
		pids[a.PID] = true
		for _, b := range invs[i+1:] {
			if a.PID != b.PID && a.Start.Before(b.End) && b.Start.Before(a.End) {
				overlap = true
			}
		}
	}
	if len(pids) < 2 || len(pids) > pf {
		t.Errorf("invocations ran in %d processes; want 2..%d", len(pids), pf)
	}
	if !overlap {
		t.Errorf("no two invocations overlapped in time; want concurrent lanes")
	}
	st := m.Stats()
	if got, want := st.Shards[0].Checkpoint, puts[len(puts)-1].Seq; got != want {
		t.Errorf("checkpoint = %s; want %s", got, want)
	}
	if st.FunctionErrors != 1 || st.Retries != 1 {
		t.Errorf("Stats() = %+v; want 1 function error, 1 retry", st)
	}
	checkAccounting(t, st)
}

// TestBinaryCrashAndTimeout: a process that exits (Runtime.ExitError) or runs
// past the function timeout (Sandbox.Timedout) is a function error: the batch is
// retried in a new process, or bisected with BisectBatchOnFunctionError, and a
// record that always crashes is isolated and dead-lettered with functionError
// "Unhandled" [S1, S3].
func TestBinaryCrashAndTimeout(t *testing.T) {
	tests := []struct {
		name      string
		cmd       string
		bisect    bool
		retries   int
		wantBatch [][]int // record indexes of each invocation
		wantOut   []string
		wantTypes []string
		wantDLQ   []int // records dead-lettered
	}{
		{"crash retried", "crash-once", false, 2,
			[][]int{{0, 1, 2, 3}, {0, 1, 2, 3}}, []string{"crash", "ok"}, []string{lambdahost.ErrorTypeExit}, nil},
		{"crash bisected", "crash-once", true, 2,
			[][]int{{0, 1, 2, 3}, {0, 1}, {2, 3}}, []string{"crash", "ok", "ok"}, []string{lambdahost.ErrorTypeExit}, nil},
		{"timeout retried", "timeout-once", false, 2,
			[][]int{{0, 1, 2, 3}, {0, 1, 2, 3}}, []string{"timeout", "ok"}, []string{lambdahost.ErrorTypeTimeout}, nil},
		{"timeout bisected", "timeout-once", true, 2,
			[][]int{{0, 1, 2, 3}, {0, 1}, {2, 3}}, []string{"timeout", "ok", "ok"}, []string{lambdahost.ErrorTypeTimeout}, nil},
		{"crash poison isolated", "crash", true, 0,
			[][]int{{0, 1, 2, 3}, {0, 1}, {2, 3}, {2}, {3}}, []string{"crash", "ok", "crash", "crash", "ok"},
			[]string{lambdahost.ErrorTypeExit, lambdahost.ErrorTypeExit, lambdahost.ErrorTypeExit}, []int{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			arn, _ := e.stream(1)
			url, qarn := e.queue()
			all := seqsOf(e.putAll(arn, cmdRecords(4, 2, map[int]string{2: tc.cmd})))
			fn := newFailfn(t, failfnOptions{timeout: time.Second})
			cfg := withQueue(baseConfig(arn), url, qarn)
			cfg.BisectBatchOnFunctionError = tc.bisect
			cfg.MaximumRetryAttempts = new(tc.retries)
			m := e.mapping(cfg, fn.inv)
			drain(t, m)

			var want [][]string
			for _, idx := range tc.wantBatch {
				var b []string
				for _, i := range idx {
					b = append(b, all[i])
				}
				want = append(want, b)
			}
			if diff := cmp.Diff(want, fn.batchSeqs()); diff != "" {
				t.Errorf("batches the function received (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantOut, fn.outcomes()); diff != "" {
				t.Errorf("invocation outcomes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantTypes, fn.inv.functionErrorTypes()); diff != "" {
				t.Errorf("function error types (-want +got):\n%s", diff)
			}
			// The failed process is replaced: the next invocation is a new process.
			invs := fn.invocations()
			if len(invs) >= 2 && invs[0].PID == invs[1].PID {
				t.Errorf("invocation after a %s ran in the same process %d; want a new one", tc.wantOut[0], invs[0].PID)
			}

			ofr := e.onFailureRecords(url)
			if len(ofr) != len(tc.wantDLQ) {
				t.Fatalf("got %d on-failure records; want %d", len(ofr), len(tc.wantDLQ))
			}
			for i, r := range ofr {
				seq := all[tc.wantDLQ[i]]
				if r.RequestContext.Condition != onfailure.ConditionRetryAttemptsExhausted || r.RequestContext.ApproximateInvokeCount != 1+tc.retries ||
					r.ResponseContext.FunctionError == nil || *r.ResponseContext.FunctionError != onfailure.FunctionErrorUnhandled {
					t.Errorf("on-failure record = %+v; want RetryAttemptsExhausted after %d invocations, Unhandled", r, 1+tc.retries)
				}
				info := r.KinesisBatchInfo
				if got := e.readRange(arn, info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber); !cmp.Equal(got, []string{seq}) {
					t.Errorf("on-failure range re-reads %v; want only %s", got, seq)
				}
			}
			st := m.Stats()
			if st.FunctionErrors != int64(len(tc.wantTypes)) || st.SucceededRecords != int64(4-len(tc.wantDLQ)) {
				t.Errorf("Stats() = %+v; want %d function errors, %d succeeded", st, len(tc.wantTypes), 4-len(tc.wantDLQ))
			}
			checkAccounting(t, st)
		})
	}
}

// TestBinaryCheckpointRestart: a mapping stopped while an invocation is in
// flight (its process killed, the outcome unknown) and started again as a new
// mapping resumes after the last checkpoint, even with StartingPosition LATEST
// [S1]: the unacknowledged batch and everything after it are delivered once more,
// nothing before it is.
func TestBinaryCheckpointRestart(t *testing.T) {
	e := newEnv(t)
	arn, shards := e.stream(1)
	// Record 17 hangs (past a long timeout) on its first delivery: run 1 is
	// stopped while it hangs.
	all := seqsOf(e.putAll(arn, cmdRecords(30, 3, map[int]string{17: "timeout-once"})))
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	cfg := baseConfig(arn)
	cfg.BatchSize = 5
	cfg.CheckpointFile = path

	fn := newFailfn(t, failfnOptions{timeout: 30 * time.Second})
	m1 := e.mapping(cfg, fn.inv)
	ctx, cancel := context.WithTimeout(t.Context(), drainTimeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- m1.Run(ctx) }()
	for hung := false; !hung; {
		select {
		case err := <-errc:
			t.Fatalf("first Run returned %v before the hanging invocation", err)
		case <-time.After(10 * time.Millisecond):
		}
		for _, b := range fn.invocations() {
			hung = hung || b.Outcome == "timeout"
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("first Run = %v", err)
	}
	run1 := fn.invocations()
	if diff := cmp.Diff([][]string{all[0:5], all[5:10], all[10:15], all[15:20]}, fn.batchSeqs()); diff != "" {
		t.Fatalf("batches of the first run (-want +got):\n%s", diff)
	}
	saved, err := ReadCheckpoints(path)
	if err != nil {
		t.Fatalf("ReadCheckpoints: %v", err)
	}
	if got := saved.Shards[shards[0]].SequenceNumber; got != all[14] {
		t.Fatalf("persisted checkpoint = %q; want %s, the end of the last acknowledged batch", got, all[14])
	}

	// Run 2: a new mapping; the hanging process was killed when run 1 stopped,
	// so the function cold-starts a new one (record 17's "-once" state survives
	// in the function's state directory, so it succeeds now).
	cfg.StartingPosition = StartingPositionLatest
	m2 := e.mapping(cfg, fn.inv)
	drain(t, m2)
	var run2 [][]string
	invs := fn.invocations()
	for _, b := range invs[len(run1):] {
		run2 = append(run2, b.seqs())
		if b.PID == run1[len(run1)-1].PID {
			t.Errorf("run 2 invoked the process %d that run 1 left hanging; want a new process", b.PID)
		}
	}
	if diff := cmp.Diff([][]string{all[15:20], all[20:25], all[25:30]}, run2); diff != "" {
		t.Errorf("batches after the restart (-want +got):\n%s", diff)
	}
	final, err := ReadCheckpoints(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := final.Shards[shards[0]].SequenceNumber; got != all[29] {
		t.Errorf("final checkpoint = %s; want %s", got, all[29])
	}
	checkAccounting(t, m2.Stats())
}
