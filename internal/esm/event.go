package esm

import (
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamlake/streamlake/internal/kinesisevent"
)

// record is one Kinesis record read from a shard, with its event-record JSON
// encoded once so that batches are assembled, and their size measured, without
// re-encoding.
type record struct {
	idx          uint64 // position in the shard's tracker
	seq          string
	partitionKey string
	arrival      time.Time // approximateArrivalTimestamp, truncated to ms
	enqueued     time.Time // when the reader handed it to its lane (real clock)
	json         []byte    // the record's element of the event's Records array
}

// eventSource identifies the fixed fields of a mapping's event records.
type eventSource struct {
	shardID, invokeIdentityARN, region, streamARN string
}

// encodeRecord returns the JSON of one event record as Lambda writes it
// (kinesisevent.AppendRecord: members in Lambda's order [S9], base64 data,
// approximateArrivalTimestamp in seconds with a millisecond fraction, eventID
// "<shardId>:<sequenceNumber>", eventName "aws:kinesis:record").
func (src eventSource) encodeRecord(seq, partitionKey string, data []byte, arrival time.Time) ([]byte, error) {
	return kinesisevent.AppendRecord(nil, &events.KinesisEventRecord{
		Kinesis: events.KinesisRecord{
			KinesisSchemaVersion:        "1.0",
			PartitionKey:                partitionKey,
			SequenceNumber:              seq,
			Data:                        data,
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival},
		},
		EventSource:       "aws:kinesis",
		EventVersion:      "1.0",
		EventID:           src.shardID + ":" + seq,
		EventName:         "aws:kinesis:record",
		InvokeIdentityArn: src.invokeIdentityARN,
		AwsRegion:         src.region,
		EventSourceArn:    src.streamARN,
	})
}

const (
	eventPrefix   = `{"Records":[`
	eventSuffix   = `]}`
	eventOverhead = len(eventPrefix) + len(eventSuffix)
)

// eventSize is the size of the serialized event holding recs.
func eventSize(recs []*record) int {
	n := eventOverhead
	for i, r := range recs {
		if i > 0 {
			n++
		}
		n += len(r.json)
	}
	return n
}

// buildEvent returns the Kinesis event {"Records":[…]} for recs, byte for byte
// the JSON whose size the payload cap is checked against.
func buildEvent(recs []*record) []byte {
	buf := make([]byte, 0, eventSize(recs))
	buf = append(buf, eventPrefix...)
	for i, r := range recs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, r.json...)
	}
	return append(buf, eventSuffix...)
}
