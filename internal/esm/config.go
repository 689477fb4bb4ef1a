package esm

import (
	"log/slog"
	"strings"
	"time"

	"github.com/streamlake/streamlake/internal/onfailure"
)

// Starting positions for StartingPosition [S1, S7].
const (
	StartingPositionTrimHorizon = "TRIM_HORIZON"
	StartingPositionLatest      = "LATEST"
	StartingPositionAtTimestamp = "AT_TIMESTAMP"
)

// ReportBatchItemFailures is the only FunctionResponseTypes value [S2, S7].
const ReportBatchItemFailures = "ReportBatchItemFailures"

// Defaults and limits of the ESM parameters [S1, S7] and of the emulator knobs.
const (
	DefaultBatchSize           = 100
	MaxBatchSize               = 10000
	MaxBatchingWindowInSeconds = 300
	MaxParallelizationFactor   = 10
	MaxRetryAttempts           = 10000 // also read as "infinite", as old API responses rendered it [S9]
	MinRecordAgeInSeconds      = 60    // values 0–59 are rejected by AWS [S1]
	MaxRecordAgeInSeconds      = 604800
	DefaultMaxPayloadBytes     = 6291456 // 6 MB synchronous invoke payload [S7]
	DefaultPollInterval        = time.Second
	DefaultDiscoveryInterval   = 5 * time.Second
	DefaultRetryBackoff        = 100 * time.Millisecond
	DefaultRecordAgeCondition  = onfailure.ConditionRecordAgeExceeded
	getRecordsMaxLimit         = 10000 // GetRecords returns at most 10,000 records [S8]
	minBufferedRecordsPerShard = 1000
	getRecordsTimeout          = 30 * time.Second
	infinite                   = -1
)

// Config configures a KinesisMapping. Field names are the CloudFormation
// (AWS::Lambda::EventSourceMapping) property names; the zero value of an optional
// field means the AWS default. A Config is copied by New and not retained.
type Config struct {
	// FunctionARN is the target function's ARN (with the qualifier if the mapping
	// targets an alias or version); it becomes requestContext.functionArn of
	// on-failure records. Required.
	FunctionARN string
	// StreamARN is the EventSourceArn: a Kinesis stream ARN, or an enhanced
	// fan-out consumer ARN (<stream ARN>/consumer/<name>:<timestamp>) [S1]. With
	// a consumer the mapping checks that the consumer is registered and ACTIVE
	// (DescribeStreamConsumer) and reads the consumer's stream; see
	// KinesisMapping for what differs from SubscribeToShard. Required.
	StreamARN string
	// StartingPosition is TRIM_HORIZON, LATEST or AT_TIMESTAMP. It applies only
	// to shards without a checkpoint: a mapping with a checkpoint resumes after it
	// [S1]. Required.
	StartingPosition string
	// StartingPositionTimestamp is the time to start reading from with
	// AT_TIMESTAMP (CloudFormation: Unix seconds). It cannot be in the future [S7].
	StartingPositionTimestamp time.Time
	// BatchSize is the maximum number of records per invocation, 1–10000;
	// 0 means 100 [S1].
	BatchSize int
	// MaximumBatchingWindowInSeconds is the longest time, 0–300 s, a lane gathers
	// records before invoking; 0 invokes as soon as records are available [S7, S9].
	MaximumBatchingWindowInSeconds int
	// ParallelizationFactor is the number of concurrent batches per shard, 1–10;
	// 0 means 1 [S1].
	ParallelizationFactor int
	// BisectBatchOnFunctionError splits a batch in two on a function error [S1, S3].
	BisectBatchOnFunctionError bool
	// MaximumRetryAttempts is the number of retries after a failed invocation,
	// 0–10000; -1 and 10000 mean retry until the records expire; nil means -1 [S1].
	MaximumRetryAttempts *int
	// MaximumRecordAgeInSeconds discards records older than this, -1 or
	// 60–604800; -1 means never; nil means -1. 0–59 is rejected, as by AWS [S1].
	MaximumRecordAgeInSeconds *int
	// FunctionResponseTypes is empty or ["ReportBatchItemFailures"] [S2].
	FunctionResponseTypes []string
	// FilterCriteria, if not nil, is applied to each record's data before
	// batching; records it rejects are never invoked but are checkpointed [S5].
	// Leave it nil (not a typed nil pointer) for no filter.
	FilterCriteria Matcher
	// DestinationConfig holds the on-failure destination; without one, discarded
	// records are only counted and logged [S3].
	DestinationConfig DestinationConfig
	// InvokeIdentityArn is the function's execution role ARN, copied into every
	// event record (invokeIdentityArn). Required.
	InvokeIdentityArn string
	// Region is the event records' awsRegion; "" means the stream ARN's region.
	Region string

	// PollInterval is the pause between GetRecords calls on a shard that has no
	// new records (AWS polls about once per second when idle and continuously
	// while behind [S9]); 0 means DefaultPollInterval.
	PollInterval time.Duration
	// DiscoveryInterval is how often a running mapping lists the stream's
	// shards to find shards created by resharding (a shard read to its end
	// also triggers a listing); 0 means DefaultDiscoveryInterval.
	DiscoveryInterval time.Duration
	// RetryBackoff is the pause before retrying a failed invocation, a host error,
	// a failed on-failure send or a Kinesis error; 0 means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// MaxPayloadBytes caps the serialized event of one invocation; 0 means
	// DefaultMaxPayloadBytes (6 MB).
	MaxPayloadBytes int
	// Clock returns the current time for record age and on-failure timestamps;
	// nil means time.Now. Batching windows and pauses use the real clock.
	Clock func() time.Time
	// CheckpointFile is where per-shard checkpoints persist; "" keeps them in
	// memory only, so a new mapping starts at StartingPosition again.
	CheckpointFile string
	// RecordAgeCondition is the on-failure condition for age discards; "" means
	// "RecordAgeExceeded" (AWS does not document the value).
	RecordAgeCondition string
	// Logger receives warnings (discards, retries of AWS calls); nil discards logs.
	Logger *slog.Logger
	// OnDiscard, if not nil, is called after records were given up on (and the
	// on-failure record, if any, was sent), with their exact sequence numbers. An
	// on-failure record's sequence range may also cover records of other lanes
	// (ParallelizationFactor > 1) or filtered records; OnDiscard lets a caller
	// account exactly. It is called from lane goroutines concurrently.
	OnDiscard func(Discard)
}

