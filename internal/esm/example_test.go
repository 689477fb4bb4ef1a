package esm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

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
	awsCfg, err := config.LoadDefaultConfig(ctx)
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

// Decoding an on-failure record from the SQS destination, as a redrive tool
// does: the records are re-read from the stream by sequence range.
func ExampleOnFailureRecord() {
	body := `{"requestContext":{"requestId":"c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:processor","condition":"RetryAttemptsExhausted","approximateInvokeCount":3},` +
		`"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2026-07-12T14:03:07.120Z",` +
		`"KinesisBatchInfo":{"shardId":"shardId-000000000001","startSequenceNumber":"41","endSequenceNumber":"45","approximateArrivalOfFirstRecord":"2026-07-12T14:03:05.001Z","approximateArrivalOfLastRecord":"2026-07-12T14:03:05.020Z","batchSize":5,"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/telemetry"}}`
	var rec esm.OnFailureRecord
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		fmt.Println(err)
		return
	}
	info := rec.KinesisBatchInfo
	fmt.Printf("%s after %d invocations (%s)\n", rec.RequestContext.Condition, rec.RequestContext.ApproximateInvokeCount, *rec.ResponseContext.FunctionError)
	fmt.Printf("re-read %d records of %s: AT_SEQUENCE_NUMBER %s through %s\n", info.BatchSize, info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber)
	// Output:
	// RetryAttemptsExhausted after 3 invocations (Unhandled)
	// re-read 5 records of shardId-000000000001: AT_SEQUENCE_NUMBER 41 through 45
}
