package redrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/filter"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/pipeline"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/record"
	"github.com/streamlake/streamlake/internal/s3store"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

// clients are the moto-backed clients of a test.
type clients struct {
	sqs *sqs.Client
	kin *kinesis.Client
	s3  *s3.Client
}

func newClients(t *testing.T) clients {
	t.Helper()
	cfg, err := awsconfig.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return clients{
		sqs: sqs.NewFromConfig(cfg),
		kin: kinesis.NewFromConfig(cfg),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = true
			o.DisableLogOutputChecksumValidationSkipped = true
		}),
	}
}

// templateFilter is the FilterCriteria of the template's processor.
func templateFilter(t *testing.T) func([]byte) bool {
	t.Helper()
	tpl, err := samtemplate.Load("../../template.yaml", samtemplate.Options{ConfigFile: "../../samconfig.toml"})
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := tpl.Function("ProcessorFunction")
	if !ok || len(fn.KinesisEvents()) != 1 {
		t.Fatal("no ProcessorFunction with one Kinesis event in the template")
	}
	patterns, err := fn.KinesisEvents()[0].FilterPatterns()
	if err != nil || len(patterns) == 0 {
		t.Fatalf("filter patterns %v, %v; want the template's filter", patterns, err)
	}
	crit, err := filter.Compile(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return func(data []byte) bool { ok, _ := crit.Match(data); return ok }
}

func (c clients) options(t *testing.T, queueURL, bucket string) Options {
	t.Helper()
	w, err := ToS3(s3store.New(c.s3, bucket), S3Config{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	return Options{QueueURL: queueURL, Queue: c.sqs, Streams: func(string) (StreamAPI, error) { return c.kin, nil },
		Writer: w, WaitTime: time.Second}
}

// failingDeletes simulates a crash between the write and the delete: every
// DeleteMessage fails.
type failingDeletes struct{ *sqs.Client }

func (failingDeletes) DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	return nil, errors.New("connection reset by peer (simulated crash before the delete)")
}

// id names a stream record.
type id struct{ shard, seq string }

type streamRec struct {
	key  string
	data []byte
}

// peekRanges returns the ranges of the queue's messages without consuming them.
func peekRanges(t *testing.T, c clients, queueURL string) []Range {
	t.Helper()
	ctx := context.Background()
	var out []Range
	var handles []string
	seen := map[string]bool{}
	for {
		msgs, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs.Messages) == 0 {
			break
		}
		for _, m := range msgs.Messages {
			handles = append(handles, aws.ToString(m.ReceiptHandle))
			if seen[aws.ToString(m.MessageId)] {
				continue
			}
			seen[aws.ToString(m.MessageId)] = true
			_, rng, err := ParseMessage(aws.ToString(m.Body))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rng)
		}
	}
	for _, h := range handles {
		if _, err := c.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String(h)}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// readShard reads a whole shard with plain SDK calls (independently of the
// package's reader).
func readShard(t *testing.T, c clients, streamARN, shard string) []kintypes.Record {
	t.Helper()
	ctx := context.Background()
	it, err := c.kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: aws.String(streamARN), ShardId: aws.String(shard), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var out []kintypes.Record
	iter := it.ShardIterator
	for iter != nil {
		page, err := c.kin.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(streamARN), ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Records...)
		if len(page.Records) == 0 {
			break
		}
		iter = page.NextShardIterator
	}
	return out
}

// inRange returns the records of a shard within rng.
func inRange(t *testing.T, recs []kintypes.Record, rng Range) map[id]streamRec {
	t.Helper()
	out := map[id]streamRec{}
	for _, r := range recs {
		seq := aws.ToString(r.SequenceNumber)
		lo, _ := record.CompareSequenceNumbers(seq, rng.StartSequenceNumber)
		hi, _ := record.CompareSequenceNumbers(seq, rng.EndSequenceNumber)
		if lo >= 0 && hi <= 0 {
			out[id{rng.ShardID, seq}] = streamRec{aws.ToString(r.PartitionKey), r.Data}
		}
	}
	return out
}

