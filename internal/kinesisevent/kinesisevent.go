package kinesisevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Defaults for Options fields left empty: the names of the sample stack.
const (
	DefaultRegion     = "us-east-1"
	DefaultAccountID  = "123456789012"
	DefaultStreamName = "streamlake-sensor-stream"
	DefaultShardID    = "shardId-000000000000"
	DefaultRoleName   = "streamlake-processor-role"
)

// Limits of what an event source mapping delivers in one invocation.
const (
	// MaxRecords is the largest Kinesis batch size (BatchSize 1–10000).
	MaxRecords = 10000
	// MaxPayloadBytes is Lambda's synchronous invocation payload limit (6 MB).
	MaxPayloadBytes = 6 << 20
)

// firstSequenceNumber and sequenceStep make sequence numbers with the length and
// look of AWS ones: 56 digits, growing by a large, irregular-looking step.
var (
	firstSequenceNumber, _ = new(big.Int).SetString("49657148256837120925312649873215874502659812305470881794", 10)
	sequenceStep, _        = new(big.Int).SetString("2564131663402632534926937122818", 10)
)

// Record is one record to put in an event.
type Record struct {
	// PartitionKey is required.
	PartitionKey string
	// Data is the payload; nil and empty both give "data": "".
	Data []byte
	// ArrivalTime is the approximate arrival time. Required; it must not decrease
	// from one record to the next (arrival times in a shard only grow).
	ArrivalTime time.Time
}

// Options names the stream, shard and function of an event. The zero value is the
// sample stack in us-east-1 (see the Default constants).
type Options struct {
	// Region is awsRegion; empty means the StreamARN's region, or DefaultRegion.
	Region string
	// StreamARN is eventSourceARN; empty means the DefaultStreamName in Region
	// and DefaultAccountID.
	StreamARN string
	// InvokeIdentityARN is the function's execution role; empty means
	// DefaultRoleName in the stream's account.
	InvokeIdentityARN string
	// ShardID is the shard all records come from; empty means DefaultShardID.
	ShardID string
	// EncryptionType is kinesis.encryptionType ("KMS" or "NONE"); empty omits it.
	EncryptionType string
}

// StreamARN returns the ARN of a Kinesis stream.
func StreamARN(region, accountID, streamName string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", region, accountID, streamName)
}

// SequenceNumber returns the sequence number Build gives the i-th record (0-based).
func SequenceNumber(i int) string {
	n := new(big.Int).Mul(sequenceStep, big.NewInt(int64(i)))
	return n.Add(n, firstSequenceNumber).String()
}

// Build returns the event Lambda would deliver for records, in order, from one shard.
//
// Arrival times are truncated to the millisecond. aws-lambda-go encodes them as a
// float64 number of seconds, which for about a quarter of millisecond values prints
// with noise digits (1795268400.2220001); such a time is moved forward by the
// fewest milliseconds (at most a few) that print exactly, keeping the order.
func Build(records []Record, opts Options) (events.KinesisEvent, error) {
	var ev events.KinesisEvent
	switch {
	case len(records) == 0:
		return ev, errors.New("kinesis event: no records")
	case len(records) > MaxRecords:
		return ev, fmt.Errorf("kinesis event: %d records; an event source mapping delivers at most %d", len(records), MaxRecords)
	}
	o, err := opts.resolve()
	if err != nil {
		return ev, err
	}
	ev.Records = make([]events.KinesisEventRecord, len(records))
	var prevIn, prevOut time.Time
	for i, r := range records {
		switch {
		case r.PartitionKey == "":
			return events.KinesisEvent{}, fmt.Errorf("kinesis event: record %d: partition key is empty", i)
		case r.ArrivalTime.IsZero():
			return events.KinesisEvent{}, fmt.Errorf("kinesis event: record %d: arrival time is missing", i)
		case i > 0 && r.ArrivalTime.Before(prevIn):
			return events.KinesisEvent{}, fmt.Errorf("kinesis event: record %d: arrival time %s is before the previous record's %s",
				i, r.ArrivalTime.UTC().Format(time.RFC3339Nano), prevIn.UTC().Format(time.RFC3339Nano))
		}
		prevIn = r.ArrivalTime
		at := r.ArrivalTime.UTC().Truncate(time.Millisecond)
		if at.Before(prevOut) {
			at = prevOut
		}
		at = printable(at)
		prevOut = at

		data := r.Data
		if data == nil {
			data = []byte{} // nil would encode as null
		}
		seq := SequenceNumber(i)
		ev.Records[i] = events.KinesisEventRecord{
			AwsRegion:         o.Region,
			EventID:           o.ShardID + ":" + seq,
			EventName:         "aws:kinesis:record",
			EventSource:       "aws:kinesis",
			EventSourceArn:    o.StreamARN,
			EventVersion:      "1.0",
			InvokeIdentityArn: o.InvokeIdentityARN,
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: at},
				Data:                        data,
				EncryptionType:              o.EncryptionType,
				PartitionKey:                r.PartitionKey,
				SequenceNumber:              seq,
				KinesisSchemaVersion:        "1.0",
			},
		}
	}
	return ev, nil
}

// resolve fills in defaults and checks the ARNs.
func (o Options) resolve() (Options, error) {
	if o.StreamARN == "" {
		region := o.Region
		if region == "" {
			region = DefaultRegion
		}
		o.StreamARN = StreamARN(region, DefaultAccountID, DefaultStreamName)
	}
	a, err := arn.Parse(o.StreamARN)
	if err != nil || a.Service != "kinesis" || a.Region == "" || a.AccountID == "" || !strings.HasPrefix(a.Resource, "stream/") {
		return o, fmt.Errorf("kinesis event: %q is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)", o.StreamARN)
	}
	if o.Region == "" {
		o.Region = a.Region
	}
	if o.InvokeIdentityARN == "" {
		o.InvokeIdentityARN = arn.ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID, Resource: "role/" + DefaultRoleName}.String()
	}
	if o.ShardID == "" {
		o.ShardID = DefaultShardID
	}
	return o, nil
}

// printable returns the first millisecond at or after t whose aws-lambda-go encoding
// has at most three decimals. Encode writes any millisecond exactly, but a caller
// may json.Marshal the events.KinesisEvent that Build returns (tests do), and both
// encodings should then carry the same times.
func printable(t time.Time) time.Time {
	for range 10 {
		b, err := events.SecondsEpochTime{Time: t}.MarshalJSON()
		if err != nil {
			return t
		}
		if i := bytes.IndexByte(b, '.'); i < 0 || len(b)-i-1 <= 3 {
			return t
		}
		t = t.Add(time.Millisecond)
	}
	return t
}

// Marshal encodes ev as indented JSON with a final newline, the form of the files in
// events/: Encode's JSON, members in Lambda's order, indented. It fails if the
// result is over MaxPayloadBytes, which Lambda would refuse to invoke a function
// with.
func Marshal(ev events.KinesisEvent) ([]byte, error) {
	b, err := Encode(ev)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, fmt.Errorf("indent kinesis event: %w", err)
	}
	b = append(out.Bytes(), '\n')
	if len(b) > MaxPayloadBytes {
		return nil, fmt.Errorf("kinesis event of %d records is %d bytes; Lambda accepts at most %d (use fewer records)", len(ev.Records), len(b), MaxPayloadBytes)
	}
	return b, nil
}
