package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/kinesisreshard"
	"github.com/streamlake/streamlake/internal/record"
)

// KeyOrderReport is the per-partition-key order check of a run that resharded
// the stream: for every partition key, the first delivery of each record must
// follow the stream's order for that key, the records of a parent shard
// before those of its children (Lambda's guarantee across a reshard).
type KeyOrderReport struct {
	// Reshard describes the reshard, e.g. "1 -> 2 open shards after 5000 records".
	Reshard string `json:"reshard"`
	// Keys and Records are the partition keys and distinct records checked.
	Keys    int `json:"keys"`
	Records int `json:"records"`
	// AcrossShards counts the keys whose records came from more than one shard
	// (a parent and a child): the ones the reshard put to the test.
	AcrossShards int `json:"across_shards"`
	// Violations counts records first delivered before an earlier record of
	// their key; ViolationSample describes up to 10.
	Violations      int      `json:"violations"`
	ViolationSample []string `json:"violation_sample,omitempty"`
}

// checkReshard validates the reshard options.
func checkReshard(opts Options) error {
	switch {
	case opts.ReshardAt < 0 || opts.ReshardTo < 0:
		return errors.New("reshard: --reshard-at and --to-shards must not be negative")
	case opts.ReshardAt == 0 && opts.ReshardTo != 0:
		return errors.New("reshard: --to-shards needs --reshard-at")
	case opts.ReshardAt > 0 && opts.ReshardTo == 0:
		return errors.New("reshard: --reshard-at needs --to-shards")
	case opts.ReshardAt > 0 && opts.NoProduce:
		return errors.New("reshard: --reshard-at counts the records this run produces; it cannot be used with --no-produce")
	case opts.ReshardAt > 0 && opts.Count > 0 && opts.ReshardAt >= opts.Count:
		return fmt.Errorf("reshard: --reshard-at %d must be below --count %d", opts.ReshardAt, opts.Count)
	}
	return nil
}

// reshardOnce scales the stream to target open shards unless it has them.
func reshardOnce(ctx context.Context, kin *kinesis.Client, streamARN string, target int, logw io.Writer) error {
	out, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(streamARN)})
	if err != nil {
		return fmt.Errorf("reshard: %w", err)
	}
	from := int(aws.ToInt32(out.StreamDescriptionSummary.OpenShardCount))
	if from == target {
		return nil
	}
	if logw != nil {
		fmt.Fprintf(logw, "resharding %s: %d -> %d open shards\n", streamNameOf(streamARN), from, target)
	}
	if err := kinesisreshard.UpdateShardCount(ctx, kin, streamARN, target, 50*time.Millisecond); err != nil {
		return fmt.Errorf("reshard: %w", err)
	}
	return nil
}

// orderCheck wraps the processor's Invoker and records, per partition key, the
// order in which records were first delivered. Safe for concurrent use.
type orderCheck struct {
	esm.Invoker

	mu    sync.Mutex
	seen  map[string]bool     // eventID (shardId:sequenceNumber) already delivered
	first map[string][]string // partition key -> eventIDs in first-delivery order
	err   error               // an event that could not be decoded
}

func newOrderCheck(inv esm.Invoker) *orderCheck {
	return &orderCheck{Invoker: inv, seen: map[string]bool{}, first: map[string][]string{}}
}

// Invoke records the batch's records, then invokes.
func (o *orderCheck) Invoke(ctx context.Context, payload []byte) (esm.Invocation, error) {
	var ev struct {
		Records []struct {
			EventID string `json:"eventID"`
			Kinesis struct {
				PartitionKey string `json:"partitionKey"`
			} `json:"kinesis"`
		} `json:"Records"`
	}
	err := json.Unmarshal(payload, &ev)
	o.mu.Lock()
	if err != nil && o.err == nil {
		o.err = fmt.Errorf("order check: decode event: %w", err)
	}
	for _, r := range ev.Records {
		if !o.seen[r.EventID] {
			o.seen[r.EventID] = true
			o.first[r.Kinesis.PartitionKey] = append(o.first[r.Kinesis.PartitionKey], r.EventID)
		}
	}
	o.mu.Unlock()
	return o.Invoker.Invoke(ctx, payload)
}

// verify checks the recorded order against the stream's shard lineage: two
// consecutive first deliveries of a key must be in one shard with increasing
// sequence numbers, or the second in a descendant of the first's shard.
func (o *orderCheck) verify(ctx context.Context, kin *kinesis.Client, streamARN string, opts Options) (*KeyOrderReport, error) {
	parents := map[string][]string{}
	in := &kinesis.ListShardsInput{StreamARN: aws.String(streamARN)}
	open := 0
	for {
		out, err := kin.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("order check: list shards: %w", err)
		}
		for _, sh := range out.Shards {
			id := aws.ToString(sh.ShardId)
			for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
				if p != nil {
					parents[id] = append(parents[id], *p)
				}
			}
			if sh.SequenceNumberRange == nil || sh.SequenceNumberRange.EndingSequenceNumber == nil {
				open++
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	descends := func(child, ancestor string) bool {
		stack := []string{child}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, p := range parents[id] {
				if p == ancestor {
					return true
				}
				stack = append(stack, p)
			}
		}
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return nil, o.err
	}
	rep := &KeyOrderReport{
		Reshard: fmt.Sprintf("to %d open shards after %d records (now %d open)", opts.ReshardTo, opts.ReshardAt, open),
		Keys:    len(o.first),
	}
	for key, ids := range o.first {
		rep.Records += len(ids)
		shards := map[string]bool{}
		for i, id := range ids {
			shard, seq, _ := strings.Cut(id, ":")
			shards[shard] = true
			if i == 0 {
				continue
			}
			pshard, pseq, _ := strings.Cut(ids[i-1], ":")
			c, err := record.CompareSequenceNumbers(pseq, seq)
			ok := (shard == pshard && err == nil && c < 0) || (shard != pshard && descends(shard, pshard))
			if !ok {
				rep.Violations++
				if len(rep.ViolationSample) < 10 {
					rep.ViolationSample = append(rep.ViolationSample, fmt.Sprintf("key %s: %s first delivered after %s", key, id, ids[i-1]))
				}
			}
		}
		if len(shards) > 1 {
			rep.AcrossShards++
		}
	}
	return rep, nil
}
