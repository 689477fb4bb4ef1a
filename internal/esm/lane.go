package esm

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamlake/streamlake/internal/onfailure"
)

// lane gathers the records of some partition keys of one shard into batches and
// processes them one batch at a time, so records of a key are delivered in order
// and a failing batch blocks only its lane [S1, S3]. With ParallelizationFactor N
// a shard has N lanes.
type lane struct {
	sh     *shard
	notify chan struct{} // signalled by enqueue

	mu           sync.Mutex
	pending      []*record
	pendingBytes int // sum of len(json) of pending
}

// enqueue appends records read from the shard, in sequence order.
func (l *lane) enqueue(recs []*record) {
	l.mu.Lock()
	l.pending = append(l.pending, recs...)
	for _, r := range recs {
		l.pendingBytes += len(r.json)
	}
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// run batches and processes records until ctx is done.
func (l *lane) run(ctx context.Context) error {
	for {
		batch, tooLarge, err := l.next(ctx)
		if err != nil {
			return err
		}
		if tooLarge != nil {
			// A record whose own event exceeds the synchronous payload limit can
			// never be invoked: project decision, send it to the on-failure
			// destination without invoking (AWS is silent).
			if err := l.sh.discard(ctx, []*record{tooLarge}, onfailure.ConditionMaximumPayloadSizeExceeded, attempt{beforeInvoke: true}, &l.sh.m.ctr.droppedTooLarge); err != nil {
				return err
			}
			continue
		}
		if err := l.sh.process(ctx, batch); err != nil {
			return err
		}
	}
}

// next waits for the next batch [S7, S9]: it is ready when BatchSize records are
// pending, when the event of the pending records reaches the payload cap (no
// further record could join the batch), when the oldest pending record has
// waited MaximumBatchingWindowInSeconds, or, with a window of 0, as soon as any
// record is pending. A single record too large for the payload cap is returned
// alone as tooLarge.
func (l *lane) next(ctx context.Context) (batch []*record, tooLarge *record, err error) {
	s := &l.sh.m.s
	for {
		l.mu.Lock()
		n := len(l.pending)
		if n == 0 {
			l.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-l.notify:
			}
			continue
		}
		full := n >= s.batchSize || eventOverhead+l.pendingBytes+n-1 >= s.maxPayload
		wait := s.window - time.Since(l.pending[0].enqueued)
		if s.window == 0 || full || wait <= 0 {
			batch, tooLarge = l.takeLocked()
			l.mu.Unlock()
			return batch, tooLarge, nil
		}
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-l.notify:
		case <-t.C:
		}
		t.Stop()
	}
}

// takeLocked removes the next batch from pending: at most BatchSize records
// whose event fits in MaxPayloadBytes, cut before the record that would exceed
// it [S1]. If even the first record does not fit, it is returned as tooLarge.
func (l *lane) takeLocked() (batch []*record, tooLarge *record) {
	s := &l.sh.m.s
	size := eventOverhead
	k := 0
	for k < len(l.pending) && k < s.batchSize {
		add := len(l.pending[k].json)
		if k > 0 {
			add++ // comma
		}
		if size+add > s.maxPayload {
			break
		}
		size += add
		k++
	}
	if k == 0 {
		tooLarge = l.pending[0]
		k = 1
	} else {
		batch = slices.Clone(l.pending[:k])
	}
	for _, r := range l.pending[:k] {
		l.pendingBytes -= len(r.json)
	}
	clear(l.pending[:k]) // let the records be collected once processed
	l.pending = l.pending[k:]
	return batch, tooLarge
}

// unit is a (sub)batch being processed: the batch read, a half after a bisect,
// or the rest after a partial batch response.
type unit struct {
	recs    []*record
	retries int     // retries consumed; bisected halves inherit them
	att     attempt // invocations of this (sub)batch
}

