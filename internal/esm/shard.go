package esm

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// shard reads one shard and feeds its lanes. Records of a shard are only ever
// batched with records of the same shard [S9].
type shard struct {
	m     *KinesisMapping
	id    string
	store *checkpointStore
	tr    *tracker
	lanes []*lane
	src   eventSource
	child bool // a shard new to a resumed mapping: read from TRIM_HORIZON

	millisBehind atomic.Int64
	buffered     atomic.Int64 // bytes of event records read and not yet done
	caughtUp     atomic.Int64 // drain epoch of the last empty, caught-up GetRecords
	closed       atomic.Bool  // closed shard read to its end, finished, children started
	finishing    atomic.Bool  // end reached; finishing (waiting for its records, starting children)
	endSeq       atomicString // EndingSequenceNumber from ListShards, "" while open
}

// atomicString is a string safe for concurrent use; the zero value is "".
type atomicString struct{ p atomic.Pointer[string] }

// Store sets the value.
func (a *atomicString) Store(s string) { a.p.Store(&s) }

// Load returns the value.
func (a *atomicString) Load() string {
	if p := a.p.Load(); p != nil {
		return *p
	}
	return ""
}

func (m *KinesisMapping) newShard(id string, store *checkpointStore, resumed bool) *shard {
	cp := store.shard(id)
	sh := &shard{
		m:     m,
		id:    id,
		store: store,
		child: resumed,
		tr:    newTracker(cp.SequenceNumber),
		src:   eventSource{shardID: id, invokeIdentityARN: m.s.InvokeIdentityArn, region: m.s.region, streamARN: m.s.StreamARN},
	}
	sh.tr.skipAlso(cp.Done)
	store.track(id, sh.tr)
	for i := 0; i < m.s.parallelization; i++ {
		sh.lanes = append(sh.lanes, &lane{sh: sh, notify: make(chan struct{}, 1)})
	}
	return sh
}

// position is where a shard iterator starts.
type position struct {
	typ types.ShardIteratorType
	seq string
	ts  time.Time
}

// startPosition is where reading starts: after the checkpoint if there is one,
// else where the shard was first read from, else at StartingPosition, which
// applies only to a shard's first read [S1]. A LATEST start is remembered as a
// time so that a restart before any record is done does not skip records.
func (sh *shard) startPosition() position {
	cp := sh.store.shard(sh.id)
	switch {
	case cp.SequenceNumber != "":
		return position{typ: types.ShardIteratorTypeAfterSequenceNumber, seq: cp.SequenceNumber}
	case cp.StartingPosition == StartingPositionAtTimestamp:
		return position{typ: types.ShardIteratorTypeAtTimestamp, ts: cp.StartingPositionTimestamp}
	case cp.StartingPosition == StartingPositionTrimHorizon:
		return position{typ: types.ShardIteratorTypeTrimHorizon}
	}
	switch {
	case sh.child:
		// A shard created by resharding after the mapping started holds only
		// records the mapping has not seen.
	case sh.m.s.StartingPosition == StartingPositionLatest:
		t := time.Now()
		sh.store.setStart(sh.id, StartingPositionAtTimestamp, t)
		return position{typ: types.ShardIteratorTypeLatest, ts: t}
	case sh.m.s.StartingPosition == StartingPositionAtTimestamp:
		sh.store.setStart(sh.id, StartingPositionAtTimestamp, sh.m.s.StartingPositionTimestamp)
		return position{typ: types.ShardIteratorTypeAtTimestamp, ts: sh.m.s.StartingPositionTimestamp}
	}
	sh.store.setStart(sh.id, StartingPositionTrimHorizon, time.Time{})
	return position{typ: types.ShardIteratorTypeTrimHorizon}
}

// resumePosition is where a fresh iterator continues (after an expired one): after
// the last record read, else where reading started.
func (sh *shard) resumePosition(start position) position {
	if _, last := sh.tr.state(); last != "" {
		return position{typ: types.ShardIteratorTypeAfterSequenceNumber, seq: last}
	}
	if start.typ == types.ShardIteratorTypeLatest {
		return position{typ: types.ShardIteratorTypeAtTimestamp, ts: start.ts}
	}
	return start
}

