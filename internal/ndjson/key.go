package ndjson

import (
	"strings"
	"time"
)

// Default key prefixes of the processor's objects.
const (
	DefaultProcessedPrefix  = "processed"
	DefaultQuarantinePrefix = "quarantine"
)

// QuarantinePrefixFor is where a writer with a prefix of its own (redrive,
// replay) stores the records its transform rejects: beside prefix, never under
// it, so that a reader of prefix sees only processed records.
func QuarantinePrefixFor(prefix string) string {
	return strings.TrimSuffix(prefix, "/") + "-quarantine"
}

// ObjectKey returns the deterministic, Hive-partitioned key of an object:
//
//	<prefix>/year=YYYY/month=MM/day=DD/hour=HH/<shardId>-<sequenceNumber><ext>
//
// t is the approximate arrival time of the object's first record (UTC is used), and
// sequenceNumber is that record's. Athena's partition projection reads the
// year/month/day/hour segments.
func ObjectKey(prefix string, t time.Time, shardID, sequenceNumber string, c Compression) string {
	t = t.UTC()
	var b strings.Builder
	b.Grow(len(prefix) + 48 + len(shardID) + len(sequenceNumber) + 12)
	b.WriteString(strings.TrimSuffix(prefix, "/"))
	b.WriteString("/year=")
	b.WriteString(t.Format("2006"))
	b.WriteString("/month=")
	b.WriteString(t.Format("01"))
	b.WriteString("/day=")
	b.WriteString(t.Format("02"))
	b.WriteString("/hour=")
	b.WriteString(t.Format("15"))
	b.WriteByte('/')
	b.WriteString(shardID)
	b.WriteByte('-')
	b.WriteString(sequenceNumber)
	b.WriteString(c.Extension())
	return b.String()
}

// RangeKey returns ObjectKey with the object's first and last sequence numbers:
//
//	<prefix>/year=YYYY/month=MM/day=DD/hour=HH/<shardId>-<first>-<last><ext>
//
// for writers whose objects can overlap others' records but must not share a
// key with them (redrive's chunks of overlapping ranges): two objects of a
// shard's contiguous records share such a key only when they hold the same
// records.
func RangeKey(prefix string, t time.Time, shardID, first, last string, c Compression) string {
	return ObjectKey(prefix, t, shardID, first+"-"+last, c)
}
