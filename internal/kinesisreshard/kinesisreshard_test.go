package kinesisreshard

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/motoserver"
)

// groupKinesis starts the emulator group as `streamlake local` does and returns
// a client of its Kinesis process (moto through motoserver's launcher).
func groupKinesis(t *testing.T) *kinesis.Client {
	t.Helper()
	if _, err := motoserver.Binary(); err != nil {
		if os.Getenv(motoserver.RequireEnv) != "" {
			t.Fatal(err)
		}
		t.Skipf("needs moto server (%v); run `make test`", err)
	}
	g, err := motoserver.StartGroup(t.Context(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	url := g.Endpoints["kinesis"]
	motoserver.MarkIntegration(t, url)
	if !motoserver.Patched(url) {
		t.Fatalf("the Kinesis emulator %s is not patched by the launcher (is moto the pinned version?)", url)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	cfg, err := awsconfig.Load(t.Context(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(url) })
}

type stream struct {
	t   *testing.T
	kin *kinesis.Client
	arn string
}

func newStream(t *testing.T, kin *kinesis.Client, name string, shards int32) *stream {
	ctx := t.Context()
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	sum, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return &stream{t: t, kin: kin, arn: aws.ToString(sum.StreamDescriptionSummary.StreamARN)}
}

// put writes one record and returns the shard it went to.
func (s *stream) put(key string, explicitHash *string) string {
	out, err := s.kin.PutRecord(s.t.Context(), &kinesis.PutRecordInput{StreamARN: aws.String(s.arn), PartitionKey: aws.String(key), Data: []byte(key), ExplicitHashKey: explicitHash})
	if err != nil {
		s.t.Fatal(err)
	}
	return aws.ToString(out.ShardId)
}

// read reads shard from TRIM_HORIZON, 2 records a call, and returns the
// records' data and whether a null NextShardIterator ended it; calls counts
// the GetRecords calls.
func (s *stream) read(shard string) (data []string, ended bool, calls int) {
	ctx := context.WithoutCancel(s.t.Context())
	it, err := s.kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: aws.String(s.arn), ShardId: aws.String(shard), ShardIteratorType: "TRIM_HORIZON"})
	if err != nil {
		s.t.Fatal(err)
	}
	iter := it.ShardIterator
	for range 10 {
		out, err := s.kin.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(s.arn), ShardIterator: iter, Limit: aws.Int32(2)})
		if err != nil {
			s.t.Fatal(err)
		}
		calls++
		for _, r := range out.Records {
			data = append(data, string(r.Data))
		}
		if out.NextShardIterator == nil {
			return data, true, calls
		}
		iter = out.NextShardIterator
	}
	return data, false, calls
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSplitAsKinesis: after UpdateShardCount 1 -> 2 (a split), the parent keeps
// its records in their order and ends with a null NextShardIterator once read
// to its end; the children start empty and get every later record; an open
// shard never ends. Stock moto answers differently on purpose (it moves the
// parent's records into the children and never ends the parent).
func TestSplitAsKinesis(t *testing.T) {
	s := newStream(t, groupKinesis(t), "split", 1)
	ctx := t.Context()
	for _, k := range []string{"a", "b", "c"} {
		s.put(k, nil)
	}
	if err := UpdateShardCount(ctx, s.kin, s.arn, 2, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := UpdateShardCount(ctx, s.kin, s.arn, 0, time.Millisecond); err == nil {
		t.Error("UpdateShardCount(0) = nil error; want one")
	}
	for _, k := range []string{"d", "e", "f", "g"} {
		if shard := s.put(k, nil); shard == "shardId-000000000000" {
			t.Errorf("record %s went to the closed parent", k)
		}
	}
	// The highest hash key belongs to the last child (ranges include both ends).
	if shard := s.put("h", aws.String("340282366920938463463374607431768211455")); shard != "shardId-000000000002" {
		t.Errorf("hash key 2^128-1 went to %s; want shardId-000000000002", shard)
	}
	data, ended, calls := s.read("shardId-000000000000")
	if !equal(data, []string{"a", "b", "c"}) || !ended {
		t.Errorf("parent: %v, ended %v; want [a b c] and a null NextShardIterator", data, ended)
	}
	if calls != 3 {
		t.Errorf("parent ended after %d GetRecords calls of 2; want 3 (2 + 1 records, then the empty read at its end)", calls)
	}
	c1, ended1, _ := s.read("shardId-000000000001")
	c2, ended2, _ := s.read("shardId-000000000002")
	if len(c1)+len(c2) != 5 {
		t.Errorf("children hold %v + %v; want the 5 records put after the split", c1, c2)
	}
	if ended1 || ended2 {
		t.Error("an open child shard ended")
	}
	shards, err := s.kin.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: aws.String(s.arn)})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range shards.Shards {
		open := sh.SequenceNumberRange.EndingSequenceNumber == nil
		if id := aws.ToString(sh.ShardId); open == (id == "shardId-000000000000") {
			t.Errorf("shard %s: ending sequence number %v; want one for the parent only", id, sh.SequenceNumberRange.EndingSequenceNumber)
		}
	}
}

// TestMergeAsKinesis: after UpdateShardCount 2 -> 1 (a merge), both parents keep
// their records and end; the child starts empty and gets every later record.
// Stock moto copies the parents' records into the child.
func TestMergeAsKinesis(t *testing.T) {
	s := newStream(t, groupKinesis(t), "merge", 2)
	before := map[string][]string{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		shard := s.put(k, nil)
		before[shard] = append(before[shard], k)
	}
	if err := UpdateShardCount(t.Context(), s.kin, s.arn, 1, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"x", "y"} {
		if shard := s.put(k, nil); shard != "shardId-000000000002" {
			t.Errorf("record %s went to %s; want the merged child shardId-000000000002", k, shard)
		}
	}
	for _, parent := range []string{"shardId-000000000000", "shardId-000000000001"} {
		data, ended, _ := s.read(parent)
		if !equal(data, before[parent]) || !ended {
			t.Errorf("parent %s: %v, ended %v; want %v and a null NextShardIterator", parent, data, ended, before[parent])
		}
	}
	if data, ended, _ := s.read("shardId-000000000002"); !equal(data, []string{"x", "y"}) || ended {
		t.Errorf("child: %v, ended %v; want [x y] (only the records put after the merge), open", data, ended)
	}
}

// TestCheckTarget: one UpdateShardCount goes to at most double and at least half
// the open shards, as Kinesis allows [K1].
func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct {
		open, target int
		want         string
	}{
		{2, 4, ""}, {2, 1, ""}, {3, 2, ""}, {3, 6, ""}, {1, 1, ""},
		{2, 5, "at most double (4)"},
		{5, 2, "at least half (3)"},
		{2, 0, "not a positive number"},
	} {
		err := CheckTarget(tc.open, tc.target)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckTarget(%d, %d) = %v; want %q", tc.open, tc.target, err, tc.want)
		}
	}
}
