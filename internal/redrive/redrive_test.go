package redrive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"

	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/record"
)

const (
	testStream = "arn:aws:kinesis:us-east-1:123456789012:stream/sensors"
	shard0     = "shardId-000000000000"
)

func TestParseMessage(t *testing.T) {
	golden, err := os.ReadFile("testdata/on-failure-record.json")
	if err != nil {
		t.Fatal(err)
	}
	snsWrapped, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "x", "Message": string(golden)})
	good := func(f func(m map[string]any)) string {
		var doc map[string]any
		_ = json.Unmarshal(golden, &doc)
		f(doc["KinesisBatchInfo"].(map[string]any))
		b, _ := json.Marshal(doc)
		return string(b)
	}
	want := Range{
		StreamARN: "arn:aws:kinesis:us-east-2:123456789012:stream/mystream", StreamName: "mystream", Region: "us-east-2",
		ShardID:             "shardId-000000000001",
		StartSequenceNumber: "49601189658422359378836298521827638475320189012309704722",
		EndSequenceNumber:   "49601189658422359378836298522902373528957594348623495186",
		BatchSize:           500,
	}
	tests := []struct {
		name, body string
		want       Range
		err        string
	}{
		{"AWS example", string(golden), want, ""},
		{"SNS envelope", string(snsWrapped), want, ""},
		{"empty", "", Range{}, "not a JSON object"},
		{"not JSON", "RetryAttemptsExhausted", Range{}, "not a JSON object"},
		{"truncated", string(golden[:len(golden)/2]), Range{}, "decode"},
		{"S3 test event", `{"Service":"Amazon S3","Event":"s3:TestEvent"}`, Range{}, "no KinesisBatchInfo: it is an S3 test event (s3:TestEvent)"},
		{"S3 event", `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put"}]}`, Range{}, "no KinesisBatchInfo: it is an event notification of aws:s3"},
		{"asynchronous invocation record", `{"version":"1.0","requestContext":{"condition":"RetriesExhausted"},"requestPayload":{"a":1},"responsePayload":null}`, Range{}, "asynchronous invocation record"},
		{"another sender's JSON", `{"order":42}`, Range{}, "no KinesisBatchInfo: no Kinesis event source mapping sent it"},
		{"SNS envelope of text", `{"Type":"Notification","MessageId":"x","Message":"hello"}`, Range{}, "not a JSON object: hello"},
		{"JSON array", `[1,2]`, Range{}, "not a JSON object"},
		{"SNS subscription confirmation", `{"Type":"SubscriptionConfirmation","MessageId":"x","Token":"t","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":"You have chosen to subscribe"}`, Range{}, "it is an SNS SubscriptionConfirmation message"},
		{"DynamoDB record", `{"DDBStreamBatchInfo":{"shardId":"x"}}`, Range{}, "DynamoDB Streams"},
		{"batch info not an object", `{"KinesisBatchInfo":[1]}`, Range{}, "decode"},
		{"no shard", good(func(m map[string]any) { delete(m, "shardId") }), Range{}, "shardId is empty"},
		{"bad start", good(func(m map[string]any) { m["startSequenceNumber"] = "49x" }), Range{}, `startSequenceNumber "49x"`},
		{"bad end", good(func(m map[string]any) { m["endSequenceNumber"] = "" }), Range{}, `endSequenceNumber ""`},
		{"start after end (numerically)", good(func(m map[string]any) { m["startSequenceNumber"], m["endSequenceNumber"] = "10", "9" }), Range{}, "is after endSequenceNumber"},
		{"bad ARN", good(func(m map[string]any) { m["streamArn"] = "arn:aws:sqs:us-east-1:1:q" }), Range{}, "not a Kinesis stream ARN"},
		{"ARN without name", good(func(m map[string]any) { m["streamArn"] = "arn:aws:kinesis:us-east-1:1:stream/" }), Range{}, "not a Kinesis stream ARN"},
		{"ARN with a path", good(func(m map[string]any) { m["streamArn"] = "arn:aws:kinesis:us-east-1:1:stream/a/b" }), Range{}, "not a Kinesis stream ARN"},
		{"ARN without stream/", good(func(m map[string]any) { m["streamArn"] = "arn:aws:kinesis:us-east-1:1:mystream" }), Range{}, "not a Kinesis stream ARN"},
		{"ARN without region", good(func(m map[string]any) { m["streamArn"] = "arn:aws:kinesis::1:stream/s" }), Range{}, "not a Kinesis stream ARN"},
		{"ARN without partition", good(func(m map[string]any) { m["streamArn"] = "arn::kinesis:us-east-1:1:stream/s" }), Range{}, "not a Kinesis stream ARN"},
		{"too few ARN sections", good(func(m map[string]any) { m["streamArn"] = "arn:aws:kinesis:us-east-1:stream/s" }), Range{}, "not a Kinesis stream ARN"},
		{"not an ARN", good(func(m map[string]any) { m["streamArn"] = "mystream" }), Range{}, "not a Kinesis stream ARN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got, err := ParseMessage(tc.body)
			if tc.err != "" {
				var ie *InvalidMessageError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseMessage(%.40q) error = %v; want an InvalidMessageError with %q", tc.body, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseMessage range (-want +got):\n%s", d)
			}
		})
	}
}

