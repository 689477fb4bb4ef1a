package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/localrun"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/onfailure"
	"github.com/streamlake/streamlake/internal/sensor"
)

const template = "../../template.yaml"

// fastMapping keeps batches small and the window short, so that a test run
// exercises many invocations quickly.
var fastMapping = map[string]string{"ShardCount": "3", "BatchSize": "100", "MaximumBatchingWindowInSeconds": "1", "AggregatorBatchingWindowInSeconds": "1"}

// withOverrides returns fastMapping with more parameter overrides.
func withOverrides(kv ...string) map[string]string {
	out := maps.Clone(fastMapping)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func options(t *testing.T, stack string, count int) Options {
	return Options{
		TemplatePath: template, StackName: stack, Overrides: fastMapping, WorkDir: t.TempDir(),
		Count: count, Seed: 7, HeartbeatRate: 0.02, PollInterval: 50 * time.Millisecond,
		Start: time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC),
	}
}

func checkAccounting(t *testing.T, rep *Report, sent int) {
	t.Helper()
	if rep.Sent != sent || rep.Lost != 0 || rep.Duplicates != 0 {
		t.Fatalf("report: sent %d (want %d), lost %d, duplicates %d (lost e.g. %v, duplicated e.g. %v)",
			rep.Sent, sent, rep.Lost, rep.Duplicates, rep.LostSample, rep.DuplicateSample)
	}
	if sum := rep.Filtered + rep.Written + rep.Quarantined + rep.DeadLettered; sum != rep.Sent {
		t.Errorf("filtered %d + written %d + quarantined %d + dead-lettered %d = %d; want %d",
			rep.Filtered, rep.Written, rep.Quarantined, rep.DeadLettered, sum, rep.Sent)
	}
	for _, s := range rep.Shards {
		if s.LagRecords != 0 {
			t.Errorf("shard %s has %d records after its checkpoint; want the stream drained", s.ShardID, s.LagRecords)
		}
	}
}

// checkSummaries checks that the summaries table matches the processed objects.
func checkSummaries(t *testing.T, rep *Report) {
	t.Helper()
	if s := rep.Summaries; s == nil || s.Items == 0 || s.Mismatches != 0 {
		t.Errorf("summaries = %+v; want items and no mismatch", s)
	}
	if !rep.OK() {
		t.Errorf("report.OK() = false; want true")
	}
}

// TestChaos runs 20,000 records through 3 shards with every fault on: nothing may
// be lost or duplicated, and the aggregator's summaries must be exact. Batches
// of 500 records keep the number of objects, each costing the aggregator about
// half a second of DynamoDB transactions in moto, near 50; the seeded faults
// still hit early invocations and writes (a timeout at the 10th invocation, a
// crash at the 24th, S3 failures at the 8th and 12th PutObject).
func TestChaos(t *testing.T) {
	motoserver.ForTest(t)
	opts := options(t, "chaos", 20000)
	opts.Overrides = withOverrides("BatchSize", "500")
	opts.Faults = Faults{S3FailureRate: 0.05, CrashRate: 0.01, TimeoutRate: 0.01, PoisonRate: 0.005, Seed: 11}
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, rep, 20000)
	i := rep.Injected
	if i.S3Failures == 0 || i.CrashesBefore+i.CrashesAfter == 0 || i.Timeouts == 0 || i.Poison == 0 {
		t.Errorf("faults injected = %+v; want some of each kind", i)
	}
	if rep.Quarantined == 0 || rep.Quarantined > i.Poison {
		t.Errorf("quarantined %d; want between 1 and the %d poison records", rep.Quarantined, i.Poison)
	}
	if rep.Filtered == 0 {
		t.Errorf("filtered = 0; the heartbeats should have been filtered out")
	}
	if rep.Mapping.PartialFailures == 0 || rep.Mapping.FunctionErrors == 0 {
		t.Errorf("mapping = %+v; want partial failures (S3) and function errors (crashes, timeouts)", rep.Mapping)
	}
	// The aggregator's summaries equal a recomputation from the latest versions of
	// the processed objects, whatever the retries rewrote (design §9.3).
	checkSummaries(t, rep)
	if len(rep.SQSFunctions) != 1 || rep.SQSFunctions[0].Deleted < int64(rep.Objects.Processed) || rep.SQSFunctions[0].DeadLettered != 0 {
		t.Errorf("aggregator = %+v; want one SQS function that processed a notification per object (%d), none dead-lettered", rep.SQSFunctions, rep.Objects.Processed)
	}
	t.Logf("chaos: %+v; faults %+v; mapping %+v; aggregator %+v; summaries %+v", struct{ Sent, Filtered, Written, Quarantined, DeadLettered int }{
		rep.Sent, rep.Filtered, rep.Written, rep.Quarantined, rep.DeadLettered}, i, rep.Mapping, rep.SQSFunctions, rep.Summaries)
}

