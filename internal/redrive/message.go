package redrive

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/streamlake/streamlake/internal/onfailure"
	"github.com/streamlake/streamlake/internal/record"
)

// Range is the part of a stream that an on-failure record names: the records of
// one shard from StartSequenceNumber up to and including EndSequenceNumber.
type Range struct {
	StreamARN string `json:"stream_arn"`
	// StreamName and Region come from StreamARN.
	StreamName string `json:"-"`
	Region     string `json:"-"`
	ShardID    string `json:"shard_id"`
	// StartSequenceNumber and EndSequenceNumber are decimal strings; Start ≤ End.
	StartSequenceNumber string `json:"start_sequence_number"`
	EndSequenceNumber   string `json:"end_sequence_number"`
	// BatchSize is the number of records the failed batch held (the range can hold
	// more: see the package documentation).
	BatchSize int `json:"batch_size"`
}

// InvalidMessageError is returned by ParseMessage for a message body that is not a
// Kinesis on-failure record.
type InvalidMessageError struct{ Reason string }

func (e *InvalidMessageError) Error() string { return "not a Kinesis on-failure record: " + e.Reason }

// ParseMessage decodes an SQS message body holding a Kinesis on-failure record
// (AWS's exact shape, onfailure.Record), or an SNS notification wrapping one (an
// SNS on-failure destination subscribed to a queue without raw message delivery),
// and returns the range it names. Every problem is an *InvalidMessageError.
func ParseMessage(body string) (onfailure.Record, Range, error) {
	invalid := func(format string, a ...any) (onfailure.Record, Range, error) {
		return onfailure.Record{}, Range{}, &InvalidMessageError{Reason: fmt.Sprintf(format, a...)}
	}
	var probe struct {
		Type             string           `json:"Type"`
		Message          *string          `json:"Message"`
		KinesisBatchInfo *json.RawMessage `json:"KinesisBatchInfo"`
		DDBStreamBatch   *json.RawMessage `json:"DDBStreamBatchInfo"`
		// What other senders' messages hold, to name them (notFrom).
		Event   string `json:"Event"`
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
		RequestPayload *json.RawMessage `json:"requestPayload"`
	}
	trimmed := strings.TrimSpace(body)
	if !strings.HasPrefix(trimmed, "{") {
		return invalid("the body is not a JSON object: %s", abbreviate(trimmed, 80))
	}
	if err := json.Unmarshal([]byte(trimmed), &probe); err != nil {
		return invalid("decode: %v", err)
	}
	if probe.Type == "Notification" && probe.Message != nil {
		// An SNS envelope: the on-failure record is the Message string.
		inner := strings.TrimSpace(*probe.Message)
		if strings.Contains(inner, `"Type"`) && strings.Contains(inner, `"Notification"`) {
			return invalid("nested SNS notifications")
		}
		return ParseMessage(inner)
	}
	switch {
	case probe.DDBStreamBatch != nil:
		return invalid("it is a DynamoDB Streams on-failure record (DDBStreamBatchInfo); only Kinesis ranges can be redriven")
	case probe.KinesisBatchInfo == nil:
		if strings.HasSuffix(probe.Type, "Confirmation") {
			// SubscriptionConfirmation, UnsubscribeConfirmation: SNS's own
			// messages to a subscribed queue.
			return invalid("it is an SNS %s message, not an on-failure record", abbreviate(probe.Type, 40))
		}
		return invalid("no KinesisBatchInfo%s", notFrom(probe.Event, probe.Records, probe.RequestPayload != nil))
	}
	var rec onfailure.Record
	if err := json.Unmarshal([]byte(trimmed), &rec); err != nil {
		return invalid("decode: %v", err)
	}
	rng, err := rangeOf(rec.KinesisBatchInfo)
	if err != nil {
		return onfailure.Record{}, Range{}, err
	}
	return rec, rng, nil
}

// notFrom names, for a message without KinesisBatchInfo, the sender it looks
// like, or says that a Kinesis event source mapping did not send it.
func notFrom(event string, records []struct {
	EventSource string `json:"eventSource"`
}, requestPayload bool) string {
	switch {
	case event == "s3:TestEvent":
		// S3 sends it to check a queue named in a bucket's notification
		// configuration (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html).
		return ": it is an S3 test event (s3:TestEvent), sent when a bucket's event notifications to this queue were set up"
	case len(records) > 0 && records[0].EventSource != "":
		return fmt.Sprintf(": it is an event notification of %s (Records[].eventSource), not an on-failure record", abbreviate(records[0].EventSource, 40))
	case requestPayload:
		// An asynchronous invocation's destination record carries the event
		// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
		return ": it is a Lambda asynchronous invocation record (requestPayload), not an event source mapping's on-failure record"
	}
	return ": no Kinesis event source mapping sent it"
}

// rangeOf validates a KinesisBatchInfo.
func rangeOf(b onfailure.KinesisBatchInfo) (Range, error) {
	invalid := func(format string, a ...any) (Range, error) {
		return Range{}, &InvalidMessageError{Reason: fmt.Sprintf(format, a...)}
	}
	if b.ShardID == "" {
		return invalid("KinesisBatchInfo.shardId is empty")
	}
	if !record.ValidSequenceNumber(b.StartSequenceNumber) {
		return invalid("KinesisBatchInfo.startSequenceNumber %q is not a sequence number", abbreviate(b.StartSequenceNumber, 80))
	}
	if !record.ValidSequenceNumber(b.EndSequenceNumber) {
		return invalid("KinesisBatchInfo.endSequenceNumber %q is not a sequence number", abbreviate(b.EndSequenceNumber, 80))
	}
	if c, _ := record.CompareSequenceNumbers(b.StartSequenceNumber, b.EndSequenceNumber); c > 0 {
		return invalid("KinesisBatchInfo.startSequenceNumber %s is after endSequenceNumber %s", b.StartSequenceNumber, b.EndSequenceNumber)
	}
	region, name, err := parseStreamARN(b.StreamARN)
	if err != nil {
		return Range{}, &InvalidMessageError{Reason: "KinesisBatchInfo.streamArn: " + err.Error()}
	}
	return Range{
		StreamARN: b.StreamARN, StreamName: name, Region: region, ShardID: b.ShardID,
		StartSequenceNumber: b.StartSequenceNumber, EndSequenceNumber: b.EndSequenceNumber, BatchSize: b.BatchSize,
	}, nil
}

// parseStreamARN returns the region and name of a Kinesis stream ARN
// (arn:<partition>:kinesis:<region>:<account>:stream/<name>), parsed with the
// SDK's ARN parser.
func parseStreamARN(s string) (region, name string, err error) {
	a, err := arn.Parse(s)
	if err == nil && a.Partition != "" && a.Service == "kinesis" && a.Region != "" && a.AccountID != "" {
		if name, ok := strings.CutPrefix(a.Resource, "stream/"); ok && name != "" && !strings.Contains(name, "/") {
			return a.Region, name, nil
		}
	}
	return "", "", fmt.Errorf("%q is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)", abbreviate(s, 120))
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