// seqs returns sequence numbers from..to that cross a power of ten, so that a
// lexical comparison would get the order wrong.
func seqs(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

func readAll(t *testing.T, api StreamAPI, rng Range) ([]string, error) {
	t.Helper()
	rd := newRangeReader(api, rng)
	var got []string
	for i := 0; i < 1000; i++ {
		recs, done, err := rd.next(context.Background())
		for _, r := range recs {
			got = append(got, r.SequenceNumber)
		}
		if err != nil || done {
			return got, err
		}
	}
	t.Fatal("reader did not finish in 1000 calls")
	return nil, nil
}

func TestRangeReader(t *testing.T) {
	rng := func(start, end string) Range {
		return Range{StreamARN: testStream, Region: "us-east-1", ShardID: shard0, StartSequenceNumber: start, EndSequenceNumber: end}
	}
	tests := []struct {
		name    string
		setup   func(f *fakeStream)
		rng     Range
		want    []string
		expired string // substring of the ExpiredError; "" = no expiry
		err     string // substring of another error
	}{
		{"exact range across 99→100", func(f *fakeStream) {}, rng("97", "102"), seqs(97, 102), "", ""},
		{"single record", func(f *fakeStream) {}, rng("100", "100"), []string{"100"}, "", ""},
		{"pages of 2", func(f *fakeStream) { f.pageSize = 2 }, rng("96", "105"), seqs(96, 105), "", ""},
		{"empty pages behind the tip", func(f *fakeStream) { f.emptyPages = 3 }, rng("98", "101"), seqs(98, 101), "", ""},
		{"iterator expires midway", func(f *fakeStream) { f.pageSize = 2; f.expireAfter = 2 }, rng("95", "103"), seqs(95, 103), "", ""},
		{"range ends at the tip", func(f *fakeStream) {}, rng("105", "110"), seqs(105, 110), "", ""},
		{"trimmed start", func(f *fakeStream) {}, rng("80", "95"), nil, "the oldest record of shardId-000000000000 at or after startSequenceNumber 80 is 90", ""},
		{"beyond the tip", func(f *fakeStream) {}, rng("500", "600"), nil, "no record at or after startSequenceNumber 500", ""},
		{"no such shard", func(f *fakeStream) {}, Range{StreamARN: testStream, ShardID: "shardId-000000000009", StartSequenceNumber: "1", EndSequenceNumber: "2"}, nil, "no longer exists", ""},
		{"sequence number refused", func(f *fakeStream) {
			f.iteratorErr = apiError("InvalidArgumentException", "StartingSequenceNumber 1 used in GetShardIterator on shard is invalid")
		}, rng("95", "96"), nil, "was refused", ""},
		{"access denied is not expiry", func(f *fakeStream) { f.iteratorErr = apiError("AccessDeniedException", "no") }, rng("95", "96"), nil, "", "AccessDeniedException"},
		{"sequence number of another shard is not expiry", func(f *fakeStream) {
			f.iteratorErr = apiError("InvalidArgumentException", "Invalid StartingSequenceNumber. It encodes shardId-000000000007, while it was used in a call to a shard with shardId-000000000000")
		}, rng("95", "96"), nil, "", "range does not match its shard"},
		{"another shard's sequence number, GetShardIterator's wording", func(f *fakeStream) {
			// As boto/boto3#1478 records GetShardIterator's message; the
			// wording above is from awslabs/amazon-kinesis-client#391.
			f.iteratorErr = apiError("InvalidArgumentException", "Invalid StartingSequenceNumber. It encodes shardId-000000000007, while it was used in a call to shardId-000000000000")
		}, rng("95", "96"), nil, "", "range does not match its shard"},
		{"end not in the shard", func(f *fakeStream) {}, rng("108", "120"), seqs(108, 110), "", "shard shardId-000000000000 ends at 110, before endSequenceNumber 120"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStream()
			f.add(shard0, seqs(90, 110)...)
			tc.setup(f)
			got, err := readAll(t, f, tc.rng)
			var ee *ExpiredError
			switch {
			case tc.expired != "":
				if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.expired) {
					t.Fatalf("read %s..%s error = %v; want expired with %q", tc.rng.StartSequenceNumber, tc.rng.EndSequenceNumber, err, tc.expired)
				}
				return
			case tc.err != "":
				if err == nil || errors.As(err, &ee) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("read error = %v; want a non-expiry error with %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("records read (-want +got):\n%s", d)
			}
		})
	}
}

func TestRangeReaderRenewsIteratorAtLastRecord(t *testing.T) {
	f := newFakeStream()
	f.add(shard0, seqs(1, 9)...)
	f.pageSize, f.expireAfter = 3, 2
	got, err := readAll(t, f, Range{StreamARN: testStream, ShardID: shard0, StartSequenceNumber: "2", EndSequenceNumber: "8"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(seqs(2, 8), got); d != "" {
		t.Errorf("records read (-want +got):\n%s", d)
	}
	want := []kintypes.ShardIteratorType{kintypes.ShardIteratorTypeAtSequenceNumber, kintypes.ShardIteratorTypeAtSequenceNumber}
	if d := cmp.Diff(want, f.iterTypes); d != "" {
		t.Errorf("iterator types (-want +got):\n%s", d)
	}
}

// The iterator expires after records 90..92 of the range 90..110 were read, and
// the retention period trims the shard before it is renewed: the reader must
// notice a gap instead of going on from the oldest record left.
func TestRangeReaderTrimmedDuringRenewal(t *testing.T) {
	tests := []struct {
		name    string
		trim    string // records below it are gone when the iterator is renewed
		want    []string
		expired string
	}{
		{"records before the last one read trimmed", "92", seqs(90, 110), ""},
		{"records after the last one read trimmed", "100", seqs(90, 92), "renewed at the last record read, 92, it starts at 100"},
		{"every record trimmed", "200", seqs(90, 92), "no record at or after 92, the last record read, is left in shardId-000000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStream()
			f.add(shard0, seqs(90, 130)...)
			f.pageSize, f.expireAfter, f.trimOnExpire = 3, 2, tc.trim
			got, err := readAll(t, f, Range{StreamARN: testStream, ShardID: shard0, StartSequenceNumber: "90", EndSequenceNumber: "110"})
			var ee *ExpiredError
			switch {
			case tc.expired == "" && err != nil:
				t.Fatalf("read 90..110 error = %v; want none", err)
			case tc.expired != "" && (!errors.As(err, &ee) || !strings.Contains(err.Error(), tc.expired)):
				t.Fatalf("read 90..110 error = %v; want expired with %q", err, tc.expired)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("records read (-want +got):\n%s", d)
			}
		})
	}
}

// TestRunReportsAnotherShardsSequenceNumberAsInvalid: a message whose start
// sequence number Kinesis says encodes another shard is invalid, not expired
// (the README says expired messages can be deleted once accounted for), and
// stays in the queue.
func TestRunReportsAnotherShardsSequenceNumberAsInvalid(t *testing.T) {
	s := newUnitSetup(t)
	s.stream.iteratorErr = apiError("InvalidArgumentException", "Invalid StartingSequenceNumber. It encodes shardId-000000000007, while it was used in a call to a shard with shardId-000000000000")
	s.queue.send("m1", onFailureBody(testStream, shard0, "95", "96", 2))
	sum, err := Run(context.Background(), s.options())
	if err != nil {
		t.Fatal(err)
	}
	m := sum.Messages[0]
	if m.Status != StatusInvalid || m.Deleted || sum.Expired != 0 || !strings.Contains(m.Reason, "shardId-000000000007") || !strings.Contains(m.Reason, "left in the queue") {
		t.Errorf("Run = %+v; want the message invalid, its reason quoting Kinesis, and left", m)
	}
	if d := cmp.Diff([]string{"m1"}, s.queue.ids()); d != "" || s.queue.deletes != 0 {
		t.Errorf("messages left (-want +got):\n%s (deletes %d)", d, s.queue.deletes)
	}
}

func TestRunLeavesRangeTrimmedDuringRenewal(t *testing.T) {
	s := newUnitSetup(t) // the shard holds 90..130
	s.stream.pageSize, s.stream.expireAfter, s.stream.trimOnExpire = 3, 2, "100"
	s.queue.send("m1", onFailureBody(testStream, shard0, "90", "110", 21))
	sum, err := Run(context.Background(), s.options())
	if err != nil {
		t.Fatal(err)
	}
	m := sum.Messages[0]
	if m.Status != StatusExpired || m.Deleted || sum.Expired != 1 || sum.LeftInQueue != 1 || sum.OK() ||
		!strings.Contains(m.Reason, "trimmed") || !strings.Contains(m.Reason, "left in the queue") {
		t.Errorf("Run with records 93..99 trimmed while the iterator was renewed = %+v; want the message expired and left", sum)
	}
	if d := cmp.Diff([]string{"m1"}, s.queue.ids()); d != "" || s.queue.deletes != 0 {
		t.Errorf("messages left (-want +got):\n%s (deletes %d)", d, s.queue.deletes)
	}
	if len(s.sink.objects) != 0 {
		t.Errorf("wrote %v; want nothing (the records read are fewer than a chunk)", s.sink.keys())
	}
}

// line is what the tests check of a stored line.
type line struct {
	Original     json.RawMessage `json:"original_data"`
	PartitionKey string          `json:"partition_key"`
	Seq          string          `json:"sequence_number"`
	Sub          *int            `json:"sub_sequence_number"`
	Shard        string          `json:"shard_id"`
	Processed    bool            `json:"processed"`
}

func gunzipLines(t *testing.T, body []byte) []line {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []line
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %s: %v", sc.Bytes(), err)
		}
		out = append(out, l)
	}
	return out
}

