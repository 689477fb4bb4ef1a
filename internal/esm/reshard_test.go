package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/kinesisreshard"
	"github.com/streamlake/streamlake/internal/motoserver"
)

var (
	reshardOnce sync.Once
	reshardURL  string
	reshardErr  error
)

// newReshardEnv is newEnv against a moto server of its own started through
// motoserver's launcher, whose resharding behaves as Kinesis does (the
// launcher's fix 7); it fails (never skips) under STREAMLAKE_REQUIRE_MOTO.
func newReshardEnv(t *testing.T) *env {
	t.Helper()
	reshardOnce.Do(func() {
		srv, err := motoserver.Start(context.Background(), nil)
		if err != nil {
			reshardErr = err
			return
		}
		if !motoserver.Patched(srv.URL) {
			srv.Close()
			reshardErr = fmt.Errorf("moto server %s is not patched by the launcher (is moto the pinned version?): its resharding is not Kinesis's", srv.URL)
			return
		}
		reshardURL = srv.URL
	})
	if reshardErr != nil {
		if os.Getenv(motoserver.RequireEnv) != "" {
			t.Fatalf("moto server with Kinesis resharding: %v", reshardErr)
		}
		t.Skipf("integration test needs moto server (%v); run `make test`", reshardErr)
	}
	motoserver.MarkIntegration(t, reshardURL)
	t.Setenv("AWS_ENDPOINT_URL", reshardURL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	cfg, err := awsconfig.Load(t.Context())
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return &env{t: t, ctx: t.Context(), kin: kinesis.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg)}
}

// keyed is the data of a reshard test record: its key and its number within
// the key, in production order.
type keyed struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// produceKeyed puts count records spread over keys, numbering each key's
// records from next[key] on.
func produceKeyed(e *env, arn string, count, keys int, next map[string]int) {
	e.t.Helper()
	var recs []put
	for i := range count {
		k := fmt.Sprintf("device-%d", i%keys)
		b, _ := json.Marshal(keyed{Key: k, N: next[k]})
		next[k]++
		recs = append(recs, put{Key: k, Data: string(b)})
	}
	e.putAll(arn, recs)
}

// deliveredInOrder checks that each key's records were delivered in production
// order (a record may be delivered again right after a failure, never after a
// later record of its key) and returns how many distinct records each key got.
func deliveredInOrder(t *testing.T, fn *fakeFunction) map[string]int {
	t.Helper()
	last := map[string]int{}
	for _, b := range fn.batches() {
		for _, r := range b.event.Records {
			var d keyed
			if err := json.Unmarshal(r.Kinesis.Data, &d); err != nil {
				t.Fatalf("record data %q: %v", r.Kinesis.Data, err)
			}
			prev, seen := last[d.Key]
			switch {
			case !seen && d.N != 0:
				t.Errorf("key %s: first record delivered is #%d; want #0", d.Key, d.N)
			case seen && d.N != prev+1:
				t.Errorf("key %s: record #%d delivered after #%d; want #%d (per-key order across the reshard)", d.Key, d.N, prev, prev+1)
			}
			last[d.Key] = d.N
		}
	}
	got := map[string]int{}
	for k, n := range last {
		got[k] = n + 1
	}
	return got
}