// DestinationConfig mirrors the ESM DestinationConfig property. OnSuccess is not
// supported for event source mappings [S7].
type DestinationConfig struct {
	// OnFailure is the on-failure destination; nil means none.
	OnFailure *OnFailureDestination
}

// OnFailureDestination is an SQS on-failure destination. SNS and S3 destinations
// are not emulated.
//
// The queue must be a standard queue: a FIFO queue (a name ending in ".fifo") is
// refused when the mapping is configured. AWS documents only a "standard SQS
// queue or standard SNS topic" as the on-failure destination of a DynamoDB
// Streams mapping; for Kinesis it is silent, and this emulation assumes FIFO
// queues are not supported either (unverified for Kinesis). The
// emulator refuses rather than accepts: the on-failure record is sent without a
// MessageGroupId, which a FIFO queue rejects, so every send would fail, be
// retried forever, and the shard would never advance.
type OnFailureDestination struct {
	// Destination is the SQS queue ARN, as in the template; a FIFO queue is
	// refused.
	Destination string
	// QueueURL is the URL SendMessage is called with (resolve it with
	// GetQueueUrl).
	QueueURL string
}

// settings is a validated Config with defaults applied.
type settings struct {
	Config
	region            string
	batchSize         int
	window            time.Duration
	parallelization   int
	maxRetries        int           // infinite = no limit
	maxAge            time.Duration // 0 = no limit
	reportFailures    bool
	pollInterval      time.Duration
	discoveryInterval time.Duration
	// ConsumerARN and consumerName are set when the EventSourceArn is an
	// enhanced fan-out consumer; StreamARN is then the consumer's stream.
	ConsumerARN, consumerName string
	retryBackoff              time.Duration
	maxPayload                int
	ageCondition              string
	destination               *OnFailureDestination
}