// TestRetriesExhaustedDeadLetters makes every invocation fail: each batch must end
// in an on-failure record of AWS's shape whose range re-reads the records that
// were not stored.
func TestRetriesExhaustedDeadLetters(t *testing.T) {
	tests := []struct {
		name          string
		faults        Faults
		functionError string // "" = null
	}{
		// Every PutObject fails: partial batch responses, the function returns normally.
		{"s3 down", Faults{S3FailureRate: 1, Seed: 3}, ""},
		// Every invocation crashes (before or after its handler ran).
		{"crashes", Faults{CrashRate: 1, Seed: 3}, "Unhandled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			motoserver.ForTest(t)
			opts := options(t, "deadletter-"+strings.ReplaceAll(tc.name, " ", ""), 600)
			opts.Overrides = map[string]string{"ShardCount": "2", "BatchSize": "100", "MaximumBatchingWindowInSeconds": "0",
				"MaximumRetryAttempts": "1", "BisectBatchOnFunctionError": "false", "AggregatorBatchingWindowInSeconds": "1"}
			opts.Faults = tc.faults
			rep, err := Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			checkAccounting(t, rep, 600)
			// The session tells redrive how the run read its template.
			ses, err := localrun.Load(opts.WorkDir)
			if err != nil {
				t.Fatal(err)
			}
			abs, _ := filepath.Abs(template)
			if d := cmp.Diff(&localrun.Template{Path: abs, Overrides: opts.Overrides, Function: "ProcessorFunction"}, ses.Template); d != "" {
				t.Errorf("session's template (-want +got):\n%s", d)
			}
			if rep.DeadLettered == 0 || rep.OnFailureRecords == 0 {
				t.Fatalf("dead-lettered %d in %d on-failure records; want some", rep.DeadLettered, rep.OnFailureRecords)
			}
			if tc.faults.S3FailureRate == 1 && (rep.Written != 0 || rep.DeadLettered != rep.Sent-rep.Filtered) {
				t.Errorf("with S3 down: written %d, dead-lettered %d of %d unfiltered; want all dead-lettered", rep.Written, rep.DeadLettered, rep.Sent-rep.Filtered)
			}
			cfg, err := awsconfig.Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := sqs.NewFromConfig(cfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(rep.FailureQueueURL), MaxNumberOfMessages: 10})
			if err != nil || len(msgs.Messages) == 0 {
				t.Fatalf("receive on-failure records: %v", err)
			}
			for _, m := range msgs.Messages {
				body := aws.ToString(m.Body)
				var doc map[string]any
				if err := json.Unmarshal([]byte(body), &doc); err != nil {
					t.Fatal(err)
				}
				info, _ := doc["KinesisBatchInfo"].(map[string]any)
				for _, k := range []string{"shardId", "startSequenceNumber", "endSequenceNumber", "approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord", "batchSize", "streamArn"} {
					if _, ok := info[k]; !ok {
						t.Errorf("on-failure record lacks KinesisBatchInfo.%s: %s", k, body)
					}
				}
				var rec onfailure.Record
				_ = json.Unmarshal([]byte(body), &rec)
				got := ""
				if rec.ResponseContext.FunctionError != nil {
					got = *rec.ResponseContext.FunctionError
				}
				if rec.RequestContext.Condition != "RetryAttemptsExhausted" || rec.RequestContext.ApproximateInvokeCount != 2 ||
					got != tc.functionError || rec.Version != "1.0" || rec.ResponseContext.StatusCode != 200 {
					t.Errorf("on-failure record = %s; want condition RetryAttemptsExhausted, approximateInvokeCount 2, functionError %q", body, tc.functionError)
				}
			}
		})
	}
}

