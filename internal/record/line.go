package record

import "time"

// Meta is the Kinesis metadata that goes into an output line next to the payload.
type Meta struct {
	PartitionKey   string
	SequenceNumber string
	EventID        string
	ShardID        string
	// ArrivalTime is the record's approximate arrival time in the stream.
	ArrivalTime time.Time
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
	dst = append(dst, `,"event_id":`...)
	dst = appendStringValue(dst, m.EventID)
	if reason == "" {
		dst = append(dst, `,"processed":true,"shard_id":`...)
	} else {
		dst = append(dst, `,"processed":false,"shard_id":`...)
	}
	dst = appendStringValue(dst, m.ShardID)
	dst = append(dst, `,"approximate_arrival_timestamp":"`...)
	dst = appendTime(dst, m.ArrivalTime)
	dst = append(dst, '"')
	if reason != "" {
		dst = append(dst, `,"error":`...)
		dst = appendStringValue(dst, reason)
	}
	return append(dst, '}', '\n')
}

// appendStringValue appends s as a JSON string; invalid UTF-8 (which Kinesis
// metadata never has) is replaced so the line stays valid JSON.
func appendStringValue(dst []byte, s string) []byte {
	if isPlainASCII(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
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
