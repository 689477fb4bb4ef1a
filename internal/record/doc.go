// Package record turns one Kinesis record into one output line: it classifies the
// payload (JSON, text or binary), appends the enriched NDJSON line the processor
// stores, and compares Kinesis sequence numbers.
//
// It is domain code: no AWS SDK, no I/O, and no allocation on the hot path. Payloads
// that are valid JSON are copied through compacted (encoding/json.Compact), never
// decoded into map[string]any and re-encoded, which would be slow and reorder keys.
//
// The line format keeps the field names of the classic Kinesis-to-S3 Lambda recipe
// (original_data, processing_timestamp, partition_key, sequence_number, event_id,
// processed) so its consumers keep working, and adds shard_id and
// approximate_arrival_timestamp.
package record
