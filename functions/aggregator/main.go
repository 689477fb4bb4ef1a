// Command aggregator is the AggregatorFunction: it consumes S3 ObjectCreated
// notifications for processed objects from SQS and keeps hourly summaries per
// device and for the fleet in DynamoDB, with an exactly-once effect (see package
// summary for the contract and package dynamostore for the protocol).
//
// Configuration (environment): TABLE_NAME (required); DEVICE_FIELD, TIME_FIELD,
// NUMERIC_FIELDS (summary.ConfigFromEnv); PROCESSED_PREFIX, OBJECT_CONCURRENCY
// (summary.OptionsFromEnv); TTL_ATTRIBUTE, TTL_DAYS (dynamostore.OptionsFromEnv);
// METRICS_NAMESPACE, SERVICE_NAME (package metrics: one Embedded Metric Format line
// per invocation with the objects, records and summary items aggregated, the
// duplicates skipped and the records with missing or unusable fields).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/metrics"
	"github.com/streamlake/streamlake/internal/s3store"
	"github.com/streamlake/streamlake/internal/summary"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "aggregator: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return errors.New("TABLE_NAME is not set")
	}
	cfg, err := summary.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	aggOpts, err := summary.OptionsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	storeOpts, err := dynamostore.OptionsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	emf, err := metrics.New(os.Stdout, metrics.ConfigFromEnv(os.Getenv))
	if err != nil {
		return err
	}
	logger := lambdacontext.NewLogger()
	agg, err := summary.NewAggregator(s3store.NewReader(s3store.NewClient(awsCfg)),
		meteredStore{dynamostore.New(dynamodb.NewFromConfig(awsCfg), table, storeOpts...)},
		cfg, append(aggOpts, summary.WithLogger(logger))...)
	if err != nil {
		return err
	}
	// One metric line per invocation (see metrics.go).
	lambda.Start(metered(agg.Handle, emf, logger))
	return nil
}
