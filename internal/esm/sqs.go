package esm

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Limits and defaults of an SQS event source mapping [Q1, Q2] and of the
// emulator's knobs.
const (
	// DefaultSQSBatchSize is the BatchSize of an SQS mapping that sets none [Q2].
	DefaultSQSBatchSize = 10
	// MaxSQSBatchSize is the largest BatchSize of a standard queue [Q2].
	MaxSQSBatchSize = 10000
	// MaxSQSBatchSizeWithoutWindow is the largest BatchSize allowed with a
	// MaximumBatchingWindowInSeconds of 0 [Q2, S7].
	MaxSQSBatchSizeWithoutWindow = 10
	// MinMaximumConcurrency and MaxMaximumConcurrency bound
	// ScalingConfig.MaximumConcurrency [Q3].
	MinMaximumConcurrency = 2
	MaxMaximumConcurrency = 1000
	// DefaultSQSPollers is the number of concurrent pollers (and so of concurrent
	// invocations) of a local mapping; AWS starts with more and scales up to
	// MaximumConcurrency [Q3], which a laptop does not need.
	DefaultSQSPollers = 2
	// DefaultSQSWaitTime is the ReceiveMessage long-polling wait; AWS's pollers
	// long-poll [Q1] and 20 s is SQS's maximum.
	DefaultSQSWaitTime = 20 * time.Second

	sqsMaxWaitTime      = 20 * time.Second // WaitTimeSeconds is 0–20 [Q4]
	sqsReceiveMax       = 10               // MaxNumberOfMessages is 1–10 [Q4]
	sqsDeleteMax        = 10               // DeleteMessageBatch takes at most 10 entries [Q4]
	sqsShortPollPause   = 50 * time.Millisecond
	sqsDeleteTimeout    = 30 * time.Second
	sqsDrainCheckPeriod = 100 * time.Millisecond
)

// SQSReceiveAPI is the part of the SQS client an SQSMapping uses (*sqs.Client
// satisfies it).
type SQSReceiveAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// SQSConfig configures an SQSMapping. Field names are the CloudFormation
// (AWS::Lambda::EventSourceMapping) property names where one exists; the zero
// value of an optional field means the AWS default. An SQSConfig is copied by
// NewSQS and not retained.
type SQSConfig struct {
	// FunctionARN is the target function's ARN, for validation and logs. Required.
	FunctionARN string
	// QueueARN is the standard queue's ARN (EventSourceArn); it becomes each
	// message's eventSourceARN. FIFO queues are not emulated. Required.
	QueueARN string
	// QueueURL is the URL the queue is called with (resolve it with
	// GetQueueUrl). Required.
	QueueURL string
	// BatchSize is the maximum number of messages per invocation, 1–10000;
	// 0 means 10. Above 10 a MaximumBatchingWindowInSeconds of at least 1 is
	// required, as AWS requires [Q2, S7].
	BatchSize int
	// MaximumBatchingWindowInSeconds is the longest time, 0–300 s, a poller
	// gathers messages after the first one of a batch arrived; 0 invokes with what
	// one ReceiveMessage call returned [Q2].
	MaximumBatchingWindowInSeconds int
	// FunctionResponseTypes is empty or ["ReportBatchItemFailures"] [Q5].
	FunctionResponseTypes []string
	// MaximumConcurrency is ScalingConfig.MaximumConcurrency, 2–1000, the most
	// concurrent invocations the mapping makes; 0 means not set [Q3].
	MaximumConcurrency int
	// Region is the events' awsRegion; "" means the queue ARN's region.
	Region string

	// Pollers is the number of concurrent pollers, each gathering and invoking
	// one batch at a time; 0 means DefaultSQSPollers. It is capped by
	// MaximumConcurrency.
	Pollers int
	// WaitTime is the ReceiveMessage long-polling wait, whole seconds from 1 s to
	// 20 s; 0 means DefaultSQSWaitTime. A stopping mapping waits for its pending
	// ReceiveMessage calls, so a short wait stops it sooner.
	WaitTime time.Duration
	// RetryBackoff is the pause before retrying a host error (Invoker err) or a
	// failed SQS call; 0 means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// MaxPayloadBytes caps the serialized event of one invocation; 0 means
	// DefaultMaxPayloadBytes (6 MB) [Q2].
	MaxPayloadBytes int
	// ReceiptFile is where the mapping keeps the receipt handles of the messages
	// it holds (received and not yet deleted or given up), so that a mapping
	// restarted after its process died makes them visible again at once instead
	// of waiting for their visibility timeout (an emulator need: AWS's pollers do
	// not die). "" keeps them in memory only.
	ReceiptFile string
	// ReceiveLease, with a ReceiptFile, is the visibility timeout messages are
	// received with; once recorded in the file they get the rest of the queue's
	// visibility timeout (ChangeMessageVisibility). Messages that a
	// ReceiveMessage call returned to a process that died before recording them
	// then come back after ReceiveLease instead of the queue's visibility timeout.
	// Whole seconds; 0 receives with the queue's visibility timeout, as AWS does.
	ReceiveLease time.Duration
	// Logger receives warnings (function errors, failed deletes, SQS errors); nil
	// discards logs.
	Logger *slog.Logger
}

