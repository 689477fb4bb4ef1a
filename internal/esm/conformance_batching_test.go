package esm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/onfailure"
)

// TestConformanceBatchSize: at most BatchSize records per invocation, in order
// [S1]. With a slow function the reader buffers more than BatchSize records
// while a batch is invoked; the next batch still holds BatchSize.
func TestConformanceBatchSize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
	}{{"fast function", 0}, {"slow function, records buffered", 300 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			arn, _ := e.stream(1)
			puts := e.putAll(arn, records(25, 3, "size"))
			cfg := baseConfig(arn)
			cfg.BatchSize = 10
			fn := newFake(t, nil)
			fn.delay = tc.delay
			m := e.mapping(cfg, fn)
			drain(t, m)
			all := seqsOf(puts)
			want := [][]string{all[:10], all[10:20], all[20:]}
			if diff := cmp.Diff(want, fn.batchSeqs()); diff != "" {
				t.Errorf("batches (-want +got):\n%s", diff)
			}
			checkAccounting(t, m.Stats())
		})
	}
}

// TestConformanceBatchingWindow: with MaximumBatchingWindowInSeconds the lane
// gathers records until the window expires or the batch is full; with 0 it
// invokes as soon as records are available [S7, S9].
func TestConformanceBatchingWindow(t *testing.T) {
	// trickle writes n records one by one while the mapping runs.
	trickle := func(t *testing.T, e *env, arn string, m *KinesisMapping, n int, gap time.Duration) []put {
		t.Helper()
		var puts []put
		drainAfter(t, m, func() bool { return true }, func(context.Context) {
			for i := 0; i < n; i++ {
				puts = append(puts, e.putAll(arn, []put{{Key: "k", Data: fmt.Sprintf(`{"i":%d}`, i)}})...)
				time.Sleep(gap)
			}
		})
		return puts
	}

	t.Run("window gathers", func(t *testing.T) {
		e := newEnv(t)
		arn, _ := e.stream(1)
		cfg := baseConfig(arn)
		cfg.MaximumBatchingWindowInSeconds = 2
		fn := newFake(t, nil)
		puts := trickle(t, e, arn, e.mapping(cfg, fn), 5, 30*time.Millisecond)
		if diff := cmp.Diff([][]string{seqsOf(puts)}, fn.batchSeqs()); diff != "" {
			t.Errorf("batches with a 2 s window (-want +got):\n%s", diff)
		}
	})
	t.Run("no window", func(t *testing.T) {
		e := newEnv(t)
		arn, _ := e.stream(1)
		fn := newFake(t, nil)
		puts := trickle(t, e, arn, e.mapping(baseConfig(arn), fn), 5, 40*time.Millisecond)
		if n := len(fn.batches()); n < 2 {
			t.Errorf("window 0 made %d invocation(s) for records written 40 ms apart; want several", n)
		}
		if diff := cmp.Diff(seqsOf(puts), fn.delivered()); diff != "" {
			t.Errorf("delivered (-want +got):\n%s", diff)
		}
	})
	t.Run("full batch does not wait", func(t *testing.T) {
		// With the maximum window a full batch is invoked at once: the drain
		// would otherwise take 300 s and time out.
		e := newEnv(t)
		arn, _ := e.stream(1)
		puts := e.putAll(arn, records(10, 2, "full"))
		cfg := baseConfig(arn)
		cfg.MaximumBatchingWindowInSeconds = 300
		cfg.BatchSize = 5
		fn := newFake(t, nil)
		drain(t, e.mapping(cfg, fn))
		all := seqsOf(puts)
		if diff := cmp.Diff([][]string{all[:5], all[5:]}, fn.batchSeqs()); diff != "" {
			t.Errorf("batches (-want +got):\n%s", diff)
		}
	})
	t.Run("payload cap does not wait", func(t *testing.T) {
		// Records that cannot all fit in one payload are invoked at once, even
		// with the maximum window; the rest keeps waiting for the window.
		e := newEnv(t)
		arn, _ := e.stream(1)
		var recs []put
		for i := 0; i < 3; i++ {
			recs = append(recs, put{Key: "k", Data: fmt.Sprintf(`{"i":%d,"pad":%q}`, i, strings.Repeat("x", 600))})
		}
		puts := e.putAll(arn, recs)
		cfg := baseConfig(arn)
		cfg.MaximumBatchingWindowInSeconds = 300
		cfg.MaxPayloadBytes = 2 * 1500 // two ~1.3 KB records per payload
		first := make(chan struct{})
		fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
			if call == 0 {
				close(first)
			}
			return respondJSON("null"), nil
		})
		m := e.mapping(cfg, fn)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- m.Run(ctx) }()
		select {
		case <-first:
		case <-time.After(drainTimeout):
			t.Error("no invocation although the records exceed one payload")
		}
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("Run = %v", err)
		}
		all := seqsOf(puts)
		if diff := cmp.Diff([][]string{all[:2]}, fn.batchSeqs()); diff != "" {
			t.Errorf("batches (-want +got):\n%s", diff)
		}
	})
}

