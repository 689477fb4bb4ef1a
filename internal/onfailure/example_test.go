package onfailure_test

import (
	"encoding/json"
	"fmt"

	"github.com/streamlake/streamlake/internal/onfailure"
)

// Decoding an on-failure record from the SQS destination, as a redrive tool
// does: the records are re-read from the stream by sequence range.
func ExampleRecord() {
	body := `{"requestContext":{"requestId":"c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:processor","condition":"RetryAttemptsExhausted","approximateInvokeCount":3},` +
		`"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2026-07-12T14:03:07.120Z",` +
		`"KinesisBatchInfo":{"shardId":"shardId-000000000001","startSequenceNumber":"41","endSequenceNumber":"45","approximateArrivalOfFirstRecord":"2026-07-12T14:03:05.001Z","approximateArrivalOfLastRecord":"2026-07-12T14:03:05.020Z","batchSize":5,"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/telemetry"}}`
	var rec onfailure.Record
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