// sqsSettings is a validated SQSConfig with defaults applied.
type sqsSettings struct {
	SQSConfig
	region         string
	batchSize      int
	window         time.Duration
	reportFailures bool
	pollers        int
	waitSeconds    int32
	retryBackoff   time.Duration
	maxPayload     int
}

// validate checks cfg as CreateEventSourceMapping would for an SQS queue
// [Q2, Q3, S7] and applies the defaults. All problems are reported together.
func (cfg SQSConfig) validate() (sqsSettings, error) {
	s := sqsSettings{SQSConfig: cfg}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if cfg.FunctionARN == "" {
		bad("FunctionARN is required")
	} else if a, err := parseARN(cfg.FunctionARN); err != nil {
		bad("FunctionARN: %v", err)
	} else if a.service != "lambda" || !strings.HasPrefix(a.resource, "function:") {
		bad("FunctionARN %q is not a Lambda function ARN", cfg.FunctionARN)
	}

	var queueRegion string
	if cfg.QueueARN == "" {
		bad("QueueARN is required")
	} else if a, err := parseARN(cfg.QueueARN); err != nil {
		bad("QueueARN: %v", err)
	} else if a.service != "sqs" || strings.ContainsAny(a.resource, ":/") {
		bad("QueueARN %q is not an SQS queue ARN (arn:aws:sqs:region:account:name)", cfg.QueueARN)
	} else if strings.HasSuffix(a.resource, ".fifo") {
		bad("QueueARN %q is a FIFO queue; only standard queues are emulated", cfg.QueueARN)
	} else {
		queueRegion = a.region
	}
	if cfg.QueueURL == "" {
		bad("QueueURL is required")
	}
	s.region = cfg.Region
	if s.region == "" {
		s.region = queueRegion
	} else if queueRegion != "" && queueRegion != cfg.Region {
		bad("Region %q differs from the queue's region %q", cfg.Region, queueRegion)
	}

	s.batchSize = cfg.BatchSize
	if s.batchSize == 0 {
		s.batchSize = DefaultSQSBatchSize
	}
	if s.batchSize < 1 || s.batchSize > MaxSQSBatchSize {
		bad("BatchSize %d is outside 1–%d", cfg.BatchSize, MaxSQSBatchSize)
	}
	w := cfg.MaximumBatchingWindowInSeconds
	if w < 0 || w > MaxBatchingWindowInSeconds {
		bad("MaximumBatchingWindowInSeconds %d is outside 0–%d", w, MaxBatchingWindowInSeconds)
	} else if w == 0 && s.batchSize > MaxSQSBatchSizeWithoutWindow {
		bad("BatchSize %d needs MaximumBatchingWindowInSeconds of at least 1 (BatchSize above %d)", s.batchSize, MaxSQSBatchSizeWithoutWindow)
	}
	s.window = time.Duration(w) * time.Second

	if len(cfg.FunctionResponseTypes) > 1 {
		bad("FunctionResponseTypes has %d entries; at most 1 (ReportBatchItemFailures) is allowed", len(cfg.FunctionResponseTypes))
	}
	for _, t := range cfg.FunctionResponseTypes {
		if t != ReportBatchItemFailures {
			bad("FunctionResponseTypes value %q is not ReportBatchItemFailures", t)
		} else {
			s.reportFailures = true
		}
	}

	if c := cfg.MaximumConcurrency; c != 0 && (c < MinMaximumConcurrency || c > MaxMaximumConcurrency) {
		bad("MaximumConcurrency %d is outside %d–%d", c, MinMaximumConcurrency, MaxMaximumConcurrency)
	}
	s.pollers = cfg.Pollers
	if s.pollers == 0 {
		s.pollers = DefaultSQSPollers
	}
	if s.pollers < 0 {
		bad("Pollers %d is negative", cfg.Pollers)
	}
	if cfg.MaximumConcurrency > 0 {
		s.pollers = min(s.pollers, cfg.MaximumConcurrency)
	}

	wait := cmp.Or(cfg.WaitTime, DefaultSQSWaitTime)
	if wait < time.Second || wait > sqsMaxWaitTime || wait%time.Second != 0 {
		bad("WaitTime %s is not a whole number of seconds from 1s to 20s", cfg.WaitTime)
	}
	s.waitSeconds = int32(wait / time.Second)
	s.retryBackoff = orDefault(cfg.RetryBackoff, DefaultRetryBackoff)
	if cfg.RetryBackoff < 0 {
		bad("RetryBackoff %s is negative", cfg.RetryBackoff)
	}
	switch l := cfg.ReceiveLease; {
	case l < 0 || l%time.Second != 0:
		bad("ReceiveLease %s is not a whole number of seconds", l)
	case l > 0 && cfg.ReceiptFile == "":
		bad("ReceiveLease needs a ReceiptFile")
	}
	s.maxPayload = cmp.Or(cfg.MaxPayloadBytes, DefaultMaxPayloadBytes)
	if s.maxPayload < 0 {
		bad("MaxPayloadBytes %d is negative", cfg.MaxPayloadBytes)
	}
	if len(errs) > 0 {
		return sqsSettings{}, fmt.Errorf("invalid SQS event source mapping: %w", errors.Join(errs...))
	}
	return s, nil
}

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
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("queueArn", cfg.QueueARN, "functionArn", cfg.FunctionARN)
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

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		failOnce sync.Once
		firstErr error
	)
	for range m.s.pollers {
		wg.Go(func() {
			if err := m.poll(runCtx); err != nil && runCtx.Err() == nil {
				failOnce.Do(func() { firstErr = err; cancel() })
			}
		})
	}
	m.ready.Store(true)
	m.log.Info("event source mapping started", "pollers", m.s.pollers, "visibilityTimeout", m.visibility.Load())
	wg.Wait()
	m.ready.Store(false)
	return firstErr
}

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
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- m.Run(runCtx) }()
	stopped := func(err error) error {
		return cmp.Or(err, ctx.Err(), errors.New("esm: mapping stopped before the queue was drained"))
	}
	if upstreamDone != nil {
		select {
		case err := <-errc:
			return stopped(err)
		case <-upstreamDone:
		}
	}
	tick := time.NewTicker(sqsDrainCheckPeriod)
	defer tick.Stop()
	for {
		if m.drained(runCtx) {
			cancel()
			return <-errc
		}
		select {
		case err := <-errc:
			return stopped(err)
		case <-tick.C:
		}
	}
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
// messages, when the next message would take the event over the payload cap
// (that message is carried into the next batch), when
// MaximumBatchingWindowInSeconds has passed since the batch's first message was
// received, or, with a window of 0, after the ReceiveMessage call that returned
// its first messages. With an empty batch it long-polls. It returns a non-empty
// batch unless ctx ends or the queue cannot be read.
func (m *SQSMapping) gather(ctx context.Context, carry []*sqsMessage) (batch, rest []*sqsMessage, err error) {
	s := &m.s
	batch = carry
	size := sqsEventSize(batch)
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
		for i, msg := range msgs {
			add := len(msg.json)
			if len(batch) > 0 {
				add++ // comma
			}
			if len(batch) > 0 && size+add > s.maxPayload {
				// The message would take the event over the payload cap: invoke
				// without it, and start the next batch with it [Q2].
				return batch, msgs[i:], nil
			}
			// A message whose event alone exceeds the cap is still delivered,
			// alone: SQS messages (at most 1 MiB) are far below the 6 MB cap,
			// so only a lowered MaxPayloadBytes gets here.
			batch = append(batch, msg)
			size += add
		}
		if len(msgs) == 0 && wait == 0 && len(batch) > 0 {
			// The window's last fraction of a second: short polls with a pause.
			sleep(ctx, min(sqsShortPollPause, s.window-time.Since(batch[0].received)))
		}
	}
}

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
		for _, id := range sortedKeys(pending) {
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

// holdReceipts adds msgs to (hold) or removes them from the ReceiptFile.
// Write errors are logged: they only cost a wait for the visibility timeout
// after a crash.
func (m *SQSMapping) holdReceipts(msgs []*sqsMessage, hold bool) {
	if m.receipts.path == "" || len(msgs) == 0 {
		return
	}
	if err := m.receipts.update(msgs, hold); err != nil {
		m.ctr.receiptFileErrors.Add(1)
		m.log.Warn("receipt file write failed", "error", err)
	}
}

// recoverReceipts makes visible again the messages a previous process held
// when it stopped without settling them, as its ReceiptFile records.
func (m *SQSMapping) recoverReceipts(ctx context.Context) error {
	handles, err := m.receipts.load()
	if err != nil {
		return fmt.Errorf("esm: %w", err)
	}
	if len(handles) == 0 {
		return nil
	}
	n := m.makeVisible(ctx, handles)
	m.ctr.recovered.Add(int64(n))
	m.log.Info("messages held by a previous run made visible again", "messageCount", n, "recorded", len(handles))
	if err := m.receipts.update(nil, false); err != nil {
		return fmt.Errorf("esm: %w", err)
	}
	return nil
}

// receiptFileVersion is the format version of receipt files.
const receiptFileVersion = 1

// receiptFileContent is the content of a ReceiptFile.
type receiptFileContent struct {
	Version        int      `json:"version"`
	QueueARN       string   `json:"queueArn"`
	ReceiptHandles []string `json:"receiptHandles"`
}

// receiptFile persists the receipt handles a mapping holds, with an atomic
// write (temp file, rename) after every change. Safe for concurrent use.
type receiptFile struct {
	path     string
	queueARN string

	mu   sync.Mutex
	held map[string]bool
}

// load reads the handles a previous process left; a missing file holds none.
func (f *receiptFile) load() ([]string, error) {
	if f.path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read receipt file: %w", err)
	}
	var c receiptFileContent
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode receipt file %s: %w", f.path, err)
	}
	switch {
	case c.Version != receiptFileVersion:
		return nil, fmt.Errorf("receipt file %s has version %d; want %d", f.path, c.Version, receiptFileVersion)
	case c.QueueARN != f.queueARN:
		return nil, fmt.Errorf("receipt file %s belongs to queue %s, not %s", f.path, c.QueueARN, f.queueARN)
	}
	return c.ReceiptHandles, nil
}

