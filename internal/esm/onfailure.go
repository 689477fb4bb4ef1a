package esm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/onfailure"
)

// Discard describes records a mapping gave up on; see Config.OnDiscard.
type Discard struct {
	// Record is the on-failure record (sent to the destination if one is set).
	Record onfailure.Record
	// SequenceNumbers are the discarded records' sequence numbers, in order.
	SequenceNumbers []string
	// Sent reports whether Record was delivered to an on-failure destination.
	Sent bool
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
func newOnFailureRecord(s *settings, shardID string, recs []*record, condition string, a attempt, now time.Time) onfailure.Record {
	rec := onfailure.Record{
		RequestContext: onfailure.RequestContext{
			RequestID:              a.requestID,
			FunctionARN:            s.FunctionARN,
			Condition:              condition,
			ApproximateInvokeCount: a.invokes,
		},
		Version:   onfailure.Version,
		Timestamp: onfailure.Time(now),
		KinesisBatchInfo: onfailure.KinesisBatchInfo{
			ShardID:                         shardID,
			StartSequenceNumber:             recs[0].seq,
			EndSequenceNumber:               recs[len(recs)-1].seq,
			ApproximateArrivalOfFirstRecord: onfailure.Time(recs[0].arrival),
			ApproximateArrivalOfLastRecord:  onfailure.Time(recs[len(recs)-1].arrival),
			BatchSize:                       len(recs),
			StreamARN:                       s.StreamARN,
		},
	}
	if rec.RequestContext.RequestID == "" {
		rec.RequestContext.RequestID = newUUID()
	}
	if a.beforeInvoke || a.invokes == 0 {
		// Discarded before an attempt: the count includes the attempt not made
		// and there is no responseContext (see onfailure.Record).
		rec.RequestContext.ApproximateInvokeCount = a.invokes + 1
		return rec
	}
	rec.ResponseContext = onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"}
	if a.functionError != "" {
		fe := onfailure.FunctionErrorUnhandled
		rec.ResponseContext.FunctionError = &fe
	}
	return rec
}

// marshalOnFailure returns the SQS message body of r.
func marshalOnFailure(r onfailure.Record) (string, error) {
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
func (sh *shard) sendOnFailure(ctx context.Context, rec onfailure.Record) error {
	s := &sh.m.s
	body, err := marshalOnFailure(rec)
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
