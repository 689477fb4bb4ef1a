// Package esm emulates AWS Lambda event source mappings (ESMs) for Amazon Kinesis
// Data Streams and Amazon SQS standard queues, so that a Kinesis- or
// SQS-triggered function can run locally with the batching, filtering,
// partial-failure, bisect, retry, visibility-timeout and on-failure behaviour of
// the real service.
//
// A KinesisMapping polls every shard of a stream (standard iterators, not enhanced
// fan-out), parents before children after a reshard, applies FilterCriteria to each record before batching, groups records
// into batches of one shard (BatchSize, MaximumBatchingWindowInSeconds, the 6 MB
// synchronous invoke payload), runs ParallelizationFactor concurrent lanes per
// shard keyed by partition key, invokes the function synchronously through an
// Invoker, interprets ReportBatchItemFailures responses, bisects and retries
// failed batches, discards records by MaximumRetryAttempts and
// MaximumRecordAgeInSeconds, sends the exact on-failure record to an SQS
// destination, and persists per-shard checkpoints so that a restarted mapping
// resumes where it stopped.
//
// The behaviour follows these AWS pages (cited in doc comments as [S1]…[S10]):
//
//   - [S1] Lambda parameters for Kinesis ESMs:
//     https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html
//   - [S2] Partial batch response with Kinesis:
//     https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
//   - [S3] Retain discarded batch records (on-failure destinations):
//     https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
//   - [S5] Event filtering:
//     https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html and
//     https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html
//   - [S7] CreateEventSourceMapping API:
//     https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
//   - [S8] Kinesis Data Streams API reference:
//     https://docs.aws.amazon.com/kinesis/latest/APIReference/
//   - [S9] Using Lambda with Kinesis (polling, batching, event shape):
//     https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
//   - [S10] aws-lambda-go event types (events.KinesisEvent,
//     events.KinesisEventResponse): https://github.com/aws/aws-lambda-go/tree/main/events
//
// Where AWS's documentation is silent, behaviour recorded against real AWS
// accounts by other projects' snapshot tests wins (LocalStack,
// tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_kinesis.snapshot.json
// and test_lambda_integration_sqs.snapshot.json; replayed by
// conformance_recorded_test.go):
//
//   - with ReportBatchItemFailures a response of "" (an empty JSON string) or
//     [] (an empty list) is complete success, like null, {} and an empty or null
//     batchItemFailures (test_kinesis_report_batch_item_success_scenarios);
//   - after a partial batch response that checkpointed some records, the rest is
//     retried as a new batch whose retries and approximateInvokeCount count
//     from its own first invocation: BatchSize 3, MaximumRetryAttempts 3 and the
//     last of 6 records always reported failed deliver it 5 times, and its
//     on-failure record says approximateInvokeCount 4
//     (test_kinesis_report_batch_item_failures);
//   - records discarded for age use condition "RecordAgeExceeded" and their
//     on-failure record has no responseContext key; approximateInvokeCount is
//     the invocations so far plus the attempt not made, so 1 for records that
//     expired before any invocation (test_kinesis_maximum_record_age_exceeded);
//   - SQS events carry "md5OfMessageAttributes": null for messages without
//     message attributes when MaximumBatchingWindowInSeconds is at least 1, and
//     no such key with a window of 0 (test_sqs_event_source_mapping and others).
//
// Where neither documents nor recordings settle a behaviour the package follows
// the project's decisions:
//
//   - an itemIdentifier that is a well-formed sequence number but not one of the
//     batch's fails the whole batch (no document or recording covers it: the
//     recording with itemIdentifier 123 sends a number, which fails the batch as
//     a malformed identifier; other emulators differ, one ignoring such an
//     identifier, one failing the batch);
//   - a response that is neither an object nor "", [] or null (a non-empty
//     string or list, a number) fails the whole batch;
//   - bisect splits a batch of N records into the first ⌈N/2⌉ records and the rest,
//     first half first, and each half starts its own invocation count
//     (approximateInvokeCount reports the attempts of the (sub)batch reported);
//   - the age condition string is configurable (Config.RecordAgeCondition);
//   - a record whose one-record event exceeds the invoke payload cap is sent to the
//     on-failure destination without invoking, with condition
//     "MaximumPayloadSizeExceeded" (the condition AWS documents for Kafka batches
//     over the payload limit), shaped like an age discard (approximateInvokeCount
//     1, no responseContext).
//
// Known differences, kept because AWS does not state its rule:
//
//   - retries of a failed batch are RetryBackoff (100 ms) apart, for speed; AWS
//     backs off (a recording with infinite retries and a 60 s record age shows
//     approximateInvokeCount 8), so an age discard after many retries reports a
//     larger approximateInvokeCount here;
//   - after a bisect each discarded (sub)batch gets its own on-failure record
//     covering its records; AWS "consolidates failed messages metadata" there,
//     so its batchSize can be above 1 (AWS::Lambda::EventSourceMapping,
//     BisectBatchOnFunctionError), by an unstated rule. Redrive handles either.
//
// Further emulator choices, each documented where it is implemented:
//
//   - bisected halves inherit the retries already consumed, so
//     MaximumRetryAttempts bounds the work on a poison record;
//   - a partial batch response whose lowest reported record is the batch's
//     first is a retry of the same batch and consumes a retry;
//   - a response that fails the whole batch (malformed JSON, bad itemIdentifier)
//     is retried without bisecting, as it is not a function error;
//   - resharding: the shards are listed when Run starts, every
//     DiscoveryInterval and whenever a shard is read to its end; a child shard
//     is read from its start only after its parents (both, after a merge) are
//     read to their end, every record of theirs is done and the parent is
//     checkpointed as finished (Lambda's SHARD_END), so per-partition-key order
//     holds across a split or merge and a restart neither reads a finished
//     parent again nor a child before its parent. A closed shard ends at a
//     null NextShardIterator, or, for emulators that never return one, at an
//     empty caught-up read past its EndingSequenceNumber; shards that already
//     exist when a new mapping starts take its StartingPosition (an
//     AT_TIMESTAMP or LATEST mapping created after a reshard does not read
//     the children's older records), while children created later are read
//     from their start;
//   - an enhanced fan-out consumer ARN as EventSourceArn is accepted: the
//     consumer must be registered and ACTIVE, and the mapping reads the
//     consumer's stream with GetRecords (the emulator has no SubscribeToShard);
//     events and on-failure records name the stream's ARN;
//   - the checkpoint file also remembers where each shard was first read from,
//     so StartingPosition applies to a shard's first read only, as in AWS;
//   - a FIFO queue as the on-failure destination is refused when the mapping
//     is configured (AWS documents standard queues only for DynamoDB Streams
//     mappings and is silent for Kinesis; see OnFailureDestination).
//
// Delivery is at-least-once: records after the last persisted checkpoint may be
// delivered again after a restart, exactly as with AWS.
//
// # SQS
//
// An SQSMapping runs concurrent pollers over a standard queue: each long-polls
// ReceiveMessage (up to 10 messages a call, all attributes), gathers up to
// BatchSize messages (1–10,000) within MaximumBatchingWindowInSeconds and the
// 6 MB payload, invokes the function with the events.SQSEvent Lambda delivers,
// and deletes what was processed: everything after a success, everything but the
// reported messageIds after a partial batch response (ReportBatchItemFailures),
// nothing after a function error. Messages not deleted come back when the queue's
// visibility timeout expires; the queue's RedrivePolicy, applied by SQS, moves a
// message to its dead-letter queue after maxReceiveCount receives. It follows:
//
//   - [Q1] Using Lambda with Amazon SQS (polling, event shape):
//     https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
//   - [Q2] Parameters for SQS event source mappings (BatchSize,
//     MaximumBatchingWindowInSeconds):
//     https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html
//   - [Q3] Scaling and MaximumConcurrency:
//     https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
//   - [Q4] Amazon SQS API reference (ReceiveMessage, DeleteMessageBatch):
//     https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/
//   - [Q5] Handling errors for an SQS event source, partial batch responses:
//     https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
//   - [Q6] Amazon SQS dead-letter queues:
//     https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
//
// Emulator choices for SQS, each documented where it is implemented: FIFO queues
// and FilterCriteria are not emulated; the number of pollers is fixed (Pollers,
// capped by MaximumConcurrency) instead of scaling; a stopping mapping makes
// the messages it received but did not invoke visible again at once.
package esm
