// Command processor is the ProcessorFunction: it reads batches from the Kinesis
// event source mapping and writes them to S3 (see package ingest for the contract).
//
// Configuration (environment): BUCKET_NAME (required), PROCESSED_PREFIX
// (default "processed"), QUARANTINE_PREFIX (default "quarantine"), COMPRESSION
// (gzip, zstd or none; default gzip).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/s3store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "processor: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	bucket := os.Getenv("BUCKET_NAME")
	if bucket == "" {
		return errors.New("BUCKET_NAME is not set")
	}
	compression := ingest.Gzip
	if v := os.Getenv("COMPRESSION"); v != "" {
		c, err := ingest.ParseCompression(v)
		if err != nil {
			return fmt.Errorf("COMPRESSION: %w", err)
		}
		compression = c
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	p, err := ingest.New(s3store.New(s3.NewFromConfig(awsCfg), bucket), ingest.Config{
		ProcessedPrefix:  os.Getenv("PROCESSED_PREFIX"),
		QuarantinePrefix: os.Getenv("QUARANTINE_PREFIX"),
		Compression:      compression,
		Logger:           lambdacontext.NewLogger(),
	})
	if err != nil {
		return err
	}
	lambda.Start(p.HandleJSON)
	return nil
}
