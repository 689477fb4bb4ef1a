package redrive

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/s3store"
)

// TestRedriveSkipsStoredRecords: the ranges of failed batches can name records
// the processor stored (an earlier attempt's object kept after a bisect; a batch
// whose quarantine object failed after its processed object was stored). With
// Options.Stored, redrive writes only the records that no latest object holds,
// and of a KPL aggregate only its user records that none holds; without it,
// every record of the ranges.
func TestRedriveSkipsStoredRecords(t *testing.T) {
	motoserver.ForTest(t)
	ctx := context.Background()
	c := newClients(t)
	const name, bucket = "skip-stored", "skip-stored-bucket"
	var datas [][]byte
	for i := range 30 {
		data := fmt.Appendf(nil, `{"device_id":"d-%d","timestamp":"2026-11-21T13:40:%02dZ"}`, i%3, i)
		switch i {
		case 5, 25: // rejected by the default transform
			data = fmt.Appendf(nil, `{"device_id":"d-%d","timestamp":"not a time"}`, i%3)
		case 28: // two user records processed, one rejected
			data = kpl.Aggregate([]kpl.Record{{PartitionKey: "k", Data: []byte(`{"device_id":"a","timestamp":"2026-11-21T13:40:00Z"}`)},
				{PartitionKey: "k", Data: []byte(`{"device_id":"b","timestamp":"never"}`)},
				{PartitionKey: "k", Data: []byte(`{"device_id":"c","timestamp":"2026-11-21T13:40:00Z"}`)}})
		}
		datas = append(datas, data)
	}
	const shard = "shardId-000000000000"
	arn, recs := storedStream(t, c, name, bucket, datas)
	if len(recs) != 30 {
		t.Fatalf("shard holds %d records; want 30", len(recs))
	}
	proc, err := ingest.New(s3store.New(c.s3, bucket), ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	handle := func(batch []kintypes.Record) { t.Helper(); processBatch(t, proc, arn, batch) }
	seq := func(i int) string { return aws.ToString(recs[i].SequenceNumber) }
	// Records 0-19: an attempt stored its objects and failed afterwards; its
	// first half, 0-9, was bisected again, a sub-batch of it (3-4) stored its
	// object, and the half was then dead-lettered; the second half, 10-19, was
	// stored again. Records 6-9 are in the first attempt's object, not in the
	// nearer one of 3-4.
	handle(recs[0:20])
	handle(recs[3:5])
	handle(recs[10:20])
	// Records 20-29: the processed object was stored, the quarantine object
	// (records 25 and 28's rejected user record) was not.
	handle(recs[20:30])
	_, quarantine, _ := storedLines(t, c, bucket, ndjson.DefaultQuarantinePrefix)
	if len(quarantine) != 2 || !strings.HasSuffix(quarantine[1], "-"+seq(25)+".ndjson.gz") && !strings.HasSuffix(quarantine[0], "-"+seq(25)+".ndjson.gz") {
		t.Fatalf("quarantine objects %q; want two, one keyed by record 25", quarantine)
	}
	for _, k := range quarantine {
		if strings.HasSuffix(k, "-"+seq(25)+".ndjson.gz") {
			if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	run := func(queue string, stored bool) *Summary {
		t.Helper()
		sendBody(t, c, queue, onFailureBody(arn, shard, seq(0), seq(9), 10))
		sendBody(t, c, queue, onFailureBody(arn, shard, seq(20), seq(29), 10))
		opts := c.options(t, queue, bucket)
		if stored {
			opts.Stored = &Stored{API: c.s3, Bucket: bucket, Prefixes: []string{ndjson.DefaultProcessedPrefix, ndjson.DefaultQuarantinePrefix}}
		}
		sum, err := Run(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-failures")})
	if err != nil {
		t.Fatal(err)
	}
	sum := run(aws.ToString(q.QueueUrl), true)
	if sum.Redriven != 2 || sum.RecordsRead != 20 || sum.RecordsStored != 18 || sum.RecordsWritten != 2 {
		t.Errorf("redrive = %d redriven, %d read, %d stored, %d written; want 2, 20, 18 (all but 25 and the aggregate 28, part of which is stored), 2",
			sum.Redriven, sum.RecordsRead, sum.RecordsStored, sum.RecordsWritten)
	}
	got := map[string]int{}
	for _, prefix := range []string{DefaultPrefix, ndjson.QuarantinePrefixFor(DefaultPrefix)} {
		lines, _, _ := storedLines(t, c, bucket, prefix)
		for k, ls := range lines {
			got[k.seq] += len(ls)
		}
	}
	if want := map[string]int{seq(25): 1, seq(28): 1}; len(got) != len(want) || got[seq(25)] != 1 || got[seq(28)] != 1 {
		t.Errorf("redriven lines per record %v; want record 25's line and the one user record of 28 that no object holds (%v)", got, want)
	}
	if lines, _, _ := storedLines(t, c, bucket, ndjson.QuarantinePrefixFor(DefaultPrefix)); len(lines[id{shard, seq(28)}]) != 1 || lines[id{shard, seq(28)}][0].Sub == nil || *lines[id{shard, seq(28)}][0].Sub != 1 {
		t.Errorf("record 28's redriven line %+v; want its user record 1 (the rejected one), in the redrive's quarantine", lines[id{shard, seq(28)}])
	}

	// To the stream: the records no object holds whole (25, and the aggregate
	// 28, put back whole), not the 18 stored ones.
	q3, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-failures-3")})
	if err != nil {
		t.Fatal(err)
	}
	queue3 := aws.ToString(q3.QueueUrl)
	sendBody(t, c, queue3, onFailureBody(arn, shard, seq(0), seq(9), 10))
	sendBody(t, c, queue3, onFailureBody(arn, shard, seq(20), seq(29), 10))
	opts := c.options(t, queue3, bucket)
	opts.Writer = ToStream(func(string) (producer.API, error) { return c.kin, nil }, "")
	opts.Stored = &Stored{API: c.s3, Bucket: bucket, Prefixes: []string{ndjson.DefaultProcessedPrefix, ndjson.DefaultQuarantinePrefix}}
	if sum, err := Run(ctx, opts); err != nil || sum.RecordsStored != 18 || sum.RecordsWritten != 2 {
		t.Errorf("redrive to the stream = %+v, %v; want 18 stored, 2 written", sum, err)
	}
	if after := readShard(t, c, arn, shard); len(after) != 32 || string(after[30].Data) != string(recs[25].Data) || string(after[31].Data) != string(recs[28].Data) {
		t.Errorf("the stream holds %d records after the redrive; want 32, ending with records 25 and 28", len(after))
	}

	// Without Stored: every record of the ranges.
	q2, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-failures-2")})
	if err != nil {
		t.Fatal(err)
	}
	if sum := run(aws.ToString(q2.QueueUrl), false); sum.RecordsStored != 0 || sum.RecordsWritten != 20 {
		t.Errorf("redrive without Stored = %d stored, %d written; want 0, 20", sum.RecordsStored, sum.RecordsWritten)
	}
}

// storedStream makes a one-shard stream holding datas (and bucket, if named)
// and returns its ARN and records.
func storedStream(t *testing.T, c clients, name, bucket string, datas [][]byte) (string, []kintypes.Record) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if bucket != "" {
		if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := c.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(d.StreamDescriptionSummary.StreamARN)
	for _, data := range datas {
		if _, err := c.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: aws.String(arn), PartitionKey: aws.String("k"), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	return arn, readShard(t, c, arn, "shardId-000000000000")
}

// processBatch runs the processor on batch as Lambda would deliver it.
func processBatch(t *testing.T, proc *ingest.Processor, arn string, batch []kintypes.Record) {
	t.Helper()
	ev := &events.KinesisEvent{}
	for _, r := range batch {
		s := aws.ToString(r.SequenceNumber)
		ev.Records = append(ev.Records, events.KinesisEventRecord{EventID: "shardId-000000000000:" + s, EventSourceArn: arn, EventSource: "aws:kinesis",
			Kinesis: events.KinesisRecord{Data: r.Data, SequenceNumber: s, PartitionKey: aws.ToString(r.PartitionKey),
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)}}})
	}
	if resp, err := proc.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("processor: %+v, %v", resp, err)
	}
}

// TestStoredIgnoresRedrivenChunks: redrive into the processor's own prefix, a
// run whose deletes fail, then a rerun: the first run's chunk (keyed
// <first>-<last>) is not the processor's record of storing anything, so the
// rerun writes the same chunk again instead of skipping its records and
// overwriting it with the others (which lost records 1-4).
func TestStoredIgnoresRedrivenChunks(t *testing.T) {
	motoserver.ForTest(t)
	ctx := context.Background()
	c := newClients(t)
	const name, bucket = "stored-own-prefix", "stored-own-prefix-bucket"
	var datas [][]byte
	for i := range 6 {
		ts := fmt.Sprintf("%q", fmt.Sprintf("2026-11-21T13:40:%02dZ", i))
		if i == 0 || i == 5 {
			ts = `"not a time"`
		}
		datas = append(datas, fmt.Appendf(nil, `{"device_id":"d","timestamp":%s}`, ts))
	}
	arn, recs := storedStream(t, c, name, bucket, datas)
	seq := func(i int) string { return aws.ToString(recs[i].SequenceNumber) }
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-q")})
	if err != nil {
		t.Fatal(err)
	}
	queue := aws.ToString(q.QueueUrl)
	sendBody(t, c, queue, onFailureBody(arn, "shardId-000000000000", seq(0), seq(5), 6))
	opts := func() Options {
		w, err := ToS3(s3store.New(c.s3, bucket), S3Config{Bucket: bucket, Prefix: ndjson.DefaultProcessedPrefix})
		if err != nil {
			t.Fatal(err)
		}
		return Options{QueueURL: queue, Queue: c.sqs, Streams: func(string) (StreamAPI, error) { return c.kin, nil },
			Writer: w, WaitTime: time.Second, VisibilityTimeout: time.Second,
			Stored: &Stored{API: c.s3, Bucket: bucket, Prefixes: []string{ndjson.DefaultProcessedPrefix, ndjson.DefaultQuarantinePrefix}}}
	}
	o := opts()
	o.Queue = failingDeletes{c.sqs}
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the message's visibility timeout
	sum, err := Run(ctx, opts())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, prefix := range []string{ndjson.DefaultProcessedPrefix, ndjson.QuarantinePrefixFor(ndjson.DefaultProcessedPrefix)} {
		lines, _, _ := storedLines(t, c, bucket, prefix)
		for k, ls := range lines {
			got[k.seq] += len(ls)
		}
	}
	if sum.Redriven != 1 || sum.RecordsStored != 0 {
		t.Errorf("rerun: %d redriven, %d counted stored; want 1, 0", sum.Redriven, sum.RecordsStored)
	}
	for i := range 6 {
		if got[seq(i)] != 1 {
			t.Errorf("record %d is in %d lines after the rerun; want 1", i, got[seq(i)])
		}
	}
}

// TestStoredIsThisStreams: another stream's objects in the bucket, with the
// same shard and sequence numbers (the emulator numbers each stream's records
// from 1), do not make this stream's failed records count as stored: a record
// is the same only with the same arrival time too.
func TestStoredIsThisStreams(t *testing.T) {
	motoserver.ForTest(t)
	ctx := context.Background()
	c := newClients(t)
	const bucket = "stored-shared-bucket"
	datas := [][]byte{[]byte(`{"device_id":"a","timestamp":"2026-11-21T13:40:00Z"}`), []byte(`{"device_id":"b","timestamp":"2026-11-21T13:40:01Z"}`)}
	arnA, recsA := storedStream(t, c, "stored-stream-a", bucket, datas)
	time.Sleep(1100 * time.Millisecond) // the emulator's arrival times may be whole seconds
	arnB, recsB := storedStream(t, c, "stored-stream-b", "", datas)
	if aws.ToString(recsA[0].SequenceNumber) != aws.ToString(recsB[0].SequenceNumber) {
		t.Logf("the streams' sequence numbers differ (%s, %s): the test shows less", aws.ToString(recsA[0].SequenceNumber), aws.ToString(recsB[0].SequenceNumber))
	}
	proc, err := ingest.New(s3store.New(c.s3, bucket), ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	processBatch(t, proc, arnA, recsA)
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("stored-shared-q")})
	if err != nil {
		t.Fatal(err)
	}
	queue := aws.ToString(q.QueueUrl)
	sendBody(t, c, queue, onFailureBody(arnB, "shardId-000000000000", aws.ToString(recsB[0].SequenceNumber), aws.ToString(recsB[1].SequenceNumber), 2))
	o := c.options(t, queue, bucket)
	o.Stored = &Stored{API: c.s3, Bucket: bucket, Prefixes: []string{ndjson.DefaultProcessedPrefix, ndjson.DefaultQuarantinePrefix}}
	sum, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.RecordsWritten != 2 || sum.RecordsStored != 0 {
		t.Errorf("stream B's failed records: %d written, %d counted stored; want 2, 0", sum.RecordsWritten, sum.RecordsStored)
	}
}

// TestStoredForget: what Holds read is dropped by Forget (Run calls it before
// each message), so an object rewritten since (a bisected first half's) is
// read again.
func TestStoredForget(t *testing.T) {
	motoserver.ForTest(t)
	ctx := context.Background()
	c := newClients(t)
	const bucket = "stored-forget-bucket"
	var datas [][]byte
	for i := range 4 {
		datas = append(datas, fmt.Appendf(nil, `{"device_id":"d","timestamp":"2026-11-21T13:40:%02dZ"}`, i))
	}
	arn, recs := storedStream(t, c, "stored-forget", bucket, datas)
	proc, err := ingest.New(s3store.New(c.s3, bucket), ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := recs[3]
	rec := Record{ShardID: "shardId-000000000000", SequenceNumber: aws.ToString(r.SequenceNumber), PartitionKey: "k", Data: r.Data,
		ArrivalTime: aws.ToTime(r.ApproximateArrivalTimestamp)}
	processBatch(t, proc, arn, recs)
	st := &Stored{API: c.s3, Bucket: bucket, Prefixes: []string{ndjson.DefaultProcessedPrefix, ndjson.DefaultQuarantinePrefix}}
	if h, err := st.Holds(ctx, rec); err != nil || !h.All {
		t.Fatalf("Holds(record 3) = %+v, %v; want All (the batch's object holds it)", h, err)
	}
	processBatch(t, proc, arn, recs[0:2]) // the first half rewrites the key without record 3
	st.Forget()
	if h, err := st.Holds(ctx, rec); err != nil || h.All {
		t.Errorf("Holds(record 3) after the rewrite and Forget = %+v, %v; want not All", h, err)
	}
}
