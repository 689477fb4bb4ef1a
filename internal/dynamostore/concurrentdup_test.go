package dynamostore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/s3store"
	"github.com/streamlake/streamlake/internal/summary"
)

// beforeFirstWrite runs hook before the first TransactWriteItems.
type beforeFirstWrite struct {
	dynamostore.API
	hook func()
	once sync.Once
}

func (c *beforeFirstWrite) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.once.Do(c.hook)
	return c.API.TransactWriteItems(ctx, in, opts...)
}

// TestConcurrentDuplicateCountedOnce: two aggregators handle notifications of
// the same object version at once; B applies it while A is about to, so A's
// transaction is cancelled and A finds the version applied. The version is
// counted once: as applied by B, as a duplicate by A.
func TestConcurrentDuplicateCountedOnce(t *testing.T) {
	e := newEnv(t)
	all := readings(7, 50, 4, 1)
	k := objectKey(3, 1)
	etag := e.put(t, k, body(all, "2026-11-21T13:40:06.000Z"))
	b := e.harness(t, nil)
	var stats []summary.BatchStats
	var mu sync.Mutex
	observe := summary.WithObserve(func(_ context.Context, s summary.BatchStats) {
		mu.Lock()
		stats = append(stats, s)
		mu.Unlock()
	})
	var w *beforeFirstWrite
	a := e.harness(t, func(api dynamostore.API) dynamostore.API {
		w = &beforeFirstWrite{API: api}
		return w
	})
	agg, err := summary.NewAggregator(s3store.NewReader(e.s3), a.store, summary.Config{}, summary.WithPrefix(prefix), observe)
	if err != nil {
		t.Fatal(err)
	}
	w.hook = func() { b.handle(t, message(e.notification(k, etag))) }
	if _, err := agg.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message(e.notification(k, etag))}}); err != nil {
		t.Fatal(err)
	}
	a.check(t, expected(t, all), false)
	if len(stats) != 1 || stats[0].Objects != 0 || stats[0].Duplicates != 1 {
		t.Errorf("aggregator A's batch stats = %+v; want the version counted as a duplicate (B applied it)", stats)
	}
}