// iterator gets a shard iterator at pos, retrying transient errors.
func (sh *shard) iterator(ctx context.Context, pos position) (string, error) {
	for {
		in := &kinesis.GetShardIteratorInput{
			StreamARN:         aws.String(sh.m.s.StreamARN),
			ShardId:           aws.String(sh.id),
			ShardIteratorType: pos.typ,
		}
		switch pos.typ {
		case types.ShardIteratorTypeAfterSequenceNumber, types.ShardIteratorTypeAtSequenceNumber:
			in.StartingSequenceNumber = aws.String(pos.seq)
		case types.ShardIteratorTypeAtTimestamp:
			in.Timestamp = aws.Time(pos.ts)
		}
		out, err := sh.m.kin.GetShardIterator(ctx, in)
		if err == nil {
			if out.ShardIterator == nil {
				return "", fmt.Errorf("get shard iterator for %s: empty iterator", sh.id)
			}
			return *out.ShardIterator, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if fatalKinesisError(err) {
			return "", fmt.Errorf("esm: get %s shard iterator for %s: %w", pos.typ, sh.id, err)
		}
		sh.m.ctr.kinesisErrors.Add(1)
		sh.m.log.Warn("get shard iterator failed; retrying", "shardId", sh.id, "error", err)
		if !sleep(ctx, sh.m.s.retryBackoff) {
			return "", ctx.Err()
		}
	}
}

// read polls the shard until ctx is done [S9]: immediately again while records
// come back, every PollInterval when the shard is idle. It replaces an expired
// iterator and bounds the records buffered ahead of the lanes, in number and
// in bytes (two invoke payloads per lane), so large records do not make it
// hold a shard's backlog in memory.
func (sh *shard) read(ctx context.Context) error {
	s := &sh.m.s
	start := sh.startPosition()
	iter, err := sh.iterator(ctx, start)
	if err != nil {
		return err
	}
	maxLimit := min(getRecordsMaxLimit, s.batchSize*s.parallelization)
	limit := maxLimit
	maxPending := max(2*s.batchSize*s.parallelization, minBufferedRecordsPerShard)
	// A lane invokes at most one payload at a time: two payloads per lane
	// ready is enough read-ahead, however large BatchSize is.
	maxBytes := int64(2 * s.maxPayload * s.parallelization)
	for {
		if !sh.waitForSpace(ctx, maxPending, maxBytes) {
			return nil
		}
		epoch := sh.m.drainEpoch.Load()
		// GetRecords answers at once; letting a call in flight finish when ctx
		// ends keeps shutdown from tearing down HTTP connections mid-response.
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), getRecordsTimeout)
		out, err := sh.m.kin.GetRecords(callCtx, &kinesis.GetRecordsInput{
			ShardIterator: aws.String(iter),
			StreamARN:     aws.String(s.StreamARN),
			Limit:         aws.Int32(int32(limit)),
		})
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var expired *types.ExpiredIteratorException
			if errors.As(err, &expired) {
				// Iterators expire after 5 minutes [S8]; continue after the last
				// record read.
				sh.m.ctr.iteratorRefreshes.Add(1)
				if iter, err = sh.iterator(ctx, sh.resumePosition(start)); err != nil {
					return err
				}
				continue
			}
			if fatalKinesisError(err) {
				return fmt.Errorf("esm: get records from %s: %w", sh.id, err)
			}
			sh.m.ctr.kinesisErrors.Add(1)
			sh.m.log.Warn("get records failed; retrying", "shardId", sh.id, "error", err)
			if !sleep(ctx, s.retryBackoff) {
				return nil
			}
			continue
		}
		behind := aws.ToInt64(out.MillisBehindLatest)
		sh.millisBehind.Store(behind)
		size, err := sh.accept(out.Records)
		if err != nil {
			return err
		}
		if n := len(out.Records); n > 0 {
			// Ask for about the records the byte bound holds, at the size of
			// these (an emulator may ignore GetRecords' 10 MiB cap).
			limit = min(maxLimit, max(1, int(maxBytes/max(1, size/int64(n)))))
		}
		if out.NextShardIterator == nil || sh.atEnd(len(out.Records), behind) {
			return sh.finish(ctx)
		}
		iter = *out.NextShardIterator
		if len(out.Records) == 0 {
			if behind == 0 {
				sh.caughtUp.Store(epoch)
			}
			if !sleep(ctx, s.pollInterval) {
				return nil
			}
		}
	}
}

// atEnd reports whether a closed shard has been read to its end although
// GetRecords still returned a NextShardIterator: AWS ends a closed shard with a
// null NextShardIterator [S8], but emulators (moto) return one forever. The
// shard is at its end when ListShards gave it an EndingSequenceNumber and an
// empty, caught-up GetRecords came back with nothing read past that number (or
// nothing read at all). On AWS the EndingSequenceNumber is the end of the
// shard's range, beyond any record, so this never ends a shard early there.
func (sh *shard) atEnd(n int, behind int64) bool {
	end := sh.endSeq.Load()
	if end == "" || n > 0 || behind != 0 {
		return false
	}
	_, last := sh.tr.state()
	return last == "" || compareSeq(last, end) >= 0
}

