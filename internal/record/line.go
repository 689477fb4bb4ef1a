package record

import (
	"strconv"
	"time"
)

// Meta is the Kinesis metadata that goes into an output line next to the payload.
type Meta struct {
	PartitionKey   string
	SequenceNumber string
	EventID        string
	ShardID        string
	// ArrivalTime is the record's approximate arrival time in the stream.
	ArrivalTime time.Time
	// Aggregated is true for a user record of a KPL aggregated record; its
	// index in the aggregate is SubSequenceNumber, and its line carries
	// "sub_sequence_number" after "sequence_number" (the KCL's name for it).
	// The user records of one Kinesis record share its sequence number and
	// eventID.
	Aggregated        bool
	SubSequenceNumber int
}

// TimeLayout is the layout of the timestamps in output lines: RFC 3339 in UTC with
// millisecond precision, which Athena's from_iso8601_timestamp and every JSON
// consumer read.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// AppendLine appends one NDJSON output line (with its trailing newline) to dst:
//
//	{"original_data":<payload>,"processing_timestamp":"…","partition_key":"…",
//	 "sequence_number":"…","event_id":"…","processed":true,"shard_id":"…",
//	 "approximate_arrival_timestamp":"…"}
//
// payload must be one compact JSON value (what AppendPayload produces).
// processedAt is preformatted with TimeLayout, because a batch shares it. If reason
// is not empty the line also carries "error": reason (quarantine lines) and
// "processed" is false.
func AppendLine(dst, payload []byte, m *Meta, processedAt string, reason string) []byte {
	dst = append(dst, `{"original_data":`...)
	dst = append(dst, payload...)
	dst = append(dst, `,"processing_timestamp":"`...)
	dst = append(dst, processedAt...)
	dst = append(dst, `","partition_key":`...)
	dst = appendStringValue(dst, m.PartitionKey)
	dst = append(dst, `,"sequence_number":`...)
	dst = appendStringValue(dst, m.SequenceNumber)
	if m.Aggregated {
		dst = appendSubSequence(dst, m.SubSequenceNumber)
	}
	dst = append(dst, `,"event_id":`...)
	dst = appendStringValue(dst, m.EventID)
	dst = appendShard(dst, m.ShardID, reason)
	dst = appendTime(dst, m.ArrivalTime)
	return appendLineEnd(dst, reason)
}

// appendSubSequence appends the "sub_sequence_number" member of a KPL user
// record's line (Meta.Aggregated).
func appendSubSequence(dst []byte, n int) []byte {
	dst = append(dst, `,"sub_sequence_number":`...)
	return strconv.AppendInt(dst, int64(n), 10)
}

// appendShard appends the part of a line from "processed" to the opening quote
// of the arrival time.
func appendShard(dst []byte, shardID, reason string) []byte {
	if reason == "" {
		dst = append(dst, `,"processed":true,"shard_id":`...)
	} else {
		dst = append(dst, `,"processed":false,"shard_id":`...)
	}
	dst = appendStringValue(dst, shardID)
	return append(dst, `,"approximate_arrival_timestamp":"`...)
}

// appendLineEnd appends the end of a line, from the closing quote of the
// arrival time.
func appendLineEnd(dst []byte, reason string) []byte {
	dst = append(dst, '"')
	if reason != "" {
		dst = append(dst, `,"error":`...)
		dst = appendStringValue(dst, reason)
	}
	return append(dst, '}', '\n')
}

// appendPlain appends s, for which isPlainASCII holds, as a JSON string.
func appendPlain(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// isShardSeq reports whether id is shard + ":" + seq.
func isShardSeq(id, shard, seq string) bool {
	return len(id) == len(shard)+1+len(seq) && id[len(shard)] == ':' &&
		id[:len(shard)] == shard && id[len(shard)+1:] == seq
}

// appendStringValue appends s as a JSON string; invalid UTF-8 (which Kinesis
// metadata never has) is replaced so the line stays valid JSON.
func appendStringValue(dst []byte, s string) []byte {
	if isPlainASCII(s) {
		return appendPlain(dst, s)
	}
	return AppendString(dst, []byte(toValidUTF8(s)))
}

func isPlainASCII(s string) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		t := s[i : i+8] // one 8-byte load: the compiler merges these and drops the bounds checks
		x := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		// With no byte >= 0x80, "x has a byte < 0x20" and "x has a byte equal to
		// c" are the classic has-zero-byte tests.
		q := x ^ '"'*ones
		b := x ^ '\\'*ones
		if (x|(x-0x20*ones)&^x|(q-ones)&^q|(b-ones)&^b)&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendTime appends t in UTC formatted with TimeLayout, as
// t.UTC().AppendFormat(dst, TimeLayout) does, without the general formatter's
// cost (it runs once per record).
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimeLayout)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	dst = append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return dst
}