// TestResumeAfterInterrupt stops a run in the middle and starts it again: the
// second run resumes from the checkpoints, and the accounting over both is exact.
func TestResumeAfterInterrupt(t *testing.T) {
	motoserver.ForTest(t)
	opts := options(t, "resume", 8000)
	opts.Overrides = withOverrides("BatchSize", "500") // fewer objects for the aggregator
	opts.Rate = 4000
	ctx, cancel := context.WithCancel(context.Background())
	opts.Progress = func(p Progress) {
		if p.Succeeded > 1000 {
			cancel()
		}
	}
	if _, err := Run(ctx, opts); err == nil {
		t.Fatal("interrupted run returned no error")
	}
	first, err := loadParts(opts.WorkDir)
	if err != nil || first.Parts != 1 || first.Producer.Sent == 0 || first.Mapping.Invocations == 0 {
		t.Fatalf("counters saved by the interrupted part = %+v, %v; want one part with records sent and invocations", first, err)
	}
	opts.Progress = nil
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Resumed {
		t.Errorf("second run did not resume")
	}
	// The report totals both parts: the first part's counters are in the
	// totals. The producer counts acknowledged records, and a PutRecords call cut
	// short by the interrupt may have stored records it never counted (the second
	// part does not produce them again), so its total is at most the 8000 in the
	// stream and more than the first part's.
	if rep.Parts != 2 || rep.Producer.Sent <= first.Producer.Sent || rep.Producer.Sent > 8000 ||
		rep.Mapping.Invocations <= first.Mapping.Invocations || rep.Function.Invocations <= first.Function.Invocations ||
		rep.DurationSeconds <= first.DurationSeconds {
		t.Errorf("resumed report: %d parts, %d records produced (first part %d), %d invocations (first part %d), %.1fs (first part %.1fs); want 2 parts and the first part included",
			rep.Parts, rep.Producer.Sent, first.Producer.Sent, rep.Mapping.Invocations, first.Mapping.Invocations, rep.DurationSeconds, first.DurationSeconds)
	}
	if _, err := os.Stat(filepath.Join(opts.WorkDir, partsFile)); !os.IsNotExist(err) {
		t.Errorf("parts file after the run completed: %v; want it removed", err)
	}
	checkAccounting(t, rep, 8000)
	checkSummaries(t, rep)
}

