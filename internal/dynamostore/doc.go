// Package dynamostore is the aggregator's adapter to AWS: a summary.Store on one
// DynamoDB table, which applies each object's contribution to the hourly
// summaries with an exactly-once effect, and the queries the CLI and reports use.
// The objects it summarizes are read by package s3store.
//
// # Table layout (pk, sk: strings)
//
//	DEVICE#<id>  / HOUR#2006-01-02T15        device summary
//	FLEET        / HOUR#2006-01-02T15        fleet summary
//	OBJECT#<key> / CONTRIBUTION              one per processed object
//	OBJECT#<key> / BLOB#<revision>#<part>    its encoded contribution
//
// A summary item holds count, first, last (RFC 3339, fixed nine-digit fraction so
// that string order is time order) and per numeric field <field>_n, <field>_sum,
// <field>_min, <field>_max. A device's hours are one Query (sk BETWEEN) away.
//
// A contribution item is small: rev (its revision), etag (of the object version
// whose contribution the summaries reflect), appliedRev and appliedParts (where
// that contribution's encoding is: blob items of at most 300 KiB, so an object
// may touch tens of thousands of summary keys), the object's line statistics
// (stats, records, skipped), and, during a transition, pendingEtag,
// pendingParts, pendingChunks, chunkSize and done (the set of applied chunks).
//
// # Protocol
//
// Apply(object, etag, new) loops:
//
//  1. Read the contribution item (consistent read).
//  2. If a transition is pending (left by a crash, a timeout or a concurrent
//     aggregator), finish it: read the applied and pending contributions from
//     their blob items, recompute the chunks (Diff and Chunks are
//     deterministic), apply each chunk i not in done in a transaction whose
//     contribution-item action is "ADD done {i}" under the condition
//     "rev = R AND NOT contains(done, i)", then finalize under
//     "rev = R AND size(done) = chunks": etag := pendingEtag, the pending blob
//     becomes the applied one, rev := R+1, and the old blob items are deleted in
//     the same transaction. Go to 1.
//  3. If etag equals the applied ETag, it is a duplicate: done, nothing written.
//  4. Otherwise compute Diff(applied, new). When it fits one transaction (at most
//     ChunkSize changes, plus the contribution item, the new blob items and the
//     deletion of the old ones: at most 100 actions) it is one transaction under
//     "rev = R AND no pending transition" (or "no item" for a new object).
//     Otherwise a first transaction records the pending transition (rev := R+1,
//     the new blob items, the chunk count) under the same condition, and the
//     chunks and the finalization follow as in step 2.
//
// Every write is conditioned on the contribution item's revision, and a
// transaction is all or nothing, so a chunk is applied at most once whatever
// crashes or races happen, blob items are never orphaned, and any aggregator that
// reads the item can complete a transition another one began. A failed condition,
// a cancelled transaction or a write rejected for an ongoing transaction
// (TransactionConflictException) means somebody else moved the item: Apply re-reads
// it and continues from what it finds (with jittered backoff, at most
// DefaultMaxRounds rounds per call).
//
// Counts and sums use ADD (commutative: chunks of different objects touching the
// same fleet hour never need each other's result). Minimum, maximum, first and
// last are read (consistently) before each chunk and SET only where the new value
// goes beyond the stored one, under the condition that it still does
// ("attribute_not_exists(x) OR x > :v"), so a concurrent writer that widened it
// first cancels the transaction and the chunk is retried from a fresh read.
//
// Write actions per object: one per changed summary item, plus the contribution
// item and its blob items once, plus, for more than ChunkSize changes, one
// contribution-item update per chunk and a finalization. Rewriting an object with
// the same records changes no summary item (3 actions); a duplicate notification
// writes nothing.
//
// IAM: the aggregator needs dynamodb:GetItem, BatchGetItem, UpdateItem, PutItem
// and DeleteItem on the table (TransactWriteItems is authorized per action); the
// queries need dynamodb:Query (and dynamodb:Scan for ScanSummaries).
//
// See https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
// and https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html.
package dynamostore
