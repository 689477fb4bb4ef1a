package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/summary"
)

// TestEveryEventInvokes runs every sample event in events/ as `make invoke`
// does: the Kinesis events through ProcessorFunction, the aggregator's S3
// notification through AggregatorFunction after its seed (the processor's
// output for the sample batch, which is the object it names). Each must
// succeed with no batch item failure, and the aggregator's summaries must hold
// the seed's 60 records.
func TestEveryEventInvokes(t *testing.T) {
	motoserver.ForTest(t)
	files, err := filepath.Glob("../../events/*.json")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range files {
		base := filepath.Base(f)
		var args []string
		switch {
		case base == "env.json" || base == "filter-expectations.json":
			continue // not events: sam local invoke --env-vars and the filters' expectations
		case strings.HasPrefix(base, "kinesis-"):
			args = []string{"--function", "ProcessorFunction"}
		case base == "sqs-s3-notification.json":
			args = []string{"--function", "AggregatorFunction", "--seed", "../../events/kinesis-sensor-batch.json"}
		default:
			t.Errorf("%s: no rule says which function takes it; add one here and to the README's table", base)
			continue
		}
		seen++
		t.Run(base, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, append([]string{"invoke", "--template", "../../template.yaml", "--event", f, "--json"}, args...)...)
			if code != exitOK {
				t.Fatalf("invoke %s = exit %d; stderr:\n%s", base, code, stderr)
			}
			if strings.Contains(stderr, "warning") {
				t.Errorf("invoke %s warned: %s", base, stderr)
			}
			var out invokeOutput
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("invoke --json printed %q: %v", stdout, err)
			}
			var resp struct {
				BatchItemFailures []any `json:"batchItemFailures"`
			}
			if err := json.Unmarshal(out.Response, &resp); err != nil || out.Error != nil || len(resp.BatchItemFailures) != 0 {
				t.Errorf("invoke %s response %s, error %+v; want success and no batch item failures", base, out.Response, out.Error)
			}
		})
	}
	if seen != 8 {
		t.Errorf("%d sample events invoked; want 8", seen)
	}

	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), "streamlake-SummaryTable")
	hour := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	items, err := store.Query(ctx, summary.FleetPK, hour, hour.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	for _, it := range items {
		n += it.Summary.Count
	}
	if n != 60 {
		t.Errorf("fleet summaries after the aggregator's sample = %d records; want the seed's 60", n)
	}
}

func TestInvokeSeedErrors(t *testing.T) {
	motoserver.ForTest(t)
	tests := []struct {
		name string
		seed string
		want string
	}{
		{"not a Kinesis event", "../../events/sqs-s3-notification.json", "not a Kinesis event"},
		{"missing file", "../../events/nope.json", "--seed: read event"},
		{"not JSON", "../../go.mod", "is not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, "invoke", "--template", "../../template.yaml", "--function", "AggregatorFunction",
				"--event", "../../events/sqs-s3-notification.json", "--seed", tc.seed)
			if code != exitFailure || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("invoke --seed %s = exit %d, stdout %q, stderr %q; want 1 and %q", tc.seed, code, stdout, stderr, tc.want)
			}
		})
	}

	// An event naming an object the emulator does not have: a warning that says
	// how to seed it, and the aggregator's own handling (logged and skipped).
	raw, err := os.ReadFile("../../events/sqs-s3-notification.json")
	if err != nil {
		t.Fatal(err)
	}
	missing := strings.Replace(string(raw), "hour%3D13/shardId-000000000000", "hour%3D13/never-written", 1)
	path := filepath.Join(t.TempDir(), "missing.json")
	if err := os.WriteFile(path, []byte(missing), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, false, "invoke", "--template", "../../template.yaml", "--function", "AggregatorFunction", "--event", path)
	if code != exitOK || !strings.Contains(stderr, "warning: the event names s3://streamlake-123456789012-us-east-1-1bca84d5/processed/year=2026/month=11/day=21/hour=13/never-written") ||
		!strings.Contains(stderr, "--seed events/kinesis-sensor-batch.json") {
		t.Errorf("invoke of a missing object = exit %d, stderr %q; want 0 and a warning saying how to seed it", code, stderr)
	}
}

