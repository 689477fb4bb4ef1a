// Package kpl reads the aggregated records of the Kinesis Producer Library
// (KPL): one Kinesis record that carries many user records, each with its own
// partition key and data. Lambda hands such a record to the function as it is;
// a consumer that wants the user records has to take it apart, as the Kinesis
// Client Library and Amazon Data Firehose do.
//
// The format (https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md):
//
//	magic 0xF3 0x89 0x9A 0xC2 | AggregatedRecord (protobuf) | MD5 of the protobuf bytes
//
//	message AggregatedRecord {
//	  repeated string partition_key_table     = 1;
//	  repeated string explicit_hash_key_table = 2;
//	  repeated Record records                 = 3;
//	}
//	message Record {
//	  required uint64 partition_key_index     = 1;
//	  optional uint64 explicit_hash_key_index = 2;
//	  required bytes  data                    = 3;
//	  repeated Tag    tags                    = 4;
//	}
//
// The protobuf is read with google.golang.org/protobuf's protowire, field by
// field, because the message is small and fixed and generated code would be the
// only user of the rest of the protobuf runtime. Like the KCL, Parse treats data
// whose digest does not match as an ordinary record; unlike it, Parse also
// treats as ordinary data an aggregate that holds no user record or that does
// not decode, so that no Kinesis record ever yields nothing.
package kpl

import (
	"bytes"
	"crypto/md5"
	"math/big"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Magic is the prefix of an aggregated record's data.
var Magic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// MaxPartitionKeyBytes bounds the partition keys of an aggregate. The format
// does not bound them; Kinesis allows 256 characters and the KPL checks that of
// every user record, but the kinesis-aggregation libraries do not, so the bound
// is far above it. A user record's line carries its key, and a key of megabytes
// (of control characters, six bytes each once escaped) would take the line past
// 16 MiB: Parse refuses an aggregate with a longer key, which is then stored as
// one binary record.
const MaxPartitionKeyBytes = 64 << 10

// Record is one user record of an aggregate. Its Data aliases the Kinesis
// record's data.
type Record struct {
	PartitionKey string
	Data         []byte
}

// IsCandidate reports whether data starts like an aggregate: the magic number,
// followed by room for a digest. It is the cheap test to make before Parse or
// Reader.Open.
func IsCandidate(data []byte) bool {
	// Spelled out so that it inlines: the processor asks it of every record.
	return len(data) > 4+md5.Size && data[0] == 0xF3 && data[1] == 0x89 && data[2] == 0x9A && data[3] == 0xC2
}

// Parse appends the user records of the aggregate data to dst. ok is false when
// data is not an aggregate (see Reader.Open); dst is then returned as it was
// given.
func Parse(dst []Record, data []byte) (recs []Record, ok bool) {
	var rd Reader
	if !rd.Open(data) {
		return dst, false
	}
	for r, ok := rd.Next(); ok; r, ok = rd.Next() {
		dst = append(dst, r)
	}
	return dst, true
}

// A Reader reads the user records of an aggregated record one at a time,
// so that their number costs no memory: the KPL packs up to 10 MiB of records
// into one Kinesis record, hundreds of thousands when they are small. The zero
// value is ready for Open; reuse it to reuse its partition key table. It is not
// safe for concurrent use.
type Reader struct {
	keys []string
	rest []byte // the part of the message that Next has not read
}

// Open reports whether data is an aggregate and, if it is, makes Next return
// its user records, whose Data alias data. It is not one when it has no magic,
// a digest that does not match, a message that does not decode, a partition key
// longer than MaxPartitionKeyBytes, a partition key index out of range, or no
// user record. Open checks every user record, so that data is read either whole
// as user records or not at all.
func (rd *Reader) Open(data []byte) bool {
	rd.rest = nil
	if !IsCandidate(data) {
		return false
	}
	msg := data[len(Magic) : len(data)-md5.Size]
	if sum := md5.Sum(msg); !bytes.Equal(sum[:], data[len(data)-md5.Size:]) {
		return false
	}
	// The key table can follow the records that index it: collect it first.
	rd.release()
	keys, records := rd.keys, 0
	refuse := func() bool {
		rd.keys = keys
		rd.release()
		return false
	}
	for b := msg; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return refuse()
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || len(v) > MaxPartitionKeyBytes {
				return refuse()
			}
			keys = append(keys, string(v))
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return refuse()
			}
			records += btoi(num == 3 && typ == protowire.BytesType)
			b = b[n:]
		}
	}
	if records == 0 {
		return refuse()
	}
	// Then every user record, so that Next never meets one that is bad.
	for b := msg; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if num == 3 && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			if _, ok := parseRecord(v, keys); !ok {
				return refuse()
			}
		}
		b = b[n:]
	}
	rd.keys, rd.rest = keys, msg
	return true
}

