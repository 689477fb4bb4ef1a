// Package kinesisreshard reshards a Kinesis data stream in the middle of a run
// (UpdateShardCount with UNIFORM_SCALING, as a user scaling a stream does [K1])
// and provides a moto server whose resharding behaves as Kinesis Data Streams
// does, so that the event source mapping emulation (internal/esm) can be
// checked across a split or merge.
//
// moto 5.2's SplitShard moves the parent's records into the children, its
// MergeShards copies them, its PutRecord(s) may write to a closed parent, and
// its GetRecords never ends a closed shard. Kinesis keeps a parent's records in
// the parent, writes only to open shards, and ends a closed shard read to its
// end with a null NextShardIterator [K1, K2]. MotoCommand writes a launcher
// for moto server with those four points patched (moto_aws_reshard.py, which
// is moto's own server plus the patches); everything else is moto unchanged.
// Without the patches a resharded moto stream holds records twice or loses
// their order, so no reader, AWS's or this project's, could be exact.
//
//   - [K1] UpdateShardCount, SplitShard, MergeShards:
//     https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateShardCount.html
//   - [K2] Resharding, parent and child shards:
//     https://docs.aws.amazon.com/streams/latest/dev/kinesis-using-sdk-java-after-resharding.html
package kinesisreshard

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

//go:embed moto_aws_reshard.py
var motoShim []byte

// MotoCommand writes, into dir, moto_aws_reshard.py and an executable launcher
// that runs it with the Python interpreter of motoServer (a moto_server
// script, whose first line names its interpreter), and returns the
// launcher's path. The launcher takes moto_server's arguments; use it where a
// moto_server binary is expected (MOTO_SERVER).
func MotoCommand(dir, motoServer string) (string, error) {
	py, err := interpreter(motoServer)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("moto launcher: %w", err)
	}
	shim := filepath.Join(dir, "moto_aws_reshard.py")
	if err := os.WriteFile(shim, motoShim, 0o644); err != nil {
		return "", fmt.Errorf("moto launcher: %w", err)
	}
	launcher := filepath.Join(dir, "moto_server_aws_reshard")
	script := fmt.Sprintf("#!/bin/sh\nexec %s %s \"$@\"\n", shellQuote(py), shellQuote(shim))
	if err := os.WriteFile(launcher, []byte(script), 0o755); err != nil {
		return "", fmt.Errorf("moto launcher: %w", err)
	}
	return launcher, nil
}

// interpreter reads the interpreter from the #! line of a script.
func interpreter(script string) (string, error) {
	f, err := os.Open(script)
	if err != nil {
		return "", fmt.Errorf("moto launcher: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("moto launcher: read %s: %w", script, err)
	}
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "#!") {
		return "", fmt.Errorf("moto launcher: %s is not a script with a #! line (a moto_server from a virtualenv is)", script)
	}
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 {
		return "", fmt.Errorf("moto launcher: %s has an empty #! line", script)
	}
	if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
		return fields[1], nil
	}
	return fields[0], nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// API is the part of the Kinesis client UpdateShardCount uses (*kinesis.Client
// satisfies it).
type API interface {
	UpdateShardCount(ctx context.Context, in *kinesis.UpdateShardCountInput, optFns ...func(*kinesis.Options)) (*kinesis.UpdateShardCountOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

// UpdateShardCount scales the stream to target open shards with
// UNIFORM_SCALING (splits and merges chosen by Kinesis) and waits until the
// stream is ACTIVE with target open shards, polling every poll [K1].
func UpdateShardCount(ctx context.Context, api API, streamARN string, target int, poll time.Duration) error {
	if target < 1 {
		return fmt.Errorf("update shard count of %s: target %d is not a positive number of shards", streamARN, target)
	}
	_, err := api.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{
		StreamARN:        aws.String(streamARN),
		TargetShardCount: aws.Int32(int32(target)),
		ScalingType:      types.ScalingTypeUniformScaling,
	})
	if err != nil {
		return fmt.Errorf("update shard count of %s to %d: %w", streamARN, target, err)
	}
	for {
		out, err := api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(streamARN)})
		if err != nil {
			return fmt.Errorf("describe stream %s: %w", streamARN, err)
		}
		s := out.StreamDescriptionSummary
		if s == nil {
			return errors.New("describe stream " + streamARN + ": empty response")
		}
		if s.StreamStatus == types.StreamStatusActive && aws.ToInt32(s.OpenShardCount) == int32(target) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to have %d shards: %w", streamARN, target, ctx.Err())
		case <-time.After(poll):
		}
	}
}
