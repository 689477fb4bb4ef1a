package onfailure

import "time"

// Conditions of an on-failure record (requestContext.condition) [S3].
const (
	// ConditionRetryAttemptsExhausted: MaximumRetryAttempts was reached [S3].
	ConditionRetryAttemptsExhausted = "RetryAttemptsExhausted"
	// ConditionRecordAgeExceeded: records were older than
	// MaximumRecordAgeInSeconds. AWS does not document the string; real AWS
	// writes it (LocalStack test_lambda_integration_kinesis.snapshot.json,
	// test_kinesis_maximum_record_age_exceeded[*]); the emulator makes it
	// configurable.
	ConditionRecordAgeExceeded = "RecordAgeExceeded"
	// ConditionMaximumPayloadSizeExceeded: one record's event exceeds the invoke
	// payload cap, so it cannot be delivered at all. AWS documents this condition
	// for batches over the payload limit of Kafka event source mappings
	// (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html) and
	// is silent for Kinesis; the project uses the same string.
	ConditionMaximumPayloadSizeExceeded = "MaximumPayloadSizeExceeded"
)

// FunctionErrorUnhandled is responseContext.functionError for records discarded
// after function errors [S3].
const FunctionErrorUnhandled = "Unhandled"

// Version is the record's version field [S3].
const Version = "1.0"

// TimeFormat is the layout of the record's times (timestamp and the
// approximateArrival fields): ISO-8601 UTC with milliseconds,
// 2019-11-14T00:38:06.021Z [S3]. Format times with Time.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Time formats t as the record's times are written: in UTC, with TimeFormat.
func Time(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}

// Record is the invocation record Lambda sends to an SQS (or SNS) on-failure
// destination for discarded Kinesis records [S3]: metadata only, the records
// are re-read from the stream with GetShardIterator AT_SEQUENCE_NUMBER
// KinesisBatchInfo.StartSequenceNumber up to EndSequenceNumber. JSON field
// names and order are exactly AWS's; encode it and decode an SQS message body
// into it with encoding/json. The zero value is not meaningful.
//
// ResponseContext is present (non-zero) only for records discarded after an
// invocation with condition RetryAttemptsExhausted. Records discarded for age
// (RecordAgeExceeded) carry no responseContext key at all, as AWS records them
// (LocalStack tests/aws/services/lambda_/event_source_mapping/
// test_lambda_integration_kinesis.snapshot.json,
// TestKinesisSource::test_kinesis_maximum_record_age_exceeded[expire-while-retrying],
// [expire-before-ingestion] and ::test_kinesis_maximum_record_age_exceeded_discard_records);
// MaximumPayloadSizeExceeded records, also discarded before an invocation,
// follow the same shape.
type Record struct {
	RequestContext   RequestContext   `json:"requestContext"`
	ResponseContext  ResponseContext  `json:"responseContext,omitzero"`
	Version          string           `json:"version"`   // Version
	Timestamp        string           `json:"timestamp"` // TimeFormat
	KinesisBatchInfo KinesisBatchInfo `json:"KinesisBatchInfo"`
}

// RequestContext is the requestContext of a Record.
type RequestContext struct {
	RequestID   string `json:"requestId"`
	FunctionARN string `json:"functionArn"`
	// Condition is one of the Condition* constants.
	Condition string `json:"condition"`
	// ApproximateInvokeCount numbers the attempt at which the records were
	// discarded. After RetryAttemptsExhausted it is the number of invocations of
	// the batch reported (1 + retries; a batch that is the rest of a partial
	// batch response counts from its own first invocation). For records
	// discarded before an attempt (RecordAgeExceeded, MaximumPayloadSizeExceeded) it is the
	// number of invocations so far plus the attempt that was not made: 1 for
	// records that expired before any invocation, as AWS records it (LocalStack
	// test_lambda_integration_kinesis.snapshot.json,
	// test_kinesis_maximum_record_age_exceeded[expire-before-ingestion]).
	ApproximateInvokeCount int `json:"approximateInvokeCount"`
}

// ResponseContext is the responseContext of a Record; its zero value means the
// record has none.
type ResponseContext struct {
	// StatusCode is the Invoke API status of the last invocation: 200 even for
	// function errors.
	StatusCode int `json:"statusCode"`
	// ExecutedVersion is "$LATEST".
	ExecutedVersion string `json:"executedVersion"`
	// FunctionError is "Unhandled" if the last invocation was a function error,
	// nil (JSON null) if it returned normally (partial or invalid batch response).
	FunctionError *string `json:"functionError"`
}

// KinesisBatchInfo locates the discarded records; every field is always present
// [S3]. Times are in TimeFormat; sequence numbers are decimal strings.
type KinesisBatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}
