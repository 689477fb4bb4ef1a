package esm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSMapping is one emulated SQS event source mapping: pollers receive messages
// from a standard queue, gather them into batches, invoke the function
// synchronously through an Invoker and delete the messages it processed [Q1]:
//
//   - a successful invocation deletes every message of the batch;
//   - with ReportBatchItemFailures, a response listing batchItemFailures deletes
//     every message but the listed ones; an empty or null list (or no
//     response) is complete success; an itemIdentifier that is empty, null, not
//     a string or not a messageId of the batch, or a response that is not a JSON
//     object, fails the whole batch [Q5];
//   - a function error (returned error, crash, timeout) deletes nothing.
//
// Messages not deleted become visible again when the queue's visibility timeout
// expires, counted from their receipt, and are received again; the queue's
// RedrivePolicy (applied by SQS itself, not by the mapping) moves a message to
// its dead-letter queue once it was received maxReceiveCount times [Q1, Q6].
// A host error (the Invoker's err) is retried until the visibility timeout of
// the batch's first message expires, then the batch is given up to the queue,
// as AWS does with throttled invocations [Q5].
//
// Delivery is at-least-once and unordered, as with a standard queue: a message
// is delivered again after a failure, after its visibility timeout expired
// while it was still being processed, or when SQS delivers it twice.
//
// Run and RunUntilDrained may be called again after they return but not
// concurrently. Stats is safe to call at any time from any goroutine. The Invoker
// is called from every poller at once.
type SQSMapping struct {
	s   sqsSettings
	api SQSReceiveAPI
	inv Invoker
	log *slog.Logger
	ctr sqsCounters

	running  atomic.Bool
	ready    atomic.Bool  // pollers of the current run are started
	inflight atomic.Int64 // messages received and not yet settled

	visibility atomic.Int64 // the queue's VisibilityTimeout, in seconds
	receipts   *receiptFile
}

// NewSQS validates cfg as CreateEventSourceMapping would for an SQS queue
// [Q2, Q3, S7] and returns a mapping that polls the queue with api and invokes
// inv. It does no I/O.
func NewSQS(cfg SQSConfig, api SQSReceiveAPI, inv Invoker) (*SQSMapping, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	switch {
	case api == nil:
		return nil, errors.New("esm: an SQS client is required")
	case inv == nil:
		return nil, errors.New("esm: an Invoker is required")
	}
	log := mappingLogger(cfg.Logger, "queueArn", cfg.QueueARN, "functionArn", cfg.FunctionARN)
	return &SQSMapping{s: s, api: api, inv: inv, log: log, receipts: &receiptFile{path: cfg.ReceiptFile, queueARN: cfg.QueueARN, held: map[string]bool{}}}, nil
}

// Run polls the queue and invokes the function until ctx is done, then waits
// for its pollers and returns nil. Messages received and not yet invoked when
// ctx ends are made visible again at once (ChangeMessageVisibility 0), so that a
// restarted mapping gets them without waiting for the visibility timeout, and
// so are the messages of an invocation interrupted by ctx (they may have been
// processed in part: delivery is at-least-once). With a ReceiptFile, Run first
// makes visible the messages a previous process held when it died.
// Run returns an error if the queue cannot be used (it does not exist, is a
// FIFO queue, or its ARN is not QueueARN) or disappears; transient SQS errors
// and host errors are retried.
func (m *SQSMapping) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("esm: Run called while the mapping is already running")
	}
	defer m.running.Store(false)
	m.ready.Store(false)
	if err := m.checkQueue(ctx); err != nil {
		return ignoreDone(ctx, err)
	}
	if err := m.recoverReceipts(ctx); err != nil {
		return err
	}

	g := newGroup(ctx)
	defer g.cancel()
	for range m.s.pollers {
		g.start(m.poll)
	}
	m.ready.Store(true)
	m.log.Info("event source mapping started", "pollers", m.s.pollers, "visibilityTimeout", m.visibility.Load())
	firstErr := g.wait()
	m.ready.Store(false)
	return firstErr
}

