package summary

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// overlapStore fails when two Apply calls that share a summary key run at once,
// and records how many Apply calls ran at once at most.
type overlapStore struct {
	mu       sync.Mutex
	busy     map[Key]string
	inFlight int
	maxIn    int
	overlaps []string
	applied  int
}

func (s *overlapStore) Apply(_ context.Context, key, _ string, c *Contribution) (ApplyResult, error) {
	s.mu.Lock()
	for k := range c.Summaries {
		if other, ok := s.busy[k]; ok {
			s.overlaps = append(s.overlaps, fmt.Sprintf("%s and %s both apply %s", other, key, k))
		}
		s.busy[k] = key
	}
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	s.mu.Unlock()

	// Long enough for the batch's other objects, read and parsed concurrently,
	// to arrive while this one is applied.
	time.Sleep(50 * time.Millisecond)

	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range c.Summaries {
		if s.busy[k] == key {
			delete(s.busy, k)
		}
	}
	s.inFlight--
	s.applied++
	return ApplyResult{Changes: len(c.Summaries), Transactions: 1}, nil
}

// TestBatchAppliesObjectsWithSharedKeysOneAtATime: objects of one batch that
// touch the same fleet hour are applied one after the other (two transactions on
// one DynamoDB item at once cancel each other), objects of other hours in
// parallel.
func TestBatchAppliesObjectsWithSharedKeysOneAtATime(t *testing.T) {
	src := &fakeSource{}
	var msgs []events.SQSMessage
	for i, hour := range []int{10, 10, 10, 12, 12, 12} {
		key := fmt.Sprintf("processed/year=2026/month=11/day=21/hour=%02d/shardId-00000000000%d-1.ndjson", hour, i)
		at := time.Date(2026, 11, 21, hour, i, 0, 0, time.UTC)
		src.put(key, "e", ndBody([]testRecord{{device: fmt.Sprintf("sensor-%04d", i), at: at, temp: "21.5"}}))
		msgs = append(msgs, sqsMessage(fmt.Sprint(i), s3Body("b", key, "e", "ObjectCreated:Put")))
	}
	store := &overlapStore{busy: map[Key]string{}}
	a, err := NewAggregator(src, store, Config{}, WithPrefix("processed/"), WithConcurrency(6))
	if err != nil {
		t.Fatal(err)
	}
	if failed := invoke(t, a, events.SQSEvent{Records: msgs}); len(failed) != 0 {
		t.Fatalf("failed messages %v; want none", failed)
	}
	if store.applied != 6 {
		t.Errorf("%d objects applied; want 6", store.applied)
	}
	for _, o := range store.overlaps {
		t.Errorf("applied at once: %s", o)
	}
	if store.maxIn < 2 {
		t.Errorf("at most %d objects applied at once; want the two hours' objects in parallel", store.maxIn)
	}
}
