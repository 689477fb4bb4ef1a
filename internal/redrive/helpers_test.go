package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/onfailure"
)

// fakeStream is a Kinesis shard store behind the narrow StreamAPI (and
// producer.API, so records put back land in it). Iterators are "shard|index".
type fakeStream struct {
	mu     sync.Mutex
	shards map[string][]kintypes.Record
	// pageSize is the most records one GetRecords returns (0: all).
	pageSize int
	// emptyPages is how many empty pages (still behind the tip) to return first.
	emptyPages int
	// expireAfter makes the n-th GetRecords call (1-based) fail with
	// ExpiredIteratorException.
	expireAfter int
	// trimOnExpire, if set, is when the iterator expires the sequence number
	// below which the retention period trims the shard's records meanwhile.
	trimOnExpire string
	// iteratorErr fails GetShardIterator.
	iteratorErr error
	// throttleIterators and throttleGets fail that many GetShardIterator and
	// GetRecords calls (the next ones) with ProvisionedThroughputExceededException.
	throttleIterators, throttleGets int
	// putErr fails PutRecords.
	putErr      error
	getCalls    int
	iterTypes   []kintypes.ShardIteratorType
	putPartKeys []string
	putHashKeys []string // the explicit hash key of each record put ("" for none)
}

func newFakeStream() *fakeStream { return &fakeStream{shards: map[string][]kintypes.Record{}} }

// add appends records with the given sequence numbers to shard.
func (f *fakeStream) add(shard string, seqs ...string) {
	base := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	for _, s := range seqs {
		n := len(f.shards[shard])
		f.shards[shard] = append(f.shards[shard], kintypes.Record{
			SequenceNumber:              aws.String(s),
			PartitionKey:                aws.String(fmt.Sprintf("device-%d", n%3)),
			Data:                        fmt.Appendf(nil, `{"device_id":"device-%d","n":%d,"timestamp":"2026-11-21T13:00:00Z"}`, n%3, n),
			ApproximateArrivalTimestamp: aws.Time(base.Add(time.Duration(n) * 1500 * time.Microsecond)),
		})
	}
}

// trim removes every shard's records below seq, as the retention period does.
// Iterators are indexes, so trim must not run while one is being read.
func (f *fakeStream) trim(seq string) {
	for id, recs := range f.shards {
		i := 0
		for i < len(recs) && cmpSeq(aws.ToString(recs[i].SequenceNumber), seq) < 0 {
			i++
		}
		f.shards[id] = recs[i:]
	}
}

func cmpSeq(a, b string) int {
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x.Cmp(y)
}

func (f *fakeStream) GetShardIterator(_ context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.iterTypes = append(f.iterTypes, in.ShardIteratorType)
	if f.throttleIterators > 0 {
		f.throttleIterators--
		return nil, &kintypes.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded for shard " + aws.ToString(in.ShardId))}
	}
	if f.iteratorErr != nil {
		return nil, f.iteratorErr
	}
	recs, ok := f.shards[aws.ToString(in.ShardId)]
	if !ok {
		return nil, &kintypes.ResourceNotFoundException{Message: aws.String("Shard " + aws.ToString(in.ShardId) + " does not exist")}
	}
	start := aws.ToString(in.StartingSequenceNumber)
	i := 0
	if in.ShardIteratorType == kintypes.ShardIteratorTypeAtTimestamp {
		// The SDK sends the time in epoch seconds to the millisecond.
		at := aws.ToTime(in.Timestamp).Truncate(time.Millisecond)
		for i < len(recs) && recs[i].ApproximateArrivalTimestamp.Before(at) {
			i++
		}
		return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String(aws.ToString(in.ShardId) + "|" + strconv.Itoa(i))}, nil
	}
	for i < len(recs) {
		c := cmpSeq(aws.ToString(recs[i].SequenceNumber), start)
		if c > 0 || c == 0 && in.ShardIteratorType == kintypes.ShardIteratorTypeAtSequenceNumber {
			break
		}
		i++
	}
	return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String(aws.ToString(in.ShardId) + "|" + strconv.Itoa(i))}, nil
}