// update adds or removes msgs and rewrites the file.
func (f *receiptFile) update(msgs []*sqsMessage, hold bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, msg := range msgs {
		if hold {
			f.held[msg.receipt] = true
		} else {
			delete(f.held, msg.receipt)
		}
	}
	c := receiptFileContent{Version: receiptFileVersion, QueueARN: f.queueARN, ReceiptHandles: sortedKeys(f.held)}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode receipt file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return fmt.Errorf("write receipt file: %w", err)
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write receipt file: %w", err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("write receipt file: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fatalSQSError reports errors that retrying cannot fix.
func fatalSQSError(err error) bool {
	var (
		missing *sqstypes.QueueDoesNotExist
		invalid *sqstypes.InvalidAddress
	)
	return err != nil && (errors.As(err, &missing) || errors.As(err, &invalid))
}

// parseSQSBatchItemFailures returns the messageIds a partial batch response
// reports as failed (none for complete success), or an error for a response
// that fails the whole batch [Q5]:
//
//   - an empty body, null, "", [], {}, a missing, null or empty
//     batchItemFailures list mean complete success (see emptyResponse);
//   - a body that is not a JSON object, a batchItemFailures that is not a list,
//     an item that is not an object, an itemIdentifier that is missing (wrong
//     key), null, empty, not a string, or not a messageId of the batch fail the
//     whole batch.
func parseSQSBatchItemFailures(payload []byte, batch []*sqsMessage) (map[string]bool, error) {
	body := bytes.TrimSpace(payload)
	if emptyResponse(body) {
		return nil, nil
	}
	var top map[string]json.RawMessage
	if !json.Valid(body) {
		return nil, errors.New("response is not valid JSON")
	}
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, errors.New("response is not a JSON object")
	}
	raw, ok := top["batchItemFailures"]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("batchItemFailures is not a list")
	}
	if len(items) == 0 {
		return nil, nil
	}
	ids := make(map[string]bool, len(batch))
	for _, msg := range batch {
		ids[msg.id] = true
	}
	failed := map[string]bool{}
	for n, item := range items {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(item, &fields); err != nil || fields == nil {
			return nil, fmt.Errorf("batchItemFailures[%d] is not an object", n)
		}
		rawID, ok := fields["itemIdentifier"]
		if !ok {
			return nil, fmt.Errorf("batchItemFailures[%d] has no itemIdentifier", n)
		}
		var id *string
		if err := json.Unmarshal(rawID, &id); err != nil {
			return nil, fmt.Errorf("batchItemFailures[%d].itemIdentifier is not a string", n)
		}
		if id == nil || *id == "" {
			return nil, fmt.Errorf("batchItemFailures[%d].itemIdentifier is null or empty", n)
		}
		if !ids[*id] {
			return nil, fmt.Errorf("batchItemFailures[%d].itemIdentifier %q is not a messageId of the batch", n, *id)
		}
		failed[*id] = true
	}
	return failed, nil
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