// storedLines returns, for every line under prefix in the latest object versions,
// its record id and line, plus the number of object versions under prefix.
func storedLines(t *testing.T, c clients, bucket, prefix string) (map[id][]line, []string, int) {
	t.Helper()
	ctx := context.Background()
	out := map[id][]line{}
	var keys []string
	p := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
			obj, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range gunzipLines(t, body) {
				k := id{l.Shard, l.Seq}
				out[k] = append(out[k], l)
			}
		}
	}
	versions := 0
	vp, err := c.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	if err != nil {
		t.Fatal(err)
	}
	versions = len(vp.Versions)
	sort.Strings(keys)
	return out, keys, versions
}

func queueDepth(t *testing.T, c clients, queueURL string) string {
	t.Helper()
	out, err := c.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"] + "+" + out.Attributes["ApproximateNumberOfMessagesNotVisible"]
}

// TestRedriveAfterLocalPipeline runs the local pipeline with S3 failing half the
// time and no retries, so that some batches are stored and others dead-lettered,
// then redrives the failure queue with the template's FilterCriteria: dry run, a
// run that "crashes" before every delete, a rerun, and a run with nothing left to
// do. In the end processed/ and redriven/ hold every record that passes the
// filter exactly once.
func TestRedriveAfterLocalPipeline(t *testing.T) {
	motoserver.ForTest(t)
	ctx := context.Background()
	rep, err := pipeline.Run(ctx, pipeline.Options{
		TemplatePath: "../../template.yaml", StackName: "redrive-s3", WorkDir: t.TempDir(),
		Count: 1500, Seed: 9, HeartbeatRate: 0.05, PollInterval: 50 * time.Millisecond,
		Start: time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC),
		Overrides: map[string]string{"ShardCount": "2", "BatchSize": "50", "MaximumBatchingWindowInSeconds": "0",
			"MaximumRetryAttempts": "0", "BisectBatchOnFunctionError": "false"},
		Faults: pipeline.Faults{S3FailureRate: 0.5, Seed: 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lost != 0 || rep.Duplicates != 0 || rep.DeadLettered == 0 || rep.Written == 0 {
		t.Fatalf("pipeline: written %d, dead-lettered %d in %d messages, lost %d, duplicates %d; want some written and some dead-lettered",
			rep.Written, rep.DeadLettered, rep.OnFailureRecords, rep.Lost, rep.Duplicates)
	}
	t.Logf("pipeline: sent %d, filtered %d, written %d, dead-lettered %d in %d on-failure records", rep.Sent, rep.Filtered, rep.Written, rep.DeadLettered, rep.OnFailureRecords)
	c := newClients(t)
	queue, bucket := rep.FailureQueueURL, rep.Bucket

	// What was dead-lettered, re-read independently.
	ranges := peekRanges(t, c, queue)
	if len(ranges) != rep.OnFailureRecords {
		t.Fatalf("queue holds %d messages; the pipeline reported %d", len(ranges), rep.OnFailureRecords)
	}
	keep := templateFilter(t)
	shards := map[string][]kintypes.Record{}
	want := map[id]streamRec{}
	inRanges := 0
	for _, rng := range ranges {
		if _, ok := shards[rng.ShardID]; !ok {
			shards[rng.ShardID] = readShard(t, c, rng.StreamARN, rng.ShardID)
		}
		for k, v := range inRange(t, shards[rng.ShardID], rng) {
			inRanges++
			if keep(v.data) {
				want[k] = v
			}
		}
	}
	if len(want) != rep.DeadLettered {
		t.Errorf("the ranges hold %d records that pass the filter; the pipeline dead-lettered %d", len(want), rep.DeadLettered)
	}
	streamARN := ranges[0].StreamARN
	withFilter := func(o Options) Options { o.Filter = keep; return o }

	// 1. Dry run: reads everything, writes and deletes nothing.
	opts := withFilter(c.options(t, queue, bucket))
	opts.DryRun = true
	sum, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.MessagesRead != len(ranges) || sum.WouldRedrive != len(ranges) || sum.RecordsRead != inRanges || sum.RecordsFiltered != inRanges-len(want) ||
		sum.RecordsWritten != 0 || sum.LeftInQueue != len(ranges) {
		t.Errorf("dry run = %+v; want %d messages and %d records read (%d filtered), nothing written", sum, len(ranges), inRanges, inRanges-len(want))
	}
	if lines, _, _ := storedLines(t, c, bucket, DefaultPrefix); len(lines) != 0 {
		t.Errorf("dry run wrote %d records", len(lines))
	}

	// 2. Crash between write and delete: everything written, nothing deleted.
	opts = withFilter(c.options(t, queue, bucket))
	opts.Queue = failingDeletes{c.sqs}
	sum, err = Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != len(ranges) || sum.RecordsWritten != len(want) || sum.LeftInQueue != len(ranges) {
		t.Errorf("crashing run = %+v; want every message failed after writing %d records", sum, len(want))
	}
	if d := queueDepth(t, c, queue); d != fmt.Sprintf("%d+0", len(ranges)) {
		t.Errorf("queue after the crashing run: %s visible+in flight; want %d+0", d, len(ranges))
	}
	_, crashKeys, _ := storedLines(t, c, bucket, DefaultPrefix)

	// 3. Rerun: overwrites the same keys, deletes every message.
	sum, err = Run(ctx, withFilter(c.options(t, queue, bucket)))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.OK() || sum.Redriven != len(ranges) || sum.RecordsWritten != len(want) || sum.LeftInQueue != 0 {
		t.Errorf("rerun = %+v; want all %d messages redriven", sum, len(ranges))
	}
	lines, keys, versions := storedLines(t, c, bucket, DefaultPrefix)
	if d := cmp.Diff(crashKeys, keys); d != "" {
		t.Errorf("the rerun wrote other keys than the crashed run (-crashed +rerun):\n%s", d)
	}
	if sum.Objects != len(keys) {
		t.Errorf("summary objects = %d; %d keys in the bucket", sum.Objects, len(keys))
	}
	// redriven/ holds exactly the dead-lettered ranges, each record once, as the
	// processor would have written it.
	for k, w := range want {
		got := lines[k]
		if len(got) != 1 {
			t.Errorf("record %v is in redriven/ %d times; want once", k, len(got))
			continue
		}
		payload, _ := record.AppendPayload(nil, w.data)
		if string(got[0].Original) != string(payload) || got[0].PartitionKey != w.key {
			t.Errorf("record %v = %s (key %s); want %s (key %s)", k, got[0].Original, got[0].PartitionKey, payload, w.key)
		}
	}
	for k := range lines {
		if _, ok := want[k]; !ok {
			t.Errorf("redriven/ holds %v, which is in no on-failure range", k)
		}
	}
	// Together with processed/, every record of the stream that passes the filter
	// is stored exactly once, and no other record is.
	processed, _, _ := storedLines(t, c, bucket, "processed")
	passing := 0
	for _, shard := range []string{"shardId-000000000000", "shardId-000000000001"} {
		for _, r := range readShard(t, c, streamARN, shard) {
			k := id{shard, aws.ToString(r.SequenceNumber)}
			p, d := len(processed[k]), len(lines[k])
			switch pass := keep(r.Data); {
			case pass && p+d != 1:
				t.Errorf("record %v stored %d times (processed %d, redriven %d); want once", k, p+d, p, d)
			case !pass && p+d != 0:
				t.Errorf("record %v, which the filter drops, is stored %d times", k, p+d)
			case pass:
				passing++
			}
		}
	}
	if passing != rep.Sent-rep.Filtered {
		t.Errorf("%d records pass the filter; the pipeline says %d sent, %d filtered", passing, rep.Sent, rep.Filtered)
	}
	if d := queueDepth(t, c, queue); d != "0+0" {
		t.Errorf("queue after the rerun: %s; want empty", d)
	}

	// 4. Nothing left: nothing read, nothing written.
	sum, err = Run(ctx, withFilter(c.options(t, queue, bucket)))
	if err != nil || sum.MessagesRead != 0 || !sum.OK() {
		t.Errorf("run on an empty queue = %+v, %v", sum, err)
	}
	if _, again, v := storedLines(t, c, bucket, DefaultPrefix); !cmp.Equal(keys, again) || v != versions {
		t.Errorf("the run on an empty queue changed redriven/: %d keys, %d versions; before %d keys, %d versions", len(again), v, len(keys), versions)
	}
}

// newStreamAndQueue creates a stream with shards and records, and a queue.
func newStreamAndQueue(t *testing.T, c clients, name string, shards int32, n int) (string, string, map[string][]kintypes.Record) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(d.StreamDescriptionSummary.StreamARN)
	var recs []producer.Record
	for i := 0; i < n; i++ {
		recs = append(recs, producer.Record{PartitionKey: fmt.Sprintf("device-%02d", i%7), Data: fmt.Appendf(nil, `{"device_id":"device-%02d","n":%d}`, i%7, i)})
	}
	if _, err := producer.New(c.kin, arn).Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-failures")})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := c.kin.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	byShard := map[string][]kintypes.Record{}
	for _, s := range ls.Shards {
		byShard[aws.ToString(s.ShardId)] = readShard(t, c, arn, aws.ToString(s.ShardId))
	}
	return arn, aws.ToString(q.QueueUrl), byShard
}

func sendBody(t *testing.T, c clients, queueURL, body string) string {
	t.Helper()
	out, err := c.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// TestRedriveLeavesExpiredRanges puts on-failure records whose ranges are gone
// into a queue: they are reported and stay, run after run.
func TestRedriveLeavesExpiredRanges(t *testing.T) {
	motoserver.ForTest(t)
	c := newClients(t)
	ctx := context.Background()
	arn, queue, byShard := newStreamAndQueue(t, c, "redrive-expired", 1, 10)
	recs := byShard[shard0]
	seq := func(i int) string { return aws.ToString(recs[i].SequenceNumber) }
	bucket := "redrive-expired-bucket"
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	gone := strings.Replace(arn, "redrive-expired", "deleted-stream", 1)
	want := map[string]Status{
		sendBody(t, c, queue, onFailureBody(arn, shard0, "0", seq(2), 3)):                    StatusExpired, // before the trim horizon
		sendBody(t, c, queue, onFailureBody(arn, shard0, "1000", "1010", 11)):                StatusExpired, // not in the stream
		sendBody(t, c, queue, onFailureBody(arn, "shardId-000000000007", seq(1), seq(2), 2)): StatusExpired, // no such shard
		sendBody(t, c, queue, onFailureBody(gone, shard0, seq(1), seq(2), 2)):                StatusExpired, // no such stream
		sendBody(t, c, queue, onFailureBody(arn, shard0, seq(5), "1000", 6)):                 StatusFailed,  // end not in the stream
		sendBody(t, c, queue, `{"Records":[{"eventSource":"aws:kinesis"}]}`):                 StatusInvalid,
		sendBody(t, c, queue, onFailureBody(arn, shard0, seq(3), seq(4), 2)):                 StatusRedriven,
	}
	for run := 1; run <= 2; run++ {
		sum, err := Run(ctx, c.options(t, queue, bucket))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Status{}
		for _, m := range sum.Messages {
			got[m.MessageID] = m.Status
			if m.Status == StatusExpired && !strings.Contains(m.Reason, "left in the queue") {
				t.Errorf("expired reason %q does not say the message stays", m.Reason)
			}
		}
		if run == 2 {
			for k, v := range want {
				if v == StatusRedriven {
					delete(want, k)
				}
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("run %d statuses (-want +got):\n%s", run, d)
		}
		if sum.OK() || sum.LeftInQueue != 6 {
			t.Errorf("run %d: OK %v, left %d; want 6 left and not OK", run, sum.OK(), sum.LeftInQueue)
		}
		if d := queueDepth(t, c, queue); d != "6+0" {
			t.Errorf("run %d: queue %s; want 6 visible", run, d)
		}
	}
}

// TestRedriveToStream puts a range back into its stream with its partition keys.
func TestRedriveToStream(t *testing.T) {
	motoserver.ForTest(t)
	c := newClients(t)
	ctx := context.Background()
	arn, queue, before := newStreamAndQueue(t, c, "redrive-back", 2, 60)
	shard := "shardId-000000000001"
	recs := before[shard]
	if len(recs) < 6 {
		t.Fatalf("shard %s got %d records; want at least 6", shard, len(recs))
	}
	rng := recs[2 : len(recs)-2]
	sendBody(t, c, queue, onFailureBody(arn, shard, aws.ToString(rng[0].SequenceNumber), aws.ToString(rng[len(rng)-1].SequenceNumber), len(rng)))
	opts := c.options(t, queue, "unused")
	opts.Writer = ToStream(func(string) (producer.API, error) { return c.kin, nil }, "")
	sum, err := Run(ctx, opts)
	if err != nil || !sum.OK() || sum.Redriven != 1 || sum.RecordsWritten != len(rng) {
		t.Fatalf("Run = %+v, %v", sum, err)
	}
	// Every record of the range is in the stream once more, with its key; the
	// others are there once.
	count := func(m map[string][]kintypes.Record) map[string]int {
		out := map[string]int{}
		for _, rs := range m {
			for _, r := range rs {
				out[aws.ToString(r.PartitionKey)+" "+string(r.Data)]++
			}
		}
		return out
	}
	wantCount := count(before)
	for _, r := range rng {
		wantCount[aws.ToString(r.PartitionKey)+" "+string(r.Data)]++
	}
	after := map[string][]kintypes.Record{}
	for s := range before {
		after[s] = readShard(t, c, arn, s)
	}
	if d := cmp.Diff(wantCount, count(after)); d != "" {
		t.Errorf("stream contents after redrive (-want +got):\n%s", d)
	}
	// The same partition key lands on the same shard, in the original order.
	var wantTail, gotTail []string
	for _, r := range rng {
		wantTail = append(wantTail, string(r.Data))
	}
	for _, r := range after[shard][len(recs):] {
		gotTail = append(gotTail, string(r.Data))
	}
	if d := cmp.Diff(wantTail, gotTail); d != "" {
		t.Errorf("records appended to %s (-want +got):\n%s", shard, d)
	}
	if d := queueDepth(t, c, queue); d != "0+0" {
		t.Errorf("queue after redrive: %s; want empty", d)
	}
}

// TestReplayAgainstMoto replays a stream from a point in time between two bursts
// of records: exactly the second burst is written, under the same keys on a rerun,
// and with --to stream put back into the stream.
func TestReplayAgainstMoto(t *testing.T) {
	motoserver.ForTest(t)
	c := newClients(t)
	ctx := context.Background()
	arn, _, _ := newStreamAndQueue(t, c, "replay-stream", 2, 30)
	time.Sleep(1100 * time.Millisecond)
	from := time.Now()
	time.Sleep(100 * time.Millisecond)
	var second []producer.Record
	for i := 0; i < 25; i++ {
		second = append(second, producer.Record{PartitionKey: fmt.Sprintf("device-%02d", i%7), Data: fmt.Appendf(nil, `{"device_id":"device-%02d","burst":2,"n":%d}`, i%7, i)})
	}
	if _, err := producer.New(c.kin, arn).Put(ctx, second); err != nil {
		t.Fatal(err)
	}
	bucket := "replay-bucket"
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	w, err := ToS3(s3store.New(c.s3, bucket), S3Config{Bucket: bucket, Prefix: DefaultReplayPrefix})
	if err != nil {
		t.Fatal(err)
	}
	opts := ReplayOptions{Stream: c.kin, StreamARN: arn, From: from, Writer: w}
	sum, err := Replay(ctx, opts)
	if err != nil || !sum.OK() || sum.RecordsWritten != len(second) || len(sum.Shards) != 2 {
		t.Fatalf("Replay = %+v, %v; want the %d records of the second burst", sum, err, len(second))
	}
	lines, keys, _ := storedLines(t, c, bucket, DefaultReplayPrefix)
	got := map[string]bool{}
	for _, ls := range lines {
		for _, l := range ls {
			got[string(l.Original)] = true
		}
	}
	for _, r := range second {
		if !got[string(r.Data)] {
			t.Errorf("record %s not replayed", r.Data)
		}
	}
	if len(lines) != len(second) {
		t.Errorf("replayed %d records; want %d (the first burst is before --from)", len(lines), len(second))
	}
	if _, err := Replay(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if _, again, _ := storedLines(t, c, bucket, DefaultReplayPrefix); !cmp.Equal(keys, again) {
		t.Errorf("a second replay wrote other keys: %v, then %v", keys, again)
	}

	// Back into the stream: the second burst is in it twice.
	opts.Writer = ToStream(func(string) (producer.API, error) { return c.kin, nil }, "")
	if sum, err := Replay(ctx, opts); err != nil || sum.RecordsWritten != len(second) {
		t.Fatalf("Replay to the stream = %+v, %v", sum, err)
	}
	count := map[string]int{}
	for _, shard := range []string{"shardId-000000000000", "shardId-000000000001"} {
		for _, r := range readShard(t, c, arn, shard) {
			count[string(r.Data)]++
		}
	}
	for _, r := range second {
		if count[string(r.Data)] != 2 {
			t.Errorf("record %s is in the stream %d times; want 2", r.Data, count[string(r.Data)])
		}
	}
}

// countingQueue asks every receive for ApproximateReceiveCount and records, per
// message, the counts it saw.
type countingQueue struct {
	*sqs.Client
	mu       sync.Mutex
	received map[string][]string
}

func (q *countingQueue) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	in.MessageSystemAttributeNames = []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}
	return receiveEach(ctx, q.Client, &q.mu, in, optFns, func(m sqstypes.Message) {
		id := aws.ToString(m.MessageId)
		q.received[id] = append(q.received[id], m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	})
}

// receiveEach calls c's ReceiveMessage and then, holding mu, each for every
// message received: the bookkeeping of the test queues that wrap moto's.
func receiveEach(ctx context.Context, c *sqs.Client, mu *sync.Mutex, in *sqs.ReceiveMessageInput, optFns []func(*sqs.Options), each func(sqstypes.Message)) (*sqs.ReceiveMessageOutput, error) {
	out, err := c.ReceiveMessage(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range out.Messages {
		each(m)
	}
	return out, nil
}

// slowWriter takes a while for every chunk, as a large range does.
type slowWriter struct {
	Writer
	delay time.Duration
	// after, if set, is called after the delay.
	after  func()
	mu     sync.Mutex
	writes map[string]int // by the range's start
}

func (w *slowWriter) Write(ctx context.Context, rng Range, chunk []Record) ([]string, error) {
	time.Sleep(w.delay)
	if w.after != nil {
		w.after()
	}
	w.mu.Lock()
	w.writes[rng.StartSequenceNumber]++
	w.mu.Unlock()
	return w.Writer.Write(ctx, rng, chunk)
}

// TestRedriveKeepsMessagesHidden runs longer than the visibility timeout: the
// messages received in one batch are handled one after another, each taking
// half the timeout. None may become visible before the run is done with it
// (another run would redrive it again; with --to stream, put its records twice).
func TestRedriveKeepsMessagesHidden(t *testing.T) {
	motoserver.ForTest(t)
	c := newClients(t)
	ctx := context.Background()
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("redrive-hidden")})
	if err != nil {
		t.Fatal(err)
	}
	queue := aws.ToString(q.QueueUrl)
	stream := newFakeStream()
	stream.add(shard0, seqs(90, 130)...)
	expired := map[string]bool{} // every message: whether its range is expired
	for _, r := range [][2]string{{"1", "3"}, {"90", "94"}, {"95", "99"}, {"100", "104"}, {"105", "109"}, {"500", "501"}} {
		id := sendBody(t, c, queue, onFailureBody(testStream, shard0, r[0], r[1], 5))
		expired[id] = r[0] == "1" || r[0] == "500"
	}
	// After each slow write, every message must still be deleted or hidden.
	var visible []string
	// Each write takes half the timeout; the extensions, every third of it,
	// have a whole second of slack on a loaded machine.
	w := &slowWriter{Writer: mustS3Writer(t), delay: 1500 * time.Millisecond, writes: map[string]int{}, after: func() {
		visible = append(visible, strings.Split(queueDepth(t, c, queue), "+")[0])
	}}
	counting := &countingQueue{Client: c.sqs, received: map[string][]string{}}
	sum, err := Run(ctx, Options{QueueURL: queue, Queue: counting, Writer: w,
		Streams:           func(string) (StreamAPI, error) { return stream, nil },
		VisibilityTimeout: 3 * time.Second, WaitTime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if sum.MessagesRead != 6 || sum.Redriven != 4 || sum.Expired != 2 || sum.LeftInQueue != 2 {
		t.Errorf("Run = %+v; want 4 redriven and 2 expired", sum)
	}
	for id := range expired {
		if d := cmp.Diff([]string{"1"}, counting.received[id]); d != "" {
			t.Errorf("message %s received with ApproximateReceiveCount (-want +got):\n%s", id, d)
		}
	}
	if d := cmp.Diff(map[string]int{"90": 1, "95": 1, "100": 1, "105": 1}, w.writes); d != "" {
		t.Errorf("writes by range (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"0", "0", "0", "0"}, visible); d != "" {
		t.Errorf("visible messages after each write (-want +got):\n%s", d)
	}
	// The messages left were received by the run only, and are visible again.
	out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, VisibilityTimeout: 60,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range out.Messages {
		got[aws.ToString(m.MessageId)] = m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]
	}
	want := map[string]string{}
	for id, e := range expired {
		if e {
			want[id] = "2" // the run's receive and this one
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("left in the queue, ApproximateReceiveCount (-want +got):\n%s", d)
	}
}

func mustS3Writer(t *testing.T) *S3Writer {
	t.Helper()
	w, err := ToS3(newMemSink(), S3Config{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// redeliveringQueue is the run's moto queue with two things real SQS can do
// that moto does not play by itself. The run's visibility extensions fail, so
// a message the run holds reappears once its timeout lapses. And a delete
// with a receipt handle older than the message's latest receive is stale: SQS
// answers it with success but may not delete the message ("if you don't
// provide the most recently received receipt handle for the message, the
// request will still succeed, but the message might not be deleted", the
// DeleteMessage reference), or, for a handle that has expired, refuses it
// (InvalidParameterValue "The receipt handle has expired"). Moto deletes the
// message with any handle it ever had, so such deletes are answered here.
type redeliveringQueue struct {
	*sqs.Client
	// refuseStale makes a stale delete fail instead of succeeding.
	refuseStale bool

	mu       sync.Mutex
	idOf     map[string]string // message ID by receipt handle
	latest   map[string]string // latest receipt handle by message ID
	receives map[string]int
	stale    int // stale deletes answered
}

func newRedeliveringQueue(c *sqs.Client, refuseStale bool) *redeliveringQueue {
	return &redeliveringQueue{Client: c, refuseStale: refuseStale, idOf: map[string]string{}, latest: map[string]string{}, receives: map[string]int{}}
}

func (q *redeliveringQueue) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return receiveEach(ctx, q.Client, &q.mu, in, optFns, func(m sqstypes.Message) {
		id, h := aws.ToString(m.MessageId), aws.ToString(m.ReceiptHandle)
		q.idOf[h], q.latest[id] = id, h
		q.receives[id]++
	})
}

func (q *redeliveringQueue) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	h := aws.ToString(in.ReceiptHandle)
	q.mu.Lock()
	id, known := q.idOf[h]
	stale := known && q.latest[id] != h
	if stale {
		q.stale++
	}
	q.mu.Unlock()
	switch {
	case stale && q.refuseStale:
		return nil, apiError("InvalidParameterValue", "Value "+h+" for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")
	case stale:
		return &sqs.DeleteMessageOutput{}, nil
	}
	return q.Client.DeleteMessage(ctx, in, optFns...)
}

func (q *redeliveringQueue) ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	return nil, errors.New("connection reset by peer (simulated: the extension failed)")
}

// handledWriter calls after once the first chunk is written.
type handledWriter struct {
	Writer
	after  func()
	mu     sync.Mutex
	writes int
}

func (w *handledWriter) Write(ctx context.Context, rng Range, chunk []Record) ([]string, error) {
	keys, err := w.Writer.Write(ctx, rng, chunk)
	w.mu.Lock()
	w.writes++
	first := w.writes == 1
	w.mu.Unlock()
	if err == nil && first && w.after != nil {
		w.after()
	}
	return keys, err
}

// TestRedriveDeletesMessageReceivedAgainBeforeItsDelete: once a message's
// records are written, its visibility timeout lapses and SQS delivers it again
// before the run deletes it, so the run's delete uses a stale receipt handle,
// which SQS accepts without deleting or refuses. The run receives the message
// again later: it must delete it with the new handle, without writing its
// records a second time, and report it redriven once.
func TestRedriveDeletesMessageReceivedAgainBeforeItsDelete(t *testing.T) {
	motoserver.ForTest(t)
	c := newClients(t)
	for _, tc := range []struct {
		name        string
		refuseStale bool
	}{
		{"stale delete accepted without deleting", false},
		{"stale delete refused", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			name := "redrive-again-accepted"
			if tc.refuseStale {
				name = "redrive-again-refused"
			}
			arn, queue, byShard := newStreamAndQueue(t, c, name, 1, 20)
			recs := byShard[shard0]
			rng := Range{StreamARN: arn, ShardID: shard0, StartSequenceNumber: aws.ToString(recs[3].SequenceNumber), EndSequenceNumber: aws.ToString(recs[15].SequenceNumber)}
			msgID := sendBody(t, c, queue, onFailureBody(arn, shard0, rng.StartSequenceNumber, rng.EndSequenceNumber, 13))
			want := inRange(t, recs, rng)
			bucket := name + "-bucket"
			if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatal(err)
			}
			// Versioned, so that writing an object again shows as a second version.
			if _, err := c.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
				t.Fatal(err)
			}
			q := newRedeliveringQueue(c.sqs, tc.refuseStale)
			var redelivered []string
			w := &handledWriter{Writer: c.options(t, queue, bucket).Writer, after: func() {
				// Past the run's visibility timeout (its extensions fail), the
				// message is visible, and SQS delivers it to another receive;
				// it is visible again a second later.
				time.Sleep(2 * time.Second)
				out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 1, VisibilityTimeout: 1, WaitTimeSeconds: 2})
				if err != nil {
					t.Error(err)
					return
				}
				for _, m := range out.Messages {
					redelivered = append(redelivered, aws.ToString(m.MessageId))
				}
			}}
			// Bounded, should the run not end (its extensions fail, so a
			// message it left would reappear within every receive's wait).
			runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			var last Progress
			sum, err := Run(runCtx, Options{QueueURL: queue, Queue: q, Writer: w,
				Streams:           func(string) (StreamAPI, error) { return c.kin, nil },
				VisibilityTimeout: time.Second, WaitTime: 3 * time.Second, Progress: func(p Progress) { last = p }})
			if err != nil {
				t.Errorf("Run: %v", err)
			}
			if sum == nil {
				t.FailNow()
			}
			// The scenario was played: received by the run, by another receive
			// before the run's delete, and by the run again.
			if d := cmp.Diff([]string{msgID}, redelivered); d != "" {
				t.Fatalf("received before the run's delete (-want +got):\n%s", d)
			}
			if q.receives[msgID] != 3 || q.stale != 1 { // after Run: no receive is under way
				t.Errorf("message received %d times, %d stale deletes; want 3 receives (run, other, run) and 1 stale delete", q.receives[msgID], q.stale)
			}

			if sum.MessagesRead != 1 || sum.Redriven != 1 || sum.Failed != 0 || sum.LeftInQueue != 0 || !sum.OK() ||
				sum.RecordsRead != len(want) || sum.RecordsWritten != len(want) || sum.Objects != 1 || len(sum.Messages) != 1 {
				t.Fatalf("Run = %+v; want 1 message redriven and deleted, %d records read and written once, 1 object", sum, len(want))
			}
			if m := sum.Messages[0]; m.MessageID != msgID || m.Status != StatusRedriven || !m.Deleted || m.Reason != "" {
				t.Errorf("message result = %+v; want %s redriven and deleted", m, msgID)
			}
			if last.MessagesRead != 1 || last.Redriven != 1 || last.Failed != 0 || last.RecordsWritten != len(want) {
				t.Errorf("last progress = %+v; want 1 message redriven, %d records written", last, len(want))
			}
			if w.writes != 1 {
				t.Errorf("the range was written %d times; want once", w.writes)
			}
			lines, keys, versions := storedLines(t, c, bucket, DefaultPrefix)
			if d := cmp.Diff(sum.Messages[0].Objects, keys); d != "" {
				t.Errorf("objects in the bucket (-reported +stored):\n%s", d)
			}
			if versions != len(keys) {
				t.Errorf("%d object versions for %d keys; want each object written once", versions, len(keys))
			}
			for k := range want {
				if len(lines[k]) != 1 {
					t.Errorf("record %v is in %s/ %d times; want once", k, DefaultPrefix, len(lines[k]))
				}
			}
			if len(lines) != len(want) {
				t.Errorf("%s/ holds %d records; want the range's %d", DefaultPrefix, len(lines), len(want))
			}

			// Deleted, not hidden: the queue is empty, also once every
			// visibility timeout given has lapsed.
			if d := queueDepth(t, c, queue); d != "0+0" {
				t.Errorf("queue after the run: %s visible+in flight; want empty", d)
			}
			time.Sleep(1500 * time.Millisecond)
			if d := queueDepth(t, c, queue); d != "0+0" {
				t.Errorf("queue after the visibility timeout: %s visible+in flight; want empty", d)
			}
			out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) != 0 {
				t.Errorf("received %d messages after the run; want none", len(out.Messages))
			}
		})
	}
}