// checkQueue reads the queue's attributes: it must exist, be the queue of
// QueueARN and be a standard queue; its visibility timeout bounds host-error
// retries.
func (m *SQSMapping) checkQueue(ctx context.Context) error {
	out, err := m.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(m.s.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		return fmt.Errorf("esm: queue %s: %w", m.s.QueueURL, err)
	}
	a := out.Attributes
	if arn := a[string(sqstypes.QueueAttributeNameQueueArn)]; arn != m.s.QueueARN {
		return fmt.Errorf("esm: queue %s has ARN %q, not the mapping's QueueARN %q", m.s.QueueURL, arn, m.s.QueueARN)
	}
	if strings.EqualFold(a[string(sqstypes.QueueAttributeNameFifoQueue)], "true") {
		return fmt.Errorf("esm: queue %s is a FIFO queue; only standard queues are emulated", m.s.QueueURL)
	}
	vt, err := strconv.ParseInt(a[string(sqstypes.QueueAttributeNameVisibilityTimeout)], 10, 64)
	if err != nil || vt < 0 {
		return fmt.Errorf("esm: queue %s: VisibilityTimeout %q is not a number of seconds", m.s.QueueURL, a[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
	}
	m.visibility.Store(vt)
	if rp := a[string(sqstypes.QueueAttributeNameRedrivePolicy)]; rp == "" {
		m.log.Info("the queue has no RedrivePolicy: a message that keeps failing is retried until it expires")
	}
	return nil
}

// sqsMessage is one received message with its event-record JSON, encoded once.
type sqsMessage struct {
	id, receipt string
	received    time.Time // when ReceiveMessage returned it (real clock)
	json        []byte    // the message's element of the event's Records array
}

// poll gathers and processes batches until ctx is done or the queue fails.
func (m *SQSMapping) poll(ctx context.Context) error {
	var carry []*sqsMessage
	for {
		batch, rest, err := m.gather(ctx, carry)
		carry = rest
		if ctx.Err() != nil {
			m.release(ctx, append(batch, carry...))
			return nil
		}
		if err != nil {
			m.release(ctx, append(batch, carry...))
			return err
		}
		m.process(ctx, batch)
	}
}

// gather receives the next batch [Q2]: it is ready when it holds BatchSize
// messages, when its event reaches the payload cap, when the next message would
// take the event over the cap (that message is carried into the next batch), when
// MaximumBatchingWindowInSeconds has passed since the batch's first message was
// received, or, with a window of 0, after the ReceiveMessage call that returned
// its first messages. With an empty batch it long-polls. It returns a non-empty
// batch unless ctx ends or the queue cannot be read.
func (m *SQSMapping) gather(ctx context.Context, carry []*sqsMessage) (batch, rest []*sqsMessage, err error) {
	s := &m.s
	size := sqsEventSize(nil)
	// admit adds msgs to the batch in order until the next would take the
	// event over the payload cap (it and those after it are left for the next
	// batch) or the event reaches the cap; full reports either.
	admit := func(msgs []*sqsMessage) (left []*sqsMessage, full bool) {
		for i, msg := range msgs {
			add := len(msg.json)
			if len(batch) > 0 {
				add++ // comma
			}
			if len(batch) > 0 && size+add > s.maxPayload {
				// The message would take the event over the payload cap:
				// invoke without it, and start the next batch with it [Q2].
				return msgs[i:], true
			}
			// A message whose event alone exceeds the cap is still delivered,
			// alone: SQS messages (at most 1 MiB) are far below the 6 MB cap,
			// so only a lowered MaxPayloadBytes gets here.
			batch = append(batch, msg)
			size += add
			if size >= s.maxPayload {
				// The event has reached the cap: no further message could
				// join it, so the window is not waited for [Q2].
				return msgs[i+1:], true
			}
		}
		return nil, false
	}
	// Messages carried from the last batch, received with one that did not
	// fit, are admitted the same way: together they may not fit either.
	if left, full := admit(carry); full {
		return batch, left, nil
	}
	for {
		if ctx.Err() != nil {
			return batch, nil, nil
		}
		var wait int32
		if len(batch) > 0 {
			remaining := s.window - time.Since(batch[0].received)
			if s.window == 0 || remaining <= 0 || len(batch) >= s.batchSize {
				return batch, nil, nil
			}
			wait = min(int32(remaining/time.Second), s.waitSeconds)
		} else {
			wait = s.waitSeconds
		}
		msgs, err := m.receive(ctx, min(sqsReceiveMax, s.batchSize-len(batch)), wait)
		if err != nil {
			if fatalSQSError(err) {
				return batch, nil, fmt.Errorf("esm: receive from %s: %w", s.QueueURL, err)
			}
			m.ctr.sqsErrors.Add(1)
			m.log.Warn("receive failed; will retry", "error", err)
			sleep(ctx, s.retryBackoff)
			continue
		}
		if left, full := admit(msgs); full {
			return batch, left, nil
		}
		if len(msgs) == 0 && wait == 0 && len(batch) > 0 {
			// The window's last fraction of a second: short polls with a pause.
			sleep(ctx, min(sqsShortPollPause, s.window-time.Since(batch[0].received)))
		}
	}
}

// receive calls ReceiveMessage once and encodes the messages. The call is not
// cancelled by ctx: messages it returns after ctx ended are released by the
// caller instead of being left invisible until their visibility timeout.
func (m *SQSMapping) receive(ctx context.Context, max int, wait int32) ([]*sqsMessage, error) {
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(wait)*time.Second+sqsDeleteTimeout)
	defer cancel()
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(m.s.QueueURL),
		MaxNumberOfMessages:         int32(max),
		WaitTimeSeconds:             wait,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	vt := time.Duration(m.visibility.Load()) * time.Second
	lease := m.s.ReceiveLease > 0 && m.s.ReceiveLease < vt
	if lease {
		in.VisibilityTimeout = int32(m.s.ReceiveLease / time.Second)
	}
	out, err := m.api.ReceiveMessage(callCtx, in)
	m.ctr.receiveCalls.Add(1)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	msgs := make([]*sqsMessage, 0, len(out.Messages))
	for _, raw := range out.Messages {
		js, err := encodeSQSRecord(raw, m.s.QueueARN, m.s.region, m.s.window > 0)
		if err != nil {
			// Not expected from SQS; the message returns after its visibility
			// timeout and, failing every time, reaches the dead-letter queue.
			m.ctr.sqsErrors.Add(1)
			m.log.Error("cannot encode a received message; leaving it to the visibility timeout", "messageId", aws.ToString(raw.MessageId), "error", err)
			m.ctr.received.Add(1)
			m.ctr.failed.Add(1)
			continue
		}
		msgs = append(msgs, &sqsMessage{id: aws.ToString(raw.MessageId), receipt: aws.ToString(raw.ReceiptHandle), received: now, json: js})
	}
	m.ctr.received.Add(int64(len(msgs)))
	m.inflight.Add(int64(len(msgs)))
	m.holdReceipts(msgs, true)
	if lease && len(msgs) > 0 {
		m.extendLease(callCtx, msgs, vt-time.Since(now))
	}
	if len(out.Messages) == 0 {
		m.ctr.emptyReceives.Add(1)
	}
	return msgs, nil
}

// process invokes the function with batch and settles every message: deleted,
// left to the visibility timeout after a failure, or released.
func (m *SQSMapping) process(ctx context.Context, batch []*sqsMessage) {
	s := &m.s
	ctr := &m.ctr
	payload := buildSQSEvent(batch)
	deadline := batch[0].received.Add(time.Duration(m.visibility.Load()) * time.Second)
	var inv Invocation
	for {
		var err error
		inv, err = m.inv.Invoke(ctx, payload)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			m.release(ctx, batch)
			return
		}
		ctr.invokeErrors.Add(1)
		if time.Now().Add(s.retryBackoff).After(deadline) {
			// As with throttling, Lambda retries until the visibility timeout
			// expires and then leaves the messages to the queue [Q5].
			m.log.Warn("invoke failed before running the function until the visibility timeout; messages return to the queue",
				"messageCount", len(batch), "error", err)
			ctr.released.Add(int64(len(batch)))
			m.inflight.Add(-int64(len(batch)))
			m.holdReceipts(batch, false)
			return
		}
		m.log.Warn("invoke failed before running the function; retrying", "error", err)
		if !sleep(ctx, s.retryBackoff) {
			m.release(ctx, batch)
			return
		}
	}
	ctr.invocations.Add(1)
	ctr.invoked.Add(int64(len(batch)))
	for {
		cur := ctr.maxBatch.Load()
		if int64(len(batch)) <= cur || ctr.maxBatch.CompareAndSwap(cur, int64(len(batch))) {
			break
		}
	}

	switch {
	case inv.FunctionError != "":
		ctr.functionErrors.Add(1)
		m.log.Warn("function error; the batch returns to the queue after the visibility timeout",
			"messageCount", len(batch), "errorType", inv.FunctionError, "errorMessage", inv.ErrorMessage)
		m.leave(batch)
		return
	case !s.reportFailures:
		m.delete(ctx, batch)
		return
	}
	failed, err := parseSQSBatchItemFailures(inv.Payload, batch)
	if err != nil {
		ctr.invalidResps.Add(1)
		m.log.Warn("partial batch response fails the whole batch; it returns to the queue after the visibility timeout",
			"messageCount", len(batch), "reason", err.Error())
		m.leave(batch)
		return
	}
	if len(failed) == 0 {
		m.delete(ctx, batch)
		return
	}
	ctr.partialFailures.Add(1)
	var done, left []*sqsMessage
	for _, msg := range batch {
		if failed[msg.id] {
			left = append(left, msg)
		} else {
			done = append(done, msg)
		}
	}
	m.log.Debug("partial batch failure", "messageCount", len(batch), "failedCount", len(left))
	m.leave(left)
	m.delete(ctx, done)
}

// fatalSQSError reports errors that retrying cannot fix.
func fatalSQSError(err error) bool {
	var (
		missing *sqstypes.QueueDoesNotExist
		invalid *sqstypes.InvalidAddress
	)
	return err != nil && (errors.As(err, &missing) || errors.As(err, &invalid))
}
