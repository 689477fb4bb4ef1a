package esm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// KinesisMapping is one emulated Kinesis event source mapping: it reads a stream
// and invokes a function with AWS's semantics (see the package documentation).
//
// Run and RunUntilDrained may be called again after they return (a restart
// resumes from the checkpoints, kept in memory and in CheckpointFile), but not
// concurrently: a second concurrent call
// fails. Stats is safe to call at any time from any goroutine. The Invoker,
// Matcher and OnDiscard hook are called from many goroutines at once.
//
// Delivery is at-least-once and in order per partition key: a record is
// delivered again only after a failure of its (sub)batch or after a restart that
// resumes before it.
type KinesisMapping struct {
	s   settings
	now func() time.Time
	kin KinesisAPI
	sqs SQSAPI
	inv Invoker
	log *slog.Logger
	ctr counters

	running    atomic.Bool
	drainEpoch atomic.Int64 // bumped by RunUntilDrained when the producer is done

	store *checkpointStore // opened by the first Run, kept for later runs

	mu     sync.Mutex
	shards []*shard // of the current or last run
	ready  bool     // shards of the current run are all started
}

// New validates cfg as CreateEventSourceMapping would [S1, S7] and returns a
// mapping that reads with kin, invokes inv and sends on-failure records with sqs
// (which may be nil without an on-failure destination). It does no I/O.
func New(cfg Config, kin KinesisAPI, sqs SQSAPI, inv Invoker) (*KinesisMapping, error) {
	now := cfg.Clock
	if now == nil {
		now = time.Now
	}
	s, err := cfg.validate(now())
	if err != nil {
		return nil, err
	}
	switch {
	case kin == nil:
		return nil, errors.New("esm: a Kinesis client is required")
	case inv == nil:
		return nil, errors.New("esm: an Invoker is required")
	case s.destination != nil && sqs == nil:
		return nil, errors.New("esm: an SQS client is required with an on-failure destination")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("streamArn", cfg.StreamARN, "functionArn", cfg.FunctionARN)
	return &KinesisMapping{s: s, now: now, kin: kin, sqs: sqs, inv: inv, log: log}, nil
}

// Run polls every shard of the stream and invokes the function until ctx is
// done, then persists the checkpoints and returns nil. It returns an error if the
// mapping cannot start (unknown stream, unreadable or foreign checkpoint file)
// or a shard cannot be read any more (stream deleted, checkpoint not in the
// stream); transient Kinesis, SQS and Invoker errors are retried.
//
// Shards are listed once, when Run starts: shards created later by resharding are
// read from the next Run on (from TRIM_HORIZON), and parent and child shards are
// read concurrently.
func (m *KinesisMapping) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("esm: Run called while the mapping is already running")
	}
	defer m.running.Store(false)
	m.mu.Lock()
	m.ready = false
	m.mu.Unlock()

	if m.store == nil {
		store, err := openCheckpointStore(m.s.CheckpointFile, m.s.StreamARN, m.s.FunctionARN)
		if err != nil {
			return fmt.Errorf("esm: %w", err)
		}
		m.store = store
	}
	store := m.store
	if err := m.waitActive(ctx); err != nil {
		return ignoreDone(ctx, err)
	}
	ids, err := m.listShards(ctx)
	if err != nil {
		return ignoreDone(ctx, err)
	}
	// Shards unknown to a mapping that has run before were created by resharding:
	// they are read from their start, not from StartingPosition.
	resumed := !store.empty()
	shards := make([]*shard, len(ids))
	for i, id := range ids {
		shards[i] = m.newShard(id, store, resumed)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		failOnce sync.Once
		firstErr error
	)
	fail := func(err error) {
		if err == nil || runCtx.Err() != nil {
			return
		}
		failOnce.Do(func() { firstErr = err; cancel() })
	}
	wg.Go(func() {
		store.run(runCtx, func(err error) {
			m.ctr.checkpointWriteErrors.Add(1)
			m.log.Warn("checkpoint write failed; will retry", "error", err)
		})
	})
	for _, sh := range shards {
		wg.Go(func() { fail(sh.read(runCtx)) })
		for _, l := range sh.lanes {
			wg.Go(func() { fail(l.run(runCtx)) })
		}
	}
	m.mu.Lock()
	m.shards, m.ready = shards, true
	m.mu.Unlock()
	m.log.Info("event source mapping started", "shards", len(shards))

	wg.Wait()
	if err := store.flush(); err != nil {
		m.ctr.checkpointWriteErrors.Add(1)
		firstErr = cmp.Or(firstErr, fmt.Errorf("esm: %w", err))
	}
	return firstErr
}

