package kinesisreshard

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamlake/streamlake/internal/motoserver"
)

func TestMotoCommandWritesLauncher(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ shebang, want string }{
		{"#!/opt/venv/bin/python3\nimport sys\n", "/opt/venv/bin/python3"},
		{"#!/usr/bin/env python3\n", "python3"},
	} {
		script := filepath.Join(dir, "moto_server")
		if err := os.WriteFile(script, []byte(tc.shebang), 0o755); err != nil {
			t.Fatal(err)
		}
		launcher, err := MotoCommand(filepath.Join(dir, "out"), script)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(launcher)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "exec '"+tc.want+"' '"+filepath.Join(dir, "out", "moto_aws_reshard.py")+"' \"$@\"") {
			t.Errorf("launcher for %q = %q; want it to exec %s with the shim", tc.shebang, b, tc.want)
		}
		if fi, err := os.Stat(launcher); err != nil || fi.Mode()&0o100 == 0 {
			t.Errorf("launcher %s is not executable: %v", launcher, err)
		}
	}
	bin := filepath.Join(dir, "binary")
	if err := os.WriteFile(bin, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := MotoCommand(dir, bin); err == nil || !strings.Contains(err.Error(), "#! line") {
		t.Errorf("MotoCommand(non-script) = %v; want an error about the #! line", err)
	}
	if _, err := MotoCommand(dir, filepath.Join(dir, "missing")); err == nil {
		t.Error("MotoCommand(missing file) = nil error; want one")
	}
}

// TestPatchedMotoReshardsAsKinesis: against moto started through the
// launcher, a split keeps the parent's records in the parent, writes new
// records only to the children, and ends the closed parent with a null
// NextShardIterator once read to its end.
func TestPatchedMotoReshardsAsKinesis(t *testing.T) {
	bin, err := motoserver.Binary()
	if err != nil {
		if os.Getenv(motoserver.RequireEnv) != "" {
			t.Fatal(err)
		}
		t.Skipf("needs moto server (%v); run `make test`", err)
	}
	launcher, err := MotoCommand(t.TempDir(), bin)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := motoserver.StartDetachedBinary(t.Context(), launcher, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Logf("integration test against moto server %s", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	ctx := t.Context()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"), config.WithBaseEndpoint(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	kin := kinesis.NewFromConfig(cfg)
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	sum, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(sum.StreamDescriptionSummary.StreamARN)
	put := func(key string) string {
		out, err := kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: aws.String(arn), PartitionKey: aws.String(key), Data: []byte(key)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ShardId)
	}
	for _, k := range []string{"a", "b", "c"} {
		put(k)
	}
	if err := UpdateShardCount(ctx, kin, arn, 2, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := UpdateShardCount(ctx, kin, arn, 0, time.Millisecond); err == nil {
		t.Error("UpdateShardCount(0) = nil error; want one")
	}
	for _, k := range []string{"d", "e", "f", "g"} {
		if shard := put(k); shard == "shardId-000000000000" {
			t.Errorf("record %s went to the closed parent", k)
		}
	}
	read := func(shard string) (n int, ended bool) {
		it, err := kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: aws.String(arn), ShardId: aws.String(shard), ShardIteratorType: "TRIM_HORIZON"})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for range 5 {
			out, err := kin.GetRecords(context.WithoutCancel(ctx), &kinesis.GetRecordsInput{StreamARN: aws.String(arn), ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			n += len(out.Records)
			if out.NextShardIterator == nil {
				return n, true
			}
			iter = out.NextShardIterator
		}
		return n, false
	}
	if n, ended := read("shardId-000000000000"); n != 3 || !ended {
		t.Errorf("parent: %d records, ended %v; want its 3 records and a null NextShardIterator", n, ended)
	}
	c1, _ := read("shardId-000000000001")
	c2, _ := read("shardId-000000000002")
	if c1+c2 != 4 {
		t.Errorf("children hold %d + %d records; want the 4 put after the split", c1, c2)
	}
}
