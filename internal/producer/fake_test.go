package producer

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// fakeKinesis fakes the two calls of API. It enforces the PutRecords limits the
// way Kinesis does (500 entries, request bytes incl. keys) and lets a test inject
// whole-call errors and per-entry failures. Accepted records are kept per partition
// key in the order Kinesis would store them.
type fakeKinesis struct {
	t *testing.T

	// maxRecordKiB is what DescribeStreamSummary reports (nil: absent).
	maxRecordKiB *int32
	describeErr  error
	// callErr, if set, may fail a whole call (1-based call number).
	callErr func(call int) error
	// entryCode, if set, returns an error code for an entry ("" accepts it).
	entryCode func(call int, e types.PutRecordsRequestEntry) string
	// badResponse drops an entry from every response.
	badResponse bool
	// maxBytes is the request limit the fake enforces (0: 5 MiB).
	maxBytes int

	mu        sync.Mutex
	calls     int
	describes int
	sizes     []int // entries per call
	bytes     []int // request bytes per call
	sends     map[string]int
	stored    map[string][]string // partition key -> data, in stored order
	inputs    []*kinesis.PutRecordsInput
	seq       int
}

func newFake(t *testing.T) *fakeKinesis {
	return &fakeKinesis{t: t, sends: map[string]int{}, stored: map[string][]string{}}
}

func (f *fakeKinesis) DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{
		StreamName:         in.StreamName,
		StreamARN:          in.StreamARN,
		MaxRecordSizeInKiB: f.maxRecordKiB,
	}}, nil
}

func (f *fakeKinesis) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.inputs = append(f.inputs, in)
	limit := f.maxBytes
	if limit == 0 {
		limit = 5 << 20
	}
	total := 0
	for _, e := range in.Records {
		total += len(e.Data) + len(aws.ToString(e.PartitionKey))
		f.sends[string(e.Data)]++
	}
	f.sizes = append(f.sizes, len(in.Records))
	f.bytes = append(f.bytes, total)
	if len(in.Records) > 500 || total > limit {
		f.t.Errorf("PutRecords call %d: %d records, %d bytes; over the limits (500, %d)", f.calls, len(in.Records), total, limit)
		return nil, fmt.Errorf("fake: request over the limits")
	}
	if f.callErr != nil {
		if err := f.callErr(f.calls); err != nil {
			return nil, err
		}
	}
	out := &kinesis.PutRecordsOutput{}
	for _, e := range in.Records {
		code := ""
		if f.entryCode != nil {
			code = f.entryCode(f.calls, e)
		}
		if code != "" {
			out.FailedRecordCount = aws.Int32(aws.ToInt32(out.FailedRecordCount) + 1)
			out.Records = append(out.Records, types.PutRecordsResultEntry{
				ErrorCode:    aws.String(code),
				ErrorMessage: aws.String("fake " + code),
			})
			continue
		}
		k := aws.ToString(e.PartitionKey)
		f.stored[k] = append(f.stored[k], string(e.Data))
		f.seq++
		out.Records = append(out.Records, types.PutRecordsResultEntry{
			ShardId:        aws.String("shardId-000000000000"),
			SequenceNumber: aws.String(strconv.Itoa(f.seq)),
		})
	}
	if f.badResponse {
		out.Records = out.Records[1:]
	}
	return out, nil
}