// TestInvokeListsOnlyItsObjects: two invocations against one emulator (as with
// AWS_ENDPOINT_URL set), the second within a second of the first: the second
// lists the objects it wrote, not the first one's (S3 dates objects to the
// second, so a time filter alone counted them), and a rewrite of an object the
// first one wrote counts as written again.
func TestInvokeListsOnlyItsObjects(t *testing.T) {
	motoserver.ForTest(t)
	raw, err := os.ReadFile("../../events/kinesis-sensor-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	// The same batch read from another shard: objects under other keys.
	other := filepath.Join(t.TempDir(), "other-shard.json")
	if err := os.WriteFile(other, []byte(strings.ReplaceAll(string(raw), "shardId-000000000000:", "shardId-000000000007:")), 0o644); err != nil {
		t.Fatal(err)
	}
	invoke := func(event string) []string {
		t.Helper()
		code, stdout, stderr := runCmd(t, false, "invoke", "--template", "../../template.yaml", "--function", "ProcessorFunction", "--event", event, "--json")
		if code != exitOK {
			t.Fatalf("invoke %s = exit %d; stderr:\n%s", event, code, stderr)
		}
		var out invokeOutput
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("invoke --json printed %q: %v", stdout, err)
		}
		var keys []string
		for _, o := range out.Objects {
			keys = append(keys, o.Key)
		}
		return keys
	}
	first := invoke("../../events/kinesis-sensor-batch.json")
	second := invoke(other)
	if len(first) != 1 || !strings.Contains(first[0], "/shardId-000000000000-") {
		t.Fatalf("first invocation listed %q; want its one object of shard 0", first)
	}
	if len(second) != 1 || !strings.Contains(second[0], "/shardId-000000000007-") {
		t.Errorf("second invocation listed %q; want only its own object of shard 7", second)
	}
	// The first event again rewrites its object (a new processing time): listed.
	if again := invoke("../../events/kinesis-sensor-batch.json"); len(again) != 1 || again[0] != first[0] {
		t.Errorf("the first event invoked again listed %q; want %q", again, first)
	}
}

// TestReadEnvVars: values that are not strings become what SAM CLI's
// _stringify_value makes of them (objects, lists and null "", booleans
// "true"/"false", numbers their text), not Go's fmt.Sprint ("map[a:1]", "<nil>").
func TestReadEnvVars(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.json")
	doc := `{"Parameters": {"A": "all", "B": "overridden"},
		"ProcessorFunction": {"B": "mine", "COMPRESSION": {"a": 1}, "XY": null, "L": [1, 2], "T": true, "F": false, "N": 12, "R": 1.5, "E": 1e3},
		"Other": {"O": "x"}}`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readEnvVars(path, "ProcessorFunction")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "all", "B": "mine", "COMPRESSION": "", "XY": "", "L": "", "T": "true", "F": "false", "N": "12", "R": "1.5", "E": "1e3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("readEnvVars() mismatch (-want +got):\n%s", diff)
	}
}

// TestInvokeThroughLocalhost: invoke against an emulator named
// http://localhost:PORT (as moto's documentation names it) creates the
// template's bucket and reads the function's objects back: every S3 client of
// the run addresses buckets by path, not as <bucket>.localhost.
func TestInvokeThroughLocalhost(t *testing.T) {
	srv := motoserver.ForTest(t)
	local := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	t.Setenv("AWS_ENDPOINT_URL", local)
	for _, svc := range []string{"S3", "SQS", "KINESIS", "DYNAMODB"} {
		t.Setenv("AWS_ENDPOINT_URL_"+svc, "")
	}
	code, stdout, stderr := runCmd(t, false, "invoke", "--template", "../../template.yaml", "--function", "ProcessorFunction",
		"--event", "../../events/kinesis-sensor-batch.json", "--json")
	var out invokeOutput
	if code != exitOK || json.Unmarshal([]byte(stdout), &out) != nil || len(out.Objects) == 0 {
		t.Fatalf("invoke through %s = exit %d, stdout %q, stderr:\n%s\nwant the function's objects", local, code, stdout, stderr)
	}
}
