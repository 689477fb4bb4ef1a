package kinesisevent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// lambdaRecord is one element of an event's Records array with its members in
// the order the Lambda service writes them, which is not the order of
// aws-lambda-go's struct fields (json.Marshal of an events.KinesisEvent puts
// awsRegion first and kinesis last): the Lambda developer guide's example event
// (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html) and events
// logged from real invocations have kinesis first, then eventSource,
// eventVersion, eventID, eventName, invokeIdentityArn, awsRegion and
// eventSourceARN. Readers of JSON do not care; a function that reads the
// event's bytes, and a benchmark of one, see what Lambda sends.
type lambdaRecord struct {
	Kinesis           lambdaKinesis `json:"kinesis"`
	EventSource       string        `json:"eventSource"`
	EventVersion      string        `json:"eventVersion"`
	EventID           string        `json:"eventID"`
	EventName         string        `json:"eventName"`
	InvokeIdentityArn string        `json:"invokeIdentityArn"`
	AwsRegion         string        `json:"awsRegion"`
	EventSourceARN    string        `json:"eventSourceARN"`
}

type lambdaKinesis struct {
	KinesisSchemaVersion string `json:"kinesisSchemaVersion"`
	PartitionKey         string `json:"partitionKey"`
	SequenceNumber       string `json:"sequenceNumber"`
	// Data is standard base64, as encoding/json writes a []byte.
	Data []byte `json:"data"`
	// ApproximateArrivalTimestamp is epoch seconds with a millisecond fraction.
	ApproximateArrivalTimestamp json.Number `json:"approximateArrivalTimestamp"`
	// EncryptionType is present only for a stream with server-side encryption;
	// its place after the arrival time is assumed (no recorded event has it).
	EncryptionType string `json:"encryptionType,omitempty"`
}

// AppendRecord appends the JSON of one element of an event's Records array,
// compact and with its members in the order Lambda writes them, to dst.
// Strings are written as AWS writes them, without escaping <, > and &. The
// arrival time is written as epoch seconds with at most three decimals
// (epochSeconds).
func AppendRecord(dst []byte, r *events.KinesisEventRecord) ([]byte, error) {
	data := r.Kinesis.Data
	if data == nil {
		data = []byte{} // "" rather than null
	}
	rec := lambdaRecord{
		Kinesis: lambdaKinesis{
			KinesisSchemaVersion:        r.Kinesis.KinesisSchemaVersion,
			PartitionKey:                r.Kinesis.PartitionKey,
			SequenceNumber:              r.Kinesis.SequenceNumber,
			Data:                        data,
			ApproximateArrivalTimestamp: epochSeconds(r.Kinesis.ApproximateArrivalTimestamp.Time),
			EncryptionType:              r.Kinesis.EncryptionType,
		},
		EventSource:       r.EventSource,
		EventVersion:      r.EventVersion,
		EventID:           r.EventID,
		EventName:         r.EventName,
		InvokeIdentityArn: r.InvokeIdentityArn,
		AwsRegion:         r.AwsRegion,
		EventSourceARN:    r.EventSourceArn,
	}
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return dst, fmt.Errorf("encode event record %s: %w", r.EventID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// epochSeconds formats t, rounded to the millisecond, as Unix seconds with at
// most three decimals (1545084650.987), the approximateArrivalTimestamp format
// Lambda writes. Rounding rather than truncating gives back the time of an
// event decoded by aws-lambda-go, whose float arithmetic can land a hair
// below the millisecond the event said (1545084650.986999893).
func epochSeconds(t time.Time) json.Number {
	ms := t.Round(time.Millisecond).UnixMilli()
	return json.Number(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64))
}

// Encode returns ev as the compact JSON an event source mapping delivers to the
// function: {"Records":[…]} with each record's members in Lambda's order
// (AppendRecord). Unlike Marshal, it does not check the result against
// MaxPayloadBytes.
func Encode(ev events.KinesisEvent) ([]byte, error) {
	const recordSize = 1024 // room for a record with a few hundred bytes of data
	b := append(make([]byte, 0, 64+len(ev.Records)*recordSize), `{"Records":[`...)
	for i := range ev.Records {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = AppendRecord(b, &ev.Records[i]); err != nil {
			return nil, err
		}
	}
	return append(b, "]}"...), nil
}