func (f *fakeStream) ListShards(_ context.Context, _ *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &kinesis.ListShardsOutput{}
	for id := range f.shards {
		out.Shards = append(out.Shards, kintypes.Shard{ShardId: aws.String(id)})
	}
	return out, nil
}

func (f *fakeStream) GetRecords(_ context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.getCalls++
	if f.throttleGets > 0 {
		f.throttleGets--
		return nil, &kintypes.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded for shard")}
	}
	if f.getCalls == f.expireAfter {
		if f.trimOnExpire != "" {
			f.trim(f.trimOnExpire)
		}
		return nil, &kintypes.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	}
	shard, idx, _ := strings.Cut(aws.ToString(in.ShardIterator), "|")
	i, _ := strconv.Atoi(idx)
	recs := f.shards[shard]
	if f.emptyPages > 0 {
		f.emptyPages--
		return &kinesis.GetRecordsOutput{NextShardIterator: in.ShardIterator, MillisBehindLatest: aws.Int64(1000)}, nil
	}
	n := len(recs) - i
	if f.pageSize > 0 {
		n = min(n, f.pageSize)
	}
	n = min(n, int(aws.ToInt32(in.Limit)))
	behind := int64(0)
	if i+n < len(recs) {
		behind = 1000
	}
	return &kinesis.GetRecordsOutput{
		Records:            append([]kintypes.Record(nil), recs[i:i+n]...),
		NextShardIterator:  aws.String(shard + "|" + strconv.Itoa(i+n)),
		MillisBehindLatest: aws.Int64(behind),
	}, nil
}

func (f *fakeStream) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.putErr != nil {
		return nil, f.putErr
	}
	out := &kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(0)}
	for _, e := range in.Records {
		shard := "shardId-000000000000"
		recs := f.shards[shard]
		last := "0"
		if len(recs) > 0 {
			last = aws.ToString(recs[len(recs)-1].SequenceNumber)
		}
		n, _ := new(big.Int).SetString(last, 10)
		seq := n.Add(n, big.NewInt(1)).String()
		f.shards[shard] = append(recs, kintypes.Record{SequenceNumber: aws.String(seq), PartitionKey: e.PartitionKey, Data: e.Data, ApproximateArrivalTimestamp: aws.Time(time.Now())})
		f.putPartKeys = append(f.putPartKeys, aws.ToString(e.PartitionKey))
		f.putHashKeys = append(f.putHashKeys, aws.ToString(e.ExplicitHashKey))
		out.Records = append(out.Records, kintypes.PutRecordsResultEntry{SequenceNumber: aws.String(seq), ShardId: aws.String(shard)})
	}
	return out, nil
}

func (f *fakeStream) DescribeStreamSummary(_ context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &kintypes.StreamDescriptionSummary{StreamARN: in.StreamARN}}, nil
}

// fakeQueue is an in-memory standard queue behind QueueAPI. Visibility is
// modelled without time: a received message is invisible until released or
// deleted. A delete with a stale receipt handle succeeds without deleting, as SQS
// may do.
type fakeQueue struct {
	mu   sync.Mutex
	msgs []*fakeMessage
	// deleteErr, if set, fails DeleteMessage for a message.
	deleteErr func(id string) error
	// redeliver makes the next receive of a message deliver it once more even
	// though it is in flight (standard queues deliver at least once).
	redeliver map[string]bool
	// reappear makes a message visible again right after every receive, as
	// when its visibility timeout lapses within every receive's wait.
	reappear   map[string]bool
	deletes    int
	extensions int
}

type fakeMessage struct {
	id, body, receipt string
	visible           bool
	receives          int
}

