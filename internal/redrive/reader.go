package redrive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/streamlake/streamlake/internal/record"
)

// StreamAPI is the part of the Kinesis client that re-reads ranges. *kinesis.Client
// satisfies it.
type StreamAPI interface {
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// Record is one record re-read from the stream.
type Record struct {
	ShardID        string
	SequenceNumber string
	PartitionKey   string
	Data           []byte
	// ArrivalTime is the record's approximate arrival time in the stream.
	ArrivalTime time.Time
	// StoredUsers are, for a KPL aggregate, the user records (by index) that
	// the processor's objects already hold (Options.Stored): the S3 writer
	// leaves them out.
	StoredUsers map[int]bool
}

// ExpiredError says that a range is no longer (completely) in the stream.
type ExpiredError struct{ Reason string }

func (e *ExpiredError) Error() string { return "range expired: " + e.Reason }

// MismatchError is returned when Kinesis refuses the range's start for a shard
// other than the one it names: the sequence number encodes another shard. The
// message is not a record of this stream's failures (hand-made, or edited), not
// an expired one; redrive reports it as invalid and leaves it in the queue.
type MismatchError struct{ Reason string }

func (e *MismatchError) Error() string { return "range does not match its shard: " + e.Reason }

// getRecordsLimit is the most records GetRecords returns in one call.
const getRecordsLimit = 10000

// rangeReader reads the records of one range, page by page.
type rangeReader struct {
	api  StreamAPI
	rng  Range
	iter *string
	// last is the sequence number of the last record returned; "" before the first.
	last string
	// resumed is set when the iterator was renewed at last: the first record it
	// returns must be last's, or records after it were trimmed meanwhile.
	resumed bool
	done    bool
	// reopened counts iterator renewals after ExpiredIteratorException.
	reopened int
}

func newRangeReader(api StreamAPI, rng Range) *rangeReader {
	return &rangeReader{api: api, rng: rng}
}

// open gets the shard iterator: AT_SEQUENCE_NUMBER the range's start, or, after an
// expired iterator, AT_SEQUENCE_NUMBER the last record read. Renewed at that
// record rather than after it, the iterator shows whether the records that
// follow it are still there: a trimmed sequence number is not refused, Kinesis
// starts at the oldest record left, so AFTER_SEQUENCE_NUMBER would skip a gap
// without a sign.
func (rd *rangeReader) open(ctx context.Context) error {
	at := rd.rng.StartSequenceNumber
	if rd.last != "" {
		at = rd.last
	}
	in := &kinesis.GetShardIteratorInput{StreamARN: aws.String(rd.rng.StreamARN), ShardId: aws.String(rd.rng.ShardID),
		ShardIteratorType: kintypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(at)}
	out, err := getShardIterator(ctx, rd.api, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "ResourceNotFoundException":
				return &ExpiredError{Reason: fmt.Sprintf("stream or shard %s no longer exists: %s", rd.rng.ShardID, ae.ErrorMessage())}
			case "InvalidArgumentException":
				// Kinesis: "Invalid StartingSequenceNumber. It encodes
				// shardId-…7, while it was used in a call to shardId-…0"
				// (GetShardIterator, boto/boto3#1478), or "… in a call to a
				// shard with shardId-…0" (awslabs/amazon-kinesis-client#391).
				if strings.Contains(ae.ErrorMessage(), "while it was used in a call to") {
					return &MismatchError{Reason: fmt.Sprintf("startSequenceNumber %s is not a sequence number of %s: %s", at, rd.rng.ShardID, ae.ErrorMessage())}
				}
				return &ExpiredError{Reason: fmt.Sprintf("GetShardIterator AT_SEQUENCE_NUMBER %s on %s was refused: %s", at, rd.rng.ShardID, ae.ErrorMessage())}
			}
		}
		return fmt.Errorf("get shard iterator %s at %s: %w", rd.rng.ShardID, at, err)
	}
	if out.ShardIterator == nil {
		return &ExpiredError{Reason: fmt.Sprintf("shard %s returned no iterator (closed and past its end)", rd.rng.ShardID)}
	}
	rd.iter = out.ShardIterator
	rd.resumed = rd.last != ""
	return nil
}

