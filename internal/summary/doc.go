// Package summary is the aggregator's domain: it reads processed objects (NDJSON
// lines written by package ingest, gzip/zstd/plain) and computes hourly summaries
// per device and for the whole fleet, and it handles the S3 ObjectCreated
// notifications that SQS delivers to the AggregatorFunction.
//
// # Summaries
//
// Each record (a line's original_data) belongs to its device (Config.DeviceField,
// default device_id) and to the UTC hour of its own event time
// (Config.TimeField, default timestamp, read by record.ParseEventTime as the
// processor's check reads it; when missing or
// invalid, the line's approximate_arrival_timestamp). Per (device, hour) and per
// (fleet, hour) a Summary holds the record count, the first and last event time,
// and per numeric field (Config.NumericFields, default temperature, humidity,
// battery_level) the count of values, their exact decimal sum, minimum and
// maximum. Sums are exact decimals (type Decimal), as DynamoDB numbers are, so
// adding and retracting contributions never accumulates rounding error.
//
// Nothing is dropped silently: lines that are not JSON objects with an
// original_data member, records without a device or without any usable time,
// and numeric fields holding non-numbers or numbers outside the summable domain
// are counted in Stats, which the aggregator logs and stores with the object's
// contribution.
//
// # Exactly-once effect
//
// Notifications arrive at least once, in any order, possibly concurrently, and an
// object key may be overwritten (a processor retry rewrites it with the same
// records, a superset, or, after bisect, a prefix whose remainder goes to another
// key). The invariant kept is: the summaries equal the aggregate of the records
// in the latest version of every processed object.
//
// The unit of work is the object, not the notification. For every notification
// the Aggregator reads the object's current version (ignoring which version the
// notification names), computes its Contribution (the object's own summaries),
// and asks the Store to make that contribution, identified by the object's ETag,
// the one applied for that key. The Store (package dynamostore) keeps one
// contribution item per object with the applied contribution and its ETag:
//
//   - the same ETag again is a duplicate and writes nothing;
//   - otherwise it applies Diff(applied, new): count and sum deltas (new − old,
//     negative when records left the object) and widened extremes, in DynamoDB
//     transactions of at most 100 actions (ChunkSize summary updates plus one
//     update of the contribution item that guards the chunk), chunked
//     deterministically in key order, so that a crashed or concurrent aggregator
//     can finish another's transition chunk by chunk without applying any chunk
//     twice.
//
// Contribution items are keyed by the object key alone, so one Aggregator serves
// one bucket: with WithBucket it acknowledges, unread, notifications of any other.
//
// Objects are independent: each has its own contribution item, and summary
// counts and sums are only ever added to, so aggregators working on different
// objects never wait for each other.
//
// After applying, the Aggregator checks the object's ETag again; if the object
// was overwritten meanwhile (or the notification was handled with a version read
// before a newer one was applied), it aggregates the newer version too. The last
// writer therefore always leaves the contribution of the latest version.
//
// # Limits
//
//   - Minimum, maximum, first and last event time are idempotent, so they are only
//     ever widened. When records leave an object for good (an overwrite with a
//     prefix whose remainder never arrives elsewhere) counts and sums are
//     retracted exactly, but an extreme that came from a removed record stays.
//     In the processor's retry patterns the removed records arrive in another
//     object, so the extremes stay exact.
//   - A deleted object's contribution stays (summaries outlive object expiry).
//   - Sums must fit DynamoDB numbers (38 significant digits; DynamoDB rejects an
//     update whose result needs more). A numeric value is summed only when it is
//     0 or |v| < 1e12 with no digit below 1e-21 (33 digits at most, see
//     summableMaxExponent); other numbers are counted per field in
//     Stats.OutOfRange and left out of n, sum, min and max (the record still
//     counts). A sum then needs more than 38 digits only past 1e17: more than
//     100,000 values at the extreme magnitude in one summary.
//   - A device ID longer than MaxDeviceIDBytes (in UTF-8, once bytes that are not
//     UTF-8 are replaced by U+FFFD as every JSON encoder on the way writes them)
//     would make a partition key over DynamoDB's 2048 bytes, which fails the whole
//     transaction: such a record counts as having no device (Stats.NoDevice). Sort
//     keys (HOUR#…, 18 bytes) and contribution keys (OBJECT#<S3 key>, at most 1031
//     bytes) are within their limits by construction.
//   - Event times are in years 0000–9999 of UTC (record.ParseEventTime rejects
//     others, so that every hour fits HOUR#2006-01-02T15); a record whose time
//     an offset moves out of them counts as InvalidTime, and the processor's
//     check quarantines it.
//   - An object's encoded contribution is at most dynamostore.MaxContributionBytes
//     (about 100,000 summary keys); a larger one is rejected with an error and its
//     message ends in the dead-letter queue.
//
// See https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
// for the notification format and
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html for
// partial batch responses.
package summary