// finish ends the reading of a closed shard (Lambda's SHARD_END): it waits
// until every record read is done, persists the shard as finished, then lists
// the shards so that its children start at once, and only then reports the
// shard closed (so a drain never sees the parent done before its children
// exist). It returns nil when ctx ends first: the shard is read again, from
// its checkpoint, by the next run.
func (sh *shard) finish(ctx context.Context) error {
	sh.finishing.Store(true)
	if !sh.waitForSpace(ctx, 1, 1) {
		return nil
	}
	for {
		err := sh.store.finish(sh.id)
		if err == nil {
			break
		}
		sh.m.ctr.checkpointWriteErrors.Add(1)
		sh.m.log.Warn("checkpoint write failed; will retry", "shardId", sh.id, "error", err)
		if !sleep(ctx, sh.m.s.retryBackoff) {
			return nil
		}
	}
	sh.m.log.Info("shard closed, read to its end and finished; starting its children", "shardId", sh.id)
	sh.m.discover(ctx)
	sh.closed.Store(true)
	return nil
}

// waitForSpace blocks while max records, or maxBytes bytes of event records,
// are pending; false if ctx is done.
func (sh *shard) waitForSpace(ctx context.Context, max int, maxBytes int64) bool {
	for sh.tr.pending() >= max || sh.buffered.Load() >= maxBytes {
		select {
		case <-ctx.Done():
			return false
		case <-sh.tr.space:
		case <-time.After(sh.m.s.pollInterval):
		}
	}
	return ctx.Err() == nil
}

// accept turns GetRecords output into records: each is registered with the
// tracker, then either filtered out (done at once: filtered records count as
// processed and the checkpoint advances past them [S5, S9]) or handed to the
// lane of its partition key. It returns the bytes of the records read: their
// event records, or their data for the filtered ones.
func (sh *shard) accept(in []types.Record) (size int64, err error) {
	if len(in) == 0 {
		return 0, nil
	}
	s := &sh.m.s
	_, last := sh.tr.state()
	now := time.Now()
	recs := make([]*record, 0, len(in))
	var filtered, finished []*record
	perLane := make([][]*record, len(sh.lanes))
	for _, kr := range in {
		seq := aws.ToString(kr.SequenceNumber)
		if !validSeq(seq) {
			return 0, fmt.Errorf("esm: shard %s returned a record with sequence number %q", sh.id, seq)
		}
		if last != "" && compareSeq(seq, last) <= 0 {
			continue // already read (an iterator overlap); never hand it out twice
		}
		arrival := sh.m.now()
		if kr.ApproximateArrivalTimestamp != nil {
			arrival = *kr.ApproximateArrivalTimestamp
		}
		r := &record{seq: seq, partitionKey: aws.ToString(kr.PartitionKey), arrival: arrival.Truncate(time.Millisecond), enqueued: now}
		recs = append(recs, r)
		if sh.tr.skipped(seq) {
			// Done by an earlier run (counted there): not delivered again.
			finished = append(finished, r)
			continue
		}
		if s.FilterCriteria != nil {
			if ok, _ := s.FilterCriteria.Match(kr.Data); !ok {
				size += int64(len(kr.Data))
				filtered = append(filtered, r)
				continue
			}
		}
		js, err := sh.src.encodeRecord(seq, r.partitionKey, kr.Data, r.arrival)
		if err != nil {
			return 0, fmt.Errorf("esm: shard %s: %w", sh.id, err)
		}
		r.json = js
		size += int64(len(js))
		l := laneOf(r.partitionKey, len(sh.lanes))
		perLane[l] = append(perLane[l], r)
	}
	sh.tr.add(recs)
	for _, batch := range perLane {
		for _, r := range batch {
			sh.buffered.Add(int64(len(r.json)))
		}
	}
	sh.m.ctr.polled.Add(int64(len(recs) - len(finished)))
	sh.m.ctr.filtered.Add(int64(len(filtered)))
	sh.done(finished)
	sh.done(filtered)
	for i, batch := range perLane {
		if len(batch) > 0 {
			sh.lanes[i].enqueue(batch)
		}
	}
	return size, nil
}

// done marks records done and moves the persisted checkpoint.
func (sh *shard) done(recs []*record) {
	var n int64
	for _, r := range recs {
		n += int64(len(r.json))
	}
	sh.buffered.Add(-n)
	if len(recs) == 0 {
		return
	}
	if cp, ok := sh.tr.done(recs); ok {
		sh.store.advance(sh.id, cp)
	} else {
		sh.store.changed()
	}
}

// laneOf assigns a partition key to one of n lanes, so that all records of a key
// go through one lane, in order: ParallelizationFactor keeps order per partition
// key [S1].
func laneOf(partitionKey string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(partitionKey))
	return int(h.Sum32() % uint32(n))
}

// fatalKinesisError reports errors that retrying cannot fix.
func fatalKinesisError(err error) bool {
	var (
		notFound *types.ResourceNotFoundException
		invalid  *types.InvalidArgumentException
		denied   *types.AccessDeniedException
	)
	return errors.As(err, &notFound) || errors.As(err, &invalid) || errors.As(err, &denied)
}
