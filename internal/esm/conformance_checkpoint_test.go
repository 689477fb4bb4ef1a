package esm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"
)

// TestConformanceCheckpointPersistence: a mapping stopped mid-stream and started
// again (a new KinesisMapping, as after a crash) resumes after the persisted
// checkpoint, ignoring StartingPosition [S1]: nothing is lost, and records
// delivered twice all come after that checkpoint (at-least-once).
func TestConformanceCheckpointPersistence(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(2)
	puts := e.putAll(arn, records(60, 12, "persist"))
	path := filepath.Join(t.TempDir(), "checkpoints.json")

	cfg := baseConfig(arn)
	cfg.BatchSize = 5
	cfg.CheckpointFile = path

	// Run 1 stops on its 4th invocation, as if killed: that batch is not
	// acknowledged.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var calls atomic.Int64
	first := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		if calls.Add(1) == 4 {
			cancel()
			<-ctx.Done()
			return Invocation{}, ctx.Err()
		}
		return respondJSON("null"), nil
	})
	m1 := e.mapping(cfg, first)
	if err := m1.Run(ctx); err != nil {
		t.Fatalf("first Run = %v", err)
	}
	saved, err := ReadCheckpoints(path)
	if err != nil {
		t.Fatalf("ReadCheckpoints after the first run: %v", err)
	}
	if len(saved.Shards) == 0 {
		t.Fatal("no checkpoint persisted by the first run")
	}

	// Run 2: LATEST would skip everything; a checkpoint overrides it.
	cfg.StartingPosition = StartingPositionLatest
	second := newFake(t, nil)
	kin := &countingKinesis{KinesisAPI: e.kin}
	m2, err := New(cfg, kin, nil, second)
	if err != nil {
		t.Fatal(err)
	}
	drain(t, m2)
	var wantIterators []string
	for _, sh := range m2.Stats().Shards {
		if cp := saved.Shards[sh.ShardID].SequenceNumber; cp != "" {
			wantIterators = append(wantIterators, sh.ShardID+" AFTER_SEQUENCE_NUMBER "+cp)
		} else {
			wantIterators = append(wantIterators, sh.ShardID+" TRIM_HORIZON ") // where run 1 started
		}
	}
	slices.Sort(kin.iterators)
	if diff := cmp.Diff(wantIterators, kin.iterators); diff != "" {
		t.Errorf("restart iterators (-want +got):\n%s", diff)
	}

	firstSeen, secondSeen := map[string]int{}, map[string]int{}
	for _, b := range first.batches() {
		for _, r := range b.event.Records {
			firstSeen[shardOf(r.EventID)+"/"+r.Kinesis.SequenceNumber]++
		}
	}
	for _, b := range second.batches() {
		for _, r := range b.event.Records {
			secondSeen[shardOf(r.EventID)+"/"+r.Kinesis.SequenceNumber]++
		}
	}
	for _, p := range puts {
		key := p.Shard + "/" + p.Seq
		cp := saved.Shards[p.Shard].SequenceNumber
		after := cp == "" || compareSeq(p.Seq, cp) > 0
		switch {
		case firstSeen[key]+secondSeen[key] == 0:
			t.Errorf("record %s lost", key)
		case secondSeen[key] > 0 && !after:
			t.Errorf("record %s redelivered although it is at or before the checkpoint %s", key, cp)
		case secondSeen[key] > 1:
			t.Errorf("record %s delivered %d times in one run", key, secondSeen[key])
		case after && secondSeen[key] == 0:
			t.Errorf("record %s after the checkpoint %s was not delivered by the restarted mapping", key, cp)
		}
	}
	if len(second.delivered()) >= len(puts) {
		t.Errorf("restarted mapping delivered %d records; want fewer than %d (it resumes)", len(second.delivered()), len(puts))
	}
	final, err := ReadCheckpoints(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range m2.Stats().Shards {
		if got := final.Shards[sh.ShardID].SequenceNumber; got != sh.LastSequenceRead {
			t.Errorf("final persisted checkpoint of %s = %s; want the last record %s", sh.ShardID, got, sh.LastSequenceRead)
		}
	}
}

