package pipeline

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/motoserver"
)

func TestCheckReshard(t *testing.T) {
	tests := []struct {
		opts    Options
		wantErr string
	}{
		{Options{}, ""},
		{Options{ReshardAt: 100, ReshardTo: 3, Count: 1000}, ""},
		{Options{ReshardAt: -1, ReshardTo: 2}, "must not be negative"},
		{Options{ReshardTo: 2}, "needs --reshard-at"},
		{Options{ReshardAt: 10}, "needs --to-shards"},
		{Options{ReshardAt: 10, ReshardTo: 2, NoProduce: true}, "--no-produce"},
		{Options{ReshardAt: 1000, ReshardTo: 2, Count: 1000}, "must be below --count"},
	}
	for _, tc := range tests {
		err := checkReshard(tc.opts)
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("checkReshard(%+v) = %v; want %q", tc.opts, err, tc.wantErr)
		}
	}
}

// okInvoker succeeds every invocation.
type okInvoker struct{}

func (okInvoker) Invoke(context.Context, []byte) (esm.Invocation, error) {
	return esm.Invocation{Payload: []byte("null")}, nil
}

// TestOrderCheck: the per-key order check against a real shard lineage (a
// stream split in moto): consecutive first deliveries of a key must be in one
// shard with growing sequence numbers, or go from a shard to its descendant;
// redeliveries are ignored.
func TestOrderCheck(t *testing.T) {
	motoserver.ForTest(t)
	ctx := t.Context()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kin := kinesis.NewFromConfig(cfg)
	name := fmt.Sprintf("order-check-%d", len(t.Name()))
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	sum, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(sum.StreamDescriptionSummary.StreamARN)
	if _, err := kin.SplitShard(ctx, &kinesis.SplitShardInput{StreamARN: aws.String(arn), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	event := func(recs ...[2]string) []byte {
		var parts []string
		for _, r := range recs {
			parts = append(parts, fmt.Sprintf(`{"eventID":%q,"kinesis":{"partitionKey":%q}}`, r[1], r[0]))
		}
		return []byte(`{"Records":[` + strings.Join(parts, ",") + `]}`)
	}
	oc := newOrderCheck(okInvoker{})
	for _, ev := range [][]byte{
		event([2]string{"a", "shardId-000000000000:1"}, [2]string{"a", "shardId-000000000000:2"}),
		event([2]string{"a", "shardId-000000000000:2"}), // a redelivery: ignored
		event([2]string{"a", "shardId-000000000001:1"}), // parent, then child: in order
		event([2]string{"b", "shardId-000000000001:3"}),
		event([2]string{"b", "shardId-000000000000:9"}),                                           // parent after child
		event([2]string{"c", "shardId-000000000000:5"}, [2]string{"c", "shardId-000000000000:4"}), // backwards
		event([2]string{"d", "shardId-000000000001:7"}, [2]string{"d", "shardId-000000000002:1"}), // sibling, not a child
	} {
		if _, err := oc.Invoke(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := oc.verify(ctx, kin, arn, Options{ReshardAt: 1, ReshardTo: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Keys != 4 || rep.Records != 9 || rep.Violations != 3 || rep.AcrossShards != 3 {
		t.Errorf("verify = %+v; want 4 keys, 9 records, 3 violations, 3 keys across shards", rep)
	}
	for _, want := range []string{"key b:", "key c:", "key d:"} {
		if !strings.Contains(strings.Join(rep.ViolationSample, "\n"), want) {
			t.Errorf("violation sample %q lacks %s", rep.ViolationSample, want)
		}
	}
	// An event the check cannot read fails the check (the invocation still runs).
	bad := newOrderCheck(okInvoker{})
	if _, err := bad.Invoke(ctx, []byte("{")); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.verify(ctx, kin, arn, Options{ReshardAt: 1, ReshardTo: 2}); err == nil || !strings.Contains(err.Error(), "decode event") {
		t.Errorf("verify after an undecodable event = %v; want a decode error", err)
	}
}

// TestReshardMidRun splits the stream from 1 to 2 shards in the middle of a run
// with faults: nothing is lost or duplicated, the parent and both children are
// read, and every partition key's records were first delivered in stream
// order across the split. The run starts its own emulator (moto with Kinesis
// resharding as AWS does it), not the shared test server.
func TestReshardMidRun(t *testing.T) {
	if _, err := motoserver.Binary(); err != nil {
		if os.Getenv(motoserver.RequireEnv) != "" {
			t.Fatal(err)
		}
		t.Skipf("needs moto server (%v); run `make test`", err)
	}
	opts := options(t, "reshard", 1500)
	opts.Overrides = withOverrides("ShardCount", "1")
	opts.ReshardAt, opts.ReshardTo = 700, 2
	opts.Faults = Faults{S3FailureRate: 0.05, CrashRate: 0.01, Seed: 5}
	opts.Getenv = func(k string) string {
		if k == "AWS_ENDPOINT_URL" {
			return "" // start the run's own emulator
		}
		return os.Getenv(k)
	}
	t.Cleanup(func() { _, _ = StopEmulator(opts.WorkDir) })
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	motoserver.MarkIntegration(t, rep.Endpoint)
	checkAccounting(t, rep, 1500)
	if len(rep.Shards) != 3 {
		t.Errorf("report has %d shards; want the parent and its 2 children: %+v", len(rep.Shards), rep.Shards)
	}
	k := rep.KeyOrder
	if k == nil || k.Violations != 0 || k.AcrossShards == 0 || k.Records < rep.Written {
		t.Errorf("key order = %+v; want every written record checked, keys across parent and child, no violation", k)
	}
	if !rep.OK() {
		t.Errorf("report.OK() = false; want true")
	}
}

// TestReshardTargetKinesisRefuses: a --to-shards that one UpdateShardCount
// cannot reach (more than double the open shards) fails the run before it
// produces, not at the reshard: Kinesis refuses it, and the emulator went to
// 4 open shards for 5.
func TestReshardTargetKinesisRefuses(t *testing.T) {
	motoserver.ForTest(t)
	keepEndpointEnv(t)
	work := t.TempDir()
	t.Cleanup(func() { _, _ = StopEmulator(work) })
	opts := Options{TemplatePath: template, WorkDir: work, Count: 20, ReshardAt: 10, ReshardTo: 5,
		Overrides: withOverrides("ShardCount", "2"), Getenv: detachedEnv}
	rep, err := Run(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "--to-shards: 2 open shards cannot become 5") || !strings.Contains(err.Error(), "at most double (4)") {
		t.Fatalf("Run() error = %v; want the reshard target refused", err)
	}
	if rep != nil && rep.Sent != 0 {
		t.Errorf("the run put %d records before refusing the target", rep.Sent)
	}
}