// RunUntilDrained runs the mapping like Run and returns nil once producerDone is
// closed (nil means the producer is already done) and every shard is caught up:
// a GetRecords call that started after producerDone was closed returned no
// records with MillisBehindLatest 0 (or the shard is closed and read to its
// end), and every record read is done, nothing in flight. Records put after
// producerDone is closed may be missed. It returns ctx.Err() if ctx ends first,
// and Run's error if Run fails. A shard blocked by a failing batch with infinite
// retries never drains, as with AWS.
func (m *KinesisMapping) RunUntilDrained(ctx context.Context, producerDone <-chan struct{}) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- m.Run(runCtx) }()
	stopped := func(err error) error {
		return cmp.Or(err, ctx.Err(), errors.New("esm: mapping stopped before the stream was drained"))
	}
	if producerDone != nil {
		select {
		case err := <-errc:
			return stopped(err)
		case <-producerDone:
		}
	}
	epoch := m.drainEpoch.Add(1)
	tick := time.NewTicker(min(max(m.s.pollInterval/2, time.Millisecond), 100*time.Millisecond))
	defer tick.Stop()
	for {
		if m.drained(epoch) {
			cancel()
			return <-errc
		}
		select {
		case err := <-errc:
			return stopped(err)
		case <-tick.C:
		}
	}
}

// drained reports whether every shard of the running mapping caught up after
// drain epoch epoch, with nothing pending.
func (m *KinesisMapping) drained(epoch int64) bool {
	m.mu.Lock()
	shards, ready := m.shards, m.ready
	m.mu.Unlock()
	if !ready {
		return false
	}
	for _, sh := range shards {
		if !sh.closed.Load() && sh.caughtUp.Load() < epoch {
			return false
		}
		if sh.tr.pending() > 0 {
			return false
		}
	}
	return true
}

// waitActive checks that the stream exists and waits while it is being created.
func (m *KinesisMapping) waitActive(ctx context.Context) error {
	for {
		out, err := m.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(m.s.StreamARN)})
		if err != nil {
			return fmt.Errorf("esm: describe stream %s: %w", m.s.StreamARN, err)
		}
		if out.StreamDescriptionSummary == nil {
			return fmt.Errorf("esm: describe stream %s: empty response", m.s.StreamARN)
		}
		switch st := out.StreamDescriptionSummary.StreamStatus; st {
		case types.StreamStatusActive, types.StreamStatusUpdating:
			return nil
		case types.StreamStatusCreating:
			if !sleep(ctx, m.s.pollInterval) {
				return ctx.Err()
			}
		default:
			return fmt.Errorf("esm: stream %s is %s", m.s.StreamARN, st)
		}
	}
}

// listShards returns the ids of all shards of the stream, open and closed.
func (m *KinesisMapping) listShards(ctx context.Context) ([]string, error) {
	var ids []string
	in := &kinesis.ListShardsInput{StreamARN: aws.String(m.s.StreamARN)}
	for {
		out, err := m.kin.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("esm: list shards of %s: %w", m.s.StreamARN, err)
		}
		for _, sh := range out.Shards {
			ids = append(ids, aws.ToString(sh.ShardId))
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		// NextToken excludes the stream name/ARN [S8].
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("esm: stream %s has no shards", m.s.StreamARN)
	}
	return ids, nil
}

// ignoreDone maps errors caused by ctx ending to nil.
func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