func shardOf(eventID string) string {
	s, _, _ := strings.Cut(eventID, ":")
	return s
}

// TestConformanceLatestRestartKeepsRecords: a LATEST mapping stopped before it
// processed anything does not skip the records written while it was down.
func TestConformanceLatestRestartKeepsRecords(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	e.putAll(arn, records(3, 1, "before"))
	path := filepath.Join(t.TempDir(), "cp.json")
	cfg := baseConfig(arn)
	cfg.StartingPosition = StartingPositionLatest
	cfg.CheckpointFile = path

	kin := &countingKinesis{KinesisAPI: e.kin}
	m1, err := New(cfg, kin, nil, newFake(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- m1.Run(ctx) }()
	for kin.getRecords.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v", err)
	}
	during := e.putAll(arn, records(3, 1, "during"))

	fn := newFake(t, nil)
	drain(t, e.mapping(cfg, fn))
	if diff := cmp.Diff(seqsOf(during), fn.delivered()); diff != "" {
		t.Errorf("delivered after restart (-want +got):\n%s", diff)
	}
}

// TestRunRejectsForeignCheckpointFile: a checkpoint file of another mapping, or
// a corrupt one, stops Run with a clear error instead of reading from a wrong
// position.
func TestRunRejectsForeignCheckpointFile(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	dir := t.TempDir()
	tests := []struct{ name, content, wantErr string }{
		{"other stream", `{"version":1,"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/other","functionArn":"` + testFunctionARN + `","shards":{}}`, "belongs to stream"},
		// Each mapping keeps its own position: another function's mapping on the
		// same stream must not resume from this one's.
		{"other function", `{"version":1,"streamArn":"` + arn + `","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:other","shards":{}}`, "belongs to stream"},
		{"corrupt", `{"version":1,`, "decode checkpoint file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := baseConfig(arn)
			cfg.CheckpointFile = path
			// Run fails at once; a mapping that accepted the file would run
			// until the context ends.
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			err := e.mapping(cfg, newFake(t, nil)).Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Run = %v; want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// expiringKinesis makes the n-th GetRecords call fail with an expired iterator.
type expiringKinesis struct {
	KinesisAPI
	calls, expireAt atomic.Int64
}

func (k *expiringKinesis) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	if k.calls.Add(1) == k.expireAt.Load() {
		return nil, &ktypes.ExpiredIteratorException{Message: new("Iterator expired")}
	}
	return k.KinesisAPI.GetRecords(ctx, in, opts...)
}

// TestConformanceIteratorRefresh: an expired shard iterator (5 minutes [S8]) is
// replaced by one after the last record read: nothing skipped or repeated.
func TestConformanceIteratorRefresh(t *testing.T) {
	for _, at := range []int64{1, 2} { // before and after records were read
		e := newEnv(t)
		arn, _ := e.stream(1)
		puts := e.putAll(arn, records(10, 2, "expire"))
		kin := &expiringKinesis{KinesisAPI: e.kin}
		kin.expireAt.Store(at)
		cfg := baseConfig(arn)
		cfg.BatchSize = 4 // GetRecords Limit 4: several reads
		fn := newFake(t, nil)
		m, err := New(cfg, kin, nil, fn)
		if err != nil {
			t.Fatal(err)
		}
		drain(t, m)
		if diff := cmp.Diff(seqsOf(puts), fn.delivered()); diff != "" {
			t.Errorf("expired at call %d: delivered (-want +got):\n%s", at, diff)
		}
		if got := m.Stats().IteratorRefreshes; got != 1 {
			t.Errorf("IteratorRefreshes = %d; want 1", got)
		}
	}
}

// overlappingKinesis returns, at the head of every GetRecords response with
// records, the last record of the previous such response again, as an
// iterator that overlaps the records already read would.
type overlappingKinesis struct {
	KinesisAPI
	mu   sync.Mutex
	last *ktypes.Record
}

func (k *overlappingKinesis) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	out, err := k.KinesisAPI.GetRecords(ctx, in, opts...)
	if err != nil || len(out.Records) == 0 {
		return out, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	last := out.Records[len(out.Records)-1]
	if k.last != nil {
		out.Records = append([]ktypes.Record{*k.last}, out.Records...)
	}
	k.last = &last
	return out, nil
}

// TestConformanceOverlappingReadsDeliverOnce: a record read again (an
// iterator overlapping the records already read) is not delivered twice.
func TestConformanceOverlappingReadsDeliverOnce(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	puts := e.putAll(arn, records(10, 2, "overlap"))
	cfg := baseConfig(arn)
	cfg.BatchSize = 4 // GetRecords Limit 4: several reads
	fn := newFake(t, nil)
	m, err := New(cfg, &overlappingKinesis{KinesisAPI: e.kin}, nil, fn)
	if err != nil {
		t.Fatal(err)
	}
	drain(t, m)
	if diff := cmp.Diff(seqsOf(puts), fn.delivered()); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

// keysInTwoLanes returns two partition keys that ParallelizationFactor 2 puts in
// different lanes.
func keysInTwoLanes() []string {
	keys := []string{"key-0", ""}
	for i := 1; keys[1] == ""; i++ {
		if k := fmt.Sprintf("key-%d", i); laneOf(k, 2) != laneOf(keys[0], 2) {
			keys[1] = k
		}
	}
	return keys
}

// TestRestartDoesNotRedeliverOtherLanesRecords: with ParallelizationFactor 2, a
// lane that finished batches past a batch still in flight in the other lane
// (past the shard checkpoint) does not get them again after a restart: the
// restarted mapping delivers exactly the records not done, so a processor that
// names its objects after a batch's first record does not store a record twice.
func TestRestartDoesNotRedeliverOtherLanesRecords(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	keys := keysInTwoLanes()
	var recs []put
	for i := range 40 {
		k := keys[i%2]
		recs = append(recs, put{Key: k, Data: fmt.Sprintf(`{"n":%d}`, i)})
	}
	puts := e.putAll(arn, recs)
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	cfg := baseConfig(arn)
	cfg.BatchSize = 2
	cfg.ParallelizationFactor = 2
	cfg.CheckpointFile = path

	// Run 1: the lane of keys[1] hangs in its first invocation; the other lane
	// finishes all its records; then the mapping stops.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var fastDone atomic.Int64
	first := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		if b.event.Records[0].Kinesis.PartitionKey == keys[1] {
			<-ctx.Done()
			return Invocation{}, ctx.Err()
		}
		if fastDone.Add(int64(len(b.event.Records))) == 20 {
			defer cancel()
		}
		return respondJSON("null"), nil
	})
	if err := e.mapping(cfg, first).Run(ctx); err != nil {
		t.Fatalf("first Run = %v", err)
	}
	succeeded := map[string]bool{}
	for _, b := range first.batches() {
		if b.event.Records[0].Kinesis.PartitionKey == keys[0] {
			for _, s := range b.seqs() {
				succeeded[s] = true
			}
		}
	}
	if len(succeeded) != 20 {
		t.Fatalf("first run succeeded %d records of %s; want 20", len(succeeded), keys[0])
	}

	second := newFake(t, nil)
	m2 := e.mapping(cfg, second)
	drain(t, m2)
	var again []string
	got := map[string]bool{}
	for _, s := range second.delivered() {
		got[s] = true
		if succeeded[s] {
			again = append(again, s)
		}
	}
	if len(again) > 0 {
		t.Errorf("the restarted mapping delivered %d records the first run had finished: %v", len(again), again)
	}
	for _, p := range puts {
		if !succeeded[p.Seq] && !got[p.Seq] {
			t.Errorf("record %s (%s) lost", p.Seq, p.Key)
		}
	}
	if second.batches()[0].event.Records[0].Kinesis.SequenceNumber != puts[1].Seq {
		t.Errorf("the restarted lane's first batch starts at %s; want %s, where its interrupted batch started",
			second.batches()[0].event.Records[0].Kinesis.SequenceNumber, puts[1].Seq)
	}
	checkAccounting(t, m2.Stats())
	final, err := ReadCheckpoints(path)
	if err != nil {
		t.Fatal(err)
	}
	for id, sc := range final.Shards {
		if len(sc.Done) != 0 || sc.SequenceNumber != puts[len(puts)-1].Seq {
			t.Errorf("final checkpoint of %s = %+v; want the last record %s and nothing done past it", id, sc, puts[len(puts)-1].Seq)
		}
	}
}

// TestRestartKeepsDoneRecordsNotYetReadAgain: records an earlier run finished
// past the checkpoint stay listed as done until a restarted mapping reads them
// again. A restart that stops before reading that far (here a smaller read-ahead,
// ParallelizationFactor 1 after 2, behind a batch that does not finish) keeps
// them, so a third run does not deliver them again.
func TestRestartKeepsDoneRecordsNotYetReadAgain(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	keys := keysInTwoLanes()
	const fast = 1200 // more than a one-lane mapping reads ahead of a stuck batch
	recs := []put{{Key: keys[1], Data: `{"n":0}`}}
	for i := 1; i <= fast; i++ {
		recs = append(recs, put{Key: keys[0], Data: fmt.Sprintf(`{"n":%d}`, i)})
	}
	puts := e.putAll(arn, recs)
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	cfg := baseConfig(arn)
	cfg.BatchSize = 500
	cfg.ParallelizationFactor = 2
	cfg.CheckpointFile = path

	// Run 1: the first record's lane hangs; the other lane finishes the rest.
	ctx1, cancel1 := context.WithCancel(t.Context())
	defer cancel1()
	var fastDone atomic.Int64
	first := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		if b.event.Records[0].Kinesis.PartitionKey == keys[1] {
			<-ctx1.Done()
			return Invocation{}, ctx1.Err()
		}
		if fastDone.Add(int64(len(b.event.Records))) == fast {
			defer cancel1()
		}
		return respondJSON("null"), nil
	})
	if err := e.mapping(cfg, first).Run(ctx1); err != nil {
		t.Fatalf("first Run = %v", err)
	}
	if fastDone.Load() != fast {
		t.Fatalf("first run finished %d records; want %d", fastDone.Load(), fast)
	}

	// Run 2: one lane, so it reads at most 1,000 records ahead of the first
	// record, whose batch hangs again; it stops before reading the last ones.
	cfg2 := cfg
	cfg2.BatchSize = 100
	cfg2.ParallelizationFactor = 1
	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	second := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		time.AfterFunc(500*time.Millisecond, cancel2)
		<-ctx2.Done()
		return Invocation{}, ctx2.Err()
	})
	if err := e.mapping(cfg2, second).Run(ctx2); err != nil {
		t.Fatalf("second Run = %v", err)
	}

	// Run 3: delivers the first record only.
	third := newFake(t, nil)
	m3 := e.mapping(cfg, third)
	drain(t, m3)
	var again []string
	for _, s := range third.delivered() {
		if s != puts[0].Seq {
			again = append(again, s)
		}
	}
	if len(again) > 0 {
		t.Errorf("the third run delivered %d records the first run had finished (first %s, last %s)", len(again), again[0], again[len(again)-1])
	}
	if !slices.Contains(third.delivered(), puts[0].Seq) {
		t.Errorf("record %s lost", puts[0].Seq)
	}
	checkAccounting(t, m3.Stats())
}
