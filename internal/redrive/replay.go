package redrive

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// ReplayAPI is the part of the Kinesis client Replay calls. *kinesis.Client
// satisfies it.
type ReplayAPI interface {
	StreamAPI
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
}

// ReplayOptions configures Replay. Stream, StreamARN, From and Writer are
// required.
type ReplayOptions struct {
	Stream    ReplayAPI
	StreamARN string
	// From is the point in time to replay from: every shard is read from its first
	// record that arrived at or after From (GetShardIterator AT_TIMESTAMP).
	From time.Time
	// Until, if not zero, ends the replay with the last record that arrived at or
	// before it; zero means when Replay starts, so that records a stream writer
	// puts back are never read again (the local clock stands in for Kinesis's).
	// An Until after the start is an error: the records arriving after the start
	// would be read too (and records put back, read again), and a rerun with the
	// same From and Until would read other records and write other keys.
	Until time.Time
	// Writer, Filter and DryRun are as in Options.
	Writer   Writer
	Filter   func(data []byte) bool
	DryRun   bool
	Progress func(Progress)
}

// ShardReplay is what Replay did with one shard.
type ShardReplay struct {
	ShardID string `json:"shard_id"`
	// FirstSequenceNumber and LastSequenceNumber bound the records read; empty when
	// none were.
	FirstSequenceNumber string   `json:"first_sequence_number,omitempty"`
	LastSequenceNumber  string   `json:"last_sequence_number,omitempty"`
	RecordsRead         int      `json:"records_read"`
	RecordsFiltered     int      `json:"records_filtered"`
	RecordsWritten      int      `json:"records_written"`
	Objects             []string `json:"objects,omitempty"`
	Error               string   `json:"error,omitempty"`
}

// ReplaySummary is the outcome of Replay; it is also the --json output.
type ReplaySummary struct {
	StreamARN       string        `json:"stream_arn"`
	Destination     string        `json:"destination"`
	DryRun          bool          `json:"dry_run"`
	From            time.Time     `json:"from"`
	Until           time.Time     `json:"until"`
	Shards          []ShardReplay `json:"shards"`
	RecordsRead     int           `json:"records_read"`
	RecordsFiltered int           `json:"records_filtered"`
	RecordsWritten  int           `json:"records_written"`
	Objects         int           `json:"objects"`
	// Failed counts shards that could not be replayed completely.
	Failed          int     `json:"failed"`
	DurationSeconds float64 `json:"duration_seconds"`
}

// OK reports whether every shard was replayed.
func (s *ReplaySummary) OK() bool { return s.Failed == 0 }

// Replay re-reads every shard of a stream (open and closed, as ListShards returns
// them within the retention period) from a point in time and writes the records
// with the Writer, in the same chunks and so under the same keys every time it is
// run with the same From (and Until). It is how a time range is reprocessed after
// a bug is fixed; see the package documentation for the delivery semantics of each
// writer. It returns an error only when the shards cannot be listed or ctx ends;
// a shard that fails is reported in the summary.
func Replay(ctx context.Context, o ReplayOptions) (*ReplaySummary, error) {
	switch {
	case o.Stream == nil || o.Writer == nil:
		return nil, errors.New("redrive: replay needs a Kinesis client and a writer")
	case o.From.IsZero():
		return nil, errors.New("redrive: replay needs a point in time to start from")
	case !o.Until.IsZero() && o.Until.Before(o.From):
		return nil, fmt.Errorf("redrive: replay until %s is before from %s", o.Until.UTC().Format(time.RFC3339Nano), o.From.UTC().Format(time.RFC3339Nano))
	}
	region, _, err := parseStreamARN(o.StreamARN)
	if err != nil {
		return nil, fmt.Errorf("redrive: %w", err)
	}
	started := time.Now()
	switch {
	case o.Until.IsZero():
		o.Until = started
	case o.Until.After(started):
		return nil, fmt.Errorf("redrive: replay until %s is after the replay's start, %s: give a time that has passed", o.Until.UTC().Format(time.RFC3339Nano), started.UTC().Format(time.RFC3339Nano))
	}
	if o.Until.Before(o.From) {
		return nil, fmt.Errorf("redrive: replay from %s is after its end, %s (the replay's start)", o.From.UTC().Format(time.RFC3339Nano), o.Until.UTC().Format(time.RFC3339Nano))
	}
	u := o.Until.UTC()
	// Shards is [] rather than null in the JSON of a replay that listed none
	// (ListShards failed).
	sum := &ReplaySummary{StreamARN: o.StreamARN, Destination: o.Writer.String(), DryRun: o.DryRun, From: o.From.UTC(), Until: u, Shards: []ShardReplay{}}
	shards, err := listShards(ctx, o.Stream, o.StreamARN)
	if err != nil {
		return sum, err
	}
	var progress Progress
	for _, id := range shards {
		sr := replayShard(ctx, o, Range{StreamARN: o.StreamARN, Region: region, ShardID: id}, &progress)
		sum.Shards = append(sum.Shards, sr)
		sum.RecordsRead += sr.RecordsRead
		sum.RecordsFiltered += sr.RecordsFiltered
		sum.RecordsWritten += sr.RecordsWritten
		sum.Objects += len(sr.Objects)
		if sr.Error != "" {
			sum.Failed++
		}
		if err := ctx.Err(); err != nil {
			sum.DurationSeconds = time.Since(started).Seconds()
			return sum, err
		}
	}
	sum.DurationSeconds = time.Since(started).Seconds()
	return sum, nil
}