type unitSetup struct {
	stream *fakeStream
	queue  *fakeQueue
	sink   *memSink
	writer *S3Writer
}

func newUnitSetup(t *testing.T) *unitSetup {
	t.Helper()
	s := &unitSetup{stream: newFakeStream(), queue: &fakeQueue{}, sink: newMemSink()}
	s.stream.add(shard0, seqs(90, 130)...)
	w, err := ToS3(s.sink, S3Config{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	s.writer = w
	return s
}

func (s *unitSetup) options() Options {
	return Options{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/failures", Queue: s.queue,
		Streams: func(string) (StreamAPI, error) { return s.stream, nil }, Writer: s.writer}
}

func TestRunRedrivesAndLeavesWhatItCannot(t *testing.T) {
	s := newUnitSetup(t)
	s.queue.send("m1", onFailureBody(testStream, shard0, "95", "104", 10))
	s.queue.send("m2", onFailureBody(testStream, shard0, "80", "92", 13)) // trimmed
	s.queue.send("m3", `{"hello":"world"}`)
	s.queue.send("m4", onFailureBody(testStream, shard0, "105", "105", 1))
	s.queue.send("m5", onFailureBody(testStream, shard0, "125", "140", 16)) // end not in stream
	sum, err := Run(context.Background(), s.options())
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]Status{}
	for _, m := range sum.Messages {
		status[m.MessageID] = m.Status
	}
	want := map[string]Status{"m1": StatusRedriven, "m2": StatusExpired, "m3": StatusInvalid, "m4": StatusRedriven, "m5": StatusFailed}
	if d := cmp.Diff(want, status); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	if sum.MessagesRead != 5 || sum.Redriven != 2 || sum.Expired != 1 || sum.Invalid != 1 || sum.Failed != 1 || sum.LeftInQueue != 3 ||
		sum.RecordsWritten != 11 || sum.Objects != 2 || sum.OK() {
		t.Errorf("summary = %+v", sum)
	}
	if d := cmp.Diff([]string{"m2", "m3", "m5"}, s.queue.ids()); d != "" {
		t.Errorf("messages left (-want +got):\n%s", d)
	}
	// Every left message is visible again for the next run.
	if n, _ := s.queue.GetQueueAttributes(context.Background(), nil); n.Attributes["ApproximateNumberOfMessages"] != "3" {
		t.Errorf("visible after the run = %s; want 3", n.Attributes["ApproximateNumberOfMessages"])
	}
	// The objects hold exactly the ranges' records.
	var got []string
	for key, body := range s.sink.objects {
		if !strings.HasPrefix(key, "redriven/year=2026/month=11/day=21/hour=13/"+shard0+"-") {
			t.Errorf("key %s; want redriven/…/<shard>-<first seq>.ndjson.gz", key)
		}
		for _, l := range gunzipLines(t, body) {
			got = append(got, l.Seq)
		}
	}
	sortSeqs(got)
	if d := cmp.Diff(append(seqs(95, 104), "105"), got); d != "" {
		t.Errorf("redriven records (-want +got):\n%s", d)
	}
}

func sortSeqs(s []string) { sort.Slice(s, func(i, j int) bool { return cmpSeq(s[i], s[j]) < 0 }) }

func TestRunCrashBetweenWriteAndDeleteDuplicatesNothing(t *testing.T) {
	s := newUnitSetup(t)
	s.queue.send("m1", onFailureBody(testStream, shard0, "95", "104", 10))
	s.queue.send("m2", onFailureBody(testStream, shard0, "110", "120", 11))
	s.queue.deleteErr = func(string) error { return errBoom }
	sum, err := Run(context.Background(), s.options())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 2 || sum.RecordsWritten != 21 || sum.LeftInQueue != 2 || !strings.Contains(sum.Messages[0].Reason, "deleting the message failed") {
		t.Fatalf("run with failing deletes = %+v", sum)
	}
	first := s.sink.keys()
	sort.Strings(first)
	puts := s.sink.puts

	s.queue.deleteErr = nil
	sum, err = Run(context.Background(), s.options())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Redriven != 2 || !sum.OK() || len(s.queue.ids()) != 0 {
		t.Fatalf("rerun = %+v, queue %v; want both redriven and the queue empty", sum, s.queue.ids())
	}
	again := s.sink.keys()
	sort.Strings(again)
	if d := cmp.Diff(first, again); d != "" || s.sink.puts != 2*puts {
		t.Errorf("rerun wrote other keys (-first +rerun):\n%s (puts %d, then %d)", d, puts, s.sink.puts)
	}
	lines := 0
	for _, body := range s.sink.objects {
		lines += len(gunzipLines(t, body))
	}
	if lines != 21 {
		t.Errorf("stored lines = %d; want 21 (each record once)", lines)
	}
	// A third run finds nothing to do.
	sum, err = Run(context.Background(), s.options())
	if err != nil || sum.MessagesRead != 0 || !sum.OK() {
		t.Errorf("third run = %+v, %v; want nothing read", sum, err)
	}
}

func TestRunWriteFailureLeavesMessage(t *testing.T) {
	s := newUnitSetup(t)
	s.queue.send("m1", onFailureBody(testStream, shard0, "95", "104", 10))
	s.sink.fail = errors.New("SlowDown")
	sum, err := Run(context.Background(), s.options())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 1 || sum.RecordsWritten != 0 || sum.LeftInQueue != 1 || !strings.Contains(sum.Messages[0].Reason, "SlowDown") {
		t.Errorf("summary = %+v", sum)
	}
	if len(s.queue.ids()) != 1 || s.queue.deletes != 0 {
		t.Errorf("the message was deleted although nothing was stored")
	}
}

// TestRunStreamClientFailure: a range whose region has no Kinesis client fails
// and its message stays in the queue.
func TestRunStreamClientFailure(t *testing.T) {
	s := newUnitSetup(t)
	s.queue.send("m1", onFailureBody(testStream, shard0, "95", "104", 10))
	opts := s.options()
	opts.Streams = func(region string) (StreamAPI, error) { return nil, fmt.Errorf("no credentials for %s", region) }
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 1 || sum.RecordsRead != 0 || sum.LeftInQueue != 1 || len(sum.Messages) != 1 ||
		!strings.Contains(sum.Messages[0].Reason, "kinesis client for ") || !strings.Contains(sum.Messages[0].Reason, "no credentials") {
		t.Errorf("summary = %+v; want the message failed with the client's error", sum)
	}
	if len(s.queue.ids()) != 1 || s.queue.deletes != 0 {
		t.Errorf("the message was deleted although nothing was read")
	}
}

func TestRunDryRun(t *testing.T) {
	s := newUnitSetup(t)
	s.queue.send("m1", onFailureBody(testStream, shard0, "95", "104", 10))
	s.queue.send("m2", onFailureBody(testStream, shard0, "1", "3", 3))
	opts := s.options()
	opts.DryRun = true
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.WouldRedrive != 1 || sum.Redriven != 0 || sum.Expired != 1 || sum.RecordsRead != 10 || sum.RecordsWritten != 0 ||
		sum.Objects != 1 || sum.LeftInQueue != 2 || !sum.DryRun {
		t.Errorf("dry run summary = %+v", sum)
	}
	if len(s.sink.objects) != 0 || s.sink.puts != 0 {
		t.Errorf("dry run wrote %d objects", s.sink.puts)
	}
	if len(s.queue.ids()) != 2 || s.queue.deletes != 0 {
		t.Errorf("dry run deleted messages")
	}
	// What it planned is what a real run writes.
	planned := sum.Messages[0].Objects
	opts.DryRun = false
	sum, err = Run(context.Background(), opts)
	if err != nil || sum.Redriven != 1 {
		t.Fatalf("Run after the dry run = %+v, %v; want the range redriven", sum, err)
	}
	if d := cmp.Diff(planned, s.sink.keys()); d != "" {
		t.Errorf("planned keys differ from written ones (-planned +written):\n%s", d)
	}
}

func TestRunMax(t *testing.T) {
	s := newUnitSetup(t)
	for i := 0; i < 5; i++ {
		start := 90 + 5*i
		s.queue.send(fmt.Sprintf("m%d", i), onFailureBody(testStream, shard0, fmt.Sprint(start), fmt.Sprint(start+4), 5))
	}
	opts := s.options()
	opts.Max = 3
	var progress []Progress
	opts.Progress = func(p Progress) { progress = append(progress, p) }
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.MessagesRead != 3 || sum.Redriven != 3 || sum.RecordsWritten != 15 {
		t.Errorf("--max 3 summary = %+v", sum)
	}
	if d := cmp.Diff([]string{"m3", "m4"}, s.queue.ids()); d != "" {
		t.Errorf("left (-want +got):\n%s", d)
	}
	last := progress[len(progress)-1]
	if last.Total != 3 || last.MessagesRead != 3 || last.Redriven != 3 || last.RecordsWritten != 15 {
		t.Errorf("last progress = %+v", last)
	}
}

// TestRunDuplicateDelivery: a message the queue delivers again during the run
// (standard queues deliver at least once) is handled once and counted once.
func TestRunDuplicateDelivery(t *testing.T) {
	s := newUnitSetup(t)
	s.queue.send("m0", onFailureBody(testStream, shard0, "1", "3", 3)) // trimmed: left in the queue, in flight
	s.queue.send("m1", onFailureBody(testStream, shard0, "95", "99", 5))
	s.queue.redeliver = map[string]bool{"m0": true}
	sum, err := Run(context.Background(), s.options())
	if err != nil {
		t.Fatal(err)
	}
	if s.queue.redeliver["m0"] {
		t.Fatal("m0 was not delivered a second time: the test did not play a duplicate delivery")
	}
	if sum.MessagesRead != 2 || len(sum.Messages) != 2 || sum.Expired != 1 || sum.Redriven != 1 || sum.RecordsRead != 5 || sum.LeftInQueue != 1 {
		t.Errorf("summary = %+v; want m0 and m1 once each", sum)
	}
	if d := cmp.Diff([]string{"m0"}, s.queue.ids()); d != "" {
		t.Errorf("left in the queue (-want +got):\n%s", d)
	}
}

// TestRunEndsWhenHandledMessagesKeepReappearing: messages the run has handled
// and left in the queue come back in every receive (their visibility timeout
// lapses at once). With --max above the number of messages, or none, the run
// ends after one wait with nothing new, having handled each message once.
func TestRunEndsWhenHandledMessagesKeepReappearing(t *testing.T) {
	for _, max := range []int{0, 5} {
		t.Run(fmt.Sprintf("max %d", max), func(t *testing.T) {
			s := newUnitSetup(t)
			s.queue.send("m0", `{"hello":"world"}`)                              // invalid
			s.queue.send("m1", onFailureBody(testStream, shard0, "1", "3", 3))   // trimmed
			s.queue.send("m2", onFailureBody(testStream, shard0, "95", "99", 5)) // redriven
			s.queue.reappear = map[string]bool{"m0": true, "m1": true, "m2": true}
			opts := s.options()
			opts.Max, opts.WaitTime = max, 200*time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sum, err := Run(ctx, opts)
			if err != nil {
				t.Fatalf("Run: %v; want it to end", err)
			}
			if sum.MessagesRead != 3 || len(sum.Messages) != 3 || sum.Invalid != 1 || sum.Expired != 1 || sum.Redriven != 1 ||
				sum.RecordsRead != 5 || s.sink.puts != 1 || sum.LeftInQueue != 2 {
				t.Errorf("summary = %+v, %d puts; want each message handled once", sum, s.sink.puts)
			}
			again := 0
			for _, m := range sum.Messages {
				again += m.Received - 1
			}
			if sum.ReceivedAgain != again || again == 0 {
				t.Errorf("received again %d, per message %d; want them equal and not 0", sum.ReceivedAgain, again)
			}
			if d := cmp.Diff([]string{"m0", "m1"}, s.queue.ids()); d != "" {
				t.Errorf("left in the queue (-want +got):\n%s", d)
			}
		})
	}
}

// TestRunLeavesMessagesOfOtherSenders: messages that are not this stream's
// Kinesis on-failure records are never deleted or written: each is reported
// invalid, with what it is, and stays in the queue (visible again).
func TestRunLeavesMessagesOfOtherSenders(t *testing.T) {
	s := newUnitSetup(t)
	bodies := map[string]string{
		"s3-test":  `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-21T13:00:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"}`,
		"s3-event": `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`,
		"async":    `{"version":"1.0","timestamp":"2026-11-21T13:00:00.000Z","requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","condition":"RetriesExhausted","approximateInvokeCount":3},"requestPayload":{"a":1},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":null}`,
		"dynamodb": `{"requestContext":{"condition":"RetryAttemptsExhausted"},"version":"1.0","DDBStreamBatchInfo":{"shardId":"shardId-00000001573689847184-864758bb","streamArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-11-21T00:00:00.000"}}`,
		"text":     `order 42 shipped`,
		"other":    onFailureBody("arn:aws:kinesis:us-east-1:123456789012:stream/other", shard0, "95", "99", 5),
	}
	want := map[string]string{
		"s3-test": "S3 test event", "s3-event": "event notification of aws:s3", "async": "asynchronous invocation record",
		"dynamodb": "DynamoDB Streams on-failure record", "text": "not a JSON object",
		"other": "its range is of stream arn:aws:kinesis:us-east-1:123456789012:stream/other, not of " + testStream,
	}
	ids := []string{"async", "dynamodb", "other", "s3-event", "s3-test", "text"}
	for _, id := range ids {
		s.queue.send(id, bodies[id])
	}
	opts := s.options()
	opts.StreamARN = testStream
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.MessagesRead != 6 || sum.Invalid != 6 || sum.LeftInQueue != 6 || sum.RecordsRead != 0 || sum.OK() {
		t.Errorf("summary = %+v; want 6 invalid messages left, nothing read", sum)
	}
	for _, m := range sum.Messages {
		if m.Status != StatusInvalid || m.Deleted || !strings.Contains(m.Reason, want[m.MessageID]) || !strings.HasSuffix(m.Reason, "left in the queue") &&
			!strings.Contains(m.Reason, "the message is left in the queue") {
			t.Errorf("message %s = %s, deleted %v, %q; want invalid, left in the queue, with %q", m.MessageID, m.Status, m.Deleted, m.Reason, want[m.MessageID])
		}
	}
	if d := cmp.Diff(ids, s.queue.ids()); d != "" || s.queue.deletes != 0 || s.sink.puts != 0 {
		t.Errorf("left in the queue (-want +got):\n%s (%d deletes, %d puts)", d, s.queue.deletes, s.sink.puts)
	}
	if n, _ := s.queue.GetQueueAttributes(context.Background(), nil); n.Attributes["ApproximateNumberOfMessages"] != "6" {
		t.Errorf("visible after the run = %s; want 6", n.Attributes["ApproximateNumberOfMessages"])
	}
}

func TestRunFilterSkipsRecords(t *testing.T) {
	s := newUnitSetup(t)
	s.queue.send("m1", onFailureBody(testStream, shard0, "90", "99", 10))
	opts := s.options()
	// The fake's records carry "n":0…; keep the even ones.
	opts.Filter = func(data []byte) bool {
		var v struct{ N int }
		_ = json.Unmarshal(data, &v)
		return v.N%2 == 0
	}
	sum, err := Run(context.Background(), opts)
	if err != nil || sum.Redriven != 1 || sum.RecordsRead != 10 || sum.RecordsFiltered != 5 || sum.RecordsWritten != 5 {
		t.Fatalf("Run with a filter = %+v, %v; want 5 of 10 written", sum, err)
	}
	var got []string
	for _, body := range s.sink.objects {
		for _, l := range gunzipLines(t, body) {
			got = append(got, l.Seq)
		}
	}
	sortSeqs(got)
	if d := cmp.Diff([]string{"90", "92", "94", "96", "98"}, got); d != "" {
		t.Errorf("written (-want +got):\n%s", d)
	}
}

func TestRunLargeRangeIsChunkedDeterministically(t *testing.T) {
	s := newUnitSetup(t)
	s.stream = newFakeStream()
	all := seqs(1, 2*ChunkRecords+5)
	s.stream.add(shard0, all...)
	s.stream.pageSize = 3000
	s.queue.send("big", onFailureBody(testStream, shard0, "1", all[len(all)-1], len(all)))
	sum, err := Run(context.Background(), s.options())
	if err != nil {
		t.Fatal(err)
	}
	// Each object is keyed by its chunk's first and last records.
	want := []string{
		fmt.Sprintf("1-%d", ChunkRecords),
		fmt.Sprintf("%d-%d", ChunkRecords+1, 2*ChunkRecords),
		fmt.Sprintf("%d-%d", 2*ChunkRecords+1, 2*ChunkRecords+5),
	}
	var ranges []string
	for _, k := range sum.Messages[0].Objects {
		ranges = append(ranges, strings.TrimSuffix(strings.TrimPrefix(k[strings.LastIndex(k, "/")+1:], shard0+"-"), ".ndjson.gz"))
	}
	if d := cmp.Diff(want, ranges); d != "" || sum.RecordsWritten != len(all) {
		t.Errorf("objects hold (-want +got):\n%s; written %d of %d", d, sum.RecordsWritten, len(all))
	}
}

func TestS3WriterFormat(t *testing.T) {
	sink := newMemSink()
	w, err := ToS3(sink, S3Config{Bucket: "b", Prefix: "/replayed/"})
	if err != nil {
		t.Fatal(err)
	}
	if w.String() != "s3://b/replayed/" {
		t.Errorf("String() = %q", w.String())
	}
	f := newFakeStream()
	f.add(shard0, "49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692538361571095921575989136588899")
	recs := make([]Record, 0, 3)
	for _, r := range f.shards[shard0] {
		recs = append(recs, Record{ShardID: shard0, SequenceNumber: aws.ToString(r.SequenceNumber), PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data, ArrivalTime: *r.ApproximateArrivalTimestamp})
	}
	// A record the default transform rejects goes to the redrive quarantine prefix,
	// in an object keyed by the chunk's first and last records, as the processed
	// one is.
	recs = append(recs, Record{ShardID: shard0, SequenceNumber: "49590338271490256608559692538361571095921575989136588900", PartitionKey: "p",
		Data: []byte(`{"timestamp":"yesterday"}`), ArrivalTime: recs[0].ArrivalTime})
	rng := Range{StreamARN: testStream, Region: "us-east-1", ShardID: shard0}
	keys, err := w.Write(context.Background(), rng, recs)
	if err != nil {
		t.Fatal(err)
	}
	const chunkRange = "49590338271490256608559692538361571095921575989136588898-49590338271490256608559692538361571095921575989136588900"
	wantKeys := []string{
		"replayed/year=2026/month=11/day=21/hour=13/" + shard0 + "-" + chunkRange + ".ndjson.gz",
		"replayed-quarantine/year=2026/month=11/day=21/hour=13/" + shard0 + "-" + chunkRange + ".ndjson.gz",
	}
	if d := cmp.Diff(wantKeys, keys); d != "" {
		t.Fatalf("keys (-want +got):\n%s", d)
	}
	lines := gunzipLines(t, sink.objects[wantKeys[0]])
	if len(lines) != 2 {
		t.Fatalf("lines = %d; want 2", len(lines))
	}
	for i, l := range lines {
		wantPayload, _ := record.AppendPayload(nil, recs[i].Data)
		if string(l.Original) != string(wantPayload) || l.Seq != recs[i].SequenceNumber || l.PartitionKey != recs[i].PartitionKey || l.Shard != shard0 || !l.Processed {
			t.Errorf("line %d = %+v; want record %+v", i, l, recs[i])
		}
	}
	if _, err := ToS3(sink, S3Config{Compression: "lz4"}); err == nil {
		t.Errorf("ToS3(lz4) = nil error")
	}
	if _, err := ToS3(nil, S3Config{}); err == nil {
		t.Errorf("ToS3(nil sink) = nil error")
	}
}

func TestStreamWriterPutsBackWithPartitionKeys(t *testing.T) {
	s := newUnitSetup(t)
	s.queue.send("m1", onFailureBody(testStream, shard0, "100", "104", 5))
	opts := s.options()
	opts.Writer = ToStream(func(string) (producer.API, error) { return s.stream, nil }, "")
	sum, err := Run(context.Background(), opts)
	if err != nil || sum.Redriven != 1 || sum.RecordsWritten != 5 || sum.Objects != 0 {
		t.Fatalf("Run = %+v, %v", sum, err)
	}
	recs := s.stream.shards[shard0]
	var want, got []string
	for _, r := range recs[10:15] { // 90..130: 100..104 are at 10..14
		want = append(want, aws.ToString(r.PartitionKey)+"="+string(r.Data))
	}
	for _, r := range recs[len(recs)-5:] {
		got = append(got, aws.ToString(r.PartitionKey)+"="+string(r.Data))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records put back (-want +got):\n%s", d)
	}

	s.queue.send("m2", onFailureBody(testStream, shard0, "100", "104", 5))
	s.stream.putErr = apiError("AccessDeniedException", "not allowed to PutRecords")
	sum, err = Run(context.Background(), opts)
	if err != nil || sum.Failed != 1 || len(s.queue.ids()) != 1 || !strings.Contains(sum.Messages[0].Reason, "AccessDeniedException") {
		t.Errorf("Run with PutRecords denied = %+v, %v; want the message failed and kept", sum, err)
	}
}

func TestStreamWriterPutsKPLAggregatesWhereTheirUserRecordsBelong(t *testing.T) {
	s := newUnitSetup(t)
	// As the KPL writes an aggregate: the partition key "a", and the hash key of
	// its first user record, which the KCL checks against the shard's range.
	agg := &s.stream.shards[shard0][12] // 102
	agg.PartitionKey = aws.String("a")
	agg.Data = kpl.Aggregate([]kpl.Record{{PartitionKey: "sensor-0002", Data: []byte(`{"n":1}`)}, {PartitionKey: "sensor-0003", Data: []byte(`{"n":2}`)}})
	s.queue.send("m1", onFailureBody(testStream, shard0, "100", "104", 5))
	opts := s.options()
	opts.Writer = ToStream(func(string) (producer.API, error) { return s.stream, nil }, "")
	sum, err := Run(context.Background(), opts)
	if err != nil || sum.Redriven != 1 || sum.RecordsWritten != 5 {
		t.Fatalf("Run = %+v, %v", sum, err)
	}
	want := []string{"", "", "269721240976696183603568197086026895243", "", ""} // MD5("sensor-0002")
	if d := cmp.Diff(want, s.stream.putHashKeys); d != "" {
		t.Errorf("explicit hash keys put (-want +got):\n%s", d)
	}
}

func TestRunValidatesOptions(t *testing.T) {
	s := newUnitSetup(t)
	for name, mutate := range map[string]func(o *Options){
		"no queue":   func(o *Options) { o.Queue = nil },
		"no URL":     func(o *Options) { o.QueueURL = "" },
		"no streams": func(o *Options) { o.Streams = nil },
		"no writer":  func(o *Options) { o.Writer = nil },
		"bad max":    func(o *Options) { o.Max = -1 },
	} {
		o := s.options()
		mutate(&o)
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%s) = nil error", name)
		}
	}
}

