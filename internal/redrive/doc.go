// Package redrive replays the Kinesis records that an event source mapping gave up
// on. It reads the on-failure records that Lambda sent to the failure queue (SQS),
// re-reads exactly the records of each record's range from the stream, writes them
// to S3 (in the processor's format, under a separate prefix) or back into the
// stream, and deletes a message only after its records are durably written.
//
// It follows the AWS documentation of on-failure destinations for Kinesis
// (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html):
// an SQS on-failure record carries metadata only (KinesisBatchInfo: shardId,
// startSequenceNumber, endSequenceNumber, streamArn, …), and the records are read
// with GetShardIterator AT_SEQUENCE_NUMBER startSequenceNumber, then GetRecords up
// to and including endSequenceNumber (sequence numbers compared as integers),
// before the stream's retention trims them.
//
// # Delivery semantics
//
//   - To S3 (ToS3): the records of a range are written through package ingest, so the
//     objects have the processed output's format and deterministic keys, one per
//     chunk, named by the chunk's first and last records
//     (<prefix>/year=…/hour=…/<shardId>-<first>-<last>.ndjson.gz, ingest's
//     KeyByRange). Running redrive again (with the same S3Config and Filter: the
//     CLI takes them from the same template, which for a local run's queue is the
//     run's unless --template names one), or
//     after a crash between the write and the delete, overwrites the same keys: the
//     latest object versions hold each of a message's records once (the records two
//     messages' ranges share are held under both; see below). The records the
//     transform rejects go to one quarantine object per chunk, keyed the same way.
//     Two overlapping ranges' chunks share a key only when they hold the same
//     records: keyed by their first record alone (as the processor keys its
//     objects, whose retries start at the same record), a shorter chunk of one
//     message that starts where a chunk of the other does would replace it, and
//     the records only the longer one held would be in no latest version.
//   - To the stream (ToStream): the records are put again with their partition keys
//     (new sequence numbers; explicit hash keys are not preserved, except that a
//     KPL aggregate is put with the one the KPL gives it, kpl.HashKey). This is
//     at-least-once: a rerun after a crash between the put and the delete puts them
//     again, and the processor then stores them again under new keys.
//   - A message is deleted only after all of its range's records were written; a
//     message whose range cannot be re-read completely stays in the queue and is
//     reported. Redrive is therefore safe to rerun.
//   - A run holds every message it receives (up to 10 at a time, handled one after
//     another) hidden: it extends their visibility timeout every third of it
//     (ChangeMessageVisibilityBatch) until each is deleted or, at the end of the
//     run, made visible again. So a second run at the same time, or the same run,
//     does not redrive a message that is being redriven, however long its range
//     takes (up to SQS's 12 hours). If the run crashes, its messages reappear
//     after one visibility timeout.
//   - A run handles a message once. Received again (it reappeared because its
//     visibility timeout lapsed while the run held it, as when extending it
//     fails, or the queue delivered it twice), it is only hidden again and, if
//     its records were written but its delete did not take, deleted with the
//     new receipt handle; it is not read or written again, and it counts once
//     in MessagesRead and toward Max. MessageResult.Received and
//     Summary.ReceivedAgain count the receives, and Summary.VisibilityError
//     says why the extensions failed (sqs:ChangeMessageVisibility refused, …).
//   - The run ends when a receive returns no message, when it has handled Max
//     messages, or when for one WaitTime every receive returns only messages it
//     has already received. Without that last rule, a message it left in the
//     queue that reappears within every receive's wait (extensions failing and a
//     visibility timeout not longer than the wait, as --visibility-timeout 1s
//     allows) would keep the run going for ever. A message it has not received
//     by then (a receive returns at most 10, and need not return every visible
//     one) stays in the queue for the next run, as with Max.
//
// # Ranges hold more than the failed records
//
// A range is the sequence numbers from the first to the last record of the failed
// batch. The records between them that the mapping did not put in that batch are
// re-read and redriven too: records its FilterCriteria dropped, and, with
// ParallelizationFactor > 1, records of other partition keys that were processed
// (and stored) by a concurrent batch, as in AWS. Redrive writes the whole range;
// for those records it is at-least-once. So are the records in the overlap of two
// messages' ranges: with ParallelizationFactor > 1, two failed batches of one shard
// can interleave, and each message's objects hold the shared records. That is why
// redriven records go to their own prefix (default "redriven/") instead of
// "processed/": a consumer that needs exactly-once joins them on
// (shard_id, sequence_number, sub_sequence_number), as the user records of a
// KPL aggregate share its sequence number. Options.Filter skips
// the records the mapping's FilterCriteria drops, and Options.Stored those that
// the processor's latest objects already hold (a failed batch's range can name
// stored records: see Stored), so that with ParallelizationFactor 1 exactly the
// failed batch's records that no object holds are redriven.
//
// # Expired ranges
//
// A range is expired when the stream no longer holds its first record: the first
// record read is after startSequenceNumber (retention trimmed it), no record at
// or after it is left, or GetShardIterator fails because the stream, shard or
// sequence number is gone (ResourceNotFoundException, InvalidArgumentException).
//
// A range is also expired when retention trims it while it is being read. A shard
// iterator lives 5 minutes; when one expires mid-range (a slow write), the reader
// renews it AT_SEQUENCE_NUMBER the last record read, and the first record must be
// that one again (it is skipped). Kinesis does not refuse a trimmed sequence
// number but starts at the oldest record left, so any other first record, or none,
// means that records of the range are gone; AFTER_SEQUENCE_NUMBER would have
// skipped them without a sign. Replay renews its iterators the same way and fails
// the shard.
//
// Expired messages are reported and left in the queue, never deleted, so that
// nothing disappears silently; delete them by hand once accounted for. As when
// the first record is gone, nothing more of the range is written once the gap is
// found. Chunks written before it (a range longer than ChunkRecords) are not
// undone: they hold records of the range once each, under the keys a complete
// redrive would have written (put back into the stream with ToStream), and the
// result lists them (Objects, RecordsWritten), so that they can be accounted for
// with the message.
//
// # Throttling
//
// The reads share each shard's read limits (5 GetRecords and 5 GetShardIterator
// calls a second) with the event source mapping. A read that Kinesis throttles
// (ProvisionedThroughputExceededException, KMSThrottlingException) after the
// SDK's own retries is tried again, waiting 1 s, then twice as long up to 10 s,
// for about a minute in all, before the message (or replay's shard) fails.
//
// # Replay from a point in time
//
// Replay re-reads every shard of a stream from a point in time
// (GetShardIterator AT_TIMESTAMP) up to a second one and writes the records with
// the same writers, under their own prefix (default "replayed/"): the way to
// reprocess a time range after fixing a bug, without touching the event source
// mapping. The first record at or after the start time anchors the chunks, so a
// rerun with the same times writes the same keys.
package redrive
