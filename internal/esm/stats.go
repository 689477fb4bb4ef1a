package esm

import (
	"sort"
	"sync/atomic"
)

// Stats is a snapshot of a mapping's counters since New, summed over runs. The
// names follow the ESM metrics where one exists [S7]: PolledEventCount,
// FilteredOutEventCount, InvokedEventCount, FailedInvokeEventCount,
// DroppedEventCount, OnFailureDestinationDeliveredEventCount.
//
// Every polled record ends up in exactly one of FilteredRecords,
// SucceededRecords or DroppedRecords, or is still pending in a shard.
type Stats struct {
	PolledRecords    int64 // records read from the stream (PolledEventCount)
	FilteredRecords  int64 // records FilterCriteria rejected (FilteredOutEventCount)
	InvokedRecords   int64 // records sent to the function, counting each delivery (InvokedEventCount)
	SucceededRecords int64 // records checkpointed after a successful invocation

	Invocations      int64 // invocations that ran (host errors excluded)
	FunctionErrors   int64 // invocations that failed with a function error
	PartialFailures  int64 // invocations answered with valid batchItemFailures
	InvalidResponses int64 // invocations whose partial batch response failed the whole batch
	InvokeErrors     int64 // host errors (Invoker returned an error); retried, not counted as retries
	Retries          int64 // re-invocations of a (sub)batch after a failure
	Bisects          int64 // batches split in two

	DroppedRecords         int64 // records discarded, all reasons (with an on-failure destination, DroppedEventCount counts those of them it could not describe there)
	DroppedRetries         int64 // … because MaximumRetryAttempts was reached
	DroppedRecordAge       int64 // … because of MaximumRecordAgeInSeconds
	DroppedPayloadTooLarge int64 // … because one record exceeds the payload cap

	OnFailureMessages   int64 // on-failure records sent to the destination
	OnFailureRecords    int64 // records covered by them (OnFailureDestinationDeliveredEventCount)
	OnFailureSendErrors int64 // failed SendMessage attempts (each retried)

	KinesisErrors         int64 // failed Kinesis calls (retried)
	IteratorRefreshes     int64 // expired shard iterators replaced
	CheckpointWriteErrors int64 // failed checkpoint file writes (retried)

	// Shards describes each shard of the current or last run, by shard id.
	Shards []ShardStats
}

// ShardStats describes one shard.
type ShardStats struct {
	ShardID string
	// Checkpoint is the last sequence number done with every record before it
	// ("" if none): a restart resumes after it.
	Checkpoint string
	// LastSequenceRead is the last sequence number read from the shard.
	LastSequenceRead string
	// PendingRecords is the number of records read and not yet checkpointed.
	PendingRecords int
	// MillisBehindLatest is the last GetRecords MillisBehindLatest (the iterator
	// age: how far the reader is behind the tip of the shard).
	MillisBehindLatest int64
	// Closed reports that the shard was closed by resharding and read to its end.
	Closed bool
}

// counters are the mapping's live counters; every field is updated atomically.
type counters struct {
	polled, filtered, invoked, succeeded                       atomic.Int64
	invocations, functionErrors, partialFailures, invalidResps atomic.Int64
	invokeErrors, retries, bisects                             atomic.Int64
	dropped, droppedRetries, droppedAge, droppedTooLarge       atomic.Int64
	onFailureMessages, onFailureRecords, onFailureSendErrors   atomic.Int64
	kinesisErrors, iteratorRefreshes, checkpointWriteErrors    atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		PolledRecords:          c.polled.Load(),
		FilteredRecords:        c.filtered.Load(),
		InvokedRecords:         c.invoked.Load(),
		SucceededRecords:       c.succeeded.Load(),
		Invocations:            c.invocations.Load(),
		FunctionErrors:         c.functionErrors.Load(),
		PartialFailures:        c.partialFailures.Load(),
		InvalidResponses:       c.invalidResps.Load(),
		InvokeErrors:           c.invokeErrors.Load(),
		Retries:                c.retries.Load(),
		Bisects:                c.bisects.Load(),
		DroppedRecords:         c.dropped.Load(),
		DroppedRetries:         c.droppedRetries.Load(),
		DroppedRecordAge:       c.droppedAge.Load(),
		DroppedPayloadTooLarge: c.droppedTooLarge.Load(),
		OnFailureMessages:      c.onFailureMessages.Load(),
		OnFailureRecords:       c.onFailureRecords.Load(),
		OnFailureSendErrors:    c.onFailureSendErrors.Load(),
		KinesisErrors:          c.kinesisErrors.Load(),
		IteratorRefreshes:      c.iteratorRefreshes.Load(),
		CheckpointWriteErrors:  c.checkpointWriteErrors.Load(),
	}
}

