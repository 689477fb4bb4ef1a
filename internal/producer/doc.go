// Package producer puts records into an Amazon Kinesis data stream with PutRecords,
// batching them within the API limits and retrying only the entries that failed.
//
// It follows the PutRecords API reference
// (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html) and the
// Kinesis quotas (https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html):
//
//   - A call carries at most 500 records and at most MaxBytesPerCall bytes, partition
//     keys included. The default, 5 MiB, is the classic request limit: AWS now accepts
//     10 MiB (WithMaxBytesPerCall raises it), but emulators such as moto still
//     enforce 5 MiB.
//   - A record (data plus partition key) larger than the stream's maximum record size
//     (DescribeStreamSummary's MaxRecordSizeInKiB, or 1 MiB when absent) is rejected
//     with an error before anything is sent. So is a partition key that is empty or
//     longer than 256 characters, and an explicit hash key that is not a decimal
//     number from 0 to 2^128-1 without leading zeros (which Kinesis would refuse for
//     the whole call, with ValidationException or InvalidArgumentException).
//   - PutRecords is not atomic: entries fail one by one with ErrorCode
//     ProvisionedThroughputExceededException or InternalFailure. Only those entries
//     are sent again, after an exponential backoff with full jitter
//     (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/),
//     up to MaxAttempts sends per record. A whole call that fails with a retryable
//     error (throttling, 5xx, connection errors; after the SDK's own retries) counts
//     as a failed attempt for every record in it. Other errors stop Put at once.
//   - Records that are still not accepted after MaxAttempts are reported as
//     undelivered: Put returns them in Result.Undelivered and an error that wraps
//     ErrUndelivered. Nothing is dropped silently.
//
// # Ordering
//
// Kinesis keeps the order of records with the same partition key only as they are
// accepted, and PutRecords gives no order across the entries of one call: when an
// entry fails and a later entry with the same key succeeds, resending the first one
// puts it behind the second. By default the producer favours throughput and does not
// guard against this, so per-key order may change where retries happen.
//
// WithOrdered(true) keeps per-key order exactly, even with retries: a call carries
// at most one record per partition key, and the next record of a key is sent only
// after the previous one was accepted (or given up on). The price is throughput: with
// K distinct partition keys in flight a call holds at most K records, so a fleet of 5
// devices moves 5 records per round trip instead of 500. Ordered mode suits few, busy
// keys only when their rate is low; otherwise use many keys or the default mode. If a
// record of a key is given up on, the later records of that key are still sent, in
// order, and the undelivered one is reported.
//
// # Rate
//
// WithRate limits the records per second sent (retried entries count) with a token
// bucket; calls are then sized so that about ten go out per second.
//
// # Using it in-process
//
// The local pipeline and tests call the producer directly:
//
//	client := kinesis.NewFromConfig(cfg) // *kinesis.Client satisfies API
//	p := producer.New(client, "streamlake-sensor-stream", producer.WithOrdered(true))
//	res, err := p.Put(ctx, records) // blocks until every record is accepted or given up
//
// Use package sensor to generate the records: Record{PartitionKey: r.PartitionKey(),
// Data: r.AppendJSON(nil)}.
package producer
