// Command aggregator is the AggregatorFunction: it consumes S3 ObjectCreated
// notifications for processed objects from SQS and keeps hourly summaries per
// device and for the fleet in DynamoDB, with an exactly-once effect (see package
// summary for the contract and package dynamostore for the protocol).
//
// Configuration (environment): TABLE_NAME (required); BUCKET_NAME (required: the
// output bucket; notifications of objects in other buckets are acknowledged with a
// warning, see summary.WithBucket); DEVICE_FIELD, TIME_FIELD,
// NUMERIC_FIELDS (summary.ConfigFromEnv); PROCESSED_PREFIX, OBJECT_CONCURRENCY
// (summary.OptionsFromEnv); TTL_ATTRIBUTE, TTL_DAYS (dynamostore.OptionsFromEnv);
// METRICS_NAMESPACE, SERVICE_NAME (package metrics: one Embedded Metric Format line
// per invocation with the objects, records and summary items aggregated, the
// duplicates skipped and the records with missing or unusable fields).
//
// Metering: summary.WithObserve hands each batch's summary.BatchStats to the
// metric line, as ingest.Config.Observe does in the processor.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/metrics"
	"github.com/streamlake/streamlake/internal/s3store"
	"github.com/streamlake/streamlake/internal/summary"
)

// settings is the function's configuration.
type settings struct {
	table   string
	summary summary.Config
	agg     []summary.Option
	store   []dynamostore.Option
	metrics metrics.Config
}

// settingsFromEnv reads the configuration from the environment variables above.
func settingsFromEnv(getenv func(string) string) (c settings, err error) {
	if c.table = getenv("TABLE_NAME"); c.table == "" {
		return c, errors.New("TABLE_NAME is not set")
	}
	bucket := getenv("BUCKET_NAME")
	if bucket == "" {
		return c, errors.New("BUCKET_NAME is not set")
	}
	if c.summary, err = summary.ConfigFromEnv(getenv); err != nil {
		return c, err
	}
	if c.agg, err = summary.OptionsFromEnv(getenv); err != nil {
		return c, err
	}
	c.agg = append(c.agg, summary.WithBucket(bucket))
	c.store, err = dynamostore.OptionsFromEnv(getenv)
	c.metrics = metrics.ConfigFromEnv(getenv)
	return c, err
}

func main() {
	if err := run(context.Background(), os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "aggregator: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
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
	agg, err := summary.NewAggregator(s3store.NewReader(s3store.NewClient(awsCfg)),
		dynamostore.New(dynamodb.NewFromConfig(awsCfg), cfg.table, cfg.store...), cfg.summary,
		append(cfg.agg, summary.WithLogger(logger), summary.WithObserve(func(ctx context.Context, s summary.BatchStats) {
			emf.EmitOrLog(ctx, logger, batchMetrics(s))
		}))...)
	if err != nil {
		return err
	}
	lambda.Start(agg.Handle)
	return nil
}
