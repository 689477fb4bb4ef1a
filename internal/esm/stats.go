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

	DroppedRecords         int64 // records discarded, all reasons (DroppedEventCount)
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
