package producer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/sensor"
)

// newStream creates a stream with shards shards in moto and returns a client.
func newStream(tb testing.TB, name string, shards int32) *kinesis.Client {
	tb.Helper()
	motoserver.ForTest(tb)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		tb.Fatalf("load AWS config: %v", err)
	}
	client := kinesis.NewFromConfig(cfg)
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		tb.Fatalf("create stream %s: %v", name, err)
	}
	w := kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 30*time.Second); err != nil {
		tb.Fatalf("wait for stream %s: %v", name, err)
	}
	return client
}

// stored is a record read back from the stream.
type stored struct {
	shard string
	seq   *big.Int
	key   string
	data  string
}

// readAll reads every record of every shard from the start.
func readAll(t *testing.T, client *kinesis.Client, stream string) []stored {
	t.Helper()
	ctx := context.Background()
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("list shards: %v", err)
	}
	var out []stored
	for _, sh := range shards.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("get shard iterator %s: %v", aws.ToString(sh.ShardId), err)
		}
		iter := it.ShardIterator
		for iter != nil {
			res, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatalf("get records %s: %v", aws.ToString(sh.ShardId), err)
			}
			for _, r := range res.Records {
				seq, ok := new(big.Int).SetString(aws.ToString(r.SequenceNumber), 10)
				if !ok {
					t.Fatalf("sequence number %q is not a number", aws.ToString(r.SequenceNumber))
				}
				out = append(out, stored{shard: aws.ToString(sh.ShardId), seq: seq, key: aws.ToString(r.PartitionKey), data: string(r.Data)})
			}
			if len(res.Records) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out
}

func sensorRecords(t testing.TB, n, devices int) []producer.Record {
	t.Helper()
	g, err := sensor.NewGenerator(sensor.Config{Devices: devices, Seed: 7, Start: time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]producer.Record, n)
	for i := range out {
		r := g.Next()
		out[i] = producer.Record{PartitionKey: r.PartitionKey(), Data: r.AppendJSON(nil)}
	}
	return out
}

func TestProduceToMoto(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) {
			stream := fmt.Sprintf("producer-moto-%v", ordered)
			client := newStream(t, stream, 4)
			const n = 2000
			records := sensorRecords(t, n, 40)
			var deliveries []producer.Delivery
			p := producer.New(client, stream, producer.WithOrdered(ordered),
				producer.WithDeliveryFunc(func(d producer.Delivery) { deliveries = append(deliveries, d) }))
			res, err := p.Put(context.Background(), records)
			if err != nil {
				t.Fatalf("Put error: %v", err)
			}
			if res.Sent != n || res.Failed != 0 || len(deliveries) != n {
				t.Fatalf("Put = %+v with %d deliveries; want %d sent", res.Stats, len(deliveries), n)
			}
			if !ordered && res.Calls != 4 {
				t.Errorf("calls = %d; want 4 (500 records each)", res.Calls)
			}

			got := readAll(t, client, stream)
			if len(got) != n {
				t.Fatalf("read %d records back; want %d", len(got), n)
			}
			shards := map[string]bool{}
			seen := map[string]int{}
			for _, s := range got {
				seen[s.data]++
				shards[s.shard] = true
			}
			for i, r := range records {
				if seen[string(r.Data)] != 1 {
					t.Errorf("record %d (%s) read back %d times; want 1", i, r.Data, seen[string(r.Data)])
				}
			}
			if len(shards) != 4 {
				t.Errorf("records landed on %d shards; want all 4", len(shards))
			}

			// Per key, in sequence-number order, the readings' event times ascend,
			// as they were produced.
			sort.SliceStable(got, func(a, b int) bool { return got[a].seq.Cmp(got[b].seq) < 0 })
			byKey := map[string][]string{}
			for _, s := range got {
				var r sensor.Reading
				if err := json.Unmarshal([]byte(s.data), &r); err != nil {
					t.Fatalf("stored data %q: %v", s.data, err)
				}
				if r.DeviceID != s.key {
					t.Errorf("partition key %s holds device %s", s.key, r.DeviceID)
				}
				byKey[s.key] = append(byKey[s.key], s.data)
			}
			want := map[string][]string{}
			for _, r := range records {
				want[r.PartitionKey] = append(want[r.PartitionKey], string(r.Data))
			}
			if diff := cmp.Diff(want, byKey); diff != "" {
				t.Errorf("per-key content and order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMotoRecordSizeLimit(t *testing.T) {
	stream := "producer-moto-size"
	client := newStream(t, stream, 1)
	p := producer.New(client, stream)
	big := producer.Record{PartitionKey: "k", Data: make([]byte, 1<<20)}
	res, err := p.Put(context.Background(), []producer.Record{big})
	if err == nil || res.Failed != 1 || res.Calls != 0 {
		t.Fatalf("Put(1 MiB + key) = %+v, %v; want a size error before any call", res.Stats, err)
	}
	if got := readAll(t, client, stream); len(got) != 0 {
		t.Errorf("stream holds %d records; want 0", len(got))
	}
}