// validate checks cfg as CreateEventSourceMapping would [S1, S7] and applies the
// defaults. All problems are reported together.
func (cfg Config) validate(now time.Time) (settings, error) {
	s := settings{Config: cfg}
	var p problems

	p.functionARN(cfg.FunctionARN)

	var streamRegion string
	a, ok := p.requiredARN("StreamARN", cfg.StreamARN)
	stream, consumer, isConsumer := strings.Cut(cfg.StreamARN, "/consumer/")
	switch {
	case !ok:
	case a.Service != "kinesis" || !strings.HasPrefix(a.Resource, "stream/") || len(a.Resource) == len("stream/"):
		p.add("StreamARN %q is not a Kinesis stream ARN (arn:aws:kinesis:region:account:stream/name)", cfg.StreamARN)
	case isConsumer:
		name, _, _ := strings.Cut(consumer, ":")
		if name == "" || strings.Contains(name, "/") || stream == "arn:"+a.Partition+":kinesis:"+a.Region+":"+a.AccountID+":stream/" {
			p.add("StreamARN %q is not an enhanced fan-out consumer ARN (<stream ARN>/consumer/<name>:<timestamp>)", cfg.StreamARN)
		} else {
			s.ConsumerARN, s.consumerName, s.StreamARN = cfg.StreamARN, name, stream
			streamRegion = a.Region
		}
	default:
		streamRegion = a.Region
	}
	s.region = p.region(cfg.Region, streamRegion, "stream")

	switch cfg.StartingPosition {
	case StartingPositionTrimHorizon, StartingPositionLatest:
		if !cfg.StartingPositionTimestamp.IsZero() {
			p.add("StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP")
		}
	case StartingPositionAtTimestamp:
		if cfg.StartingPositionTimestamp.IsZero() {
			p.add("StartingPosition AT_TIMESTAMP needs StartingPositionTimestamp")
		} else if cfg.StartingPositionTimestamp.After(now) {
			p.add("StartingPositionTimestamp %s is in the future", cfg.StartingPositionTimestamp.UTC().Format(time.RFC3339))
		}
	case "":
		p.add("StartingPosition is required (TRIM_HORIZON, LATEST or AT_TIMESTAMP)")
	default:
		p.add("StartingPosition %q is not TRIM_HORIZON, LATEST or AT_TIMESTAMP", cfg.StartingPosition)
	}

	s.batchSize = p.batchSize(cfg.BatchSize, DefaultBatchSize, MaxBatchSize)
	s.window, _ = p.window(cfg.MaximumBatchingWindowInSeconds)
	s.parallelization = cfg.ParallelizationFactor
	if s.parallelization == 0 {
		s.parallelization = 1
	}
	if s.parallelization < 1 || s.parallelization > MaxParallelizationFactor {
		p.add("ParallelizationFactor %d is outside 1–%d", cfg.ParallelizationFactor, MaxParallelizationFactor)
	}

	s.maxRetries = infinite
	if n := cfg.MaximumRetryAttempts; n != nil {
		switch {
		case *n == -1 || *n == MaxRetryAttempts:
			s.maxRetries = infinite
		case *n >= 0 && *n < MaxRetryAttempts:
			s.maxRetries = *n
		default:
			p.add("MaximumRetryAttempts %d is outside -1–%d", *n, MaxRetryAttempts)
		}
	}
	if n := cfg.MaximumRecordAgeInSeconds; n != nil {
		switch {
		case *n == -1:
		case *n >= MinRecordAgeInSeconds && *n <= MaxRecordAgeInSeconds:
			s.maxAge = time.Duration(*n) * time.Second
		case *n >= 0 && *n < MinRecordAgeInSeconds:
			p.add("MaximumRecordAgeInSeconds %d is too small: the minimum valid value is %ds (or -1 for no limit)", *n, MinRecordAgeInSeconds)
		default:
			p.add("MaximumRecordAgeInSeconds %d is outside -1 or %d–%d", *n, MinRecordAgeInSeconds, MaxRecordAgeInSeconds)
		}
	}

	s.reportFailures = p.reportFailures(cfg.FunctionResponseTypes)

	if d := cfg.DestinationConfig.OnFailure; d != nil {
		switch a, err := parseARN(d.Destination); {
		case d.Destination == "":
			p.add("DestinationConfig.OnFailure.Destination is empty; leave OnFailure nil for no destination")
		case err != nil:
			p.add("DestinationConfig.OnFailure.Destination: %v", err)
		case a.Service != "sqs":
			p.add("DestinationConfig.OnFailure.Destination %q: only SQS on-failure destinations are emulated", d.Destination)
		case strings.HasSuffix(a.Resource, ".fifo"):
			p.add("DestinationConfig.OnFailure.Destination %q is a FIFO queue; only standard queues are supported as on-failure destinations", d.Destination)
		case d.QueueURL == "":
			p.add("DestinationConfig.OnFailure.QueueURL is required with an SQS destination")
		default:
			s.destination = d
		}
	}

	if cfg.InvokeIdentityArn == "" {
		p.add("InvokeIdentityArn (the function's execution role ARN) is required")
	} else if a, err := parseARN(cfg.InvokeIdentityArn); err != nil {
		p.add("InvokeIdentityArn: %v", err)
	} else if a.Service != "iam" {
		p.add("InvokeIdentityArn %q is not an IAM role ARN", cfg.InvokeIdentityArn)
	}

	s.pollInterval = p.duration("PollInterval", cfg.PollInterval, DefaultPollInterval)
	s.discoveryInterval = p.duration("DiscoveryInterval", cfg.DiscoveryInterval, DefaultDiscoveryInterval)
	s.retryBackoff = p.duration("RetryBackoff", cfg.RetryBackoff, DefaultRetryBackoff)
	s.maxPayload = p.maxPayload(cfg.MaxPayloadBytes)
	s.ageCondition = cfg.RecordAgeCondition
	if s.ageCondition == "" {
		s.ageCondition = DefaultRecordAgeCondition
	}
	if err := p.err("Kinesis"); err != nil {
		return settings{}, err
	}
	return s, nil
}

// StreamARNOf returns the stream ARN of an EventSourceArn: the ARN itself for
// a stream, the consumer's stream for an enhanced fan-out consumer ARN
// (<stream ARN>/consumer/<name>:<timestamp>).
func StreamARNOf(eventSourceARN string) string {
	stream, _, _ := strings.Cut(eventSourceARN, "/consumer/")
	return stream
}