func TestReplayFromPointInTime(t *testing.T) {
	f := newFakeStream()
	f.add(shard0, seqs(90, 130)...) // arrivals 1.5 ms apart from 13:00:00
	f.add("shardId-000000000001", seqs(1, 20)...)
	f.pageSize = 7
	sink := newMemSink()
	w, err := ToS3(sink, S3Config{Bucket: "b", Prefix: DefaultReplayPrefix})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	opts := ReplayOptions{Stream: f, StreamARN: testStream, From: base.Add(15 * time.Millisecond), Until: base.Add(30 * time.Millisecond), Writer: w}
	sum, err := Replay(context.Background(), opts)
	if err != nil || !sum.OK() {
		t.Fatalf("Replay = %+v, %v", sum, err)
	}
	// Records 10..20 of each shard arrived in [15 ms, 30 ms].
	want := map[string][2]string{shard0: {"100", "110"}, "shardId-000000000001": {"11", "20"}}
	for _, sh := range sum.Shards {
		w := want[sh.ShardID]
		if sh.FirstSequenceNumber != w[0] || sh.LastSequenceNumber != w[1] || sh.RecordsWritten != sh.RecordsRead || len(sh.Objects) != 1 {
			t.Errorf("shard %+v; want %s..%s in one object", sh, w[0], w[1])
		}
	}
	if sum.RecordsWritten != 21 || len(sink.objects) != 2 {
		t.Errorf("written %d records in %d objects; want 21 in 2", sum.RecordsWritten, len(sink.objects))
	}
	keys := sink.keys()
	sort.Strings(keys)
	// Again: the same keys, nothing more.
	if _, err := Replay(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	again := sink.keys()
	sort.Strings(again)
	if d := cmp.Diff(keys, again); d != "" || !strings.HasPrefix(keys[0], "replayed/year=2026/month=11/day=21/hour=13/") {
		t.Errorf("second replay keys (-first +second):\n%s", d)
	}
	// Up to the tip, with a filter, dry run.
	opts.Until, opts.DryRun = time.Time{}, true
	opts.Filter = func(data []byte) bool { return !strings.Contains(string(data), `"device_id":"device-0"`) }
	sum, err = Replay(context.Background(), opts)
	if err != nil || sum.RecordsRead != 31+10 || sum.RecordsFiltered != 13 || sum.RecordsWritten != 0 || sum.Objects != 2 {
		t.Errorf("dry replay to the tip = %+v, %v; want 41 read, 13 filtered, nothing written, 2 objects planned", sum, err)
	}
	// A From finer than the millisecond AT_TIMESTAMP positions to: records of
	// that millisecond before From are not replayed (record 10 arrived at 15 ms,
	// record 11 at 16.5 ms).
	opts = ReplayOptions{Stream: f, StreamARN: testStream, From: base.Add(15*time.Millisecond + 500*time.Microsecond), Until: base.Add(30 * time.Millisecond), Writer: w, DryRun: true}
	if sum, err := Replay(context.Background(), opts); err != nil || sum.Shards[0].FirstSequenceNumber != "101" || sum.RecordsRead != 19 {
		t.Errorf("replay from 15.5 ms = %+v, %v; want shard 0 from 101, 19 records", sum, err)
	}
	for name, tc := range map[string]struct {
		o    ReplayOptions
		want string
	}{
		"no from":      {ReplayOptions{Stream: f, StreamARN: testStream, Writer: w}, "needs a point in time"},
		"until before": {ReplayOptions{Stream: f, StreamARN: testStream, Writer: w, From: base, Until: base.Add(-time.Second)}, "replay until 2026-11-21T12:59:59Z is before from 2026-11-21T13:00:00Z"},
		// Records arriving after the start would be read (and, put back, read
		// again), and a rerun would read others.
		"until in the future": {ReplayOptions{Stream: f, StreamARN: testStream, Writer: w, From: base, Until: time.Now().Add(time.Minute)}, "is after the replay's start"},
		"from in the future":  {ReplayOptions{Stream: f, StreamARN: testStream, Writer: w, From: time.Now().Add(time.Minute)}, "is after its end"},
		"not a stream":        {ReplayOptions{Stream: f, StreamARN: "arn:aws:sqs:us-east-1:1:q", Writer: w, From: base}, "stream"},
		"no writer":           {ReplayOptions{Stream: f, StreamARN: testStream, From: base}, "needs a Kinesis client and a writer"},
	} {
		if _, err := Replay(context.Background(), tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Replay(%s) error = %v; want one containing %q", name, err, tc.want)
		}
	}
}

// TestParseStreamARNPartitions: stream ARNs of every partition are accepted,
// and the region and name come from the ARN.
func TestParseStreamARNPartitions(t *testing.T) {
	for _, tc := range []struct{ arn, region, name string }{
		{"arn:aws:kinesis:us-east-1:123456789012:stream/s", "us-east-1", "s"},
		{"arn:aws-cn:kinesis:cn-north-1:123456789012:stream/sensor-stream", "cn-north-1", "sensor-stream"},
		{"arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/s.1_x", "us-gov-west-1", "s.1_x"},
	} {
		region, name, err := parseStreamARN(tc.arn)
		if err != nil || region != tc.region || name != tc.name {
			t.Errorf("parseStreamARN(%s) = %q, %q, %v; want %q, %q", tc.arn, region, name, err, tc.region, tc.name)
		}
	}
}

// A replay whose iterator expires, with records trimmed before it is renewed,
// fails the shard instead of going on from the oldest record left.
func TestReplayTrimmedDuringRenewal(t *testing.T) {
	base := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		trim     string
		wantRead int
		wantErr  string // "" = the shard is replayed
	}{
		{"records before the last one read trimmed", "92", 41, ""},
		{"records after the last one read trimmed", "100", 3, "renewed at the last record read, 92, it starts at 100"},
		{"every record trimmed", "200", 3, "no record at or after 92, the last record read, is left"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStream()
			f.add(shard0, seqs(90, 130)...)
			f.pageSize, f.expireAfter, f.trimOnExpire = 3, 2, tc.trim
			w, err := ToS3(newMemSink(), S3Config{Bucket: "b", Prefix: DefaultReplayPrefix})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := Replay(context.Background(), ReplayOptions{Stream: f, StreamARN: testStream, From: base, Until: base.Add(time.Minute), Writer: w})
			if err != nil {
				t.Fatal(err)
			}
			sh := sum.Shards[0]
			if sh.RecordsRead != tc.wantRead || !strings.Contains(sh.Error, tc.wantErr) || (tc.wantErr == "") != sum.OK() {
				t.Errorf("Replay with records below %s trimmed at the renewal: shard %+v; want %d read and error %q", tc.trim, sh, tc.wantRead, tc.wantErr)
			}
		})
	}
}

