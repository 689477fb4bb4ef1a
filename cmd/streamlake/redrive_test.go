package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/onfailure"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/redrive"
)

const testQueueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/failures"

func TestRedriveBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no queue", []string{"--bucket", "b"}, "--queue is required"},
		{"queue not a URL", []string{"--queue", "failures", "--bucket", "b"}, `--queue "failures" is not a queue URL`},
		{"queue ARN", []string{"--queue", "arn:aws:sqs:us-east-1:123456789012:failures", "--bucket", "b"}, "is not a queue URL"},
		{"no bucket", []string{"--queue", testQueueURL}, "--to s3 needs --bucket"},
		{"bad destination", []string{"--queue", testQueueURL, "--to", "lambda"}, `--to "lambda": want s3 or stream`},
		{"stream with s3", []string{"--queue", testQueueURL, "--bucket", "b", "--stream", "s"}, "--stream applies to --to stream only"},
		{"bucket with stream replay", []string{"--from", "2026-11-21T13:00:00Z", "--stream", "s", "--to", "stream", "--bucket", "b"}, "--bucket applies to --to s3 only in a replay"},
		{"stream without bucket", []string{"--queue", testQueueURL, "--to", "stream"}, "--to stream skips the records that the processor's objects already hold: give --bucket"},
		{"prefix with stream", []string{"--queue", testQueueURL, "--to", "stream", "--prefix", "x"}, "--prefix applies to --to s3 only"},
		{"skip-stored with from", []string{"--from", "2026-11-21T13:00:00Z", "--stream", "s", "--bucket", "b", "--skip-stored=false"}, "--skip-stored does not apply with --from"},
		{"bad compression", []string{"--queue", testQueueURL, "--bucket", "b", "--compression", "lz4"}, `unknown compression "lz4"`},
		{"empty prefix", []string{"--queue", testQueueURL, "--bucket", "b", "--prefix", "/"}, "--prefix must not be empty"},
		{"negative max", []string{"--queue", testQueueURL, "--bucket", "b", "--max", "-1"}, "--max must not be negative"},
		{"max not a number", []string{"--queue", testQueueURL, "--bucket", "b", "--max", "all"}, `invalid value "all" for flag -max`},
		{"visibility too long", []string{"--queue", testQueueURL, "--bucket", "b", "--visibility-timeout", "13h"}, "--visibility-timeout must be between 1s and 12h"},
		{"unknown flag", []string{"--queue", testQueueURL, "--bucket", "b", "--force"}, "flag provided but not defined: -force"},
		{"positional", []string{"--queue", testQueueURL, "--bucket", "b", "now"}, `unexpected argument "now"`},
		{"function without template", []string{"--queue", testQueueURL, "--bucket", "b", "--function", "F"}, "apply with --template only"},
		{"until without from", []string{"--queue", testQueueURL, "--bucket", "b", "--until", "2026-11-21T13:00:00Z"}, "--until applies with --from only"},
		{"from without stream", []string{"--from", "2026-11-21T13:00:00Z", "--bucket", "b"}, "--from needs --stream"},
		{"from with queue", []string{"--from", "2026-11-21T13:00:00Z", "--stream", "s", "--queue", testQueueURL, "--bucket", "b"}, "--queue does not apply with --from"},
		{"source stream not a stream ARN", []string{"--queue", testQueueURL, "--bucket", "b", "--source-stream", "arn:aws:sqs:us-east-1:123456789012:q"}, "--source-stream \"arn:aws:sqs:us-east-1:123456789012:q\" is not a Kinesis stream ARN"},
		{"from with source stream", []string{"--from", "2026-11-21T13:00:00Z", "--stream", "s", "--bucket", "b", "--source-stream", "s"}, "--source-stream does not apply with --from"},
		{"from with max", []string{"--from", "2026-11-21T13:00:00Z", "--stream", "s", "--max", "3", "--bucket", "b"}, "--max does not apply with --from"},
		{"bad from", []string{"--from", "yesterday", "--stream", "s", "--bucket", "b"}, `--from "yesterday" is not an RFC 3339 time`},
		{"bad until", []string{"--from", "2026-11-21T13:00:00Z", "--until", "later", "--stream", "s", "--bucket", "b"}, `--until "later" is not an RFC 3339 time`},
		{"until before from", []string{"--from", "2026-11-21T13:00:00Z", "--until", "2026-11-21T12:00:00Z", "--stream", "s", "--bucket", "b"}, "is before --from"},
		{"until in the future", []string{"--from", "2026-11-21T13:00:00Z", "--until", "2999-01-01T00:00:00Z", "--stream", "s", "--bucket", "b"}, "--until 2999-01-01T00:00:00Z is in the future"},
		{"from in the future", []string{"--from", "2999-01-01T00:00:00Z", "--stream", "s", "--bucket", "b"}, "--from 2999-01-01T00:00:00Z is in the future"},
		{"replay without bucket", []string{"--from", "2026-11-21T13:00:00Z", "--stream", "s"}, "--to s3 needs --bucket"},
		{"unknown function", []string{"--queue", testQueueURL, "--bucket", "b", "--template", "../../template.yaml", "--function", "Nope"}, "has no AWS::Serverless::Function Nope"},
		{"unknown config env", []string{"--queue", testQueueURL, "--bucket", "b", "--template", "../../template.yaml", "--config-env", "nope"}, `no such environment "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, append([]string{"redrive"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "Usage: streamlake redrive") || stdout != "" {
				t.Errorf("redrive %v = exit %d, stdout %q, stderr %q; want exit 2 and %q with the usage", tc.args, code, stdout, stderr, tc.want)
			}
		})
	}
	if code, _, stderr := runCmd(t, false, "redrive", "--help"); code != exitOK || !strings.Contains(stderr, "at-least-once") {
		t.Errorf("redrive --help = exit %d, %q; want 0 and the description", code, stderr)
	}
}

func TestRegionOfQueueURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://sqs.eu-west-1.amazonaws.com/123456789012/q":      "eu-west-1",
		"https://ap-south-1.queue.amazonaws.com/123456789012/q":   "ap-south-1",
		"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q":  "cn-north-1",
		"http://127.0.0.1:4566/123456789012/q":                    "",
		"https://sqs.us-gov-west-1.amazonaws.com/123456789012/q/": "us-gov-west-1",
	} {
		if got := regionOfQueueURL(in); got != want {
			t.Errorf("regionOfQueueURL(%s) = %q; want %q", in, got, want)
		}
	}
}

// TestRedriveCommand runs the command against moto: a dry run, a run that
// redrives one range and leaves an expired one, with JSON and human output.
// redriveFixture is the emulator's clients and, in it, a one-shard stream, a
// bucket and a queue.
type redriveFixture struct {
	kin   *kinesis.Client
	sq    *sqs.Client
	s3c   *s3.Client
	queue string // URL
}

// newRedriveFixture creates stream, bucket and queue in the moto server that
// motoserver.ForTest started.
func newRedriveFixture(t *testing.T, stream, bucket, queue string) redriveFixture {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := redriveFixture{kin: kinesis.NewFromConfig(cfg), sq: sqs.NewFromConfig(cfg), s3c: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })}
	if _, err := f.kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	q, err := f.sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queue)})
	if err != nil {
		t.Fatal(err)
	}
	f.queue = aws.ToString(q.QueueUrl)
	return f
}

func TestRedriveCommand(t *testing.T) {
	motoserver.ForTest(t)
	ctx := context.Background()
	const stream, bucket = "cli-redrive-stream", "cli-redrive-bucket"
	f := newRedriveFixture(t, stream, bucket, "cli-redrive-failures")
	kin, sq, s3c, queue := f.kin, f.sq, f.s3c, f.queue
	var recs []producer.Record
	for i := 0; i < 8; i++ {
		recs = append(recs, producer.Record{PartitionKey: "device-1", Data: fmt.Appendf(nil, `{"device_id":"device-1","n":%d,"timestamp":"2026-11-21T13:00:00Z"}`, i)})
	}
	res, err := producer.New(kin, stream, producer.WithDeliveryFunc(func(producer.Delivery) {})).Put(ctx, recs)
	if err != nil || res.Sent != 8 {
		t.Fatal(err)
	}
	d, _ := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	arn := aws.ToString(d.StreamDescriptionSummary.StreamARN)
	it, _ := kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
	page, err := kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil || len(page.Records) != 8 {
		t.Fatalf("read back: %v", err)
	}
	send := func(start, end string) {
		body, _ := json.Marshal(onfailure.Record{Version: "1.0", KinesisBatchInfo: onfailure.KinesisBatchInfo{
			ShardID: "shardId-000000000000", StartSequenceNumber: start, EndSequenceNumber: end, BatchSize: 3, StreamARN: arn}})
		if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(string(body))}); err != nil {
			t.Fatal(err)
		}
	}
	// An empty queue: "messages" is an empty list, which JSON readers can
	// iterate, not null.
	code, stdout, stderr := runCmd(t, false, "redrive", "--queue", queue, "--bucket", bucket, "--json")
	if code != exitOK || !strings.Contains(stdout, `"messages": []`) {
		t.Errorf("redrive --json of an empty queue = exit %d, stdout %s, stderr %s; want exit 0 and \"messages\": []", code, stdout, stderr)
	}

	send(aws.ToString(page.Records[2].SequenceNumber), aws.ToString(page.Records[4].SequenceNumber))
	send("0", "1") // trimmed

	code, stdout, stderr = runCmd(t, false, "redrive", "--queue", queue, "--bucket", bucket, "--dry-run", "--json")
	var sum redrive.Summary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("--json output %q: %v (stderr %s)", stdout, err, stderr)
	}
	if code != exitFailure || sum.MessagesRead != 2 || sum.WouldRedrive != 1 || sum.Expired != 1 || sum.RecordsRead != 3 || sum.Objects != 1 || !sum.DryRun {
		t.Errorf("dry run = exit %d, %+v; want exit 1 (an expired range), 1 would redrive", code, sum)
	}
	if !strings.Contains(stderr, "1 of 2 messages could not be redriven (1 expired") {
		t.Errorf("dry run stderr = %q", stderr)
	}

	code, stdout, stderr = runCmd(t, true, "redrive", "--queue", queue, "--bucket", bucket)
	if code != exitFailure {
		t.Errorf("redrive exit = %d; want 1 (one range expired)", code)
	}
	for _, want := range []string{
		"Redrive from " + queue + " to s3://" + bucket + "/redriven/",
		"messages read       2",
		"redriven            1   3 records written, 1 objects; messages deleted",
		"expired             1",
		"left in queue       1",
		"Not redriven:",
		"expired shardId-000000000000 0..1: the oldest record",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("human output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "\r\033[K[") {
		t.Errorf("no progress bar on a terminal: stderr %q", stderr)
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("redriven/")})
	if err != nil || len(list.Contents) != 1 {
		t.Errorf("objects under redriven/: %v, %v; want 1", list, err)
	}

	// Only the expired message is left; the rerun says so again.
	code, stdout, _ = runCmd(t, false, "redrive", "--queue", queue, "--bucket", bucket, "--json")
	sum = redrive.Summary{}
	_ = json.Unmarshal([]byte(stdout), &sum)
	if code != exitFailure || sum.MessagesRead != 1 || sum.Expired != 1 || sum.Redriven != 0 {
		t.Errorf("rerun = exit %d, %+v; want the expired message only", code, sum)
	}

	// --to stream puts a range back into its stream (from a queue of its own).
	q2, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("cli-redrive-back")})
	if err != nil {
		t.Fatal(err)
	}
	queue = aws.ToString(q2.QueueUrl)
	send(aws.ToString(page.Records[0].SequenceNumber), aws.ToString(page.Records[1].SequenceNumber))
	send(aws.ToString(page.Records[6].SequenceNumber), aws.ToString(page.Records[7].SequenceNumber))
	code, stdout, stderr = runCmd(t, false, "redrive", "--queue", queue, "--to", "stream", "--bucket", bucket, "--max", "1")
	if code != exitOK || !strings.Contains(stdout, "to the source stream of each range") || !strings.Contains(stdout, "2 records written, put into the stream") {
		t.Errorf("--to stream --max 1 = exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	after, err := kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil || len(after.Records) != 10 || aws.ToString(after.Records[9].PartitionKey) != "device-1" {
		t.Fatalf("stream after --to stream: %d records, %v; want 10", len(after.Records), err)
	}
	if got := string(after.Records[8].Data) + string(after.Records[9].Data); got != string(page.Records[0].Data)+string(page.Records[1].Data) &&
		got != string(page.Records[6].Data)+string(page.Records[7].Data) {
		t.Errorf("records put back = %s; want records 0-1 or 6-7", got)
	}
	out, _ := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue), AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages"}})
	if out.Attributes["ApproximateNumberOfMessages"] != "1" {
		t.Errorf("after --max 1 the queue holds %s messages; want 1", out.Attributes["ApproximateNumberOfMessages"])
	}

	// --template applies the function's FilterCriteria: these records have no
	// temperature, so the template's filter drops every one.
	code, stdout, stderr = runCmd(t, false, "redrive", "--queue", queue, "--bucket", bucket, "--template", "../../template.yaml", "--dry-run", "--json")
	sum = redrive.Summary{}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("--json output %q: %v (stderr %s)", stdout, err, stderr)
	}
	if code != exitOK || sum.WouldRedrive != 1 || sum.RecordsRead != 2 || sum.RecordsFiltered != 2 || sum.Objects != 0 {
		t.Errorf("--template dry run = exit %d, %+v; want both records filtered out", code, sum)
	}
	code, _, stderr = runCmd(t, false, "redrive", "--queue", queue, "--bucket", bucket, "--template", "/nonexistent/template.yaml")
	if code != exitFailure || !strings.Contains(stderr, "read template") {
		t.Errorf("--template missing = exit %d, %q", code, stderr)
	}
}

// TestReplayCommand replays a stream from a point in time through the CLI.
func TestReplayCommand(t *testing.T) {
	motoserver.ForTest(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kin, s3c := kinesis.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	const stream, bucket = "cli-replay-stream", "cli-replay-bucket"
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(n int) {
		var recs []producer.Record
		for i := 0; i < n; i++ {
			recs = append(recs, producer.Record{PartitionKey: fmt.Sprintf("device-%d", i), Data: fmt.Appendf(nil, `{"device_id":"device-%d","temperature":20,"timestamp":"2026-11-21T13:00:00Z"}`, i)})
		}
		if _, err := producer.New(kin, stream).Put(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	put(10)
	time.Sleep(1100 * time.Millisecond)
	from := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(50 * time.Millisecond)
	put(15)
	code, stdout, stderr := runCmd(t, false, "redrive", "--from", from, "--stream", stream, "--bucket", bucket, "--template", "../../template.yaml", "--json")
	var sum redrive.ReplaySummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("--json output %q: %v (stderr %s)", stdout, err, stderr)
	}
	if code != exitOK || !sum.OK() || sum.RecordsRead != 15 || sum.RecordsWritten != 15 || len(sum.Shards) != 2 || sum.Objects == 0 {
		t.Errorf("replay = exit %d, %+v, stderr %s; want the 15 records after --from", code, sum, stderr)
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("replayed/")})
	if err != nil || len(list.Contents) != sum.Objects {
		t.Errorf("objects under replayed/: %d, %v; want %d", len(list.Contents), err, sum.Objects)
	}
	code, stdout, _ = runCmd(t, false, "redrive", "--from", from, "--stream", stream, "--bucket", bucket, "--dry-run")
	if code != exitOK || !strings.Contains(stdout, "Replay of arn:aws:kinesis:") || !strings.Contains(stdout, "(dry run: nothing written)") {
		t.Errorf("replay --dry-run = exit %d, %s", code, stdout)
	}

	// With --template, the objects have the processor's compression (its
	// COMPRESSION, the Compression parameter), unless --compression says otherwise.
	for _, tc := range []struct {
		flags []string
		ext   string
	}{
		{nil, ".ndjson.gz"},
		{[]string{"--parameter-overrides", "Compression=zstd"}, ".ndjson.zst"},
		{[]string{"--parameter-overrides", "Compression=none"}, ".ndjson"},
		{[]string{"--parameter-overrides", "Compression=zstd", "--compression", "gzip"}, ".ndjson.gz"},
	} {
		args := append([]string{"redrive", "--from", from, "--stream", stream, "--bucket", bucket, "--template", "../../template.yaml", "--dry-run", "--json"}, tc.flags...)
		code, stdout, stderr := runCmd(t, false, args...)
		var sum redrive.ReplaySummary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil || code != exitOK || sum.Objects == 0 {
			t.Fatalf("replay %v = exit %d, %q, %v (stderr %s)", tc.flags, code, stdout, err, stderr)
		}
		for _, sh := range sum.Shards {
			for _, key := range sh.Objects {
				if !strings.HasSuffix(key, tc.ext) || strings.HasSuffix(key, tc.ext+".gz") || strings.HasSuffix(key, tc.ext+".zst") {
					t.Errorf("replay --template %v would write %s; want a %s key", tc.flags, key, tc.ext)
				}
			}
		}
	}
}

// TestRedriveTemplateTransform: with --template, redrive checks the event time
// the processor checks (its TIME_FIELD, the SummaryTimeField parameter), so that
// it quarantines the records the processor would and stores the others.
func TestRedriveTemplateTransform(t *testing.T) {
	for _, tc := range []struct {
		overrides      string
		reject, accept string
	}{
		{"", `{"timestamp":"yesterday"}`, `{"meta":{"time":"yesterday"}}`},
		{"SummaryTimeField=meta.time", `{"meta":{"time":"yesterday"}}`, `{"timestamp":"yesterday"}`},
	} {
		o := redriveOptions{template: templateFlags{path: "../../template.yaml"}}
		if tc.overrides != "" {
			if err := o.template.overrides.Set(tc.overrides); err != nil {
				t.Fatal(err)
			}
		}
		s, _, err := templateSettings(&o)
		if err != nil {
			t.Fatalf("templateSettings(%q): %v", tc.overrides, err)
		}
		if s.transform == nil {
			t.Fatalf("templateSettings(%q).transform = nil; want the processor's", tc.overrides)
		}
		if _, err := s.transform.Transform(&ingest.Record{Payload: []byte(tc.reject)}); err == nil {
			t.Errorf("with %q, the transform accepts %s; want it rejected, as the processor does", tc.overrides, tc.reject)
		}
		if _, err := s.transform.Transform(&ingest.Record{Payload: []byte(tc.accept)}); err != nil {
			t.Errorf("with %q, the transform rejects %s: %v; want it stored, as the processor does", tc.overrides, tc.accept, err)
		}
	}
}

// TestPrintRedriveSummaryReappearingMessages: a run whose messages reappeared
// (its visibility extensions refused) says how often, why, and what to do.
func TestPrintRedriveSummaryReappearingMessages(t *testing.T) {
	var b strings.Builder
	printRedriveSummary(&b, &redrive.Summary{Queue: "q", Destination: "s3://b/redriven/", MessagesRead: 2, Invalid: 2, LeftInQueue: 2,
		ReceivedAgain: 4, VisibilityError: "AccessDenied: not authorized to perform: sqs:changemessagevisibility"})
	for _, want := range []string{
		"received again      4   receives of messages this run had received before (handled once",
		"Extending the visibility timeout of the messages held failed: AccessDenied: not authorized",
		"Grant sqs:ChangeMessageVisibility on the queue",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	// Refused extensions in a run that ended before any message reappeared:
	// the summary must not say that they did.
	b.Reset()
	printRedriveSummary(&b, &redrive.Summary{Queue: "q", MessagesRead: 1, Invalid: 1, LeftInQueue: 1,
		VisibilityError: "AccessDenied: not authorized to perform: sqs:changemessagevisibility"})
	if out := b.String(); strings.Contains(out, "They reappeared") || !strings.Contains(out, "would reappear") {
		t.Errorf("no message received again, yet:\n%s", out)
	}
	b.Reset()
	printRedriveSummary(&b, &redrive.Summary{Queue: "q", MessagesRead: 1, Redriven: 1})
	if strings.Contains(b.String(), "received again") || strings.Contains(b.String(), "visibility") {
		t.Errorf("a run without reappearing messages mentions them:\n%s", b.String())
	}
}