// TestConformancePayloadCap: a batch is cut before the record that would make
// its serialized event exceed the payload cap [S1, S7].
func TestConformancePayloadCap(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	var recs []put
	for i := 0; i < 12; i++ {
		recs = append(recs, put{Key: fmt.Sprintf("k%d", i%3), Data: fmt.Sprintf(`{"i":%d,"pad":%q}`, i, strings.Repeat("y", 100+50*(i%4)))})
	}
	puts := e.putAll(arn, recs)
	const limit = 2500
	cfg := baseConfig(arn)
	cfg.MaxPayloadBytes = limit
	fn := newFake(t, nil)
	m := e.mapping(cfg, fn)
	drain(t, m)

	batches := fn.batches()
	if len(batches) < 3 {
		t.Fatalf("got %d batches; want the cap to cut several", len(batches))
	}
	for i, b := range batches {
		if len(b.raw) > limit {
			t.Errorf("batch %d payload is %d bytes; want at most %d", i, len(b.raw), limit)
		}
		if i+1 < len(batches) {
			var next struct{ Records []json.RawMessage }
			if err := json.Unmarshal(batches[i+1].raw, &next); err != nil {
				t.Fatal(err)
			}
			if with := len(b.raw) + 1 + len(next.Records[0]); with <= limit {
				t.Errorf("batch %d (%d bytes) was cut although the next record fits (%d bytes ≤ %d)", i, len(b.raw), with, limit)
			}
		}
	}
	if diff := cmp.Diff(seqsOf(puts), fn.delivered()); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	checkAccounting(t, m.Stats())
}

// TestConformancePayloadCapExact: the cap is inclusive, as Lambda's invoke
// payload limit is ("up to 6 MB" [S1]): an event of exactly MaxPayloadBytes is
// one invocation, one byte less splits it.
func TestConformancePayloadCapExact(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	puts := e.putAll(arn, []put{{Key: "k", Data: `{"i":1}`}, {Key: "k", Data: `{"i":2}`}})
	all := seqsOf(puts)
	// Size the event of both records with an uncapped mapping first.
	fn := newFake(t, nil)
	drain(t, e.mapping(baseConfig(arn), fn))
	if got := fn.batchSeqs(); len(got) != 1 {
		t.Fatalf("uncapped batches = %v; want one", got)
	}
	size := len(fn.batches()[0].raw)
	for _, tc := range []struct {
		limit int
		want  [][]string
	}{
		{size, [][]string{all}},
		{size - 1, [][]string{all[:1], all[1:]}},
	} {
		cfg := baseConfig(arn)
		cfg.MaxPayloadBytes = tc.limit
		fn := newFake(t, nil)
		drain(t, e.mapping(cfg, fn))
		if diff := cmp.Diff(tc.want, fn.batchSeqs()); diff != "" {
			t.Errorf("MaxPayloadBytes %d, event of both records %d bytes: batches (-want +got):\n%s", tc.limit, size, diff)
		}
	}

	// Records whose event reaches the cap exactly make a full batch: it is
	// invoked at once, not after the batching window ("the payload reaches
	// 6 MB" [S7, S9]).
	cfg := baseConfig(arn)
	cfg.MaxPayloadBytes = size
	cfg.MaximumBatchingWindowInSeconds = 300
	fn = newFake(t, nil)
	m := e.mapping(cfg, fn)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	close(done)
	if err := m.RunUntilDrained(ctx, done); err != nil {
		t.Errorf("with a 300 s window, records filling the payload exactly: RunUntilDrained = %v; want them invoked at once", err)
	}
	if diff := cmp.Diff([][]string{all}, fn.batchSeqs()); diff != "" {
		t.Errorf("with a 300 s window: batches (-want +got):\n%s", diff)
	}
}

