// Package ingest is the processor's batch logic: it turns one Kinesis batch
// (aws-lambda-go events.KinesisEvent) into one compressed NDJSON object under a
// deterministic key, quarantines the records the transform rejects, and answers with
// a partial batch response (events.KinesisEventResponse).
//
// Contract (design §3):
//
//   - Every record becomes one line: valid UTF-8 JSON is kept as raw JSON, other text
//     becomes {"message": …}, other bytes {"data_base64": …} (package record). A KPL
//     aggregated record becomes one line per user record (package kpl), each with
//     its own partition key and its index as "sub_sequence_number".
//   - The Transform is the seam for business logic. A record it rejects is written,
//     with the reason, to the batch's quarantine object and processing continues: a
//     poison record never blocks the shard and is never lost.
//   - The processed object's key is
//     <prefix>/year=YYYY/month=MM/day=DD/hour=HH/<shardId>-<firstSequenceNumber>.ndjson.gz
//     (arrival time and sequence number of the batch's first record). Lambda retries
//     a batch from its first unprocessed record, so a retry either starts at the same
//     record and overwrites the same key, or starts later and writes a new key: no
//     record is in two latest object versions. The exception, which no key choice
//     avoids: an invocation that stored its object and then failed (a timeout or a
//     crash after the PUT) is bisected, its first half fails until its retries run
//     out without storing anything, and its second half succeeds: the first object
//     still holds the whole batch (README, "Output format").
//   - The records a batch quarantines share one quarantine object, in stream order,
//     each line with "processed": false and "error": the reason (so a flood of bad
//     records costs one PUT, not one per record):
//     <quarantinePrefix>/year=…/hour=HH/<shardId>-<firstQuarantinedSequenceNumber>.ndjson.gz,
//     keyed by the arrival time and sequence number of the first record the batch
//     quarantines; its metadata has the record count and the first and last
//     quarantined sequence numbers. No quarantine object is written for a batch
//     that quarantines nothing. Keying by the first quarantined record rather than
//     by the batch's first record gives the processed objects' retry rule without
//     an extra PUT per batch: a retry from the same record (a superset, or after
//     bisect a prefix, of the batch) that quarantines anything starts its
//     quarantine at the same record and overwrites the object; a bisected first
//     half that does not reach that record quarantines nothing (no earlier record
//     was rejected), and the half that holds it starts its quarantine at it again
//     and overwrites the object with the records it now covers. Keyed by the batch's
//     first record, a retried prefix that quarantines nothing would leave the
//     earlier attempt's object in place while the other half stored its records
//     again under a new key. This relies on the Transform rejecting the same records
//     again (its errors are permanent by contract).
//   - When a write fails (S3 throttling, 5xx, timeout) the handler returns
//     batchItemFailures naming the first record that is not durably stored. Because
//     the batch's records share one object keyed by its first record, a record of a
//     batch counts as durably stored only when both objects of the batch are: so the
//     reported record is the batch's first, and Lambda's retry from it rewrites the
//     same keys. Reporting a later record would make the retry store the records
//     after it again under a new key (duplicates). The writes stop DeadlineMargin
//     before the invocation's deadline, so that a slow S3 ends in that response
//     rather than in a function timeout.
//   - An event that is not a Kinesis event is a function error with a clear message,
//     and so is one with a member of the event's fields twice in one object
//     ("Records" and "records", two "data" members in a record): encoding/json would
//     keep the last one and lose the others' records without a word.
//     The handler never panics on input.
//
// Performance: the function's handler is the Processor itself (Invoke implements
// aws-lambda-go's lambda.Handler), so that the event is not first decoded into a
// json.RawMessage, and HandleJSON decodes the event Lambda delivers with a
// single-pass decoder (event.go) that allocates nothing per record; any other
// shape, errors included, goes through encoding/json, so behaviour is unchanged
// (FuzzDecodeEvent checks that both decode the same). The decoder learns the text
// of an event's first record and decodes every later record that has the same
// text around its own values (eventID, sequence number, partition key, data,
// arrival time) with a comparison per stretch of text. With the default
// transform, a batch's payloads are checked against the shape of the last JSON
// payload (record.PayloadScanner) and the event time is found in that same pass;
// lines are formatted with what a batch shares prepared once (record.LineFormat)
// and reach the compressor in 32 KiB chunks. Each of these fast paths gives the
// general path's result byte for byte, which fuzz tests check. Buffers are
// pooled. `make bench` measures it.
//
// See https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
// for the partial batch response.
package ingest
