package dynamostore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/streamlake/streamlake/internal/dynamostore"
)

// resendOnce runs hook before the first GetItem, and sends the first
// TransactWriteItems twice, answering with the second answer: what happens when
// the answer to a committed transaction is lost and the call is sent again after
// its ClientRequestToken's 10 minutes (within them, DynamoDB, and the launcher's
// moto, answer the resend as the first call). The resend has a new token, so
// that it is cancelled.
type resendOnce struct {
	dynamostore.API
	hook     func()
	hookOnce sync.Once
	resent   bool
}

func (c *resendOnce) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.hookOnce.Do(c.hook)
	return c.API.GetItem(ctx, in, opts...)
}

func (c *resendOnce) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if !c.resent {
		c.resent = true
		if _, err := c.API.TransactWriteItems(ctx, in, opts...); err != nil {
			return nil, err
		}
		again := *in
		again.ClientRequestToken = nil // the SDK sets a new one
		return c.API.TransactWriteItems(ctx, &again, opts...)
	}
	return c.API.TransactWriteItems(ctx, in, opts...)
}

// TestCommittedWriteReportedAsConflict: aggregator A reads version 1 of an
// object; version 2 is written and aggregator B applies it; A then applies
// version 1 over it, and its transaction commits but A is told it was cancelled.
// A must not take version 1 for a duplicate: it checks the object again and
// applies version 2, so the summaries reflect the latest version.
func TestCommittedWriteReportedAsConflict(t *testing.T) {
	e := newEnv(t)
	const stamp1, stamp2 = "2026-11-21T13:40:06.000Z", "2026-11-21T13:41:00.000Z"
	all := readings(51, 200, 8, 2)
	k := objectKey(9, 1)
	b := e.harness(t, nil)
	var r *resendOnce
	a := e.harness(t, func(api dynamostore.API) dynamostore.API {
		r = &resendOnce{API: api}
		return r
	})
	e1 := e.put(t, k, body(all[:80], stamp1))
	r.hook = func() {
		// A has read version 1 from S3; version 2 arrives and B applies it.
		e2 := e.put(t, k, body(all, stamp2))
		b.handle(t, message(e.notification(k, e2)))
	}
	a.handle(t, message(e.notification(k, e1)))
	a.check(t, expected(t, all), false)
}
