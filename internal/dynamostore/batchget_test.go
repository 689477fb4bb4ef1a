package dynamostore_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/summary"
)

// unprocessedClient returns every other BatchGetItem call's keys all as
// UnprocessedKeys, and passes on all but the last of the others' keys,
// returning that one as UnprocessedKeys, as DynamoDB does for a throttled batch
// or one whose response would exceed 16 MB.
type unprocessedClient struct {
	dynamostore.API
	mu                     sync.Mutex
	calls, unprocessed     int
	maxKeys, projectedKeys int
}

func (c *unprocessedClient) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	req := map[string]types.KeysAndAttributes{}
	rest := map[string]types.KeysAndAttributes{}
	c.mu.Lock()
	c.calls++
	if c.calls%2 == 1 {
		for _, ka := range in.RequestItems {
			c.unprocessed += len(ka.Keys)
		}
		c.mu.Unlock()
		return &dynamodb.BatchGetItemOutput{UnprocessedKeys: in.RequestItems}, nil
	}
	for table, ka := range in.RequestItems {
		c.maxKeys = max(c.maxKeys, len(ka.Keys))
		if ka.ProjectionExpression != nil {
			c.projectedKeys += len(ka.Keys)
		}
		n := max(len(ka.Keys)-1, 1)
		keep, left := ka, ka
		keep.Keys, left.Keys = ka.Keys[:n], ka.Keys[n:]
		req[table] = keep
		if len(left.Keys) > 0 {
			rest[table] = left
			c.unprocessed += len(left.Keys)
		}
	}
	c.mu.Unlock()
	out, err := c.API.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req}, optFns...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedKeys = rest
	return out, nil
}

// TestBatchGetRetriesUnprocessedKeys runs the reads that use BatchGetItem (a
// contribution's blob and the extremes it may change, when an object is
// overwritten; Get of more than 100 keys) against a table that leaves n of
// every batch unprocessed: every item is still read.
func TestBatchGetRetriesUnprocessedKeys(t *testing.T) {
	e := newEnv(t)
	uc := &unprocessedClient{}
	h := e.harness(t, func(api dynamostore.API) dynamostore.API { uc.API = api; return uc })
	k := objectKey(1, 1)
	first := readings(31, 400, 40, 4)
	h.handle(t, message(h.notification(k, h.put(t, k, body(first, "a")))))
	second := readings(32, 400, 40, 4) // overwrites k: the old contribution is read back
	h.handle(t, message(h.notification(k, h.put(t, k, body(second, "b")))))
	want := expected(t, second)
	h.check(t, want, false) // an overwrite does not retract extremes

	keys := slices.SortedFunc(maps.Keys(want), func(a, b summary.Key) int {
		if a.PK != b.PK {
			return compareStrings(a.PK, b.PK)
		}
		return compareStrings(a.SK, b.SK)
	})
	if len(keys) <= 100 {
		t.Fatalf("the test has %d summary keys; want more than one BatchGetItem's 100", len(keys))
	}
	got, err := h.store.Get(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	table, err := h.store.ScanSummaries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	asked := map[summary.Key]*summary.Summary{}
	for _, k := range keys {
		asked[k] = table[k]
	}
	if d := summary.Compare(asked, got); len(d) > 0 || len(got) != len(want) {
		t.Errorf("Get(%d keys) = %d summaries, differences from the table %v; want %d and none", len(keys), len(got), d, len(want))
	}
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if uc.unprocessed == 0 || uc.projectedKeys == 0 {
		t.Errorf("BatchGetItem left %d keys unprocessed, %d projected; want the retries and the extremes read exercised", uc.unprocessed, uc.projectedKeys)
	}
	if uc.maxKeys > 100 {
		t.Errorf("a BatchGetItem call asked for %d keys; the API allows 100", uc.maxKeys)
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