// SQSStats is a snapshot of an SQS mapping's counters since NewSQS, summed over
// runs. The names follow the ESM metrics where one exists [S7]:
// PolledEventCount, InvokedEventCount, FailedInvokeEventCount,
// DeletedEventCount.
//
// Every received message is in exactly one of DeletedMessages, FailedMessages,
// ReleasedMessages, DeleteFailedMessages or InFlightMessages. A message
// delivered n times is counted n times.
type SQSStats struct {
	ReceivedMessages     int64 // messages received, each receipt counted (PolledEventCount)
	InvokedMessages      int64 // messages sent to the function, each delivery counted (InvokedEventCount)
	DeletedMessages      int64 // messages deleted after their successful processing (DeletedEventCount)
	FailedMessages       int64 // messages left to the visibility timeout after a failure (FailedInvokeEventCount)
	ReleasedMessages     int64 // messages given back unprocessed: host errors until the visibility timeout, or the mapping stopped
	DeleteFailedMessages int64 // processed messages that could not be deleted; they are delivered again
	InFlightMessages     int64 // messages held by the mapping now

	Invocations      int64 // invocations that ran (host errors excluded)
	FunctionErrors   int64 // invocations that failed with a function error
	PartialFailures  int64 // invocations answered with valid batchItemFailures
	InvalidResponses int64 // invocations whose partial batch response failed the whole batch
	InvokeErrors     int64 // host errors (Invoker returned an error)
	LargestBatch     int64 // the most messages one invocation held

	ReceiveCalls  int64 // ReceiveMessage calls
	EmptyReceives int64 // ReceiveMessage calls that returned no message
	SQSErrors     int64 // failed SQS calls (retried)

	// RecoveredMessages counts messages a previous process held when it died,
	// made visible again at the start of a run (ReceiptFile).
	RecoveredMessages int64
	// ReceiptFileErrors counts failed ReceiptFile writes.
	ReceiptFileErrors int64
}

