package esm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/google/go-cmp/cmp"
)

// TestConformanceEventShape: the event has the shape Lambda delivers [S9, S10].
func TestConformanceEventShape(t *testing.T) {
	e := newEnv(t)
	arn, shards := e.stream(1)
	puts := e.putAll(arn, []put{
		{Key: "device-1", Data: `{"device_id":"device-1","temperature":21.5}`},
		{Key: "device-2", Data: "plain text"},
		{Key: "device-3", Data: "\xff\x00binary"},
	})
	before := time.Now()
	fn := newFake(t, nil)
	m := e.mapping(baseConfig(arn), fn)
	drain(t, m)

	batches := fn.batches()
	if len(batches) != 1 {
		t.Fatalf("got %d invocations; want 1 (records put before start, window 0)", len(batches))
	}
	ev := batches[0].event
	if len(ev.Records) != len(puts) {
		t.Fatalf("event has %d records; want %d", len(ev.Records), len(puts))
	}
	for i, r := range ev.Records {
		p := puts[i]
		checks := []struct{ field, got, want string }{
			{"kinesisSchemaVersion", r.Kinesis.KinesisSchemaVersion, "1.0"},
			{"partitionKey", r.Kinesis.PartitionKey, p.Key},
			{"sequenceNumber", r.Kinesis.SequenceNumber, p.Seq},
			{"data", string(r.Kinesis.Data), p.Data},
			{"eventSource", r.EventSource, "aws:kinesis"},
			{"eventVersion", r.EventVersion, "1.0"},
			{"eventID", r.EventID, shards[0] + ":" + p.Seq},
			{"eventName", r.EventName, "aws:kinesis:record"},
			{"invokeIdentityArn", r.InvokeIdentityArn, testRoleARN},
			{"awsRegion", r.AwsRegion, "us-east-1"},
			{"eventSourceARN", r.EventSourceArn, arn},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("record %d %s = %q; want %q", i, c.field, c.got, c.want)
			}
		}
		if at := r.Kinesis.ApproximateArrivalTimestamp.Time; at.Before(before.Add(-time.Minute)) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("record %d approximateArrivalTimestamp = %v; want about now", i, at)
		}
	}

	// Raw JSON: the timestamp is a number of seconds with at most 3 decimals and
	// data is standard base64.
	var raw struct {
		Records []struct {
			Kinesis struct {
				Data      string          `json:"data"`
				Timestamp json.RawMessage `json:"approximateArrivalTimestamp"`
			} `json:"kinesis"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(batches[0].raw, &raw); err != nil {
		t.Fatal(err)
	}
	ts := regexp.MustCompile(`^[0-9]{10}(\.[0-9]{1,3})?$`)
	for i, r := range raw.Records {
		if !ts.Match(r.Kinesis.Timestamp) {
			t.Errorf("record %d approximateArrivalTimestamp = %s; want epoch seconds with ms", i, r.Kinesis.Timestamp)
		}
		if !regexp.MustCompile(`^[A-Za-z0-9+/]*={0,2}$`).MatchString(r.Kinesis.Data) {
			t.Errorf("record %d data = %q; want standard base64", i, r.Kinesis.Data)
		}
	}
	st := m.Stats()
	if st.PolledRecords != 3 || st.InvokedRecords != 3 || st.Invocations != 1 || st.SucceededRecords != 3 {
		t.Errorf("Stats() = %+v; want 3 polled, invoked and succeeded in 1 invocation", st)
	}
	checkAccounting(t, st)
}

// TestConformanceBatchesHoldOneShard: each batch holds records of a single shard
// [S9], and every shard is read.
func TestConformanceBatchesHoldOneShard(t *testing.T) {
	e := newEnv(t)
	arn, shards := e.stream(3)
	if len(shards) != 3 {
		t.Fatalf("stream has %d shards; want 3", len(shards))
	}
	puts := e.putAll(arn, records(90, 30, "multi"))
	fn := newFake(t, nil)
	m := e.mapping(baseConfig(arn), fn)
	drain(t, m)

	seen := map[string]string{} // seq@shard -> shard
	for _, b := range fn.batches() {
		shard := ""
		for _, r := range b.event.Records {
			s, _, _ := bytes.Cut([]byte(r.EventID), []byte(":"))
			if shard == "" {
				shard = string(s)
			} else if string(s) != shard {
				t.Errorf("batch mixes shards %s and %s", shard, s)
			}
			seen[string(s)+"/"+r.Kinesis.SequenceNumber] = string(s)
		}
	}
	usedShards := map[string]bool{}
	for _, p := range puts {
		if _, ok := seen[p.Shard+"/"+p.Seq]; !ok {
			t.Errorf("record %s/%s never delivered", p.Shard, p.Seq)
		}
		usedShards[p.Shard] = true
	}
	if len(usedShards) < 2 {
		t.Errorf("records landed in %d shard(s); want several to exercise per-shard pollers", len(usedShards))
	}
	st := m.Stats()
	if len(st.Shards) != 3 {
		t.Errorf("Stats().Shards has %d shards; want 3", len(st.Shards))
	}
	checkAccounting(t, st)
}

// countingKinesis counts GetRecords calls, so a test knows the reader has an
// iterator before it writes records meant for LATEST.
type countingKinesis struct {
	KinesisAPI
	getRecords atomic.Int64

	mu        sync.Mutex
	iterators []string // "<shard> <type> <sequence number>" of each GetShardIterator
}

func (c *countingKinesis) GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	c.mu.Lock()
	c.iterators = append(c.iterators, fmt.Sprintf("%s %s %s", aws.ToString(in.ShardId), in.ShardIteratorType, aws.ToString(in.StartingSequenceNumber)))
	c.mu.Unlock()
	return c.KinesisAPI.GetShardIterator(ctx, in, opts...)
}

func (c *countingKinesis) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	c.getRecords.Add(1)
	return c.KinesisAPI.GetRecords(ctx, in, opts...)
}

// TestConformanceStartingPosition: TRIM_HORIZON reads from the oldest record,
// LATEST only records written after the mapping started, AT_TIMESTAMP from the
// given time [S1, S7].
func TestConformanceStartingPosition(t *testing.T) {
	tests := []struct {
		position string
		wantOld  bool
	}{
		{StartingPositionTrimHorizon, true},
		{StartingPositionLatest, false},
		{StartingPositionAtTimestamp, false},
	}
	for _, tc := range tests {
		t.Run(tc.position, func(t *testing.T) {
			e := newEnv(t)
			arn, _ := e.stream(1)
			old := e.putAll(arn, records(5, 5, "old"))
			time.Sleep(20 * time.Millisecond)
			cfg := baseConfig(arn)
			cfg.StartingPosition = tc.position
			if tc.position == StartingPositionAtTimestamp {
				cfg.StartingPositionTimestamp = time.Now()
				time.Sleep(20 * time.Millisecond)
			}
			kin := &countingKinesis{KinesisAPI: e.kin}
			fn := newFake(t, nil)
			m, err := New(cfg, kin, nil, fn)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), drainTimeout)
			defer cancel()
			producerDone := make(chan struct{})
			errc := make(chan error, 1)
			go func() { errc <- m.RunUntilDrained(ctx, producerDone) }()
			for kin.getRecords.Load() == 0 {
				time.Sleep(5 * time.Millisecond)
			}
			newer := e.putAll(arn, records(5, 5, "new"))
			close(producerDone)
			if err := <-errc; err != nil {
				t.Fatalf("RunUntilDrained = %v", err)
			}
			want := seqsOf(newer)
			if tc.wantOld {
				want = append(seqsOf(old), want...)
			}
			if diff := cmp.Diff(want, fn.delivered()); diff != "" {
				t.Errorf("delivered (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConformanceRunUntilDrainedWithProducer: RunUntilDrained returns only after
// the producer is done and every record it wrote was processed.
func TestConformanceRunUntilDrainedWithProducer(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(2)
	fn := newFake(t, nil)
	fn.delay = 2 * time.Millisecond
	cfg := baseConfig(arn)
	cfg.BatchSize = 7
	m := e.mapping(cfg, fn)

	ctx, cancel := context.WithTimeout(t.Context(), drainTimeout)
	defer cancel()
	producerDone := make(chan struct{})
	var puts []put
	go func() {
		defer close(producerDone)
		for i := 0; i < 6; i++ {
			puts = append(puts, e.putAll(arn, records(10, 10, "wave"+string(rune('a'+i))))...)
			time.Sleep(15 * time.Millisecond)
		}
	}()
	if err := m.RunUntilDrained(ctx, producerDone); err != nil {
		t.Fatalf("RunUntilDrained = %v", err)
	}
	got := fn.delivered()
	if len(got) != len(puts) {
		t.Errorf("delivered %d records; want %d", len(got), len(puts))
	}
	for _, b := range fn.batches() {
		if n := len(b.event.Records); n > 7 {
			t.Errorf("batch of %d records; want at most BatchSize 7", n)
		}
	}
	checkAccounting(t, m.Stats())

	// A second RunUntilDrained resumes from the in-memory checkpoints and returns
	// at once with nothing new.
	if err := m.RunUntilDrained(ctx, nil); err != nil {
		t.Fatalf("second RunUntilDrained = %v", err)
	}
	if n := len(fn.delivered()); n != len(puts) {
		t.Errorf("after a second run, delivered %d records; want still %d", n, len(puts))
	}
}

// TestRunRejectsConcurrentRuns: a mapping runs once at a time.
func TestRunRejectsConcurrentRuns(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	m := e.mapping(baseConfig(arn), newFake(t, nil))
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	for !m.running.Load() {
		time.Sleep(time.Millisecond)
	}
	if err := m.Run(ctx); err == nil {
		t.Error("second concurrent Run = nil; want an error")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run after cancel = %v; want nil", err)
	}
}

// TestRunUnknownStream: a stream that does not exist is a clear error.
func TestRunUnknownStream(t *testing.T) {
	e := newEnv(t)
	m := e.mapping(baseConfig("arn:aws:kinesis:us-east-1:123456789012:stream/does-not-exist-"+uniqueName(t, 40)), newFake(t, nil))
	err := m.Run(t.Context())
	if err == nil || !regexp.MustCompile(`describe stream .*does-not-exist`).MatchString(err.Error()) {
		t.Errorf("Run(unknown stream) = %v; want a describe stream error", err)
	}
	var nf interface{ ErrorCode() string }
	if !errors.As(err, &nf) || !slices.Contains([]string{"ResourceNotFoundException"}, nf.ErrorCode()) {
		t.Errorf("Run(unknown stream) = %v; want it to wrap ResourceNotFoundException", err)
	}
}