// TestKilledProcessResumes kills the CLI with SIGKILL mid-run (no chance to save
// anything) and starts it again.
func TestKilledProcessResumes(t *testing.T) {
	srv := motoserver.ForTest(t)
	bin := filepath.Join(t.TempDir(), "streamlake")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/streamlake").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	work := t.TempDir()
	args := []string{"local", "--template", template, "--work-dir", work, "--count", "9000", "--rate", "3000",
		"--poll-interval", "50ms", "--parameter-overrides", "ShardCount=3 BatchSize=500 MaximumBatchingWindowInSeconds=1 AggregatorBatchingWindowInSeconds=1", "--json"}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+srv.URL)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once the mapping has stored something.
	deadline := time.Now().Add(60 * time.Second)
	ckpt := filepath.Join(work, "checkpoints", "ProcessorFunction-Stream.json")
	for {
		if b, err := os.ReadFile(ckpt); err == nil && strings.Contains(string(b), "shardId") {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("no checkpoint written within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()

	out, err := exec.Command(bin, args...).Output()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("second run printed %q: %v", out, err)
	}
	if !rep.Resumed {
		t.Errorf("second run did not resume")
	}
	checkAccounting(t, &rep, 9000)
	// The aggregator's notifications in flight when the process died come back
	// at once (receipt file) or after the receive lease, not after the queue's
	// visibility timeout, and the summaries are still exact.
	checkSummaries(t, &rep)
}

// TestNoProduceReadsAnotherProducer processes what another producer put before
// the run, with FilterEnabled=false: records without a device (text, binary, a
// reading without device_id), which the aggregator leaves out by design, are
// stored and the run is OK.
func TestNoProduceReadsAnotherProducer(t *testing.T) {
	motoserver.ForTest(t)
	opts := options(t, "noproduce", 1)
	opts.Overrides = withOverrides("FilterEnabled", "false")
	opts.NoProduce = true
	opts.Idle = 2 * time.Second
	// Another producer put records before the run starts.
	ctx := context.Background()
	first, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.Sent != 0 {
		t.Fatalf("empty stream: sent = %d", first.Sent)
	}
	cfg, _ := awsconfig.Load(ctx)
	kin := kinesis.NewFromConfig(cfg)
	var entries []kintypes.PutRecordsRequestEntry
	for i := 0; i < 50; i++ {
		entries = append(entries, kintypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)),
			Data: fmt.Appendf(nil, `{"device_id":"sensor-%04d","temperature":20,"timestamp":"2026-11-21T13:00:00Z"}`, i)})
	}
	for i, data := range []string{"not JSON", "\xff\xfe binary", `{"temperature":20,"timestamp":"2026-11-21T13:00:00Z"}`} {
		entries = append(entries, kintypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("other-", i)), Data: []byte(data)})
	}
	if _, err := kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("noproduce-Stream"), Records: entries}); err != nil {
		t.Fatal(err)
	}
	opts.Fresh = true
	rep, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, rep, 53)
	if rep.Written != 53 {
		t.Errorf("written = %d; want the 53 records another producer put", rep.Written)
	}
	if !rep.OK() {
		t.Errorf("report fails: %q; want it OK", rep.Failures())
	}
}

// TestRecipeShape sends the classic recipe generator's records (event times
// without an offset): every one is stored and summarized, only the injected
// poison records are quarantined, and a batch's poison records share one object.
func TestRecipeShape(t *testing.T) {
	motoserver.ForTest(t)
	opts := options(t, "recipe", 3000)
	opts.Shape = sensor.ShapeRecipe
	opts.Overrides = withOverrides("BatchSize", "1000")
	opts.Faults = Faults{PoisonRate: 0.02, Seed: 5}
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, rep, 3000)
	if rep.Injected.Poison == 0 || rep.Quarantined != rep.Injected.Poison || rep.DeadLettered != 0 {
		t.Errorf("quarantined %d, dead-lettered %d; want exactly the %d poison records quarantined", rep.Quarantined, rep.DeadLettered, rep.Injected.Poison)
	}
	if rep.Written != rep.Sent-rep.Filtered-rep.Quarantined {
		t.Errorf("written %d; want every one of the %d recipe records that is neither filtered nor poison", rep.Written, rep.Sent-rep.Filtered-rep.Quarantined)
	}
	if rep.Objects.Quarantine == 0 || int64(rep.Objects.Quarantine) > rep.Mapping.Invocations {
		t.Errorf("%d quarantine objects for %d invocations; want at most one per invocation", rep.Objects.Quarantine, rep.Mapping.Invocations)
	}
	checkSummaries(t, rep)
}
