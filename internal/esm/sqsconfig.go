package esm

import (
	"cmp"
	"log/slog"
	"strings"
	"time"
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
	var p problems

	p.functionARN(cfg.FunctionARN)

	var queueRegion string
	switch a, ok := p.requiredARN("QueueARN", cfg.QueueARN); {
	case !ok:
	case a.Service != "sqs" || strings.ContainsAny(a.Resource, ":/"):
		p.add("QueueARN %q is not an SQS queue ARN (arn:aws:sqs:region:account:name)", cfg.QueueARN)
	case strings.HasSuffix(a.Resource, ".fifo"):
		p.add("QueueARN %q is a FIFO queue; only standard queues are emulated", cfg.QueueARN)
	default:
		queueRegion = a.Region
	}
	if cfg.QueueURL == "" {
		p.add("QueueURL is required")
	}
	s.region = p.region(cfg.Region, queueRegion, "queue")

	s.batchSize = p.batchSize(cfg.BatchSize, DefaultSQSBatchSize, MaxSQSBatchSize)
	var ok bool
	if s.window, ok = p.window(cfg.MaximumBatchingWindowInSeconds); ok && s.window == 0 && s.batchSize > MaxSQSBatchSizeWithoutWindow {
		p.add("BatchSize %d needs MaximumBatchingWindowInSeconds of at least 1 (BatchSize above %d)", s.batchSize, MaxSQSBatchSizeWithoutWindow)
	}
	s.reportFailures = p.reportFailures(cfg.FunctionResponseTypes)

	if c := cfg.MaximumConcurrency; c != 0 && (c < MinMaximumConcurrency || c > MaxMaximumConcurrency) {
		p.add("MaximumConcurrency %d is outside %d–%d", c, MinMaximumConcurrency, MaxMaximumConcurrency)
	}
	s.pollers = cfg.Pollers
	if s.pollers == 0 {
		s.pollers = DefaultSQSPollers
	}
	if s.pollers < 0 {
		p.add("Pollers %d is negative", cfg.Pollers)
	}
	if cfg.MaximumConcurrency > 0 {
		s.pollers = min(s.pollers, cfg.MaximumConcurrency)
	}

	wait := cmp.Or(cfg.WaitTime, DefaultSQSWaitTime)
	if wait < time.Second || wait > sqsMaxWaitTime || wait%time.Second != 0 {
		p.add("WaitTime %s is not a whole number of seconds from 1s to 20s", cfg.WaitTime)
	}
	s.waitSeconds = int32(wait / time.Second)
	s.retryBackoff = p.duration("RetryBackoff", cfg.RetryBackoff, DefaultRetryBackoff)
	switch l := cfg.ReceiveLease; {
	case l < 0 || l%time.Second != 0:
		p.add("ReceiveLease %s is not a whole number of seconds", l)
	case l > 0 && cfg.ReceiptFile == "":
		p.add("ReceiveLease needs a ReceiptFile")
	}
	s.maxPayload = p.maxPayload(cfg.MaxPayloadBytes)
	if err := p.err("SQS"); err != nil {
		return sqsSettings{}, err
	}
	return s, nil
}
