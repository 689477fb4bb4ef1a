package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/localrun"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/onfailure"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/redrive"
)

// runWith runs the CLI in-process with the process environment plus vars.
func runWith(t *testing.T, ctx context.Context, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	code := run(ctx, &env{stdout: &stdout, stderr: &stderr, getenv: getenv}, args)
	return code, stdout.String(), stderr.String()
}

// noAWSConfig empties every way the SDK finds a region or credentials, so that
// only a local run's state can make a command work.
func noAWSConfig(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestLocalSessionChoice(t *testing.T) {
	dir := t.TempDir()
	if err := localrun.Save(dir, localrun.Session{Endpoints: localrun.SingleEndpoint("http://127.0.0.1:9"), Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		want bool
	}{
		{"nothing configured", map[string]string{}, true},
		{"the export line of the run", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "testing"}, true},
		{"another emulator", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:10"}, false},
		{"an AWS profile", map[string]string{"AWS_PROFILE": "prod"}, false},
		{"real access keys", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}, false},
		{"no local run", map[string]string{workDirEnv: t.TempDir()}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{workDirEnv: dir}
			for k, v := range tc.vars {
				vars[k] = v
			}
			e := &env{getenv: func(k string) string { return vars[k] }}
			s, err := localSession(e)
			if err != nil {
				t.Fatal(err)
			}
			if got := s != nil; got != tc.want {
				t.Errorf("localSession with %v uses the local run: %v; want %v", tc.vars, got, tc.want)
			}
		})
	}
}

// TestInspectLocalRunWithoutFlags: after a local run, summaries, redrive
// --dry-run and produce find the emulator, region, credentials and resource
// names in the run's state, with no AWS configuration at all.
func TestInspectLocalRunWithoutFlags(t *testing.T) {
	srv := motoserver.ForTest(t)
	table := summariesTable(t)
	ctx := context.Background()
	const stream, bucket = "cli-local-stream", "cli-local-bucket"
	q := newRedriveFixture(t, stream, bucket, "cli-local-failures")
	dir := t.TempDir()
	err := localrun.Save(dir, localrun.Session{Endpoints: localrun.SingleEndpoint(srv.URL), Region: "us-east-1", StackName: "streamlake",
		Outputs: map[string]string{"SummaryTableName": table, "FailureQueueUrl": q.queue, "OutputBucketName": bucket, "StreamName": stream}})
	if err != nil {
		t.Fatal(err)
	}
	noAWSConfig(t)
	vars := map[string]string{workDirEnv: dir}

	// No flags at all: the fleet, over the 24 hours up to its latest hour with data.
	code, out, errOut := runWith(t, ctx, vars, "summaries")
	if code != exitOK || !strings.Contains(out, "FLEET, hours 2026-11-20T15 to 2026-11-21T15 UTC: 2 with data") {
		t.Errorf("summaries = exit %d, stdout %q, stderr %q; want the fleet's two hours", code, out, errOut)
	}
	code, out, errOut = runWith(t, ctx, vars, "summaries", "--device", "sensor-0002")
	if code != exitOK || !strings.Contains(out, "DEVICE#sensor-0002, hours 2026-11-20T13 to 2026-11-21T13 UTC: 1 with data") {
		t.Errorf("summaries --device sensor-0002 = exit %d, stdout %q, stderr %q; want its one hour", code, out, errOut)
	}
	if !strings.Contains(errOut, "using the last local run") {
		t.Errorf("summaries stderr = %q; want a note that it uses the local run", errOut)
	}
	// Flags still win: a table that does not exist fails.
	if code, _, errOut := runWith(t, ctx, vars, "summaries", "--fleet", "--table", "no-such-table"); code != exitFailure || !strings.Contains(errOut, "ResourceNotFound") {
		t.Errorf("summaries --table no-such-table = exit %d, stderr %q; want 1 and ResourceNotFound", code, errOut)
	}

	code, out, errOut = runWith(t, ctx, vars, "redrive", "--dry-run")
	if code != exitOK || !strings.Contains(out, "Redrive from "+q.queue+" to s3://"+bucket+"/redriven/ (dry run") {
		t.Errorf("redrive --dry-run = exit %d, stdout %q, stderr %q; want the run's queue and bucket", code, out, errOut)
	}

	code, out, errOut = runWith(t, ctx, vars, "produce", "--count", "3")
	if code != exitOK || !strings.Contains(out, "sent 3 records") || !strings.Contains(out, stream) {
		t.Errorf("produce --count 3 = exit %d, stdout %q, stderr %q; want 3 records in %s", code, out, errOut, stream)
	}
}

