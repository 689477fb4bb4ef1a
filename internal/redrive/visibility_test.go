package redrive

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
)

// extensionLog records the receipt handles of every ChangeMessageVisibilityBatch.
type extensionLog struct {
	fakeQueue
	mu    sync.Mutex
	calls [][]string
}

func (l *extensionLog) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var handles []string
	for _, e := range in.Entries {
		handles = append(handles, aws.ToString(e.ReceiptHandle))
	}
	l.calls = append(l.calls, handles)
	return &sqs.ChangeMessageVisibilityBatchOutput{}, nil
}

// waitCalls waits until n more calls were logged and returns the last one.
func (l *extensionLog) waitCalls(t *testing.T, n int) []string {
	t.Helper()
	l.mu.Lock()
	want := len(l.calls) + n
	l.mu.Unlock()
	for range 1000 {
		l.mu.Lock()
		if len(l.calls) >= want {
			last := l.calls[len(l.calls)-1]
			l.mu.Unlock()
			return last
		}
		l.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d extensions", want)
	return nil
}

func TestKeeperExtendsMessagesHeld(t *testing.T) {
	log := &extensionLog{}
	k := newKeeper(log, "https://sqs.us-east-1.amazonaws.com/123456789012/failures", 30*time.Millisecond)
	for i := range 12 {
		k.hold(string(rune('a'+i)), string(rune('A'+i)))
	}
	k.start(context.Background())
	log.waitCalls(t, 2) // 12 handles: a batch of 10 and one of 2
	log.mu.Lock()
	sizes := []int{len(log.calls[0]), len(log.calls[1])}
	log.mu.Unlock()
	if d := cmp.Diff([]int{10, 2}, sizes); d != "" {
		t.Errorf("batch sizes (-want +got):\n%s", d)
	}
	for i := range 11 {
		k.drop(string(rune('a' + i)))
	}
	k.hold("l", "L2") // received again: its new receipt handle
	if d := cmp.Diff([]string{"L2"}, log.waitCalls(t, 1)); d != "" {
		t.Errorf("extended after the others were dropped (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"l": "L2"}, k.close()); d != "" {
		t.Errorf("held at close (-want +got):\n%s", d)
	}
	log.mu.Lock()
	n := len(log.calls)
	log.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	if log.mu.Lock(); len(log.calls) != n {
		t.Errorf("extended after close: %v", log.calls[n:])
	}
	log.mu.Unlock()
}