// TestConformanceReadAheadBytes: the records a shard reader buffers ahead of
// its lanes are bounded in bytes, not only in number: with large records and a
// large BatchSize, a function that cannot keep up (here: blocked) must not make
// the reader hold the whole shard in memory. A lane never invokes more than
// MaxPayloadBytes at once, so a few payloads' worth is all it needs ready.
func TestConformanceReadAheadBytes(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	pad := strings.Repeat("r", 32<<10)
	var puts []put
	for part := range 2 { // two PutRecords calls: moto takes at most 5 MiB per call
		var recs []put
		for i := range 100 {
			recs = append(recs, put{Key: fmt.Sprintf("k%d", i%4), Data: fmt.Sprintf(`{"i":%d,"pad":%q}`, part*100+i, pad)})
		}
		puts = append(puts, e.putAll(arn, recs)...)
	}
	release := make(chan struct{})
	fn := newFake(t, func(int, invokedBatch) (Invocation, error) {
		<-release
		return Invocation{Payload: []byte("null")}, nil
	})
	cfg := baseConfig(arn)
	cfg.BatchSize = 100
	cfg.MaxPayloadBytes = 100_000 // two records per invocation
	m := e.mapping(cfg, fn)
	ctx, cancel := context.WithTimeout(t.Context(), drainTimeout)
	defer cancel()
	done := make(chan struct{})
	close(done)
	errc := make(chan error, 1)
	go func() { errc <- m.RunUntilDrained(ctx, done) }()
	for len(fn.batches()) == 0 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // many poll intervals: the reader reads ahead what it may
	polled := m.Stats().PolledRecords
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("RunUntilDrained: %v", err)
	}
	// One GetRecords call (BatchSize records, 4.4 MB of event records) already
	// exceeds a few 100 KB payloads; the reader must stop there.
	if polled > int64(cfg.BatchSize) {
		t.Errorf("the reader buffered %d records (%d KB of events) while the function was blocked; want at most one GetRecords call (%d)",
			polled, polled*int64(len(pad))*4/3>>10, cfg.BatchSize)
	}
	if diff := cmp.Diff(seqsOf(puts), fn.delivered()); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	checkAccounting(t, m.Stats())
}

// TestConformanceOversizedRecord: a record whose own event exceeds the payload
// cap goes to the on-failure destination without an invocation (project
// decision), and the records around it are delivered.
func TestConformanceOversizedRecord(t *testing.T) {
	e := newEnv(t)
	arn, shards := e.stream(1)
	url, qarn := e.queue()
	puts := e.putAll(arn, []put{
		{Key: "k", Data: `{"i":1}`},
		{Key: "k", Data: `{"i":2}`},
		{Key: "k", Data: fmt.Sprintf(`{"i":3,"pad":%q}`, strings.Repeat("z", 3000))},
		{Key: "k", Data: `{"i":4}`},
	})
	cfg := withQueue(baseConfig(arn), url, qarn)
	cfg.MaxPayloadBytes = 2000
	fn := newFake(t, nil)
	m := e.mapping(cfg, fn)
	drain(t, m)

	for _, b := range fn.batches() {
		if slices.Contains(b.seqs(), puts[2].Seq) {
			t.Errorf("the oversized record %s was invoked", puts[2].Seq)
		}
	}
	if diff := cmp.Diff([]string{puts[0].Seq, puts[1].Seq, puts[3].Seq}, fn.delivered()); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	ofr := e.onFailureRecords(url)
	if len(ofr) != 1 {
		t.Fatalf("got %d on-failure records; want 1", len(ofr))
	}
	r := ofr[0]
	// Discarded before any attempt: count 1, no responseContext, as AWS records
	// for records that expired before any invocation (see onfailure.Record).
	if r.RequestContext.Condition != onfailure.ConditionMaximumPayloadSizeExceeded || r.RequestContext.ApproximateInvokeCount != 1 ||
		r.ResponseContext != (onfailure.ResponseContext{}) {
		t.Errorf("on-failure record = %+v; want MaximumPayloadSizeExceeded, approximateInvokeCount 1, no responseContext", r)
	}
	info := r.KinesisBatchInfo
	if info.StartSequenceNumber != puts[2].Seq || info.EndSequenceNumber != puts[2].Seq || info.BatchSize != 1 || info.ShardID != shards[0] {
		t.Errorf("KinesisBatchInfo = %+v; want exactly record %s", info, puts[2].Seq)
	}
	st := m.Stats()
	if st.DroppedPayloadTooLarge != 1 || st.OnFailureMessages != 1 || st.OnFailureRecords != 1 {
		t.Errorf("Stats() = %+v; want 1 record dropped as too large and sent", st)
	}
	checkAccounting(t, st)
}

