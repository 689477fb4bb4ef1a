// Package record turns one Kinesis record into one output line: it classifies the
// payload (JSON, text or binary), appends the enriched NDJSON line the processor
// stores, and compares Kinesis sequence numbers.
//
// It is domain code: no AWS SDK, no I/O, and no allocation on the hot path. Payloads
// that are valid JSON are copied through compacted (encoding/json.Compact), never
// decoded into map[string]any and re-encoded, which would be slow and reorder keys.
//
// JSON validation uses a hand-written single-pass scanner (valid.go) instead of
// encoding/json.Valid. It is justified by measurement: json.Valid, a general state
// machine that makes a function call per byte, ran at about 300 MB/s and was the
// largest cost of the processor's hot path, while the scanner, with a table-driven
// loop inside strings, is four to five times faster on sensor payloads (`go test
// -bench ScanJSON`), and it also tells whether a payload is already compact, so
// that most payloads skip json.Compact. It gives json.Valid's answer for every
// input, which FuzzScanJSON checks (with json.Compact for the compactness answer);
// values nested deeper than 64 levels are handed to json.Valid itself.
//
// The processor's hot path has two more hand-written helpers, for the same
// reason (no library offers them, and `make bench`'s step figures show what
// they save): PayloadScanner checks the payloads of a batch against the shape
// of a compact JSON payload (the text between its string and number values)
// instead of scanning each in full, about half the scan's cost on sensor
// payloads, and finds the event-time member in the same pass; LineFormat
// prepares what a batch's lines share (processing time, shard, the arrival
// second) once. FuzzPayloadScanner and FuzzLineFormat check that they give
// AppendPayloadMember's and AppendLine's results byte for byte.
//
// The line format keeps the field names of the classic Kinesis-to-S3 Lambda recipe
// (original_data, processing_timestamp, partition_key, sequence_number, event_id,
// processed) so its consumers keep working, and adds shard_id and
// approximate_arrival_timestamp.
package record
