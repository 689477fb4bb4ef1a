// Package ndjson owns the format of the objects the pipeline stores in S3, for
// the processor and redrive that write them and for the aggregator and the
// local run's report that read them back:
//
//   - The body is NDJSON (one record per line, package record formats a line),
//     compressed with gzip or zstd, or plain. The key's extension names the
//     compression (.ndjson.gz, .ndjson.zst, .ndjson), so a reader chooses the
//     decompressor from the key alone (CompressionOf, NewReader), as Athena does;
//     the Content-Type says the same for other readers.
//   - Keys are deterministic and Hive-partitioned by the arrival hour of the
//     object's first record:
//     <prefix>/year=YYYY/month=MM/day=DD/hour=HH/<shardId>-<sequenceNumber><ext>
//     (ObjectKey). Processed records go under DefaultProcessedPrefix, the records
//     a transform rejects under DefaultQuarantinePrefix; a writer with a prefix
//     of its own puts its rejects under QuarantinePrefixFor(prefix).
//   - A line is at most MaxLineBytes long: a Kinesis record holds at most 10 MiB,
//     which base64 and the line's metadata grow by about a third.
//
// The compressors are klauspost/compress's gzip and zstd, which are faster than
// the standard library's at equal output; gzip runs at level 1 and zstd at its
// fastest level with one goroutine, since a Lambda function has little CPU to
// spare. Encoders are reusable (Reset) and meant to be pooled by their caller.
//
// See https://docs.aws.amazon.com/athena/latest/ug/compression-formats.html for
// the extensions Athena reads and https://github.com/ndjson/ndjson-spec.
package ndjson
