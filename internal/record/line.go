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
	dst = m.ArrivalTime.UTC().AppendFormat(dst, TimeLayout)
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
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