func TestNoLocalRunNoAWSConfig(t *testing.T) {
	noAWSConfig(t)
	vars := map[string]string{workDirEnv: t.TempDir()}
	for _, args := range [][]string{
		{"summaries", "--fleet", "--table", "t"},
		{"redrive", "--dry-run", "--queue", "http://127.0.0.1:9/123456789012/q", "--bucket", "b"},
		{"produce", "--stream", "s", "--count", "1"},
	} {
		code, out, errOut := runWith(t, context.Background(), vars, args...)
		if code != exitFailure || out != "" || !strings.Contains(errOut, "no AWS region") || !strings.Contains(errOut, "streamlake local") {
			t.Errorf("%v = exit %d, stdout %q, stderr %q; want 1 and an error naming both ways out", args, code, out, errOut)
		}
	}
	// Without the local run, a missing table is a usage error that says where
	// one comes from.
	code, _, errOut := runWith(t, context.Background(), vars, "summaries", "--fleet")
	if code != exitUsage || !strings.Contains(errOut, "run `streamlake local` first") {
		t.Errorf("summaries --fleet = exit %d, stderr %q; want 2 and how to get a table", code, errOut)
	}
}

func TestLocalRunEmulatorGone(t *testing.T) {
	noAWSConfig(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + l.Addr().String()
	l.Close()
	dir := t.TempDir()
	if err := localrun.Save(dir, localrun.Session{Endpoints: localrun.SingleEndpoint(gone), Region: "us-east-1",
		Outputs: map[string]string{"SummaryTableName": "t"}}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runWith(t, context.Background(), map[string]string{workDirEnv: dir}, "summaries", "--fleet")
	if code != exitFailure || !strings.Contains(errOut, "does not answer") || !strings.Contains(errOut, gone) || !strings.Contains(errOut, "`streamlake local --stop`") {
		t.Errorf("summaries with a stopped emulator = exit %d, stderr %q; want 1, that %s does not answer, and local --stop as the way to AWS", code, errOut, gone)
	}
}

func TestLocalRunDamagedState(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(localrun.Path(dir), []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runWith(t, context.Background(), map[string]string{workDirEnv: dir}, "redrive", "--dry-run")
	if code != exitFailure || !strings.Contains(errOut, localrun.Path(dir)) {
		t.Errorf("redrive with damaged state = exit %d, stderr %q; want 1 naming the file", code, errOut)
	}
}

func TestLocalPrintsExportLine(t *testing.T) {
	dir := t.TempDir()
	s := localrun.Session{Endpoints: localrun.SingleEndpoint("http://127.0.0.1:5000"), Region: "us-east-1",
		Outputs: map[string]string{"OutputBucketName": "b", "FailureQueueUrl": "http://127.0.0.1:5000/123456789012/f", "SummaryTableName": "t"}}
	if err := localrun.Save(dir, s); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	printInspect(&buf, dir)
	for _, want := range []string{"  " + s.ExportLine() + "\n", "bucket b", "table t", "local --stop"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("printInspect printed:\n%s\nwant it to contain %q", buf.String(), want)
		}
	}
}

func TestLocalStopForgetsTheRun(t *testing.T) {
	dir := t.TempDir()
	if err := localrun.Save(dir, localrun.Session{Endpoints: localrun.SingleEndpoint("http://127.0.0.1:9")}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runWith(t, context.Background(), nil, "local", "--stop", "--work-dir", dir)
	if code != exitOK || !strings.Contains(out, "no emulator was running") {
		t.Errorf("local --stop = exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := os.Stat(localrun.Path(dir)); !os.IsNotExist(err) {
		t.Errorf("session after --stop: %v; want it removed, so that the commands stop using the run", err)
	}
}

// TestLocalInterrupted: an interrupted run prints one line that says what to do.
func TestLocalInterrupted(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	work := t.TempDir()
	code, out, errOut := runWith(t, ctx, map[string]string{"AWS_ENDPOINT_URL": srv.URL}, "local", "--template", "../../template.yaml", "--work-dir", work, "--count", "10")
	want := "streamlake local: interrupted; the run's state is kept in " + work + ": run `streamlake local` again to resume it (--fresh starts over, --stop stops the emulator)\n"
	if code != exitFailure || out != "" || errOut != want {
		t.Errorf("interrupted local = exit %d, stdout %q, stderr %q; want 1 and only\n%s", code, out, errOut, want)
	}
}

// TestRedriveLocalRunTemplate redrives a local run's failure queue without
// flags: the run's template applies as the run read it (its parameter overrides
// included), so the records the run's FilterCriteria dropped are not redriven;
// flags still win, and without the template every record of the range is.
func TestRedriveLocalRunTemplate(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := context.Background()
	const stream, bucket = "cli-local-tpl-stream", "cli-local-tpl-bucket"
	f := newRedriveFixture(t, stream, bucket, "cli-local-tpl-failures")
	kin, sq, queue := f.kin, f.sq, f.queue
	// The template's filter takes records with a device_id and a temperature of at
	// least MinTemperature: the run below raised it to 15.
	var recs []producer.Record
	for _, data := range []string{
		`{"device_id":"d-1","temperature":20,"timestamp":"2026-11-21T13:00:00Z"}`,
		`{"device_id":"d-1","temperature":10,"timestamp":"2026-11-21T13:00:01Z"}`,
		`{"device_id":"d-1","type":"heartbeat","timestamp":"2026-11-21T13:00:02Z"}`,
		`{"device_id":"d-1","temperature":30,"timestamp":"2026-11-21T13:00:03Z"}`,
	} {
		recs = append(recs, producer.Record{PartitionKey: "d-1", Data: []byte(data)})
	}
	if res, err := producer.New(kin, stream, producer.WithDeliveryFunc(func(producer.Delivery) {})).Put(ctx, recs); err != nil || res.Sent != int64(len(recs)) {
		t.Fatalf("put: %+v, %v", res, err)
	}
	d, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(d.StreamDescriptionSummary.StreamARN)
	it, err := kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	page, err := kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil || len(page.Records) != len(recs) {
		t.Fatalf("read back %d records, %v", len(page.Records), err)
	}
	body, _ := json.Marshal(onfailure.Record{Version: "1.0", KinesisBatchInfo: onfailure.KinesisBatchInfo{
		ShardID: "shardId-000000000000", StartSequenceNumber: aws.ToString(page.Records[0].SequenceNumber),
		EndSequenceNumber: aws.ToString(page.Records[3].SequenceNumber), BatchSize: 2, StreamARN: arn}})
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	tpl, err := filepath.Abs("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	save := func(tp *localrun.Template) {
		t.Helper()
		err := localrun.Save(dir, localrun.Session{Endpoints: localrun.SingleEndpoint(srv.URL), Region: "us-east-1", StackName: "streamlake",
			Outputs:  map[string]string{"FailureQueueUrl": queue, "OutputBucketName": bucket, "StreamName": stream, "StreamArn": arn},
			Template: tp})
		if err != nil {
			t.Fatal(err)
		}
	}
	save(&localrun.Template{Path: tpl, Overrides: map[string]string{"MinTemperature": "15"}, Function: "ProcessorFunction"})
	noAWSConfig(t)
	vars := map[string]string{workDirEnv: dir}
	dryRun := func(args ...string) (redrive.Summary, string) {
		t.Helper()
		code, out, errOut := runWith(t, ctx, vars, append([]string{"redrive", "--dry-run", "--json"}, args...)...)
		var sum redrive.Summary
		if err := json.Unmarshal([]byte(out), &sum); err != nil || code != exitOK {
			t.Fatalf("redrive --dry-run --json %v = exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		return sum, errOut
	}
	for _, tc := range []struct {
		name     string
		args     []string
		filtered int
		note     string
	}{
		{"the run's template and overrides", nil, 2, "applying the run's template " + tpl + " with the run's parameters (function ProcessorFunction"},
		{"an override flag wins", []string{"--parameter-overrides", "MinTemperature=5"}, 1, "applying the run's template"},
		{"--template '' applies none", []string{"--template", ""}, 0, ""},
		{"a queue of no run", []string{"--queue", queue + "-other"}, -1, ""},
	} {
		if tc.filtered < 0 {
			// Another queue: the run's template does not apply (and the queue
			// does not exist).
			code, _, errOut := runWith(t, ctx, vars, append([]string{"redrive", "--dry-run"}, tc.args...)...)
			if code != exitFailure || strings.Contains(errOut, "applying the run's template") {
				t.Errorf("%s: exit %d, stderr %q; want 1 without the run's template", tc.name, code, errOut)
			}
			continue
		}
		sum, errOut := dryRun(tc.args...)
		if sum.RecordsRead != 4 || sum.RecordsFiltered != tc.filtered || sum.WouldRedrive != 1 {
			t.Errorf("%s: %d read, %d filtered, %d would redrive; want 4, %d, 1", tc.name, sum.RecordsRead, sum.RecordsFiltered, sum.WouldRedrive, tc.filtered)
		}
		if got := strings.Contains(errOut, "applying the run's template"); tc.note == "" && got || tc.note != "" && !strings.Contains(errOut, tc.note) {
			t.Errorf("%s: stderr %q; want the note %q", tc.name, errOut, tc.note)
		}
	}

	// A replay of the run's stream, by name or ARN, applies the template too.
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, stream := range []string{stream, arn} {
		code, out, errOut := runWith(t, ctx, vars, "redrive", "--from", from, "--stream", stream, "--dry-run", "--json")
		var sum redrive.ReplaySummary
		if err := json.Unmarshal([]byte(out), &sum); err != nil || code != exitOK || sum.RecordsRead != 4 || sum.RecordsFiltered != 2 ||
			!strings.Contains(errOut, "applying the run's template") {
			t.Errorf("replay of %s = exit %d, %+v, stderr %q; want 4 read, 2 filtered by the run's template", stream, code, sum, errOut)
		}
	}

	// A session without the template (written before it was recorded): every
	// record of the range. One whose template cannot be read: an error that says
	// what to do, nothing redriven.
	save(nil)
	if sum, errOut := dryRun(); sum.RecordsFiltered != 0 || strings.Contains(errOut, "template") {
		t.Errorf("session without a template: %d filtered, stderr %q; want 0 and no note", sum.RecordsFiltered, errOut)
	}
	save(&localrun.Template{Path: filepath.Join(t.TempDir(), "gone.yaml")})
	code, out, errOut := runWith(t, ctx, vars, "redrive", "--dry-run", "--json")
	if code != exitFailure || out != "" || !strings.Contains(errOut, "the last local run's template cannot be read") || !strings.Contains(errOut, "gone.yaml") ||
		!strings.Contains(errOut, "give --template FILE, or --template ''") {
		t.Errorf("session whose template is gone: exit %d, stdout %q, stderr %q; want 1 and what to do", code, out, errOut)
	}
}

// TestRedriveLocalRunLeavesOtherStreamsMessages: the local run's failure queue
// holds an on-failure record of another stream (sent by hand, or by another
// mapping). Redriving the run's queue without flags must not write that
// stream's records with the run's settings and delete the message: it is
// reported invalid, naming the stream, and stays in the queue. --source-stream
// names the stream whose ranges are redriven.
func TestRedriveLocalRunLeavesOtherStreamsMessages(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := context.Background()
	const stream, other, bucket = "cli-local-own-stream", "cli-local-other-stream", "cli-local-own-bucket"
	f := newRedriveFixture(t, stream, bucket, "cli-local-own-failures")
	kin, sq, queue := f.kin, f.sq, f.queue
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(other), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	send := func(name string) (string, string) {
		t.Helper()
		recs := []producer.Record{{PartitionKey: "d-1", Data: []byte(`{"device_id":"d-1","temperature":20}`)}, {PartitionKey: "d-1", Data: []byte(`{"device_id":"d-1","temperature":21}`)}}
		if res, err := producer.New(kin, name, producer.WithDeliveryFunc(func(producer.Delivery) {})).Put(ctx, recs); err != nil || res.Sent != 2 {
			t.Fatalf("put: %+v, %v", res, err)
		}
		d, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(d.StreamDescriptionSummary.StreamARN)
		it, err := kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		page, err := kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil || len(page.Records) != 2 {
			t.Fatalf("read back %d records, %v", len(page.Records), err)
		}
		body, _ := json.Marshal(onfailure.Record{Version: "1.0", KinesisBatchInfo: onfailure.KinesisBatchInfo{
			ShardID: "shardId-000000000000", StartSequenceNumber: aws.ToString(page.Records[0].SequenceNumber),
			EndSequenceNumber: aws.ToString(page.Records[1].SequenceNumber), BatchSize: 2, StreamARN: arn}})
		out, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(string(body))})
		if err != nil {
			t.Fatal(err)
		}
		return arn, aws.ToString(out.MessageId)
	}
	arn, own := send(stream)
	otherARN, foreign := send(other)
	dir := t.TempDir()
	if err := localrun.Save(dir, localrun.Session{Endpoints: localrun.SingleEndpoint(srv.URL), Region: "us-east-1", StackName: "streamlake",
		Outputs: map[string]string{"FailureQueueUrl": queue, "OutputBucketName": bucket, "StreamName": stream, "StreamArn": arn}}); err != nil {
		t.Fatal(err)
	}
	noAWSConfig(t)
	vars := map[string]string{workDirEnv: dir}
	code, out, errOut := runWith(t, ctx, vars, "redrive", "--json")
	var sum redrive.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("redrive --json = exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	got := map[string]redrive.MessageResult{}
	for _, m := range sum.Messages {
		got[m.MessageID] = m
	}
	if code != exitFailure || sum.MessagesRead != 2 || got[own].Status != redrive.StatusRedriven || got[foreign].Status != redrive.StatusInvalid ||
		got[foreign].Deleted || got[foreign].RecordsRead != 0 || sum.RecordsWritten != 2 {
		t.Fatalf("redrive = exit %d, %+v; want the run's range redriven and the other stream's left, unread", code, sum)
	}
	if r := got[foreign].Reason; !strings.Contains(r, "of stream "+otherARN+", not of "+arn) || !strings.Contains(r, "left in the queue") {
		t.Errorf("reason %q; want both streams named and that the message stays", r)
	}
	left, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil || len(left.Messages) != 1 || aws.ToString(left.Messages[0].MessageId) != foreign {
		t.Fatalf("left in the queue: %+v, %v; want the other stream's message only", left, err)
	}
	if _, err := sq.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queue), ReceiptHandle: left.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	// Named by --source-stream, the other stream's range is redriven.
	code, out, errOut = runWith(t, ctx, vars, "redrive", "--json", "--source-stream", other, "--dry-run")
	sum = redrive.Summary{}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || code != exitOK || sum.WouldRedrive != 1 || sum.Messages[0].MessageID != foreign {
		t.Errorf("redrive --source-stream %s = exit %d, %+v, stderr %q; want its message would be redriven", other, code, sum, errOut)
	}
}

// TestLocalInspectOwnEmulator: after a run on the user's own emulator
// (AWS_ENDPOINT_URL), which `local --stop` leaves running, the closing lines do
// not say that --stop stops it.
func TestLocalInspectOwnEmulator(t *testing.T) {
	for _, c := range []struct {
		runJSON  string
		want     string
		dontWant string
	}{
		{`{"endpoint": "http://127.0.0.1:5000", "status": "completed"}`, "your emulator keeps running", "The emulator is still running"},
		{`{"endpoint": "http://127.0.0.1:5000", "pids": [2147483000], "status": "completed"}`, "`streamlake local --stop` stops it.", "your emulator"},
	} {
		dir := t.TempDir()
		s := localrun.Session{Endpoints: localrun.SingleEndpoint("http://127.0.0.1:5000"), Region: "us-east-1",
			Outputs: map[string]string{"OutputBucketName": "b", "FailureQueueUrl": "http://127.0.0.1:5000/123456789012/f", "SummaryTableName": "t"}}
		if err := localrun.Save(dir, s); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "run.json"), []byte(c.runJSON), 0o644); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		printInspect(&buf, dir)
		if out := buf.String(); !strings.Contains(out, c.want) || strings.Contains(out, c.dontWant) || !strings.Contains(out, s.ExportLine()) {
			t.Errorf("printInspect after a run with state %s printed:\n%s\nwant %q and the export line, not %q", c.runJSON, out, c.want, c.dontWant)
		}
	}
}