// reshardRun runs a mapping over a stream of from shards, reshards it to to
// shards after half the records, and checks order, accounting and the
// finished parents.
func reshardRun(t *testing.T, from, to int) {
	e := newReshardEnv(t)
	arn, parents := e.stream(from)
	const keys, half = 12, 120
	next := map[string]int{}
	produceKeyed(e, arn, half, keys, next)

	// A slow function keeps the parents behind when the reshard happens, so
	// parent and child records are available together.
	fn := newFake(t, func(int, invokedBatch) (Invocation, error) {
		time.Sleep(15 * time.Millisecond)
		return Invocation{Payload: []byte("null")}, nil
	})
	cfg := baseConfig(arn)
	cfg.BatchSize = 5
	cfg.DiscoveryInterval = 100 * time.Millisecond
	cfg.CheckpointFile = filepath.Join(t.TempDir(), "checkpoints.json")
	m := e.mapping(cfg, fn)
	drainAfter(t, m, func() bool { return len(fn.batches()) >= 2 }, func(ctx context.Context) {
		if err := kinesisreshard.UpdateShardCount(ctx, e.kin, arn, to, 20*time.Millisecond); err != nil {
			t.Error(err)
			return
		}
		produceKeyed(e, arn, half, keys, next)
	})

	got := deliveredInOrder(t, fn)
	want := map[string]int{}
	for k, n := range next {
		want[k] = n
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records delivered per key = %v; want %v", got, want)
	}
	st := m.Stats()
	checkAccounting(t, st)
	if st.PolledRecords != 2*half || st.SucceededRecords != 2*half {
		t.Errorf("polled %d, succeeded %d; want %d each (no record read twice)", st.PolledRecords, st.SucceededRecords, 2*half)
	}
	cps, err := ReadCheckpoints(cfg.CheckpointFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parents {
		if !cps.Shards[p].Finished {
			t.Errorf("parent shard %s is not finished in the checkpoints: %+v", p, cps.Shards[p])
		}
	}
	if len(cps.Shards) != len(parents)+countChildren(t, e, arn) {
		t.Errorf("checkpoints hold %d shards; want every parent and child: %+v", len(cps.Shards), cps.Shards)
	}
}

// countChildren is the number of shards with a parent.
func countChildren(t *testing.T, e *env, arn string) int {
	t.Helper()
	out, err := e.kin.ListShards(e.ctx, &kinesis.ListShardsInput{StreamARN: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range out.Shards {
		if s.ParentShardId != nil {
			n++
		}
	}
	return n
}

// TestReshardSplit: a stream split from 1 to 2 shards while the mapping runs.
// The mapping finds the children while running, reads the parent to its end
// and checkpoints it before reading any child, so each partition key's records
// are delivered in order, each once [S1, S9].
func TestReshardSplit(t *testing.T) { reshardRun(t, 1, 2) }

// TestReshardMerge: a stream merged from 2 shards to 1 while the mapping runs:
// the child waits for both parents.
func TestReshardMerge(t *testing.T) { reshardRun(t, 2, 1) }

// TestReshardRestart: checkpoints survive a reshard and a restart: a second
// run reads neither finished parent again and continues the children where
// the first run stopped.
func TestReshardRestart(t *testing.T) {
	e := newReshardEnv(t)
	arn, _ := e.stream(1)
	next := map[string]int{}
	produceKeyed(e, arn, 40, 4, next)
	if err := kinesisreshard.UpdateShardCount(e.ctx, e.kin, arn, 2, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	produceKeyed(e, arn, 40, 4, next)
	cfg := baseConfig(arn)
	cfg.BatchSize = 7
	cfg.DiscoveryInterval = 100 * time.Millisecond
	cfg.CheckpointFile = filepath.Join(t.TempDir(), "checkpoints.json")
	first := newFake(t, nil)
	drain(t, e.mapping(cfg, first))
	deliveredInOrder(t, first)

	produceKeyed(e, arn, 40, 4, next)
	second := newFake(t, nil)
	m := e.mapping(cfg, second)
	drain(t, m)
	seen := map[string]bool{}
	for _, b := range second.batches() {
		for _, r := range b.event.Records {
			var d keyed
			if err := json.Unmarshal(r.Kinesis.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.N < 20 {
				t.Errorf("second run delivered %s #%d, which the first run finished", d.Key, d.N)
			}
			seen[fmt.Sprint(d.Key, d.N)] = true
		}
	}
	if len(seen) != 40 {
		t.Errorf("second run delivered %d distinct records; want the 40 new ones", len(seen))
	}
	checkAccounting(t, m.Stats())
}

// startAfterReshard puts old records into a stream of one shard, splits it,
// puts more old records (into the children), and returns the stream ARN and
// the moment after the old records, which a new mapping's AT_TIMESTAMP or
// LATEST start must not deliver.
func startAfterReshard(t *testing.T, e *env) (arn string, after time.Time) {
	t.Helper()
	arn, _ = e.stream(1)
	e.putAll(arn, records(20, 4, "old-parent"))
	if err := kinesisreshard.UpdateShardCount(e.ctx, e.kin, arn, 2, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e.putAll(arn, records(20, 4, "old-child"))
	time.Sleep(100 * time.Millisecond)
	after = time.Now()
	time.Sleep(100 * time.Millisecond)
	return arn, after
}

// checkOnlyNew fails for every delivered record whose data is not tagged "new".
func checkOnlyNew(t *testing.T, fn *fakeFunction, want int) {
	t.Helper()
	n := 0
	for _, b := range fn.batches() {
		for _, r := range b.event.Records {
			if !strings.Contains(string(r.Kinesis.Data), `"tag":"new"`) {
				t.Errorf("delivered %s (shard %s), put before the mapping's starting position", r.Kinesis.Data, r.EventID)
				continue
			}
			n++
		}
	}
	if n != want {
		t.Errorf("delivered %d new records; want %d", n, want)
	}
}

// TestReshardBeforeStartAtTimestamp: a new AT_TIMESTAMP mapping on a stream
// resharded before that time delivers no record older than the timestamp,
// from the closed parent or from its children: StartingPosition applies to
// every shard the mapping finds when it is created, children included [S1],
// as the Kinesis Client Library starts descendant shards at the same
// timestamp.
func TestReshardBeforeStartAtTimestamp(t *testing.T) {
	e := newReshardEnv(t)
	arn, ts := startAfterReshard(t, e)
	e.putAll(arn, records(20, 4, "new"))
	fn := newFake(t, nil)
	cfg := baseConfig(arn)
	cfg.StartingPosition, cfg.StartingPositionTimestamp = StartingPositionAtTimestamp, ts
	cfg.DiscoveryInterval = 100 * time.Millisecond
	m := e.mapping(cfg, fn)
	drain(t, m)
	checkOnlyNew(t, fn, 20)
}

// TestReshardBeforeStartLatest: a new LATEST mapping on a stream resharded
// before it started delivers only records put after it started, not the
// records already in the children of the closed parent.
func TestReshardBeforeStartLatest(t *testing.T) {
	e := newReshardEnv(t)
	arn, _ := startAfterReshard(t, e)
	fn := newFake(t, nil)
	cfg := baseConfig(arn)
	cfg.StartingPosition = StartingPositionLatest
	cfg.DiscoveryInterval = 100 * time.Millisecond
	cfg.CheckpointFile = filepath.Join(t.TempDir(), "checkpoints.json")
	m := e.mapping(cfg, fn)
	drainAfter(t, m, func() bool { return len(m.Stats().Shards) > 0 }, func(context.Context) {
		time.Sleep(200 * time.Millisecond)
		e.putAll(arn, records(20, 4, "new"))
	})
	checkOnlyNew(t, fn, 20)
}