// keepMatcher is a FilterCriteria stand-in: it keeps records whose data holds
// "keep":true.
type keepMatcher struct{}

func (keepMatcher) Match(data []byte) (bool, int) {
	return bytes.Contains(data, []byte(`"keep":true`)), 0
}

// TestConformanceFilterCriteria: records the filter rejects are never invoked
// but count as processed: the checkpoint moves past them, also when a whole
// batch is filtered out [S5, S9].
func TestConformanceFilterCriteria(t *testing.T) {
	t.Run("mixed", func(t *testing.T) {
		e := newEnv(t)
		arn, _ := e.stream(1)
		var recs []put
		for i := 0; i < 12; i++ {
			keep := i%3 == 0 && i < 9 // the last 3 records are all filtered out
			recs = append(recs, put{Key: "k", Data: fmt.Sprintf(`{"i":%d,"keep":%t}`, i, keep)})
		}
		puts := e.putAll(arn, recs)
		cfg := baseConfig(arn)
		cfg.FilterCriteria = keepMatcher{}
		cfg.BatchSize = 2
		cfg.CheckpointFile = t.TempDir() + "/cp.json"
		fn := newFake(t, nil)
		m := e.mapping(cfg, fn)
		drain(t, m)

		want := []string{puts[0].Seq, puts[3].Seq, puts[6].Seq}
		if diff := cmp.Diff(want, fn.delivered()); diff != "" {
			t.Errorf("delivered (-want +got):\n%s", diff)
		}
		st := m.Stats()
		if st.FilteredRecords != 9 || st.PolledRecords != 12 {
			t.Errorf("Stats() filtered %d of %d polled; want 9 of 12", st.FilteredRecords, st.PolledRecords)
		}
		last := puts[len(puts)-1].Seq
		if got := st.Shards[0].Checkpoint; got != last {
			t.Errorf("checkpoint = %s; want the last (filtered) record %s", got, last)
		}
		cp, err := ReadCheckpoints(cfg.CheckpointFile)
		if err != nil {
			t.Fatal(err)
		}
		if got := cp.Shards[puts[0].Shard].SequenceNumber; got != last {
			t.Errorf("persisted checkpoint = %s; want %s", got, last)
		}
		checkAccounting(t, st)
	})
	t.Run("all filtered", func(t *testing.T) {
		e := newEnv(t)
		arn, _ := e.stream(1)
		puts := e.putAll(arn, []put{{Key: "a", Data: `{"keep":false}`}, {Key: "b", Data: "not json"}, {Key: "c", Data: `{}`}})
		cfg := baseConfig(arn)
		cfg.FilterCriteria = keepMatcher{}
		fn := newFake(t, nil)
		m := e.mapping(cfg, fn)
		drain(t, m)
		if n := len(fn.batches()); n != 0 {
			t.Errorf("function invoked %d times; want never for a fully filtered batch", n)
		}
		if got, want := m.Stats().Shards[0].Checkpoint, puts[2].Seq; got != want {
			t.Errorf("checkpoint = %s; want %s", got, want)
		}
	})
}