// Stats returns a snapshot of the counters and of the shards of the current (or
// last) run. It is safe to call concurrently with Run, at any time.
func (m *KinesisMapping) Stats() Stats {
	st := m.ctr.snapshot()
	m.mu.Lock()
	shards := m.shards
	m.mu.Unlock()
	for _, sh := range shards {
		cp, last := sh.tr.state()
		st.Shards = append(st.Shards, ShardStats{
			ShardID:            sh.id,
			Checkpoint:         cp,
			LastSequenceRead:   last,
			PendingRecords:     sh.tr.pending(),
			MillisBehindLatest: sh.millisBehind.Load(),
			Closed:             sh.closed.Load(),
		})
	}
	sort.Slice(st.Shards, func(i, j int) bool { return st.Shards[i].ShardID < st.Shards[j].ShardID })
	return st
}

// SQSStats is a snapshot of an SQS mapping's counters since NewSQS, summed over
// runs. The names follow the ESM metrics where one exists [S7]:
// PolledEventCount, InvokedEventCount, FailedInvokeEventCount,
// DeletedEventCount.
//
// Every received message is in exactly one of DeletedMessages, FailedMessages,
// ReleasedMessages, DeleteFailedMessages or InFlightMessages. A message
// delivered n times is counted n times.
type SQSStats struct {
	ReceivedMessages     int64 // messages received, each receipt counted (PolledEventCount)
	InvokedMessages      int64 // messages sent to the function, each delivery counted (InvokedEventCount)
	DeletedMessages      int64 // messages deleted after their successful processing (DeletedEventCount)
	FailedMessages       int64 // messages left to the visibility timeout after a failure (FailedInvokeEventCount)
	ReleasedMessages     int64 // messages given back unprocessed: host errors until the visibility timeout, or the mapping stopped
	DeleteFailedMessages int64 // processed messages that could not be deleted; they are delivered again
	InFlightMessages     int64 // messages held by the mapping now

	Invocations      int64 // invocations that ran (host errors excluded)
	FunctionErrors   int64 // invocations that failed with a function error
	PartialFailures  int64 // invocations answered with valid batchItemFailures
	InvalidResponses int64 // invocations whose partial batch response failed the whole batch
	InvokeErrors     int64 // host errors (Invoker returned an error)
	LargestBatch     int64 // the most messages one invocation held

	ReceiveCalls  int64 // ReceiveMessage calls
	EmptyReceives int64 // ReceiveMessage calls that returned no message
	SQSErrors     int64 // failed SQS calls (retried)

	// RecoveredMessages counts messages a previous process held when it died,
	// made visible again at the start of a run (ReceiptFile).
	RecoveredMessages int64
	// ReceiptFileErrors counts failed ReceiptFile writes.
	ReceiptFileErrors int64
}

// sqsCounters are an SQS mapping's live counters; every field is updated
// atomically.
type sqsCounters struct {
	received, invoked, deleted, failed, released, deleteFailed     atomic.Int64
	invocations, functionErrors, partialFailures, invalidResps     atomic.Int64
	invokeErrors, maxBatch, receiveCalls, emptyReceives, sqsErrors atomic.Int64
	recovered, receiptFileErrors                                   atomic.Int64
}

// Stats returns a snapshot of the counters. It is safe to call concurrently
// with Run, at any time; counters read while messages are being settled may
// be a moment apart.
func (m *SQSMapping) Stats() SQSStats {
	c := &m.ctr
	return SQSStats{
		ReceivedMessages:     c.received.Load(),
		InvokedMessages:      c.invoked.Load(),
		DeletedMessages:      c.deleted.Load(),
		FailedMessages:       c.failed.Load(),
		ReleasedMessages:     c.released.Load(),
		DeleteFailedMessages: c.deleteFailed.Load(),
		InFlightMessages:     m.inflight.Load(),
		Invocations:          c.invocations.Load(),
		FunctionErrors:       c.functionErrors.Load(),
		PartialFailures:      c.partialFailures.Load(),
		InvalidResponses:     c.invalidResps.Load(),
		InvokeErrors:         c.invokeErrors.Load(),
		LargestBatch:         c.maxBatch.Load(),
		ReceiveCalls:         c.receiveCalls.Load(),
		EmptyReceives:        c.emptyReceives.Load(),
		SQSErrors:            c.sqsErrors.Load(),
		RecoveredMessages:    c.recovered.Load(),
		ReceiptFileErrors:    c.receiptFileErrors.Load(),
	}
}
