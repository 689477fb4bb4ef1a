package esm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
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

	mu      sync.Mutex
	shards  []*shard             // started in the current or last run
	known   map[string]shardInfo // every shard listed, by id
	waiting map[string]shardInfo // listed shards not started yet: a parent is unfinished
	run     *group               // of the current run, nil between runs; shards discovered while running join it
	ready   bool                 // the first shards of the current run are started
}

// shardInfo is what ListShards says about a shard.
type shardInfo struct {
	id, parent, adjacentParent string
	// endSeq is the shard's EndingSequenceNumber, "" while it is open.
	endSeq string
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
	log := mappingLogger(cfg.Logger, "streamArn", cfg.StreamARN, "functionArn", cfg.FunctionARN)
	return &KinesisMapping{s: s, now: now, kin: kin, sqs: sqs, inv: inv, log: log}, nil
}

// mappingLogger returns l (nil discards) with a mapping's attributes.
func mappingLogger(l *slog.Logger, attrs ...any) *slog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With(attrs...)
}

// Run polls every shard of the stream and invokes the function until ctx is
// done, then persists the checkpoints and returns nil. It returns an error if the
// mapping cannot start (unknown stream, unreadable or foreign checkpoint file)
// or a shard cannot be read any more (stream deleted, checkpoint not in the
// stream); transient Kinesis, SQS and Invoker errors are retried.
//
// Shards are listed when Run starts and again while it runs (and whenever a
// shard is read to its end), so shards created by resharding are found while
// running. A child shard is read from its start once its parents (both, after
// a merge) are read to their end and every record of theirs is done and
// checkpointed; per-partition-key order therefore holds across a split or
// merge [S1, S9]. Finished shards are remembered in the checkpoints, so a
// restart neither reads them again nor reads a child before its parent.
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
	if err := m.waitConsumer(ctx); err != nil {
		return ignoreDone(ctx, err)
	}
	listed, err := m.listShards(ctx)
	if err != nil {
		return ignoreDone(ctx, err)
	}
	// Shards unknown to a mapping that has run before were created by resharding:
	// they are read from their start, not from StartingPosition.
	resumed := !store.empty()

	g := newGroup(ctx)
	defer g.cancel()
	g.start(func(ctx context.Context) error {
		store.run(ctx, func(err error) {
			m.ctr.checkpointWriteErrors.Add(1)
			m.log.Warn("checkpoint write failed; will retry", "error", err)
		})
		return nil
	})
	m.mu.Lock()
	m.shards, m.known, m.waiting = nil, map[string]shardInfo{}, map[string]shardInfo{}
	m.run = g
	m.mu.Unlock()
	m.addShards(listed, resumed)
	g.start(func(ctx context.Context) error { m.discoverLoop(ctx); return nil })
	m.mu.Lock()
	m.ready = true
	n := len(m.shards)
	m.mu.Unlock()
	m.log.Info("event source mapping started", "shards", n)

	firstErr := g.wait()
	m.mu.Lock()
	m.run = nil
	m.mu.Unlock()
	if err := store.flush(); err != nil {
		m.ctr.checkpointWriteErrors.Add(1)
		firstErr = cmp.Or(firstErr, fmt.Errorf("esm: %w", err))
	}
	return firstErr
}

// addShards records listed shards and starts every new one whose parents are
// finished (read to their end and checkpointed) or no longer listed (trimmed):
// a child shard is read only after its parents, so records of a partition key
// stay in order across a split or merge, as Lambda guarantees [S1, S9]. Shards
// already finished (a previous run read them to their end) are not read again.
// Others wait until their parents finish. child marks shards that are read from
// their start (TRIM_HORIZON) rather than from StartingPosition.
func (m *KinesisMapping) addShards(listed []shardInfo, child bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.run == nil {
		return
	}
	for _, info := range listed {
		if prev, ok := m.known[info.id]; ok {
			if prev.endSeq == "" && info.endSeq != "" {
				m.known[info.id] = info
				for _, sh := range m.shards {
					if sh.id == info.id {
						sh.endSeq.Store(info.endSeq)
					}
				}
			}
			continue
		}
		m.known[info.id] = info
		if m.store.shard(info.id).Finished {
			continue
		}
		m.waiting[info.id] = info
	}
	for _, id := range slices.Sorted(maps.Keys(m.waiting)) {
		info := m.waiting[id]
		if !m.parentFinishedLocked(info.parent) || !m.parentFinishedLocked(info.adjacentParent) {
			continue
		}
		delete(m.waiting, id)
		// A shard that waited for a parent this mapping read is a child: it holds
		// only records written after the parent closed.
		waited := info.parent != "" && m.store.shard(info.parent).Finished
		sh := m.newShard(id, m.store, child || waited)
		sh.endSeq.Store(info.endSeq)
		m.shards = append(m.shards, sh)
		m.startLocked(sh)
	}
	if !child {
		m.startWaitingLocked()
	}
}

