package esm

import (
	"errors"
	"fmt"
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
type OnFailureDestination struct {
	// Destination is the SQS queue ARN, as in the template.
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

// arn is a parsed Amazon Resource Name.
type arn struct {
	partition, service, region, account, resource string
}

func parseARN(s string) (arn, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return arn{}, fmt.Errorf("%q is not an ARN (arn:partition:service:region:account:resource)", s)
	}
	return arn{partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts[5]}, nil
}

// validate checks cfg as CreateEventSourceMapping would [S1, S7] and applies the
// defaults. All problems are reported together.
func (cfg Config) validate(now time.Time) (settings, error) {
	s := settings{Config: cfg}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if cfg.FunctionARN == "" {
		bad("FunctionARN is required")
	} else if a, err := parseARN(cfg.FunctionARN); err != nil {
		bad("FunctionARN: %v", err)
	} else if a.service != "lambda" || !strings.HasPrefix(a.resource, "function:") {
		bad("FunctionARN %q is not a Lambda function ARN", cfg.FunctionARN)
	}

	var streamRegion string
	if cfg.StreamARN == "" {
		bad("StreamARN is required")
	} else if a, err := parseARN(cfg.StreamARN); err != nil {
		bad("StreamARN: %v", err)
	} else if a.service != "kinesis" || !strings.HasPrefix(a.resource, "stream/") || len(a.resource) == len("stream/") {
		bad("StreamARN %q is not a Kinesis stream ARN (arn:aws:kinesis:region:account:stream/name)", cfg.StreamARN)
	} else if stream, consumer, ok := strings.Cut(cfg.StreamARN, "/consumer/"); ok {
		name, _, _ := strings.Cut(consumer, ":")
		if name == "" || strings.Contains(name, "/") || stream == "arn:"+a.partition+":kinesis:"+a.region+":"+a.account+":stream/" {
			bad("StreamARN %q is not an enhanced fan-out consumer ARN (<stream ARN>/consumer/<name>:<timestamp>)", cfg.StreamARN)
		} else {
			s.ConsumerARN, s.consumerName, s.StreamARN = cfg.StreamARN, name, stream
			streamRegion = a.region
		}
	} else {
		streamRegion = a.region
	}
	s.region = cfg.Region
	if s.region == "" {
		s.region = streamRegion
	} else if streamRegion != "" && streamRegion != cfg.Region {
		bad("Region %q differs from the stream's region %q", cfg.Region, streamRegion)
	}

	switch cfg.StartingPosition {
	case StartingPositionTrimHorizon, StartingPositionLatest:
		if !cfg.StartingPositionTimestamp.IsZero() {
			bad("StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP")
		}
	case StartingPositionAtTimestamp:
		if cfg.StartingPositionTimestamp.IsZero() {
			bad("StartingPosition AT_TIMESTAMP needs StartingPositionTimestamp")
		} else if cfg.StartingPositionTimestamp.After(now) {
			bad("StartingPositionTimestamp %s is in the future", cfg.StartingPositionTimestamp.UTC().Format(time.RFC3339))
		}
	case "":
		bad("StartingPosition is required (TRIM_HORIZON, LATEST or AT_TIMESTAMP)")
	default:
		bad("StartingPosition %q is not TRIM_HORIZON, LATEST or AT_TIMESTAMP", cfg.StartingPosition)
	}

	s.batchSize = cfg.BatchSize
	if s.batchSize == 0 {
		s.batchSize = DefaultBatchSize
	}
	if s.batchSize < 1 || s.batchSize > MaxBatchSize {
		bad("BatchSize %d is outside 1–%d", cfg.BatchSize, MaxBatchSize)
	}
	if w := cfg.MaximumBatchingWindowInSeconds; w < 0 || w > MaxBatchingWindowInSeconds {
		bad("MaximumBatchingWindowInSeconds %d is outside 0–%d", w, MaxBatchingWindowInSeconds)
	}
	s.window = time.Duration(cfg.MaximumBatchingWindowInSeconds) * time.Second
	s.parallelization = cfg.ParallelizationFactor
	if s.parallelization == 0 {
		s.parallelization = 1
	}
	if s.parallelization < 1 || s.parallelization > MaxParallelizationFactor {
		bad("ParallelizationFactor %d is outside 1–%d", cfg.ParallelizationFactor, MaxParallelizationFactor)
	}

	s.maxRetries = infinite
	if p := cfg.MaximumRetryAttempts; p != nil {
		switch {
		case *p == -1 || *p == MaxRetryAttempts:
			s.maxRetries = infinite
		case *p >= 0 && *p < MaxRetryAttempts:
			s.maxRetries = *p
		default:
			bad("MaximumRetryAttempts %d is outside -1–%d", *p, MaxRetryAttempts)
		}
	}
	if p := cfg.MaximumRecordAgeInSeconds; p != nil {
		switch {
		case *p == -1:
		case *p >= MinRecordAgeInSeconds && *p <= MaxRecordAgeInSeconds:
			s.maxAge = time.Duration(*p) * time.Second
		case *p >= 0 && *p < MinRecordAgeInSeconds:
			bad("MaximumRecordAgeInSeconds %d is too small: the minimum valid value is %ds (or -1 for no limit)", *p, MinRecordAgeInSeconds)
		default:
			bad("MaximumRecordAgeInSeconds %d is outside -1 or %d–%d", *p, MinRecordAgeInSeconds, MaxRecordAgeInSeconds)
		}
	}

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

	if d := cfg.DestinationConfig.OnFailure; d != nil {
		switch a, err := parseARN(d.Destination); {
		case d.Destination == "":
			bad("DestinationConfig.OnFailure.Destination is empty; leave OnFailure nil for no destination")
		case err != nil:
			bad("DestinationConfig.OnFailure.Destination: %v", err)
		case a.service != "sqs":
			bad("DestinationConfig.OnFailure.Destination %q: only SQS on-failure destinations are emulated", d.Destination)
		case d.QueueURL == "":
			bad("DestinationConfig.OnFailure.QueueURL is required with an SQS destination")
		default:
			s.destination = d
		}
	}

	if cfg.InvokeIdentityArn == "" {
		bad("InvokeIdentityArn (the function's execution role ARN) is required")
	} else if a, err := parseARN(cfg.InvokeIdentityArn); err != nil {
		bad("InvokeIdentityArn: %v", err)
	} else if a.service != "iam" {
		bad("InvokeIdentityArn %q is not an IAM role ARN", cfg.InvokeIdentityArn)
	}

	s.pollInterval = orDefault(cfg.PollInterval, DefaultPollInterval)
	if cfg.PollInterval < 0 {
		bad("PollInterval %s is negative", cfg.PollInterval)
	}
	s.discoveryInterval = orDefault(cfg.DiscoveryInterval, DefaultDiscoveryInterval)
	if cfg.DiscoveryInterval < 0 {
		bad("DiscoveryInterval %s is negative", cfg.DiscoveryInterval)
	}
	s.retryBackoff = orDefault(cfg.RetryBackoff, DefaultRetryBackoff)
	if cfg.RetryBackoff < 0 {
		bad("RetryBackoff %s is negative", cfg.RetryBackoff)
	}
	s.maxPayload = cfg.MaxPayloadBytes
	if s.maxPayload == 0 {
		s.maxPayload = DefaultMaxPayloadBytes
	}
	if s.maxPayload < 0 {
		bad("MaxPayloadBytes %d is negative", cfg.MaxPayloadBytes)
	}
	s.ageCondition = cfg.RecordAgeCondition
	if s.ageCondition == "" {
		s.ageCondition = DefaultRecordAgeCondition
	}
	if len(errs) > 0 {
		return settings{}, fmt.Errorf("invalid Kinesis event source mapping: %w", errors.Join(errs...))
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// StreamARNOf returns the stream ARN of an EventSourceArn: the ARN itself for
// a stream, the consumer's stream for an enhanced fan-out consumer ARN
// (<stream ARN>/consumer/<name>:<timestamp>).
func StreamARNOf(eventSourceARN string) string {
	stream, _, _ := strings.Cut(eventSourceARN, "/consumer/")
	return stream
}