// sqsCounters are an SQS mapping's live counters; every field is updated
// atomically.
type sqsCounters struct {
	received, invoked, deleted, failed, released, deleteFailed     atomic.Int64
	invocations, functionErrors, partialFailures, invalidResps     atomic.Int64
	invokeErrors, maxBatch, receiveCalls, emptyReceives, sqsErrors atomic.Int64
	recovered, receiptFileErrors                                   atomic.Int64
}

// Stats returns a snapshot of the counters. It is safe to call concurrently
// with Run, at any time; counters read while messages are being settled may
// be a moment apart.
func (m *SQSMapping) Stats() SQSStats {
	c := &m.ctr
	return SQSStats{
		ReceivedMessages:     c.received.Load(),
		InvokedMessages:      c.invoked.Load(),
		DeletedMessages:      c.deleted.Load(),
		FailedMessages:       c.failed.Load(),
		ReleasedMessages:     c.released.Load(),
		DeleteFailedMessages: c.deleteFailed.Load(),
		InFlightMessages:     m.inflight.Load(),
		Invocations:          c.invocations.Load(),
		FunctionErrors:       c.functionErrors.Load(),
		PartialFailures:      c.partialFailures.Load(),
		InvalidResponses:     c.invalidResps.Load(),
		InvokeErrors:         c.invokeErrors.Load(),
		LargestBatch:         c.maxBatch.Load(),
		ReceiveCalls:         c.receiveCalls.Load(),
		EmptyReceives:        c.emptyReceives.Load(),
		SQSErrors:            c.sqsErrors.Load(),
		RecoveredMessages:    c.recovered.Load(),
		ReceiptFileErrors:    c.receiptFileErrors.Load(),
	}
}
