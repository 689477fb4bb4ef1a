package redrive

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// TestRunOverlappingChunksKeepEveryRecord: message a's second chunk starts at
// the record where message b, whose range overlaps a's, starts. Keyed by their
// first record only, b's shorter chunk replaced a's object and a's last
// records were in no latest object version; keyed by first and last record,
// both objects stay.
func TestRunOverlappingChunksKeepEveryRecord(t *testing.T) {
	s := newUnitSetup(t)
	s.stream.shards[shard0] = nil
	s.stream.add(shard0, seqs(1000000, 1000000+ChunkRecords+10)...)
	first, bStart := 1000000, 1000000+ChunkRecords
	s.queue.send("a", onFailureBody(testStream, shard0, strconv.Itoa(first), strconv.Itoa(bStart+5), 100))
	s.queue.send("b", onFailureBody(testStream, shard0, strconv.Itoa(bStart), strconv.Itoa(bStart+2), 3))
	sum, err := Run(context.Background(), s.options())
	if err != nil || sum.Redriven != 2 {
		t.Fatalf("Run = %+v, %v", sum, err)
	}
	stored := storedSeqs(t, s.sink, "redriven/")
	for i := first; i <= bStart+5; i++ {
		if !stored[strconv.Itoa(i)] {
			t.Errorf("record %d of message a is in no latest object (objects %v)", i, s.sink.keys())
		}
	}
}

// storedSeqs returns the sequence numbers of the lines of every object under
// prefix in sink.
func storedSeqs(t *testing.T, sink *memSink, prefix string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for key, body := range sink.objects {
		if strings.HasPrefix(key, prefix) {
			for _, l := range gunzipLines(t, body) {
				out[l.Seq] = true
			}
		}
	}
	return out
}