// Next returns the next user record of the aggregate that Open accepted, and
// false after the last. Open checked the message, so nothing fails here.
func (rd *Reader) Next() (Record, bool) {
	for len(rd.rest) > 0 {
		num, typ, n := protowire.ConsumeTag(rd.rest)
		rd.rest = rd.rest[n:]
		if num == 3 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(rd.rest)
			rd.rest = rd.rest[n:]
			r, _ := parseRecord(v, rd.keys)
			return r, true
		}
		rd.rest = rd.rest[protowire.ConsumeFieldValue(num, typ, rd.rest):]
	}
	rd.release()
	return Record{}, false
}

// release lets go of the data and the keys once they are read: a Reader
// outlives the data it is given (the processor keeps one per batch state).
func (rd *Reader) release() {
	rd.rest = nil
	clear(rd.keys)
	rd.keys = rd.keys[:0]
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parseRecord decodes one Record message; both required fields must be there.
func parseRecord(b []byte, keys []string) (Record, bool) {
	var (
		r               Record
		hasKey, hasData bool
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Record{}, false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || v >= uint64(len(keys)) {
				return Record{}, false
			}
			r.PartitionKey, hasKey = keys[v], true
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return Record{}, false
			}
			r.Data, hasData = v, true
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return Record{}, false
			}
			b = b[n:]
		}
	}
	return r, hasKey && hasData
}

// HashKey returns the explicit hash key with which the KPL puts the aggregate
// data: the one of its first user record, or, when that record has none, the
// hash key of its partition key (the MD5 of the key as a 128-bit number), in
// decimal. The aggregate's own partition key is a placeholder ("a"), so the hash
// key is what puts the aggregate in the shard of its user records, where the KCL
// expects them: it drops the user records of an aggregate whose hash keys fall
// outside the shard's range. ok is false when data is not an aggregate (see
// Reader.Open) or its first user record's explicit hash key is out of the
// table's range or not a hash key.
func HashKey(data []byte) (key string, ok bool) {
	var rd Reader
	if !rd.Open(data) {
		return "", false
	}
	first, _ := rd.Next()
	var ehks []string
	index, hasIndex := uint64(0), false
	for b, seen := data[len(Magic):len(data)-md5.Size], false; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		switch {
		case num == 2 && typ == protowire.BytesType:
			v, _ := protowire.ConsumeBytes(b)
			ehks = append(ehks, string(v))
		case num == 3 && typ == protowire.BytesType && !seen:
			seen = true
			v, _ := protowire.ConsumeBytes(b)
			index, hasIndex = explicitHashKeyIndex(v)
		}
		b = b[n:]
	}
	if !hasIndex {
		sum := md5.Sum([]byte(first.PartitionKey))
		return new(big.Int).SetBytes(sum[:]).String(), true
	}
	if index >= uint64(len(ehks)) {
		return "", false
	}
	return hashKey(ehks[index])
}

// hashKey returns s, a decimal number from 0 to 2^128-1, as Kinesis takes an
// explicit hash key: without leading zeros (its pattern is 0|[1-9]\d{0,38}), as
// the KPL writes it. ok is false when s is no such number.
func hashKey(s string) (string, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return "", false
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.BitLen() > 128 {
		return "", false
	}
	return n.String(), true
}

// explicitHashKeyIndex returns the explicit_hash_key_index of a Record message
// that Open checked, and whether it has one.
func explicitHashKeyIndex(b []byte) (uint64, bool) {
	index, ok := uint64(0), false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		b = b[n:]
		if num == 2 && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return 0, false
			}
			index, ok = v, true
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, false
		}
		b = b[n:]
	}
	return index, ok
}

// Aggregate returns the aggregate of records as the KPL writes it, partition
// keys shared through the table. It is for tests and sample events: the
// pipeline only reads aggregates.
func Aggregate(records []Record) []byte {
	var msg []byte
	index := map[string]uint64{}
	var order []string
	for _, r := range records {
		if _, ok := index[r.PartitionKey]; !ok {
			index[r.PartitionKey] = uint64(len(order))
			order = append(order, r.PartitionKey)
		}
	}
	for _, k := range order {
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendString(msg, k)
	}
	for _, r := range records {
		var rec []byte
		rec = protowire.AppendTag(rec, 1, protowire.VarintType)
		rec = protowire.AppendVarint(rec, index[r.PartitionKey])
		rec = protowire.AppendTag(rec, 3, protowire.BytesType)
		rec = protowire.AppendBytes(rec, r.Data)
		msg = protowire.AppendTag(msg, 3, protowire.BytesType)
		msg = protowire.AppendBytes(msg, rec)
	}
	sum := md5.Sum(msg)
	out := append(append([]byte{}, Magic...), msg...)
	return append(out, sum[:]...)
}
