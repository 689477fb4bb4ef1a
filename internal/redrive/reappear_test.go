package redrive

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/motoserver"
)

// lapsingQueue is a moto queue whose ChangeMessageVisibilityBatch is refused,
// as when the caller lacks sqs:ChangeMessageVisibility: the messages a run
// holds and does not delete reappear once their visibility timeout lapses. It
// counts the receives of each message.
type lapsingQueue struct {
	*sqs.Client
	mu       sync.Mutex
	receives map[string]int
}

func (q *lapsingQueue) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return receiveEach(ctx, q.Client, &q.mu, in, optFns, func(m sqstypes.Message) {
		q.receives[aws.ToString(m.MessageId)]++
	})
}

func (q *lapsingQueue) ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	return nil, apiError("AccessDenied", "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:changemessagevisibility on resource: arn:aws:sqs:us-east-1:123456789012:failures")
}

// TestRedriveEndsWhenHandledMessagesKeepReappearing: the run's visibility
// extensions fail and its visibility timeout (1 s, as --visibility-timeout 1s
// gives) is shorter than a receive's wait (2 s), so every message the run has
// handled and left in the queue reappears within every receive's wait. SQS
// makes a message visible again once its visibility timeout lapses
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html),
// and a long poll returns as soon as a message is available
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html).
// The run must still end, once a wait passes with no message it has not
// received, handle each message once, leave those it could not redrive in the
// queue, and say why they reappeared. With --max above the number of
// messages, it must end the same way.
func TestRedriveEndsWhenHandledMessagesKeepReappearing(t *testing.T) {
	motoserver.ForTest(t)
	c := newClients(t)
	for _, max := range []int{0, 5} {
		t.Run(map[int]string{0: "all", 5: "max 5"}[max], func(t *testing.T) {
			ctx := context.Background()
			name := "redrive-reappear-all"
			if max > 0 {
				name = "redrive-reappear-max"
			}
			arn, queue, byShard := newStreamAndQueue(t, c, name, 1, 10)
			recs := byShard[shard0]
			seq := func(i int) string { return aws.ToString(recs[i].SequenceNumber) }
			want := map[string]Status{
				sendBody(t, c, queue, `{"hello":"world"}`):                            StatusInvalid,
				sendBody(t, c, queue, onFailureBody(arn, shard0, "1000", "1010", 11)): StatusExpired,
				sendBody(t, c, queue, onFailureBody(arn, shard0, seq(2), seq(5), 4)):  StatusRedriven,
			}
			q := &lapsingQueue{Client: c.sqs, receives: map[string]int{}}
			w := &handledWriter{Writer: mustS3Writer(t)}
			runCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			began := time.Now()
			sum, err := Run(runCtx, Options{QueueURL: queue, Queue: q, Writer: w, Max: max,
				Streams:           func(string) (StreamAPI, error) { return c.kin, nil },
				VisibilityTimeout: time.Second, WaitTime: 2 * time.Second})
			took := time.Since(began)
			if err != nil {
				t.Fatalf("Run after %s: %v; want it to end once only handled messages reappear", took.Round(time.Millisecond), err)
			}
			got := map[string]Status{}
			for _, m := range sum.Messages {
				got[m.MessageID] = m.Status
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			if sum.MessagesRead != 3 || sum.Redriven != 1 || sum.Invalid != 1 || sum.Expired != 1 || sum.LeftInQueue != 2 || w.writes != 1 {
				t.Errorf("Run = %+v, %d writes; want each message handled once, 1 redriven, 2 left", sum, w.writes)
			}
			again := 0
			for id, st := range want {
				if st != StatusRedriven && q.receives[id] < 2 {
					t.Errorf("message %s (%s) received %d times: the test did not play a reappearing message", id, st, q.receives[id])
				}
				again += q.receives[id] - 1
			}
			if sum.ReceivedAgain != again {
				t.Errorf("received again = %d; the queue delivered %d receives of messages already received", sum.ReceivedAgain, again)
			}
			for _, m := range sum.Messages {
				if m.Received != q.receives[m.MessageID] {
					t.Errorf("message %s: received %d; the queue delivered it %d times", m.MessageID, m.Received, q.receives[m.MessageID])
				}
			}
			if !strings.Contains(sum.VisibilityError, "sqs:changemessagevisibility") {
				t.Errorf("visibility error %q; want the refused extension", sum.VisibilityError)
			}
			// Left in the queue: visible again for the next run.
			out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 2, VisibilityTimeout: 30,
				MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
			if err != nil {
				t.Fatal(err)
			}
			left := map[string]Status{}
			for _, m := range out.Messages {
				left[aws.ToString(m.MessageId)] = want[aws.ToString(m.MessageId)]
			}
			for id, st := range want {
				if st == StatusRedriven {
					delete(want, id)
				}
			}
			if d := cmp.Diff(want, left); d != "" {
				t.Errorf("left in the queue (-want +got):\n%s", d)
			}
		})
	}
}