// TestConformanceParallelizationFactor: N lanes per shard run concurrently,
// records of a partition key stay in one lane and in order [S1], and the
// checkpoint only passes records every lane has finished.
func TestConformanceParallelizationFactor(t *testing.T) {
	t.Run("order and concurrency", func(t *testing.T) {
		e := newEnv(t)
		arn, _ := e.stream(1)
		puts := e.putAll(arn, records(160, 16, "pf"))
		cfg := baseConfig(arn)
		cfg.ParallelizationFactor = 4
		cfg.BatchSize = 5
		fn := newFake(t, nil)
		fn.delay = 10 * time.Millisecond
		m := e.mapping(cfg, fn)
		drain(t, m)

		if got := fn.maxInflight.Load(); got < 2 || got > 4 {
			t.Errorf("max concurrent invocations = %d; want 2..4 with ParallelizationFactor 4 on one shard", got)
		}
		lastByKey := map[string]string{}
		count := map[string]int{}
		for _, b := range fn.batches() {
			lane := -1
			for _, r := range b.event.Records {
				l := laneOf(r.Kinesis.PartitionKey, 4)
				if lane >= 0 && l != lane {
					t.Errorf("batch mixes lanes %d and %d", lane, l)
				}
				lane = l
				if prev, ok := lastByKey[r.Kinesis.PartitionKey]; ok && compareSeq(r.Kinesis.SequenceNumber, prev) <= 0 {
					t.Errorf("key %s: record %s delivered after %s", r.Kinesis.PartitionKey, r.Kinesis.SequenceNumber, prev)
				}
				lastByKey[r.Kinesis.PartitionKey] = r.Kinesis.SequenceNumber
				count[r.Kinesis.SequenceNumber]++
			}
		}
		for _, p := range puts {
			if count[p.Seq] != 1 {
				t.Errorf("record %s delivered %d times; want once", p.Seq, count[p.Seq])
			}
		}
		st := m.Stats()
		if got, want := st.Shards[0].Checkpoint, puts[len(puts)-1].Seq; got != want {
			t.Errorf("checkpoint = %s; want %s", got, want)
		}
		checkAccounting(t, st)
	})

	t.Run("checkpoint waits for the slowest lane", func(t *testing.T) {
		e := newEnv(t)
		arn, _ := e.stream(1)
		// Two keys in different lanes.
		slowKey, fastKey := "", ""
		for i := 0; slowKey == "" || fastKey == ""; i++ {
			k := fmt.Sprintf("key-%d", i)
			switch {
			case slowKey == "" && laneOf(k, 2) == 0:
				slowKey = k
			case fastKey == "" && laneOf(k, 2) == 1:
				fastKey = k
			}
		}
		var recs []put
		recs = append(recs, put{Key: fastKey, Data: `{"i":0}`}, put{Key: slowKey, Data: `{"i":1,"slow":true}`})
		for i := 2; i < 8; i++ {
			recs = append(recs, put{Key: fastKey, Data: fmt.Sprintf(`{"i":%d}`, i)})
		}
		puts := e.putAll(arn, recs)

		release := make(chan struct{})
		fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
			if b.contains(hasData(`"slow":true`)) {
				select {
				case <-release:
					return respondJSON("null"), nil
				default:
					return fail("slow lane not released"), nil // retried until released
				}
			}
			return respondJSON("null"), nil
		})
		cfg := baseConfig(arn)
		cfg.ParallelizationFactor = 2
		cfg.BatchSize = 2
		cfg.RetryBackoff = 5 * time.Millisecond
		m := e.mapping(cfg, fn)

		ctx, cancel := context.WithTimeout(t.Context(), drainTimeout)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- m.RunUntilDrained(ctx, nil) }()
		// Wait until the fast lane finished all 7 of its records, 6 of them after
		// the slow record.
		for m.Stats().SucceededRecords < 7 && ctx.Err() == nil {
			time.Sleep(2 * time.Millisecond)
		}
		st := m.Stats()
		if st.SucceededRecords != 7 {
			t.Fatalf("fast lane succeeded %d records; want 7", st.SucceededRecords)
		}
		if got := st.Shards[0].Checkpoint; got != puts[0].Seq {
			t.Errorf("checkpoint while the slow lane fails = %q; want %s (just before the unfinished record %s)", got, puts[0].Seq, puts[1].Seq)
		}
		if st.Shards[0].PendingRecords != 7 {
			t.Errorf("pending records = %d; want 7 (the slow record and the 6 done after it)", st.Shards[0].PendingRecords)
		}
		close(release)
		if err := <-errc; err != nil {
			t.Fatalf("RunUntilDrained = %v", err)
		}
		if got, want := m.Stats().Shards[0].Checkpoint, puts[len(puts)-1].Seq; got != want {
			t.Errorf("checkpoint after release = %s; want %s", got, want)
		}
	})
}