// Throttled reads are waited out, for a bounded time.
func TestReadsWaitOutThrottling(t *testing.T) {
	defer func(b backoff) { throttleBackoff = b }(throttleBackoff)
	throttleBackoff = backoff{first: time.Millisecond, max: 4 * time.Millisecond, total: 20 * time.Millisecond}
	base := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name            string
		iterators, gets int // calls throttled
		wantThrottled   bool
	}{
		{"GetRecords throttled three times", 0, 3, false},
		{"GetShardIterator throttled three times", 3, 0, false},
		{"GetRecords throttled past the bound", 0, 1000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStream()
			f.add(shard0, seqs(90, 110)...)
			f.throttleIterators, f.throttleGets = tc.iterators, tc.gets
			got, err := readAll(t, f, Range{StreamARN: testStream, ShardID: shard0, StartSequenceNumber: "95", EndSequenceNumber: "100"})
			var pe *kintypes.ProvisionedThroughputExceededException
			if tc.wantThrottled {
				if !errors.As(err, &pe) || f.throttleGets < 1000-10 {
					t.Errorf("read with GetRecords always throttled: error %v after %d calls; want the throttling error after a few", err, 1000-f.throttleGets)
				}
				return
			}
			if d := cmp.Diff(seqs(95, 100), got); err != nil || d != "" {
				t.Errorf("read 95..100 = %v; records (-want +got):\n%s", err, d)
			}

			f = newFakeStream()
			f.add(shard0, seqs(90, 110)...)
			f.throttleIterators, f.throttleGets = tc.iterators, tc.gets
			w, err := ToS3(newMemSink(), S3Config{Bucket: "b"})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := Replay(context.Background(), ReplayOptions{Stream: f, StreamARN: testStream, From: base, Until: base.Add(time.Minute), Writer: w})
			if err != nil || !sum.OK() || sum.RecordsWritten != 21 {
				t.Errorf("Replay = %+v, %v; want 21 records written", sum, err)
			}
		})
	}
}

