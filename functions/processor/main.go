// Command processor is the ProcessorFunction: it reads batches from the Kinesis
// event source mapping and writes them to S3 (see package ingest for the contract).
//
// Configuration (environment): BUCKET_NAME (required), PROCESSED_PREFIX
// (default "processed"), QUARANTINE_PREFIX (default "quarantine"), COMPRESSION
// (gzip, zstd or none; default gzip), TIME_FIELD (the event-time member the
// default transform checks, the one the aggregator groups by: the template
// gives both functions SummaryTimeField; default timestamp), METRICS_NAMESPACE
// and SERVICE_NAME (see package metrics). The Go soft memory limit follows the function's memory,
// and GOGC is 200 (package gomem), unless GOMEMLIMIT or GOGC is set.
//
// Metering: ingest.Config.Observe hands each batch's ingest.BatchStats to the
// metric line, as summary.WithObserve does in the aggregator (which says why).
//
// Telemetry: logs are JSON through lambdacontext.NewLogger (requestId on every
// line); every invocation prints one CloudWatch Embedded Metric Format line
// (records received, written and quarantined, bytes in and out, objects written,
// batch duration, age of the oldest record, batch failures, invalid events) with
// the request id and the X-Ray trace id as searchable fields. Tracing is Active in
// the template, so X-Ray records each invocation's segment; AWS SDK calls are not
// traced from inside the function. The X-Ray SDK for Go is in maintenance mode
// since 25 February 2026 (security fixes only, end of support 25 February 2027),
// and OpenTelemetry's otelaws needs an exporter: on provided.al2023 that is the
// ADOT collector layer, an extension that adds cold-start time and memory to every
// environment, plus the OTel SDK in the binary. The S3 call is the only
// downstream call, its latency is what BatchDuration measures, and its failures
// are logged with the object key; the trace id in the metric line ties both to
// the X-Ray trace.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/gomem"
	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/metrics"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/s3store"
)

// settings is the function's configuration.
type settings struct {
	bucket  string
	ingest  ingest.Config // prefixes and compression
	metrics metrics.Config
}

// settingsFromEnv reads the configuration from the environment variables above.
func settingsFromEnv(getenv func(string) string) (c settings, err error) {
	c.bucket, c.metrics = getenv("BUCKET_NAME"), metrics.ConfigFromEnv(getenv)
	c.ingest = ingest.Config{ProcessedPrefix: getenv("PROCESSED_PREFIX"), QuarantinePrefix: getenv("QUARANTINE_PREFIX"), Compression: ndjson.Gzip}
	if c.bucket == "" {
		return c, errors.New("BUCKET_NAME is not set")
	}
	if v := getenv("TIME_FIELD"); v != "" {
		if c.ingest.Transform, err = ingest.ValidateEventTimeAt(v); err != nil {
			return c, fmt.Errorf("TIME_FIELD: %w", err)
		}
	}
	if v := getenv("COMPRESSION"); v != "" {
		if c.ingest.Compression, err = ndjson.ParseCompression(v); err != nil {
			return c, fmt.Errorf("COMPRESSION: %w", err)
		}
	}
	return c, nil
}

func main() {
	if err := run(context.Background(), os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "processor: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	gomem.Apply(getenv)
	cfg, err := settingsFromEnv(getenv)
	if err != nil {
		return err
	}
	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	emf, err := metrics.New(os.Stdout, cfg.metrics)
	if err != nil {
		return err
	}
	logger := lambdacontext.NewLogger()
	cfg.ingest.Logger = logger
	cfg.ingest.Observe = func(ctx context.Context, s ingest.BatchStats) { emf.EmitOrLog(ctx, logger, batchMetrics(s)) }
	p, err := ingest.New(s3store.New(s3store.NewClient(awsCfg), cfg.bucket), cfg.ingest)
	if err != nil {
		return err
	}
	lambda.Start(metered{p: p, emf: emf, logger: logger})
	return nil
}