// startWaitingLocked records where the shards of a new mapping's first listing
// that wait for a parent start. They exist when the mapping is created, so
// they are not children created by resharding after the start, and
// StartingPosition applies to them as to every other shard [S1]: with
// AT_TIMESTAMP they start at the timestamp, with LATEST at the time of the
// listing (records put since are new), not at their start, which would deliver
// the records put before the mapping existed (the Kinesis Client Library starts
// such descendant shards the same way). The start is persisted, so a restart
// before the parent finishes keeps it.
func (m *KinesisMapping) startWaitingLocked() {
	var ts time.Time
	switch m.s.StartingPosition {
	case StartingPositionAtTimestamp:
		ts = m.s.StartingPositionTimestamp
	case StartingPositionLatest:
		ts = time.Now()
	default:
		return // TRIM_HORIZON: a waiting shard is read from its start anyway
	}
	for id := range m.waiting {
		m.store.setStart(id, StartingPositionAtTimestamp, ts)
	}
}

// parentFinishedLocked reports whether the shard id (a parent, "" for none) no
// longer holds back its children: it is finished, or not listed at all
// (expired with the retention period).
func (m *KinesisMapping) parentFinishedLocked(id string) bool {
	if id == "" {
		return true
	}
	if _, listed := m.known[id]; !listed {
		return true
	}
	return m.store.shard(id).Finished
}

// startLocked starts the reader and lanes of sh in the current run.
func (m *KinesisMapping) startLocked(sh *shard) {
	m.run.start(sh.read)
	for _, l := range sh.lanes {
		m.run.start(l.run)
	}
}

// discoverLoop lists the shards every DiscoveryInterval while the run lasts, so
// that shards created by resharding (and the closing of their parents) are
// seen while running, not only at the next Run.
func (m *KinesisMapping) discoverLoop(ctx context.Context) {
	for sleep(ctx, m.s.discoveryInterval) {
		m.discover(ctx)
	}
}

// discover lists the shards once and adds what is new; errors are counted and
// retried by the next discovery.
func (m *KinesisMapping) discover(ctx context.Context) {
	listed, err := m.listShards(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.ctr.kinesisErrors.Add(1)
			m.log.Warn("list shards failed; will retry", "error", err)
		}
		return
	}
	m.addShards(listed, true)
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
	period := min(max(m.s.pollInterval/2, time.Millisecond), 100*time.Millisecond)
	return runUntilDrained(ctx, producerDone, "stream", period, m.Run, func() func(context.Context) bool {
		epoch := m.drainEpoch.Add(1)
		return func(context.Context) bool { return m.drained(epoch) }
	})
}

// drained reports whether every shard of the running mapping caught up after
// drain epoch epoch, with nothing pending.
func (m *KinesisMapping) drained(epoch int64) bool {
	m.mu.Lock()
	shards, ready, waiting := m.shards, m.ready, len(m.waiting)
	m.mu.Unlock()
	if !ready || waiting > 0 {
		return false
	}
	for _, sh := range shards {
		if sh.finishing.Load() && !sh.closed.Load() {
			return false // its children are about to start
		}
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

// waitConsumer checks, for a mapping whose EventSourceArn is an enhanced
// fan-out consumer, that the consumer is registered with the stream, and waits
// while it is being created. Reading then follows the consumer's semantics
// where the emulator allows: every record of every shard, in order per shard,
// parents before children; SubscribeToShard's push over HTTP/2 (records arrive
// as they are written, a dedicated 2 MB/s per shard, a 5-minute subscription
// renewed by the reader) is replaced by GetRecords polls of the stream every
// PollInterval, because the emulator (moto) does not implement SubscribeToShard.
// What a function sees is the same: the events, batches and eventSourceARN
// (the stream's ARN) do not depend on how the mapping reads.
func (m *KinesisMapping) waitConsumer(ctx context.Context) error {
	if m.s.ConsumerARN == "" {
		return nil
	}
	for {
		out, err := m.kin.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{
			StreamARN: aws.String(m.s.StreamARN), ConsumerName: aws.String(m.s.consumerName),
		})
		if err != nil {
			return fmt.Errorf("esm: describe stream consumer %s: %w", m.s.ConsumerARN, err)
		}
		d := out.ConsumerDescription
		if d == nil {
			return fmt.Errorf("esm: describe stream consumer %s: empty response", m.s.ConsumerARN)
		}
		switch d.ConsumerStatus {
		case types.ConsumerStatusActive:
			m.log.Info("reading through enhanced fan-out consumer", "consumerArn", aws.ToString(d.ConsumerARN))
			return nil
		case types.ConsumerStatusCreating:
			if !sleep(ctx, m.s.pollInterval) {
				return ctx.Err()
			}
		default:
			return fmt.Errorf("esm: stream consumer %s is %s", m.s.ConsumerARN, d.ConsumerStatus)
		}
	}
}

// listShards returns all shards of the stream, open and closed, with their
// parents.
func (m *KinesisMapping) listShards(ctx context.Context) ([]shardInfo, error) {
	var shards []shardInfo
	in := &kinesis.ListShardsInput{StreamARN: aws.String(m.s.StreamARN)}
	for {
		out, err := m.kin.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("esm: list shards of %s: %w", m.s.StreamARN, err)
		}
		for _, sh := range out.Shards {
			info := shardInfo{id: aws.ToString(sh.ShardId), parent: aws.ToString(sh.ParentShardId), adjacentParent: aws.ToString(sh.AdjacentParentShardId)}
			if r := sh.SequenceNumberRange; r != nil {
				info.endSeq = aws.ToString(r.EndingSequenceNumber)
			}
			shards = append(shards, info)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		// NextToken excludes the stream name/ARN [S8].
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	if len(shards) == 0 {
		return nil, fmt.Errorf("esm: stream %s has no shards", m.s.StreamARN)
	}
	return shards, nil
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
