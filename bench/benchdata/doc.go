// Package benchdata builds the deterministic inputs of `make bench`: Kinesis events
// of seeded sensor readings (package sensor), as an event source mapping delivers
// them to the processor (compact JSON, base64 data, one shard, AWS-shaped sequence
// numbers). The Go benchmarks and the Python recipe benchmark read the same events,
// so their figures are for the same records.
package benchdata