func listShards(ctx context.Context, api ReplayAPI, streamARN string) ([]string, error) {
	var ids []string
	in := &kinesis.ListShardsInput{StreamARN: aws.String(streamARN)}
	for {
		out, err := api.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards of %s: %w", streamARN, err)
		}
		for _, s := range out.Shards {
			ids = append(ids, aws.ToString(s.ShardId))
		}
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	sort.Strings(ids)
	return ids, nil
}

// replayShard reads one shard from o.From and writes it chunk by chunk.
func replayShard(ctx context.Context, o ReplayOptions, rng Range, progress *Progress) ShardReplay {
	sr := ShardReplay{ShardID: rng.ShardID}
	fail := func(format string, a ...any) ShardReplay {
		sr.Error = fmt.Sprintf(format, a...)
		return sr
	}
	it, err := getShardIterator(ctx, o.Stream, &kinesis.GetShardIteratorInput{
		StreamARN: aws.String(rng.StreamARN), ShardId: aws.String(rng.ShardID),
		ShardIteratorType: kintypes.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(o.From)})
	if err != nil {
		return fail("get shard iterator at %s: %v", o.From.UTC().Format(time.RFC3339), err)
	}
	iter := it.ShardIterator
	// resumed is set when iter was renewed at the last record read (see
	// rangeReader.open): its first record must be that one.
	resumed := false
	var chunk []Record
	chunkBytes := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		rng.StartSequenceNumber, rng.EndSequenceNumber = chunk[0].SequenceNumber, chunk[len(chunk)-1].SequenceNumber
		var keys []string
		var err error
		if o.DryRun {
			if p, ok := o.Writer.(Planner); ok {
				keys, err = p.Plan(ctx, rng, chunk)
			}
		} else if keys, err = o.Writer.Write(ctx, rng, chunk); err == nil {
			sr.RecordsWritten += len(chunk)
			progress.RecordsWritten += len(chunk)
		}
		sr.Objects = append(sr.Objects, keys...)
		chunk, chunkBytes = chunk[:0], 0
		if o.Progress != nil {
			o.Progress(*progress)
		}
		return err
	}
	for iter != nil {
		in := &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: aws.String(rng.StreamARN), Limit: aws.Int32(getRecordsLimit)}
		out, err := getRecords(ctx, o.Stream, in)
		if err != nil {
			var expired *kintypes.ExpiredIteratorException
			if errors.As(err, &expired) && sr.LastSequenceNumber != "" {
				next, err := getShardIterator(ctx, o.Stream, &kinesis.GetShardIteratorInput{
					StreamARN: aws.String(rng.StreamARN), ShardId: aws.String(rng.ShardID),
					ShardIteratorType: kintypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(sr.LastSequenceNumber)})
				if err == nil {
					iter, resumed = next.ShardIterator, true
					continue
				}
			}
			return fail("get records after %q: %v", sr.LastSequenceNumber, err)
		}
		page := out.Records
		if resumed && len(page) > 0 {
			if first := aws.ToString(page[0].SequenceNumber); first != sr.LastSequenceNumber {
				return fail("the shard iterator expired; renewed at the last record read, %s, it starts at %s: the records after %s were trimmed by the stream's retention period",
					sr.LastSequenceNumber, first, sr.LastSequenceNumber)
			}
			page, resumed = page[1:], false
		}
		if resumed && aws.ToInt64(out.MillisBehindLatest) == 0 {
			return fail("no record at or after %s, the last record read, is left: the records after it were trimmed by the stream's retention period while the shard iterator was renewed",
				sr.LastSequenceNumber)
		}
		done := false
		for _, r := range page {
			at := aws.ToTime(r.ApproximateArrivalTimestamp).UTC()
			if at.After(o.Until) {
				done = true
				break
			}
			if at.Before(o.From) {
				// AT_TIMESTAMP positions to the millisecond; From may have more
				// digits than that.
				continue
			}
			rec := Record{ShardID: rng.ShardID, SequenceNumber: aws.ToString(r.SequenceNumber), PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data, ArrivalTime: at}
			if sr.FirstSequenceNumber == "" {
				sr.FirstSequenceNumber = rec.SequenceNumber
			}
			sr.LastSequenceNumber = rec.SequenceNumber
			sr.RecordsRead++
			progress.RecordsRead++
			if o.Filter != nil && !o.Filter(rec.Data) {
				sr.RecordsFiltered++
				progress.RecordsFiltered++
				continue
			}
			chunk = append(chunk, rec)
			chunkBytes += len(rec.Data) + len(rec.PartitionKey)
			if len(chunk) >= ChunkRecords || chunkBytes >= ChunkBytes {
				if err := flush(); err != nil {
					return fail("write: %v", err)
				}
			}
		}
		// Caught up with the shard (or it is closed and read to its end).
		if done || aws.ToInt64(out.MillisBehindLatest) == 0 && len(out.Records) < getRecordsLimit {
			break
		}
		iter = out.NextShardIterator
		if err := ctx.Err(); err != nil {
			return fail("%v", err)
		}
	}
	if err := flush(); err != nil {
		return fail("write: %v", err)
	}
	return sr
}