func (q *fakeQueue) send(id, body string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, &fakeMessage{id: id, body: body, visible: true})
}

func (q *fakeQueue) ids() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, m := range q.msgs {
		out = append(out, m.id)
	}
	return out
}

func (q *fakeQueue) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := &sqs.ReceiveMessageOutput{}
	for _, m := range q.msgs {
		if len(out.Messages) >= int(in.MaxNumberOfMessages) {
			break
		}
		if !m.visible && !q.redeliver[m.id] {
			continue
		}
		if q.redeliver[m.id] && !m.visible {
			delete(q.redeliver, m.id)
		}
		m.visible = q.reappear[m.id]
		m.receives++
		m.receipt = fmt.Sprintf("%s#%d", m.id, m.receives)
		out.Messages = append(out.Messages, sqstypes.Message{MessageId: aws.String(m.id), ReceiptHandle: aws.String(m.receipt), Body: aws.String(m.body)})
	}
	return out, nil
}

func (q *fakeQueue) find(receipt string) (*fakeMessage, int, bool) {
	id, _, _ := strings.Cut(receipt, "#")
	for i, m := range q.msgs {
		if m.id == id {
			return m, i, m.receipt == receipt
		}
	}
	return nil, 0, false
}

func (q *fakeQueue) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, i, current := q.find(aws.ToString(in.ReceiptHandle))
	if m == nil {
		return &sqs.DeleteMessageOutput{}, nil
	}
	if q.deleteErr != nil {
		if err := q.deleteErr(m.id); err != nil {
			return nil, err
		}
	}
	if current {
		q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
		q.deletes++
	}
	return &sqs.DeleteMessageOutput{}, nil
}

func (q *fakeQueue) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if m, _, current := q.find(aws.ToString(in.ReceiptHandle)); m != nil && current && in.VisibilityTimeout == 0 {
		m.visible = true
	}
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// ChangeMessageVisibilityBatch counts the extensions; visibility has no time here.
func (q *fakeQueue) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		q.extensions++
		out.Successful = append(out.Successful, sqstypes.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (q *fakeQueue) GetQueueAttributes(_ context.Context, _ *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, m := range q.msgs {
		if m.visible {
			n++
		}
	}
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"ApproximateNumberOfMessages": strconv.Itoa(n)}}, nil
}

// onFailureBody returns the SQS body Lambda sends for a failed range.
func onFailureBody(streamARN, shard, start, end string, batchSize int) string {
	rec := onfailure.Record{
		RequestContext: onfailure.RequestContext{RequestID: "c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5",
			FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:processor", Condition: onfailure.ConditionRetryAttemptsExhausted, ApproximateInvokeCount: 1},
		ResponseContext: onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"},
		Version:         "1.0",
		Timestamp:       "2026-11-21T13:00:05.000Z",
		KinesisBatchInfo: onfailure.KinesisBatchInfo{ShardID: shard, StartSequenceNumber: start, EndSequenceNumber: end,
			ApproximateArrivalOfFirstRecord: "2026-11-21T13:00:00.000Z", ApproximateArrivalOfLastRecord: "2026-11-21T13:00:01.000Z",
			BatchSize: batchSize, StreamARN: streamARN},
	}
	b, _ := json.Marshal(rec)
	return string(b)
}

// memSink is an in-memory ingest.Sink that can fail.
type memSink struct {
	mu      sync.Mutex
	objects map[string][]byte
	puts    int
	fail    error
}

func newMemSink() *memSink { return &memSink{objects: map[string][]byte{}} }

func (s *memSink) Put(_ context.Context, obj ingest.Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.fail != nil {
		return s.fail
	}
	s.objects[obj.Key] = append([]byte(nil), obj.Body...)
	return nil
}

func (s *memSink) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.objects {
		out = append(out, k)
	}
	return out
}

// apiError is a generic AWS API error.
func apiError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

var errBoom = errors.New("boom")
