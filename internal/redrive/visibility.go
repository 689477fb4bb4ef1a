package redrive

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// changeVisibilityBatchMax is the most entries one ChangeMessageVisibilityBatch
// takes.
const changeVisibilityBatchMax = 10

// keeper keeps the messages a run holds hidden: from their receipt until they
// are deleted or released, it extends their visibility timeout every third of
// it (ChangeMessageVisibilityBatch, as the SQS developer guide advises for work
// that can outlast the timeout:
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html).
// A message that reappeared anyway (an extension failed, or SQS's 12-hour limit
// was reached) is received again by the run, which knows it (runner.again).
// Its methods are safe for concurrent use.
type keeper struct {
	queue   QueueAPI
	url     string
	timeout time.Duration

	// mu is held during an extension, so that once drop returns the message is
	// no longer extended, even by a call under way.
	mu   sync.Mutex
	held map[string]string // receipt handles by message ID
	// err is the last extension's failure ("" if none failed).
	err  string
	stop chan struct{}
	done chan struct{}
}

func newKeeper(queue QueueAPI, url string, timeout time.Duration) *keeper {
	return &keeper{queue: queue, url: url, timeout: timeout, held: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{})}
}

// start extends the messages held, until close.
func (k *keeper) start(ctx context.Context) { go k.run(ctx) }

func (k *keeper) run(ctx context.Context) {
	defer close(k.done)
	tick := time.NewTicker(k.timeout / 3)
	defer tick.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			k.extend(ctx)
		}
	}
}

// hold adds a message, or gives it its new receipt handle.
func (k *keeper) hold(id, receipt string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.held[id] = receipt
}

// drop stops extending a message (deleted, or about to be released).
func (k *keeper) drop(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.held, id)
}

// close stops the extensions, waits until none is under way and returns the
// messages still held: receipt handles by message ID.
func (k *keeper) close() map[string]string {
	close(k.stop)
	<-k.done
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.held
}

// failure returns the last extension's failure, or "".
func (k *keeper) failure() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// extend sets the visibility timeout of every message held to the run's, from
// now. A failure is only noted (failure): a message that reappears is received
// again, and the run knows it.
func (k *keeper) extend(ctx context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var entries []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	for _, receipt := range k.held {
		entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(strconv.Itoa(len(entries))), ReceiptHandle: aws.String(receipt), VisibilityTimeout: int32(k.timeout.Seconds())})
	}
	for len(entries) > 0 {
		n := min(len(entries), changeVisibilityBatchMax)
		out, err := k.queue.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(k.url), Entries: entries[:n]})
		switch {
		case err != nil && ctx.Err() == nil:
			k.err = err.Error()
		case err == nil && out != nil && len(out.Failed) > 0:
			f := out.Failed[0]
			k.err = fmt.Sprintf("%d of %d messages: %s: %s", len(out.Failed), n, aws.ToString(f.Code), aws.ToString(f.Message))
		}
		entries = entries[n:]
	}
}
