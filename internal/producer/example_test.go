package producer_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/sensor"
)

// throttlingKinesis stands in for *kinesis.Client: it refuses the first entry of
// every call once, as a throttled shard would.
type throttlingKinesis struct{ calls int }

func (k *throttlingKinesis) DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{}}, nil
}

func (k *throttlingKinesis) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	k.calls++
	out := &kinesis.PutRecordsOutput{}
	for i := range in.Records {
		if i == 0 && k.calls == 1 {
			out.Records = append(out.Records, types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException")})
			continue
		}
		out.Records = append(out.Records, types.PutRecordsResultEntry{ShardId: aws.String("shardId-000000000000"), SequenceNumber: aws.String("1")})
	}
	return out, nil
}

func ExampleProducer_Put() {
	g, err := sensor.NewGenerator(sensor.Config{Devices: 5, Seed: 1, Start: time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	records := make([]producer.Record, 1000)
	for i := range records {
		r := g.Next()
		records[i] = producer.Record{PartitionKey: r.PartitionKey(), Data: r.AppendJSON(nil)}
	}

	// With a real stream: client := kinesis.NewFromConfig(cfg).
	client := &throttlingKinesis{}
	p := producer.New(client, "streamlake-sensor-stream", producer.WithBackoff(time.Millisecond, 10*time.Millisecond))
	res, err := p.Put(context.Background(), records)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("sent %d, failed %d, retries %d, calls %d\n", res.Sent, res.Failed, res.Retries, res.Calls)
	// Output: sent 1000, failed 0, retries 1, calls 3
}