// LineFormat appends the output lines of one batch exactly as AppendLine does,
// with what the lines of a batch share formatted once: the processing time, the
// shard, and the arrival time's date and second (consecutive records of a shard
// mostly arrive within the same second). Reset prepares it for a batch; the zero
// value formats nothing until then. It is not safe for concurrent use.
type LineFormat struct {
	shardID    string
	shardPlain bool   // isPlainASCII(shardID)
	head       []byte // `,"processing_timestamp":"…","partition_key":`
	tail       []byte // `,"processed":true,"shard_id":…,"approximate_arrival_timestamp":"`
	qtail      []byte // tail with "processed":false
	// The last arrival time formatted ("YYYY-MM-DDThh:mm:ss.mmmZ") and its
	// second since the epoch; arrival is empty when there is none.
	arrival []byte
	sec     int64
}

// Reset prepares f for the lines of a batch of shard shardID processed at
// processedAt (formatted with TimeLayout).
func (f *LineFormat) Reset(processedAt, shardID string) {
	f.shardID, f.shardPlain = shardID, isPlainASCII(shardID)
	f.head = append(append(append(f.head[:0], `,"processing_timestamp":"`...), processedAt...), `","partition_key":`...)
	f.tail = appendStringValue(append(f.tail[:0], `,"processed":true,"shard_id":`...), shardID)
	f.tail = append(f.tail, `,"approximate_arrival_timestamp":"`...)
	f.qtail = appendStringValue(append(f.qtail[:0], `,"processed":false,"shard_id":`...), shardID)
	f.qtail = append(f.qtail, `,"approximate_arrival_timestamp":"`...)
	f.arrival = f.arrival[:0]
}

// Append appends the line AppendLine(dst, payload, m, processedAt, reason)
// appends, processedAt being the one given to Reset.
func (f *LineFormat) Append(dst, payload []byte, m *Meta, reason string) []byte {
	dst = append(dst, `{"original_data":`...)
	dst = append(dst, payload...)
	dst = append(dst, f.head...)
	dst = appendStringValue(dst, m.PartitionKey)
	dst = append(dst, `,"sequence_number":`...)
	seqPlain := isPlainASCII(m.SequenceNumber)
	if seqPlain {
		dst = appendPlain(dst, m.SequenceNumber)
	} else {
		dst = appendStringValue(dst, m.SequenceNumber)
	}
	if m.Aggregated {
		dst = appendSubSequence(dst, m.SubSequenceNumber)
	}
	dst = append(dst, `,"event_id":`...)
	// An eventID is "<shardId>:<sequenceNumber>" (the processor checks it):
	// made of plain parts, it is plain, and two comparisons cost less than a
	// scan of its bytes.
	if seqPlain && f.shardPlain && isShardSeq(m.EventID, f.shardID, m.SequenceNumber) {
		dst = appendPlain(dst, m.EventID)
	} else {
		dst = appendStringValue(dst, m.EventID)
	}
	switch {
	case m.ShardID != f.shardID:
		dst = appendShard(dst, m.ShardID, reason)
	case reason == "":
		dst = append(dst, f.tail...)
	default:
		dst = append(dst, f.qtail...)
	}
	dst = f.appendArrival(dst, m.ArrivalTime)
	return appendLineEnd(dst, reason)
}

// appendArrival appends t as appendTime does, reusing the date and second of
// the previous call when t falls within the same second.
func (f *LineFormat) appendArrival(dst []byte, t time.Time) []byte {
	const msAt = len("2006-01-02T15:04:05.")
	sec := t.Unix()
	if len(f.arrival) == 0 || sec != f.sec {
		f.arrival = appendTime(f.arrival[:0], t)
		if len(f.arrival) != len(TimeLayout)-len("Z07:00")+1 {
			// A year appendTime leaves to the general formatter: not cached.
			dst = append(dst, f.arrival...)
			f.arrival = f.arrival[:0]
			return dst
		}
		f.sec = sec
	}
	ms := t.Nanosecond() / int(time.Millisecond)
	dst = append(dst, f.arrival[:msAt]...)
	return append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}
