package esm_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/esm"
)

// echoFunction stands in for a function host: it accepts every batch.
type echoFunction struct{}

func (echoFunction) Invoke(ctx context.Context, payload []byte) (esm.Invocation, error) {
	return esm.Invocation{Payload: []byte(`{"batchItemFailures":[]}`)}, nil
}

// Wiring a mapping the way the local pipeline does: real SDK clients (pointed at
// moto through AWS_ENDPOINT_URL), the template's ESM properties, and a function
// host as the Invoker.
func ExampleNew() {
	ctx := context.Background()
	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		log.Print(err)
		return
	}
	m, err := esm.New(esm.Config{
		FunctionARN:                    "arn:aws:lambda:us-east-1:123456789012:function:processor",
		StreamARN:                      "arn:aws:kinesis:us-east-1:123456789012:stream/telemetry",
		StartingPosition:               esm.StartingPositionTrimHorizon,
		BatchSize:                      500,
		MaximumBatchingWindowInSeconds: 1,
		ParallelizationFactor:          2,
		BisectBatchOnFunctionError:     true,
		MaximumRetryAttempts:           new(3),
		MaximumRecordAgeInSeconds:      new(3600),
		FunctionResponseTypes:          []string{esm.ReportBatchItemFailures},
		DestinationConfig: esm.DestinationConfig{OnFailure: &esm.OnFailureDestination{
			Destination: "arn:aws:sqs:us-east-1:123456789012:telemetry-failures",
			QueueURL:    "http://localhost:5000/123456789012/telemetry-failures",
		}},
		InvokeIdentityArn: "arn:aws:iam::123456789012:role/processor-role",
		CheckpointFile:    ".streamlake/esm-processor.json",
	}, kinesis.NewFromConfig(awsCfg), sqs.NewFromConfig(awsCfg), echoFunction{})
	if err != nil {
		log.Print(err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	producerDone := make(chan struct{})
	close(producerDone) // nothing else is being written
	if err := m.RunUntilDrained(ctx, producerDone); err != nil {
		log.Print(err)
		return
	}
	st := m.Stats()
	fmt.Println(st.PolledRecords, st.SucceededRecords, st.DroppedRecords)
}
