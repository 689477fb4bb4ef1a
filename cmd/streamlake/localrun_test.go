package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/localrun"
	"github.com/streamlake/streamlake/internal/motoserver"
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
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("cli-local-failures")})
	if err != nil {
		t.Fatal(err)
	}
	bucket := "cli-local-bucket"
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	stream := "cli-local-stream"
	if _, err := kinesis.NewFromConfig(cfg).CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	err = localrun.Save(dir, localrun.Session{Endpoints: localrun.SingleEndpoint(srv.URL), Region: "us-east-1", StackName: "streamlake",
		Outputs: map[string]string{"SummaryTableName": table, "FailureQueueUrl": aws.ToString(q.QueueUrl), "OutputBucketName": bucket, "StreamName": stream}})
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
	if code != exitOK || !strings.Contains(out, "Redrive from "+aws.ToString(q.QueueUrl)+" to s3://"+bucket+"/redriven/ (dry run") {
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
