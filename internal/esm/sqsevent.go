package esm

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsEventSize is the size of the serialized event holding msgs.
func sqsEventSize(msgs []*sqsMessage) int {
	n := eventOverhead
	for i, msg := range msgs {
		if i > 0 {
			n++
		}
		n += len(msg.json)
	}
	return n
}

// sqsEventRecord is one element of the SQS event's Records array, in the field
// order of the events Lambda delivers [Q1] (aws-lambda-go events.SQSMessage
// [S10]).
type sqsEventRecord struct {
	MessageID              string                          `json:"messageId"`
	ReceiptHandle          string                          `json:"receiptHandle"`
	Body                   string                          `json:"body"`
	Attributes             orderedAttributes               `json:"attributes"`
	MessageAttributes      map[string]sqsMessageAttributeJ `json:"messageAttributes"`
	MD5OfMessageAttributes json.RawMessage                 `json:"md5OfMessageAttributes,omitempty"` // see encodeSQSRecord
	MD5OfBody              string                          `json:"md5OfBody"`
	EventSource            string                          `json:"eventSource"`
	EventSourceARN         string                          `json:"eventSourceARN"`
	AWSRegion              string                          `json:"awsRegion"`
}

// sqsMessageAttributeJ is a message attribute as Lambda delivers it [Q1]: both
// list members are always present (empty lists), the binary values are base64.
type sqsMessageAttributeJ struct {
	StringValue      *string  `json:"stringValue,omitempty"`
	BinaryValue      []byte   `json:"binaryValue,omitempty"`
	StringListValues []string `json:"stringListValues"`
	BinaryListValues [][]byte `json:"binaryListValues"`
	DataType         string   `json:"dataType"`
}

// sqsAttributeOrder is the order of the system attributes in Lambda's events
// [Q1]; other attributes follow in name order.
var sqsAttributeOrder = []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}

// orderedAttributes is a message's system attributes, encoded in
// sqsAttributeOrder.
type orderedAttributes map[string]string

// MarshalJSON writes the attributes in Lambda's order.
func (a orderedAttributes) MarshalJSON() ([]byte, error) {
	keys := make([]string, 0, len(a))
	for _, k := range sqsAttributeOrder {
		if _, ok := a[k]; ok {
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range a {
		if !slices.Contains(sqsAttributeOrder, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	keys = append(keys, rest...)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kj, _ := marshalNoEscape(k)
		vj, _ := marshalNoEscape(a[k])
		buf.Write(kj)
		buf.WriteByte(':')
		buf.Write(vj)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshalNoEscape encodes v as JSON without escaping <, > and &, as AWS does.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encodeSQSRecord returns the JSON of one event record for a received message
// [Q1]: eventSource "aws:sqs", the system attributes ReceiveMessage returned,
// the message attributes with empty lists where SQS has none, and md5OfBody
// (computed if SQS did not send it).
//
// md5OfMessageAttributes, between messageAttributes and md5OfBody, is the
// digest SQS returned for a message with message attributes. For a message
// without any it is null when the mapping has a batching window (windowed is
// MaximumBatchingWindowInSeconds >= 1) and absent with a window of 0, as AWS
// records it: LocalStack tests/aws/services/lambda_/event_source_mapping/
// test_lambda_integration_sqs.snapshot.json has "md5OfMessageAttributes": null
// in TestSQSEventSourceMapping::test_sqs_event_source_mapping,
// ::test_sqs_event_source_mapping_batch_size and ::test_sqs_event_filter (window
// 1 s or more) and no such key in test_failing_lambda_retries_after_visibility_timeout,
// test_redrive_policy_with_failing_lambda and the test_report_batch_item_failures*
// tests (window 0).
func encodeSQSRecord(msg sqstypes.Message, queueARN, region string, windowed bool) ([]byte, error) {
	id := aws.ToString(msg.MessageId)
	if id == "" || aws.ToString(msg.ReceiptHandle) == "" {
		return nil, errors.New("message without messageId or receiptHandle")
	}
	body := aws.ToString(msg.Body)
	md5Body := aws.ToString(msg.MD5OfBody)
	if md5Body == "" {
		sum := md5.Sum([]byte(body))
		md5Body = hex.EncodeToString(sum[:])
	}
	rec := sqsEventRecord{
		MessageID:         id,
		ReceiptHandle:     aws.ToString(msg.ReceiptHandle),
		Body:              body,
		Attributes:        orderedAttributes(msg.Attributes),
		MessageAttributes: map[string]sqsMessageAttributeJ{},
		MD5OfBody:         md5Body,
		EventSource:       "aws:sqs",
		EventSourceARN:    queueARN,
		AWSRegion:         region,
	}
	if rec.Attributes == nil {
		rec.Attributes = orderedAttributes{}
	}
	switch md5Attrs := aws.ToString(msg.MD5OfMessageAttributes); {
	case md5Attrs != "":
		q, err := json.Marshal(md5Attrs)
		if err != nil {
			return nil, fmt.Errorf("encode event record %s: %w", id, err)
		}
		rec.MD5OfMessageAttributes = q
	case windowed:
		rec.MD5OfMessageAttributes = json.RawMessage("null")
	}
	for name, v := range msg.MessageAttributes {
		a := sqsMessageAttributeJ{
			StringValue:      v.StringValue,
			BinaryValue:      v.BinaryValue,
			StringListValues: v.StringListValues,
			BinaryListValues: v.BinaryListValues,
			DataType:         aws.ToString(v.DataType),
		}
		if a.StringListValues == nil {
			a.StringListValues = []string{}
		}
		if a.BinaryListValues == nil {
			a.BinaryListValues = [][]byte{}
		}
		rec.MessageAttributes[name] = a
	}
	js, err := marshalNoEscape(rec)
	if err != nil {
		return nil, fmt.Errorf("encode event record %s: %w", id, err)
	}
	return js, nil
}

// buildSQSEvent returns the SQS event {"Records":[…]} for msgs.
func buildSQSEvent(msgs []*sqsMessage) []byte {
	buf := make([]byte, 0, sqsEventSize(msgs))
	buf = append(buf, eventPrefix...)
	for i, msg := range msgs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, msg.json...)
	}
	return append(buf, eventSuffix...)
}
