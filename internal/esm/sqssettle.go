package esm

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// leave settles messages that failed: they stay in flight until the queue's
// visibility timeout expires [Q1].
func (m *SQSMapping) leave(msgs []*sqsMessage) {
	m.ctr.failed.Add(int64(len(msgs)))
	m.inflight.Add(-int64(len(msgs)))
	m.holdReceipts(msgs, false)
}

// delete deletes processed messages with DeleteMessageBatch, retrying transient
// failures. The calls are not cancelled by ctx (a stopping mapping finishes the
// deletes of what was processed, so it is not delivered again), but give up
// after sqsDeleteTimeout; messages that cannot be deleted are delivered again.
func (m *SQSMapping) delete(ctx context.Context, msgs []*sqsMessage) {
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sqsDeleteTimeout)
	defer cancel()
	for start := 0; start < len(msgs); start += sqsDeleteMax {
		chunk := msgs[start:min(start+sqsDeleteMax, len(msgs))]
		deleted, failed := m.deleteChunk(callCtx, chunk)
		m.ctr.deleted.Add(int64(deleted))
		m.ctr.deleteFailed.Add(int64(failed))
		m.inflight.Add(-int64(len(chunk)))
		m.holdReceipts(chunk, false)
	}
}

// deleteChunk deletes at most 10 messages, retrying the entries that failed for
// a reason other than the request's content. It returns how many were deleted
// and how many could not be.
func (m *SQSMapping) deleteChunk(ctx context.Context, chunk []*sqsMessage) (deleted, failed int) {
	pending := map[string]*sqsMessage{}
	for i, msg := range chunk {
		pending[strconv.Itoa(i)] = msg
	}
	for len(pending) > 0 {
		in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.s.QueueURL)}
		for _, id := range slices.Sorted(maps.Keys(pending)) {
			in.Entries = append(in.Entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: aws.String(pending[id].receipt)})
		}
		out, err := m.api.DeleteMessageBatch(ctx, in)
		if err == nil {
			for _, ok := range out.Successful {
				if _, found := pending[aws.ToString(ok.Id)]; found {
					delete(pending, aws.ToString(ok.Id))
					deleted++
				}
			}
			retry := false
			for _, f := range out.Failed {
				msg, found := pending[aws.ToString(f.Id)]
				if !found {
					continue
				}
				if f.SenderFault {
					// E.g. ReceiptHandleIsInvalid: retrying cannot help.
					delete(pending, aws.ToString(f.Id))
					failed++
					m.log.Warn("delete failed; the message will be delivered again", "messageId", msg.id,
						"code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
					continue
				}
				retry = true
			}
			if !retry {
				// Entries SQS answered neither way are taken as failed.
				failed += len(pending)
				return deleted, failed
			}
		} else {
			m.ctr.sqsErrors.Add(1)
			m.log.Warn("delete failed; will retry", "error", err)
		}
		if fatalSQSError(err) || !sleep(ctx, m.s.retryBackoff) {
			failed += len(pending)
			return deleted, failed
		}
	}
	return deleted, failed
}

// release makes messages that were received but not invoked visible again at
// once, so that a restarted mapping receives them without waiting for their
// visibility timeout. Failures are logged: the messages then return when the
// timeout expires.
func (m *SQSMapping) release(ctx context.Context, msgs []*sqsMessage) {
	if len(msgs) == 0 {
		return
	}
	handles := make([]string, len(msgs))
	for i, msg := range msgs {
		handles[i] = msg.receipt
	}
	m.makeVisible(ctx, handles)
	m.ctr.released.Add(int64(len(msgs)))
	m.inflight.Add(-int64(len(msgs)))
	m.holdReceipts(msgs, false)
}

// makeVisible sets the visibility timeout of the messages with these receipt
// handles to 0 and returns how many SQS accepted. Failures are logged: the
// messages then return when their visibility timeout expires.
func (m *SQSMapping) makeVisible(ctx context.Context, handles []string) int {
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sqsDeleteTimeout)
	defer cancel()
	ok := 0
	for start := 0; start < len(handles); start += sqsDeleteMax {
		chunk := handles[start:min(start+sqsDeleteMax, len(handles))]
		in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(m.s.QueueURL)}
		for i, h := range chunk {
			in.Entries = append(in.Entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h), VisibilityTimeout: 0})
		}
		out, err := m.api.ChangeMessageVisibilityBatch(callCtx, in)
		if err != nil {
			m.ctr.sqsErrors.Add(1)
			m.log.Warn("making messages visible again failed; they return after the visibility timeout", "error", err)
			continue
		}
		ok += len(out.Successful)
		if len(out.Failed) > 0 {
			m.log.Info("some messages could not be made visible again (already deleted or received again?)", "failedCount", len(out.Failed))
		}
	}
	return ok
}

// extendLease gives messages received with ReceiveLease the rest of the
// queue's visibility timeout. Failures are logged: those messages come back
// when the lease expires and may be delivered twice.
func (m *SQSMapping) extendLease(ctx context.Context, msgs []*sqsMessage, rest time.Duration) {
	secs := int32((rest + time.Second - 1) / time.Second)
	for start := 0; start < len(msgs); start += sqsDeleteMax {
		chunk := msgs[start:min(start+sqsDeleteMax, len(msgs))]
		in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(m.s.QueueURL)}
		for i, msg := range chunk {
			in.Entries = append(in.Entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(msg.receipt), VisibilityTimeout: secs})
		}
		out, err := m.api.ChangeMessageVisibilityBatch(ctx, in)
		switch {
		case err != nil:
			m.ctr.sqsErrors.Add(1)
			m.log.Warn("extending the receive lease failed; the messages return when it expires", "error", err)
		case len(out.Failed) > 0:
			m.log.Warn("extending the receive lease partly failed; those messages return when it expires", "failedCount", len(out.Failed))
		}
	}
}
