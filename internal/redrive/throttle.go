package redrive

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// backoff is how throttled reads are retried: after waiting first, then twice
// as long each time up to max, for at most total in all.
type backoff struct{ first, max, total time.Duration }

// throttleBackoff waits out a shard's read throttling for about a minute. A shard
// serves 5 GetRecords calls a second, shared by every consumer (the event source
// mapping too), and after a 10 MiB answer throttles the next 5 seconds;
// GetShardIterator serves 5 a second per shard
// (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html).
// It comes on top of the SDK's own retries (3 attempts by default), so that a
// busy shard delays a redrive instead of failing its message or replay's shard.
// It stays well within a shard iterator's 5 minutes.
var throttleBackoff = backoff{first: time.Second, max: 10 * time.Second, total: time.Minute}

// throttled reports whether err is Kinesis throttling a read.
func throttled(err error) bool {
	var pe *kintypes.ProvisionedThroughputExceededException
	var ke *kintypes.KMSThrottlingException
	return errors.As(err, &pe) || errors.As(err, &ke)
}

// retryThrottled calls call until it succeeds, fails other than by throttling,
// throttleBackoff's total is spent or ctx ends; it returns call's last answer.
func retryThrottled[T any](ctx context.Context, call func() (T, error)) (T, error) {
	b := throttleBackoff
	delay, waited := b.first, time.Duration(0)
	for {
		out, err := call()
		if err == nil || !throttled(err) || waited+delay > b.total {
			return out, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return out, err
		case <-t.C:
		}
		waited += delay
		delay = min(2*delay, b.max)
	}
}

// getShardIterator and getRecords are the calls with throttling waited out.
func getShardIterator(ctx context.Context, api StreamAPI, in *kinesis.GetShardIteratorInput) (*kinesis.GetShardIteratorOutput, error) {
	return retryThrottled(ctx, func() (*kinesis.GetShardIteratorOutput, error) { return api.GetShardIterator(ctx, in) })
}

func getRecords(ctx context.Context, api StreamAPI, in *kinesis.GetRecordsInput) (*kinesis.GetRecordsOutput, error) {
	return retryThrottled(ctx, func() (*kinesis.GetRecordsOutput, error) { return api.GetRecords(ctx, in) })
}