// process delivers a batch until every record is done: succeeded or discarded.
// It returns only when ctx is done (or an on-failure record cannot be encoded).
//
// Rules, in order, for the (sub)batch at the front of the queue:
//   - records older than MaximumRecordAgeInSeconds are discarded before the
//     next attempt [S1, S3] (the expired prefix: arrival times grow along a
//     shard), with approximateInvokeCount = invocations so far + 1 and no
//     responseContext (see onfailure.Record);
//   - a host error (Invoker err) is retried without consuming a retry [S3];
//   - success checkpoints the whole (sub)batch [S2];
//   - a partial batch response checkpoints the records before the lowest reported
//     sequence number and retries only the rest [S2]; with
//     BisectBatchOnFunctionError too this is AWS's "bisected at the returned
//     sequence number". If records were checkpointed, the rest is a new batch
//     whose retries and approximateInvokeCount start again from zero; if the
//     lowest reported record is the batch's first, it is a retry of the same
//     batch and consumes a retry. Recorded from AWS (LocalStack
//     test_lambda_integration_kinesis.snapshot.json,
//     TestKinesisSource::test_kinesis_report_batch_item_failures): BatchSize 3,
//     MaximumRetryAttempts 3, the last of 6 records always reported failed: it is
//     delivered 5 times (once in its batch of 3, then 1 + 3 times alone) and its
//     on-failure record says approximateInvokeCount 4, functionError null;
//   - a function error with BisectBatchOnFunctionError and more than one record
//     splits the (sub)batch into the first ⌈N/2⌉ records and the rest, retried in
//     order; splitting consumes no retry [S1, S3];
//   - any other failure (function error, or a response that fails the whole
//     batch) retries the (sub)batch, consuming a retry;
//   - when MaximumRetryAttempts retries are consumed the failed records are
//     discarded with condition RetryAttemptsExhausted [S3].
func (sh *shard) process(ctx context.Context, batch []*record) error {
	s := &sh.m.s
	ctr := &sh.m.ctr
	queue := []*unit{{recs: batch}}
	for len(queue) > 0 {
		u := queue[0]
		if n := sh.expiredPrefix(u.recs); n > 0 {
			att := u.att
			att.beforeInvoke = true
			if err := sh.discard(ctx, u.recs[:n], s.ageCondition, att, &ctr.droppedAge); err != nil {
				return err
			}
			u.recs = u.recs[n:]
			if len(u.recs) == 0 {
				queue = queue[1:]
				continue
			}
		}

		inv, err := sh.m.inv.Invoke(ctx, buildEvent(u.recs))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			ctr.invokeErrors.Add(1)
			sh.m.log.Warn("invoke failed before running the function; retrying", "shardId", sh.id, "error", err)
			if !sleep(ctx, s.retryBackoff) {
				return ctx.Err()
			}
			continue
		}
		u.att = attempt{invokes: u.att.invokes + 1, functionError: inv.FunctionError, requestID: inv.RequestID}
		ctr.invocations.Add(1)
		ctr.invoked.Add(int64(len(u.recs)))

		out := classify(inv, u.recs, s.reportFailures)
		switch out.kind {
		case outcomeSuccess:
			ctr.succeeded.Add(int64(len(u.recs)))
			sh.done(u.recs)
			queue = queue[1:]
			continue
		case outcomePartial:
			ctr.partialFailures.Add(1)
			ctr.succeeded.Add(int64(out.failIndex))
			sh.done(u.recs[:out.failIndex])
			if out.failIndex > 0 {
				// The rest is a new batch whose attempts count from its own
				// first invocation, as AWS records it (see process).
				queue[0] = &unit{recs: u.recs[out.failIndex:]}
				ctr.retries.Add(1)
				sh.m.log.Debug("partial batch failure; the rest is retried as a new batch", "shardId", sh.id,
					"sequenceNumber", queue[0].recs[0].seq, "recordCount", len(queue[0].recs))
				if !sleep(ctx, s.retryBackoff) {
					return ctx.Err()
				}
				continue
			}
		case outcomeFunctionError:
			ctr.functionErrors.Add(1)
			if s.BisectBatchOnFunctionError && len(u.recs) > 1 {
				h := (len(u.recs) + 1) / 2
				first := &unit{recs: u.recs[:h], retries: u.retries}
				second := &unit{recs: u.recs[h:], retries: u.retries}
				queue = append([]*unit{first, second}, queue[1:]...)
				ctr.bisects.Add(1)
				sh.m.log.Debug("batch bisected", "shardId", sh.id, "recordCount", len(u.recs), "reason", out.reason)
				continue
			}
		case outcomeInvalidResponse:
			ctr.invalidResps.Add(1)
		}
		sh.m.log.Debug("batch failed", "shardId", sh.id, "outcome", out.kind.String(), "reason", out.reason,
			"sequenceNumber", u.recs[0].seq, "recordCount", len(u.recs), "retries", u.retries)
		if s.maxRetries != infinite && u.retries >= s.maxRetries {
			if err := sh.discard(ctx, u.recs, onfailure.ConditionRetryAttemptsExhausted, u.att, &ctr.droppedRetries); err != nil {
				return err
			}
			queue = queue[1:]
			continue
		}
		u.retries++
		ctr.retries.Add(1)
		if !sleep(ctx, s.retryBackoff) {
			return ctx.Err()
		}
	}
	return nil
}

// expiredPrefix is the number of leading records older than
// MaximumRecordAgeInSeconds, by approximateArrivalTimestamp against the Clock.
func (sh *shard) expiredPrefix(recs []*record) int {
	maxAge := sh.m.s.maxAge
	if maxAge == 0 {
		return 0
	}
	now := sh.m.now()
	n := 0
	for n < len(recs) && now.Sub(recs[n].arrival) > maxAge {
		n++
	}
	return n
}

// discard gives up on recs [S3]: it sends the on-failure record to the
// destination (retrying until it is accepted: the checkpoint never moves past
// records whose on-failure record is not sent), counts them, calls OnDiscard and
// marks them done. It fails only if ctx ends first; then the records stay
// unfinished and are delivered again after a restart.
func (sh *shard) discard(ctx context.Context, recs []*record, condition string, att attempt, reason *atomic.Int64) error {
	s := &sh.m.s
	ctr := &sh.m.ctr
	rec := newOnFailureRecord(s, sh.id, recs, condition, att, sh.m.now())
	sent := false
	if s.destination != nil {
		if err := sh.sendOnFailure(ctx, rec); err != nil {
			return err
		}
		sent = true
		ctr.onFailureMessages.Add(1)
		ctr.onFailureRecords.Add(int64(len(recs)))
	}
	sh.m.log.Warn("records discarded", "shardId", sh.id, "condition", condition,
		"startSequenceNumber", rec.KinesisBatchInfo.StartSequenceNumber,
		"endSequenceNumber", rec.KinesisBatchInfo.EndSequenceNumber,
		"recordCount", len(recs), "approximateInvokeCount", att.invokes, "onFailureSent", sent)
	ctr.dropped.Add(int64(len(recs)))
	reason.Add(int64(len(recs)))
	if hook := s.OnDiscard; hook != nil {
		seqs := make([]string, len(recs))
		for i, r := range recs {
			seqs[i] = r.seq
		}
		hook(Discard{Record: rec, SequenceNumbers: seqs, Sent: sent})
	}
	sh.done(recs)
	return nil
}
