package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streamlake/streamlake/internal/onfailure"
)

// fakeStream answers ListShards two shards a page, and GetRecords with the
// pages of each shard in turn (the iterator is "shard/page").
type fakeStream struct {
	shards []string
	pages  map[string][]fakePage
}

type fakePage struct {
	seqs   []string
	behind int64
}

func (f *fakeStream) ListShards(_ context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	if in.NextToken != nil && in.StreamARN != nil {
		return nil, fmt.Errorf("ListShards with both NextToken and StreamARN")
	}
	start := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &start)
	}
	end := min(start+2, len(f.shards))
	out := &kinesis.ListShardsOutput{}
	for _, id := range f.shards[start:end] {
		out.Shards = append(out.Shards, kintypes.Shard{ShardId: aws.String(id)})
	}
	if end < len(f.shards) {
		out.NextToken = aws.String(fmt.Sprint(end))
	}
	return out, nil
}

func (f *fakeStream) GetShardIterator(_ context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String(*in.ShardId + "/0")}, nil
}

func (f *fakeStream) GetRecords(_ context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	shard, n, _ := strings.Cut(*in.ShardIterator, "/")
	var i int
	fmt.Sscan(n, &i)
	pages := f.pages[shard]
	if i >= len(pages) {
		return &kinesis.GetRecordsOutput{NextShardIterator: in.ShardIterator, MillisBehindLatest: aws.Int64(0)}, nil
	}
	p := pages[i]
	out := &kinesis.GetRecordsOutput{MillisBehindLatest: aws.Int64(p.behind)}
	if !(i == len(pages)-1 && shard == "closed") {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s/%d", shard, i+1))
	}
	for _, s := range p.seqs {
		out.Records = append(out.Records, kintypes.Record{SequenceNumber: aws.String(s), Data: []byte(`{}`)})
	}
	return out, nil
}

// TestReadStreamReadsEverything: readStream lists every page of shards, reads
// on past empty pages behind the tip, and ends a closed shard at its last page.
func TestReadStreamReadsEverything(t *testing.T) {
	f := &fakeStream{
		shards: []string{"a", "b", "c", "closed"},
		pages: map[string][]fakePage{
			"a":      {{seqs: []string{"1", "2"}, behind: 5000}, {behind: 4000}, {behind: 100}, {seqs: []string{"3"}, behind: 0}},
			"b":      {{seqs: []string{"1"}, behind: 0}, {seqs: []string{"2"}, behind: 0}},
			"c":      {{seqs: []string{"7"}, behind: 0}},
			"closed": {{seqs: []string{"1"}, behind: 10}, {behind: 10}},
		},
	}
	stream, ids, err := readStream(context.Background(), f, "arn:aws:kinesis:us-east-1:123456789012:stream/s")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range ids {
		for _, r := range stream[id] {
			got = append(got, id+":"+r.seq)
		}
	}
	if want := "a:1 a:2 a:3 b:1 b:2 c:7 closed:1"; strings.Join(got, " ") != want {
		t.Errorf("readStream = %q; want %q", strings.Join(got, " "), want)
	}
}

// TestReportFailsWhenTheStreamHoldsOtherThanProduced: the verdict compares the
// records in the stream with the number the producer put.
func TestReportFailsWhenTheStreamHoldsOtherThanProduced(t *testing.T) {
	stream := []streamRecord{{shard: "s0", seq: "1", data: []byte(`{}`)}}
	processed := map[string][]objectLine{"processed/o": {{Shard: "s0", Seq: "1", Data: []byte(`{}`)}}}
	for _, tc := range []struct {
		produced *int64
		ok       bool
	}{{nil, true}, {aws.Int64(1), true}, {aws.Int64(2), false}} {
		rep := accountOf(t, stream, processed, nil)
		rep.Produced = tc.produced
		if rep.OK() != tc.ok {
			t.Errorf("1 record in the stream, produced %v: OK() = %v (failures %q); want %v", aws.ToInt64(tc.produced), rep.OK(), rep.Failures(), tc.ok)
		}
	}
}

// TestOnFailureRangesOfTheRunOnly: an on-failure record of another stream, or
// without an EndSequenceNumber, excuses no record and fails the report.
func TestOnFailureRangesOfTheRunOnly(t *testing.T) {
	const arn = "arn:aws:kinesis:us-east-1:123456789012:stream/run"
	f := &fakeStream{shards: []string{"a"}, pages: map[string][]fakePage{"a": {{seqs: []string{"1", "2", "3"}}}}}
	stream := map[string][]streamRecord{"a": {{shard: "a", seq: "1"}, {shard: "a", seq: "2"}, {shard: "a", seq: "3"}}}
	batch := func(streamARN, end string) onfailure.Record {
		var r onfailure.Record
		r.KinesisBatchInfo = onfailure.KinesisBatchInfo{ShardID: "a", StartSequenceNumber: "1", EndSequenceNumber: end, StreamARN: streamARN}
		return r
	}
	for _, tc := range []struct {
		name                  string
		failure               onfailure.Record
		wantDead, wantInvalid int
	}{
		{"the run's range", batch(arn, "3"), 3, 0},
		{"no end", batch(arn, ""), 0, 1},
		{"another stream", batch("arn:aws:kinesis:us-east-1:123456789012:stream/other", "3"), 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &Report{}
			if err := account(context.Background(), f, arn, stream, []string{"a"}, nil, nil, []onfailure.Record{tc.failure},
				func([]byte) bool { return true }, placement{}, rep); err != nil {
				t.Fatal(err)
			}
			if rep.DeadLettered != tc.wantDead || rep.Lost != 3-tc.wantDead || rep.InvalidOnFailure != tc.wantInvalid || rep.OK() != (tc.wantDead == 3) {
				t.Errorf("dead-lettered %d, lost %d, invalid %d, OK %v; want %d, %d, %d, %v",
					rep.DeadLettered, rep.Lost, rep.InvalidOnFailure, rep.OK(), tc.wantDead, 3-tc.wantDead, tc.wantInvalid, tc.wantDead == 3)
			}
		})
	}
}
