package producer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamlake/streamlake/internal/producer"
)

// BenchmarkProduce measures, in the same run against moto server, the records per
// second of the producer (PutRecords batches) and of a loop of one PutRecord call
// per record, and reports their ratio as "speedup".
func BenchmarkProduce(b *testing.B) {
	// One stream per run: moto server is shared by the runs of -count.
	stream := fmt.Sprintf("producer-bench-%d", time.Now().UnixNano())
	client := newStream(b, stream, 4)
	const n = 500
	records := sensorRecords(b, n, 50)
	var size int64
	for _, r := range records {
		size += int64(r.Size())
	}
	p := producer.New(client, stream)
	ctx := context.Background()
	var batched, single time.Duration
	b.SetBytes(2 * size) // each iteration sends the records both ways
	for b.Loop() {
		t0 := time.Now()
		res, err := p.Put(ctx, records)
		if err != nil || res.Sent != n {
			b.Fatalf("Put = %+v, %v", res.Stats, err)
		}
		t1 := time.Now()
		for _, r := range records {
			if _, err := client.PutRecord(ctx, &kinesis.PutRecordInput{
				StreamName: aws.String(stream), PartitionKey: aws.String(r.PartitionKey), Data: r.Data,
			}); err != nil {
				b.Fatalf("PutRecord: %v", err)
			}
		}
		batched += t1.Sub(t0)
		single += time.Since(t1)
	}
	total := float64(b.N * n)
	b.ReportMetric(total/batched.Seconds(), "producer-records/s")
	b.ReportMetric(total/single.Seconds(), "putrecord-records/s")
	b.ReportMetric(single.Seconds()/batched.Seconds(), "speedup")
}