// TestRunOverlappingRangesKeepEveryQuarantinedRecord: with
// ParallelizationFactor > 1 two failed batches of one shard interleave, so
// their ranges overlap (here 95..99 and 96..98). A record the transform rejects
// in the overlap (97) must not make the second message's quarantine object
// replace the first one's: record 99, rejected in the first range only, must
// still be in a latest quarantine object, as every processed record is.
func TestRunOverlappingRangesKeepEveryQuarantinedRecord(t *testing.T) {
	s := newUnitSetup(t)
	for i, r := range s.stream.shards[shard0] {
		if seq := aws.ToString(r.SequenceNumber); seq == "97" || seq == "99" {
			s.stream.shards[shard0][i].Data = []byte(`{"device_id":"device-1","timestamp":"yesterday"}`)
		}
	}
	s.queue.send("lane-a", onFailureBody(testStream, shard0, "95", "99", 3))
	s.queue.send("lane-b", onFailureBody(testStream, shard0, "96", "98", 2))
	sum, err := Run(context.Background(), s.options())
	if err != nil || sum.Redriven != 2 {
		t.Fatalf("Run = %+v, %v; want both messages redriven", sum, err)
	}
	quarantined := storedSeqs(t, s.sink, "redriven-quarantine/")
	if d := cmp.Diff(map[string]bool{"97": true, "99": true}, quarantined); d != "" {
		t.Errorf("records in the latest quarantine objects (-want +got):\n%s", d)
	}
}

