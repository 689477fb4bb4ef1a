package esm

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// RunUntilDrained runs the mapping like Run and returns nil once upstreamDone
// is closed (nil means the upstream is already done) and the queue is drained:
// it holds no visible, in-flight or delayed message
// (ApproximateNumberOfMessages, …NotVisible and …Delayed are all 0 on two
// consecutive reads with no receive in between, see drained) and the mapping
// holds no message. Messages that keep failing keep the queue from
// draining until its RedrivePolicy moves them to the dead-letter queue; without
// one they never drain, as with AWS. It returns ctx.Err() if ctx ends first, and
// Run's error if Run fails.
func (m *SQSMapping) RunUntilDrained(ctx context.Context, upstreamDone <-chan struct{}) error {
	return runUntilDrained(ctx, upstreamDone, "queue", sqsDrainCheckPeriod, m.Run,
		func() func(context.Context) bool { return m.drained })
}

// drained reports whether the running mapping holds no message and the queue
// has none left.
//
// One GetQueueAttributes call is not enough: SQS (and moto, which computes
// ApproximateNumberOfMessages, …NotVisible and …Delayed one after the other at
// slightly different moments) may count a message that changes state during
// the call in neither number. A message whose visibility timeout expires (or
// whose delay ends) between the two computations is seen as "not yet visible"
// by the first and "no longer invisible" by the second, so a single read of 0
// can leave a message still to be retried. drained therefore requires:
//
//  1. the mapping holds no message (inflight 0) before the first read;
//  2. two consecutive reads, the second started after the first returned, both
//     count 0 messages;
//  3. the mapping received nothing between the start of the first read and the
//     end of the second, and still holds nothing.
//
// Why this cannot miss a message M (the mapping is the queue's only consumer,
// and nothing is sent to the queue once the upstream is done): a read misses M
// only if M changes state during it. The states and their changes are: delayed
// → visible when the delay ends; invisible → visible when the visibility
// timeout expires; visible → invisible only when a ReceiveMessage takes it;
// deleted only after the mapping invoked it (it was then in flight). If the
// first read missed M, M became visible (or was taken by a ReceiveMessage of
// the mapping) during that read. A visible M stays visible until a
// ReceiveMessage takes it, so the second read counts it, unless the mapping
// received it, which condition 3 sees (the response may still be on its way:
// then M is invisible for a whole visibility timeout, far longer than a read,
// and the second read counts it as not visible). Messages the mapping left to
// their visibility timeout after a failure are invisible, hence counted,
// until the timeout expires; that expiry can fool at most one of the two reads.
// A message received twice at once (standard queues may deliver a message to
// two concurrent receives, moto does) is two receipts: each is held, invoked
// and settled on its own, and both deletes succeed.
func (m *SQSMapping) drained(ctx context.Context) bool {
	if !m.ready.Load() || m.inflight.Load() != 0 {
		return false
	}
	received := m.ctr.received.Load()
	for range 2 {
		n, err := m.queueDepth(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.ctr.sqsErrors.Add(1)
				m.log.Warn("get queue attributes failed", "error", err)
			}
			return false
		}
		if n != 0 {
			return false
		}
	}
	return m.inflight.Load() == 0 && m.ctr.received.Load() == received
}

// queueDepth is the number of visible, in-flight and delayed messages.
func (m *SQSMapping) queueDepth(ctx context.Context) (int64, error) {
	out, err := m.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(m.s.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("get attributes of %s: %w", m.s.QueueURL, err)
	}
	var total int64
	for _, name := range []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	} {
		v, ok := out.Attributes[string(name)]
		if !ok {
			if name == sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed {
				continue
			}
			return 0, fmt.Errorf("get attributes of %s: no %s", m.s.QueueURL, name)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("get attributes of %s: %s %q is not a number", m.s.QueueURL, name, v)
		}
		total += n
	}
	return total, nil
}
