package esm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
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

// eventRecord is one element of the event's Records array, in the field order of
// the event Lambda delivers [S9] (aws-lambda-go events.KinesisEventRecord [S10]).
type eventRecord struct {
	Kinesis           kinesisData `json:"kinesis"`
	EventSource       string      `json:"eventSource"`
	EventVersion      string      `json:"eventVersion"`
	EventID           string      `json:"eventID"`
	EventName         string      `json:"eventName"`
	InvokeIdentityArn string      `json:"invokeIdentityArn"`
	AwsRegion         string      `json:"awsRegion"`
	EventSourceARN    string      `json:"eventSourceARN"`
}

type kinesisData struct {
	KinesisSchemaVersion string `json:"kinesisSchemaVersion"`
	PartitionKey         string `json:"partitionKey"`
	SequenceNumber       string `json:"sequenceNumber"`
	// Data is standard base64, as encoding/json writes a []byte.
	Data []byte `json:"data"`
	// ApproximateArrivalTimestamp is epoch seconds with a millisecond fraction.
	ApproximateArrivalTimestamp json.Number `json:"approximateArrivalTimestamp"`
}

// eventSource identifies the fixed fields of a mapping's event records.
type eventSource struct {
	shardID, invokeIdentityARN, region, streamARN string
}

// encodeRecord returns the JSON of one event record [S9]: kinesisSchemaVersion
// "1.0", base64 data, approximateArrivalTimestamp in seconds with a millisecond
// fraction, eventID "<shardId>:<sequenceNumber>", eventName "aws:kinesis:record".
func (src eventSource) encodeRecord(seq, partitionKey string, data []byte, arrival time.Time) ([]byte, error) {
	if data == nil {
		data = []byte{} // "" rather than null
	}
	rec := eventRecord{
		Kinesis: kinesisData{
			KinesisSchemaVersion:        "1.0",
			PartitionKey:                partitionKey,
			SequenceNumber:              seq,
			Data:                        data,
			ApproximateArrivalTimestamp: epochSeconds(arrival),
		},
		EventSource:       "aws:kinesis",
		EventVersion:      "1.0",
		EventID:           src.shardID + ":" + seq,
		EventName:         "aws:kinesis:record",
		InvokeIdentityArn: src.invokeIdentityARN,
		AwsRegion:         src.region,
		EventSourceARN:    src.streamARN,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // AWS does not escape <, > and & in events
	if err := enc.Encode(rec); err != nil {
		return nil, fmt.Errorf("encode event record %s: %w", seq, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// epochSeconds formats t as Unix seconds with at most three decimals
// (1545084650.987), the approximateArrivalTimestamp format [S9].
func epochSeconds(t time.Time) json.Number {
	ms := t.UnixMilli()
	return json.Number(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64))
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