// deletedAwareQueue is a fakeQueue on which, as on SQS, a visibility change of
// a deleted message fails ("Message does not exist or is not available for
// visibility timeout change", as in vmihailenco/taskq#29), and whose
// DeleteMessage returns only after an extension that began after the delete
// has ended: the keeper's next tick falls between a message's delete and the
// end of its handling.
type deletedAwareQueue struct {
	*fakeQueue
	mu      sync.Mutex
	deleted map[string]bool // receipt handles
	calls   int             // extensions ended
}

func (q *deletedAwareQueue) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	out, err := q.fakeQueue.DeleteMessage(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	q.mu.Lock()
	q.deleted[aws.ToString(in.ReceiptHandle)] = true
	before := q.calls
	q.mu.Unlock()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		q.mu.Lock()
		n := q.calls
		q.mu.Unlock()
		if n > before {
			break
		}
	}
	return out, nil
}

func (q *deletedAwareQueue) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	q.mu.Lock()
	defer func() { q.calls++; q.mu.Unlock() }()
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		if q.deleted[aws.ToString(e.ReceiptHandle)] {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameterValue"), SenderFault: true,
				Message: aws.String("Value " + aws.ToString(e.ReceiptHandle) + " for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.")})
			continue
		}
		out.Successful = append(out.Successful, sqstypes.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

// TestRunDoesNotExtendWhatItDeletes: the keeper must not extend a message
// the run is deleting or has deleted, or the failed change of a deleted
// message is reported as the visibility error, and the summary says messages
// reappeared when none did.
func TestRunDoesNotExtendWhatItDeletes(t *testing.T) {
	s := newUnitSetup(t)
	s.queue.send("m1", `{"hello":"world"}`) // left in the queue: held, extended
	s.queue.send("m2", onFailureBody(testStream, shard0, "95", "99", 5))
	q := &deletedAwareQueue{fakeQueue: s.queue, deleted: map[string]bool{}}
	opts := s.options()
	opts.Queue, opts.VisibilityTimeout = q, 300*time.Millisecond
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Redriven != 1 || sum.Invalid != 1 || sum.ReceivedAgain != 0 {
		t.Errorf("summary = %+v; want m2 redriven and m1 left", sum)
	}
	if sum.VisibilityError != "" {
		t.Errorf("visibility error %q; want none: only the deleted message's change failed", sum.VisibilityError)
	}
}

// failingShards fails ListShards, as a stream that does not exist or a missing
// kinesis:ListShards permission does.
type failingShards struct{ *fakeStream }

func (failingShards) ListShards(context.Context, *kinesis.ListShardsInput, ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	return nil, errors.New("ResourceNotFoundException: stream not found")
}

// TestReplaySummaryShardsNotNull: the summary that --json prints when the
// replay cannot list the stream's shards has "shards": [], as a redrive's has
// "messages": [], not null.
func TestReplaySummaryShardsNotNull(t *testing.T) {
	w, err := ToS3(newMemSink(), S3Config{Bucket: "b", Prefix: DefaultReplayPrefix})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	sum, err := Replay(context.Background(), ReplayOptions{Stream: failingShards{newFakeStream()}, StreamARN: testStream, From: base, Until: base.Add(time.Minute), Writer: w})
	if err == nil || sum == nil {
		t.Fatalf("Replay with ListShards failing = %+v, %v; want a summary and an error", sum, err)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"shards":[]`) {
		t.Errorf("summary JSON %s; want \"shards\":[]", b)
	}
}
