// Package kinesisreshard reshards a Kinesis data stream in the middle of a run
// (UpdateShardCount with UNIFORM_SCALING, as a user scaling a stream does [K1]),
// so that the event source mapping emulation (internal/esm) can be checked
// across a split or merge.
//
// The local emulator reshards as Kinesis Data Streams does because
// internal/motoserver's launcher patches moto 5.2.5 (its fix 7): a parent keeps
// its records and the children start empty, records are written only to open
// shards, and a closed shard read to its end answers a null NextShardIterator
// [K1, K2]. Stock moto puts a split parent's records again (renumbered, through
// a lookup that still finds the closed parent), copies merged parents' records
// into the child, and never ends a closed shard. The tests here run against the Kinesis process
// of motoserver.StartGroup and check Kinesis's behaviour, not stock moto's.
//
//   - [K1] UpdateShardCount, SplitShard, MergeShards:
//     https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateShardCount.html
//   - [K2] Resharding, parent and child shards:
//     https://docs.aws.amazon.com/streams/latest/dev/kinesis-using-sdk-java-after-resharding.html
package kinesisreshard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// API is the part of the Kinesis client UpdateShardCount uses (*kinesis.Client
// satisfies it).
type API interface {
	UpdateShardCount(ctx context.Context, in *kinesis.UpdateShardCountInput, optFns ...func(*kinesis.Options)) (*kinesis.UpdateShardCountOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

// CheckTarget reports whether one UpdateShardCount can take a stream from open
// shards to target: Kinesis refuses to scale up to more than double the open
// shards, or down below half of them [K1].
func CheckTarget(open, target int) error {
	switch {
	case target < 1:
		return fmt.Errorf("target %d is not a positive number of shards", target)
	case target > 2*open:
		return fmt.Errorf("%d open shards cannot become %d in one UpdateShardCount: Kinesis scales up to at most double (%d)", open, target, 2*open)
	case 2*target < open:
		return fmt.Errorf("%d open shards cannot become %d in one UpdateShardCount: Kinesis scales down to at least half (%d)", open, target, (open+1)/2)
	}
	return nil
}

// UpdateShardCount scales the stream to target open shards with
// UNIFORM_SCALING (splits and merges chosen by Kinesis) and waits until the
// stream is ACTIVE with target open shards, polling every poll [K1]. A target
// that Kinesis would refuse (CheckTarget) is an error before any call.
func UpdateShardCount(ctx context.Context, api API, streamARN string, target int, poll time.Duration) error {
	cur, err := api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(streamARN)})
	if err != nil {
		return fmt.Errorf("describe stream %s: %w", streamARN, err)
	}
	if cur.StreamDescriptionSummary == nil {
		return errors.New("describe stream " + streamARN + ": empty response")
	}
	if err := CheckTarget(int(aws.ToInt32(cur.StreamDescriptionSummary.OpenShardCount)), target); err != nil {
		return fmt.Errorf("update shard count of %s: %w", streamARN, err)
	}
	_, err = api.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{
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
