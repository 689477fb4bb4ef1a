package esm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Conditions of an on-failure record (requestContext.condition) [S3].
const (
	// ConditionRetryAttemptsExhausted: MaximumRetryAttempts was reached [S3].
	ConditionRetryAttemptsExhausted = "RetryAttemptsExhausted"
	// ConditionRecordAgeExceeded: records were older than
	// MaximumRecordAgeInSeconds. AWS does not document the string; this is the
	// project's decision (configurable with Config.RecordAgeCondition).
	ConditionRecordAgeExceeded = "RecordAgeExceeded"
	// ConditionPayloadTooLarge: one record's event exceeds the invoke payload cap,
	// so it cannot be delivered at all (project decision; AWS is silent).
	ConditionPayloadTooLarge = "PayloadTooLarge"
)

// FunctionErrorUnhandled is responseContext.functionError for records discarded
// after function errors [S3].
const FunctionErrorUnhandled = "Unhandled"

// OnFailureRecord is the invocation record Lambda sends to an SQS (or SNS)
// on-failure destination for discarded Kinesis records [S3]: metadata only, the
// records are re-read from the stream with GetShardIterator AT_SEQUENCE_NUMBER
// KinesisBatchInfo.StartSequenceNumber up to EndSequenceNumber. JSON field names
// and order are exactly AWS's; decode an SQS message body into it with
// encoding/json. The zero value is not meaningful.
//
// ResponseContext is present (non-zero) only for records discarded after an
// invocation with condition RetryAttemptsExhausted. Records discarded for age
// (RecordAgeExceeded) carry no responseContext key at all, as AWS records them
// (LocalStack tests/aws/services/lambda_/event_source_mapping/
// test_lambda_integration_kinesis.snapshot.json,
// TestKinesisSource::test_kinesis_maximum_record_age_exceeded[expire-while-retrying],
// [expire-before-ingestion] and ::test_kinesis_maximum_record_age_exceeded_discard_records);
// the project's PayloadTooLarge records, also discarded before an invocation,
// follow the same shape.
type OnFailureRecord struct {
	RequestContext   OnFailureRequestContext  `json:"requestContext"`
	ResponseContext  OnFailureResponseContext `json:"responseContext,omitzero"`
	Version          string                   `json:"version"`   // "1.0"
	Timestamp        string                   `json:"timestamp"` // ISO-8601 UTC, ms: 2019-11-14T00:38:06.021Z
	KinesisBatchInfo KinesisBatchInfo         `json:"KinesisBatchInfo"`
}

// OnFailureRequestContext is the requestContext of an OnFailureRecord.
type OnFailureRequestContext struct {
	RequestID   string `json:"requestId"`
	FunctionARN string `json:"functionArn"`
	// Condition is one of the Condition* constants.
	Condition string `json:"condition"`
	// ApproximateInvokeCount numbers the attempt at which the records were
	// discarded. After RetryAttemptsExhausted it is the number of invocations of
	// the batch reported (1 + retries; a batch that is the rest of a partial
	// batch response counts from its own first invocation). For records
	// discarded before an attempt (RecordAgeExceeded, PayloadTooLarge) it is the
	// number of invocations so far plus the attempt that was not made: 1 for
	// records that expired before any invocation, as AWS records it (LocalStack
	// test_lambda_integration_kinesis.snapshot.json,
	// test_kinesis_maximum_record_age_exceeded[expire-before-ingestion]).
	ApproximateInvokeCount int `json:"approximateInvokeCount"`
}

// OnFailureResponseContext is the responseContext of an OnFailureRecord; its
// zero value means the record has none.
type OnFailureResponseContext struct {
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
// [S3].
type KinesisBatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// Discard describes records a mapping gave up on; see Config.OnDiscard.
type Discard struct {
	// Record is the on-failure record (sent to the destination if one is set).
	Record OnFailureRecord
	// SequenceNumbers are the discarded records' sequence numbers, in order.
	SequenceNumbers []string
	// Sent reports whether Record was delivered to an on-failure destination.
	Sent bool
}

// isoMillis formats t as ISO-8601 UTC with milliseconds, the on-failure record's
// time format for Kinesis [S3].
func isoMillis(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// attempt summarises the invocations of a (sub)batch for its on-failure record.
type attempt struct {
	invokes       int    // invocations made
	functionError string // "" = returned normally or never invoked
	requestID     string // of the last invocation, "" if unknown
	// beforeInvoke: the records are discarded at the start of attempt
	// invokes+1, which is not made (age, payload size); the record then has
	// no responseContext.
	beforeInvoke bool
}

// newOnFailureRecord builds the record for recs (in sequence order, not empty).
func newOnFailureRecord(s *settings, shardID string, recs []*record, condition string, a attempt, now time.Time) OnFailureRecord {
	rec := OnFailureRecord{
		RequestContext: OnFailureRequestContext{
			RequestID:              a.requestID,
			FunctionARN:            s.FunctionARN,
			Condition:              condition,
			ApproximateInvokeCount: a.invokes,
		},
		Version:   "1.0",
		Timestamp: isoMillis(now),
		KinesisBatchInfo: KinesisBatchInfo{
			ShardID:                         shardID,
			StartSequenceNumber:             recs[0].seq,
			EndSequenceNumber:               recs[len(recs)-1].seq,
			ApproximateArrivalOfFirstRecord: isoMillis(recs[0].arrival),
			ApproximateArrivalOfLastRecord:  isoMillis(recs[len(recs)-1].arrival),
			BatchSize:                       len(recs),
			StreamARN:                       s.StreamARN,
		},
	}
	if rec.RequestContext.RequestID == "" {
		rec.RequestContext.RequestID = newUUID()
	}
	if a.beforeInvoke || a.invokes == 0 {
		// Discarded before an attempt: the count includes the attempt not made
		// and there is no responseContext (see OnFailureRecord).
		rec.RequestContext.ApproximateInvokeCount = a.invokes + 1
		return rec
	}
	rec.ResponseContext = OnFailureResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"}
	if a.functionError != "" {
		fe := FunctionErrorUnhandled
		rec.ResponseContext.FunctionError = &fe
	}
	return rec
}

// marshal returns the SQS message body.
func (r OnFailureRecord) marshal() (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode on-failure record: %w", err)
	}
	return string(b), nil
}

// newUUID returns a random (version 4) UUID, the shape of a Lambda request id.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// sendOnFailure delivers rec to the SQS destination, retrying every
// RetryBackoff until SendMessage succeeds or ctx ends, so that no discarded
// record goes unreported.
func (sh *shard) sendOnFailure(ctx context.Context, rec OnFailureRecord) error {
	s := &sh.m.s
	body, err := rec.marshal()
	if err != nil {
		return err
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(s.destination.QueueURL), MessageBody: aws.String(body)}
	for {
		_, err := sh.m.sqs.SendMessage(ctx, in)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sh.m.ctr.onFailureSendErrors.Add(1)
		sh.m.log.Warn("send on-failure record failed; retrying", "shardId", sh.id, "queueUrl", s.destination.QueueURL, "error", err)
		if !sleep(ctx, s.retryBackoff) {
			return ctx.Err()
		}
	}
}