// next returns the next records of the range (possibly none) and whether the
// range is complete. It returns an *ExpiredError when the range's first record is
// no longer in the stream, or when, after the iterator was renewed, the records
// after the last one read are not (see resume), and an error when the stream ends
// before the range does.
func (rd *rangeReader) next(ctx context.Context) ([]Record, bool, error) {
	if rd.done {
		return nil, true, nil
	}
	if rd.iter == nil {
		if err := rd.open(ctx); err != nil {
			return nil, false, err
		}
	}
	in := &kinesis.GetRecordsInput{ShardIterator: rd.iter, StreamARN: aws.String(rd.rng.StreamARN), Limit: aws.Int32(getRecordsLimit)}
	out, err := getRecords(ctx, rd.api, in)
	if err != nil {
		var expired *kintypes.ExpiredIteratorException
		if errors.As(err, &expired) && rd.reopened < 10 {
			// Iterators live 5 minutes; a slow write in between can outlast one.
			rd.reopened++
			rd.iter = nil
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("get records %s: %w", rd.rng.ShardID, err)
	}
	page, err := rd.resume(out.Records)
	if err != nil {
		return nil, false, err
	}
	var recs []Record
	for _, r := range page {
		seq := aws.ToString(r.SequenceNumber)
		if rd.last == "" && len(recs) == 0 {
			c, err := record.CompareSequenceNumbers(seq, rd.rng.StartSequenceNumber)
			if err != nil {
				return nil, false, fmt.Errorf("shard %s: %w", rd.rng.ShardID, err)
			}
			if c != 0 {
				return nil, false, &ExpiredError{Reason: fmt.Sprintf(
					"the oldest record of %s at or after startSequenceNumber %s is %s: the range's first records were trimmed by the stream's retention period",
					rd.rng.ShardID, rd.rng.StartSequenceNumber, seq)}
			}
		}
		c, err := record.CompareSequenceNumbers(seq, rd.rng.EndSequenceNumber)
		if err != nil {
			return nil, false, fmt.Errorf("shard %s: %w", rd.rng.ShardID, err)
		}
		if c > 0 {
			rd.done = true
			break
		}
		rec := Record{ShardID: rd.rng.ShardID, SequenceNumber: seq, PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data}
		if r.ApproximateArrivalTimestamp != nil {
			rec.ArrivalTime = r.ApproximateArrivalTimestamp.UTC()
		}
		recs = append(recs, rec)
		if c == 0 {
			rd.done = true
			break
		}
	}
	if len(recs) > 0 {
		rd.last = recs[len(recs)-1].SequenceNumber
	}
	if rd.done {
		return recs, true, nil
	}
	rd.iter = out.NextShardIterator
	atTip := len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0
	if rd.iter == nil || atTip {
		// The shard (closed, or at its tip) ends before the range does.
		if rd.resumed {
			return nil, false, &ExpiredError{Reason: fmt.Sprintf(
				"no record at or after %s, the last record read, is left in %s: the range's remaining records were trimmed by the stream's retention period while its shard iterator was renewed",
				rd.last, rd.rng.ShardID)}
		}
		if rd.last == "" {
			return nil, false, &ExpiredError{Reason: fmt.Sprintf("no record at or after startSequenceNumber %s is left in %s", rd.rng.StartSequenceNumber, rd.rng.ShardID)}
		}
		return recs, false, fmt.Errorf("shard %s ends at %s, before endSequenceNumber %s: the range is not in this stream", rd.rng.ShardID, rd.last, rd.rng.EndSequenceNumber)
	}
	return recs, false, nil
}

// resume checks the first page of an iterator renewed at the last record read:
// it must start with that record, which it drops. Any other record means that
// the retention period trimmed the records after it (and Kinesis started at the
// oldest one left): the range is then expired, as when its first record is gone.
func (rd *rangeReader) resume(page []kintypes.Record) ([]kintypes.Record, error) {
	if !rd.resumed || len(page) == 0 {
		return page, nil
	}
	seq := aws.ToString(page[0].SequenceNumber)
	c, err := record.CompareSequenceNumbers(seq, rd.last)
	if err != nil {
		return nil, fmt.Errorf("shard %s: %w", rd.rng.ShardID, err)
	}
	if c != 0 {
		return nil, &ExpiredError{Reason: fmt.Sprintf(
			"the shard iterator of %s expired; renewed at the last record read, %s, it starts at %s: the records after %s were trimmed by the stream's retention period",
			rd.rng.ShardID, rd.last, seq, rd.last)}
	}
	rd.resumed = false
	return page[1:], nil
}
