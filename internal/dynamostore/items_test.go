package dynamostore_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamlake/streamlake/internal/dynamostore"
)

// TestZeroSumIsStored checks that a summary item whose field values add up to 0
// (a counter that stayed at 0, a sensor reading 0 all hour, +1.5 and -1.5) holds
// <field>_sum = 0 beside <field>_n, _min and _max, as every other item does: a
// reader computing sum / n (boto3, pandas, Athena) must not find the sum missing.
func TestZeroSumIsStored(t *testing.T) {
	h := newHarness(t)
	at := time.Date(2026, 11, 21, 10, 20, 0, 0, time.UTC)
	recs := []reading{
		{device: "zero", at: at, temp: "0"},
		{device: "zero", at: at.Add(time.Minute), temp: "0.0", hum: "1.5"},
		{device: "zero", at: at.Add(2 * time.Minute), temp: "-0", hum: "-1.5"},
	}
	key := objectKey(8, 1)
	h.handle(t, message(h.notification(key, h.put(t, key, body(recs, "2026-11-21T10:40:06.000Z")))))
	h.check(t, expected(t, recs), true)

	for _, pk := range []string{"DEVICE#zero", "FLEET"} {
		item := h.item(t, pk, "HOUR#2026-11-21T10")
		for attr, want := range map[string]string{
			"count": "3", "temperature_n": "3", "temperature_sum": "0", "temperature_min": "0", "temperature_max": "0",
			"humidity_n": "2", "humidity_sum": "0", "humidity_min": "-1.5", "humidity_max": "1.5",
		} {
			got, ok := item[attr].(*types.AttributeValueMemberN)
			if !ok || got.Value != want {
				t.Errorf("%s %s = %#v; want N %s", pk, attr, item[attr], want)
			}
		}
	}
}

// TestZeroTimeIsStored: Go's zero time, 0001-01-01T00:00:00Z (what a Go
// producer sends for a time it never set, and .NET's DateTime.MinValue), is a
// valid event time; the item of its hour keeps it as its first time.
func TestZeroTimeIsStored(t *testing.T) {
	h := newHarness(t)
	zero := time.Time{}
	recs := []reading{
		{device: "unset", at: zero.Add(30 * time.Minute), temp: "1"},
		{device: "unset", at: zero, temp: "2"},
	}
	key := objectKey(9, 1)
	h.handle(t, message(h.notification(key, h.put(t, key, body(recs, "2026-11-21T10:40:06.000Z")))))
	h.check(t, expected(t, recs), true)
	for _, pk := range []string{"DEVICE#unset", "FLEET"} {
		item := h.item(t, pk, "HOUR#0001-01-01T00")
		for attr, want := range map[string]string{"first": "0001-01-01T00:00:00.000000000Z", "last": "0001-01-01T00:30:00.000000000Z"} {
			if got, ok := item[attr].(*types.AttributeValueMemberS); !ok || got.Value != want {
				t.Errorf("%s %s = %#v; want S %s", pk, attr, item[attr], want)
			}
		}
	}
}

// conflictOnce answers the first UpdateItem with the TransactionConflictException
// DynamoDB returns for a single-item write on an item that an ongoing transaction
// holds, without sending it.
type conflictOnce struct {
	dynamostore.API
	mu   sync.Mutex
	done bool
}

func (c *conflictOnce) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.mu.Lock()
	first := !c.done
	c.done = true
	c.mu.Unlock()
	if first {
		return nil, &types.TransactionConflictException{Message: aws.String("Operation was rejected because there is an ongoing transaction for the item")}
	}
	return c.API.UpdateItem(ctx, in, opts...)
}

// TestUpdateItemTransactionConflict: the store writes the contribution item
// alone with UpdateItem (the finalization of a new object's transition in
// chunks), and DynamoDB rejects such a write with TransactionConflictException
// while another aggregator's transaction holds the item. That is a concurrent
// change like a cancelled transaction: Apply reads the item again and finishes,
// instead of failing the notification.
func TestUpdateItemTransactionConflict(t *testing.T) {
	e := newEnv(t)
	c := &conflictOnce{}
	h := e.harness(t, func(api dynamostore.API) dynamostore.API { c.API = api; return c }, dynamostore.WithChunkSize(5))
	recs := readings(31, 60, 6, 2)
	key := objectKey(9, 1)
	h.handle(t, message(h.notification(key, h.put(t, key, body(recs, "2026-11-21T13:40:06.000Z")))))
	if !c.done {
		t.Fatal("the store wrote no item with UpdateItem; the test exercises nothing")
	}
	h.check(t, expected(t, recs), true)
}

// alwaysConflicting answers every write as a failed condition and counts the
// contribution item reads (one per round of Apply).
type alwaysConflicting struct {
	dynamostore.API
	mu    sync.Mutex
	reads int
}

func (c *alwaysConflicting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.API.GetItem(ctx, in, opts...)
}

func (c *alwaysConflicting) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
}

func (c *alwaysConflicting) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"),
		CancellationReasons: []types.CancellationReason{{Code: aws.String("ConditionalCheckFailed")}}}
}

// TestMaxRounds: WithMaxRounds(n) bounds the conflicting rounds of one Apply
// to n, then Apply fails naming them.
func TestMaxRounds(t *testing.T) {
	e := newEnv(t)
	c := &alwaysConflicting{}
	h := e.harness(t, func(api dynamostore.API) dynamostore.API { c.API = api; return c }, dynamostore.WithMaxRounds(3))
	recs := readings(31, 60, 2, 2)
	key := objectKey(9, 2)
	b := body(recs, "2026-11-21T13:40:06.000Z")
	etag := h.put(t, key, b)
	_, err := h.store.Apply(context.Background(), key, etag, mustParse(t, key, b))
	if err == nil || !strings.Contains(err.Error(), "still conflicting after 3 rounds") {
		t.Errorf("Apply = %v; want an error after 3 conflicting rounds", err)
	}
	if c.reads != 3 {
		t.Errorf("Apply read the contribution item %d times; want once per round, 3", c.reads)
	}
}

// cancelOnce answers the first TransactWriteItems with a TransactionCanceledException
// whose reason is TransactionConflict, without sending it: DynamoDB cancels a
// transaction so when another transaction is writing one of its items
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
type cancelOnce struct {
	dynamostore.API
	mu   sync.Mutex
	done bool
}

func (c *cancelOnce) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	first := !c.done
	c.done = true
	c.mu.Unlock()
	if first {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("None")
		}
		reasons[0] = types.CancellationReason{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")}
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]"), CancellationReasons: reasons}
	}
	return c.API.TransactWriteItems(ctx, in, opts...)
}

// TestTransactionConflictIsRetried: a transaction cancelled for a
// TransactionConflict is a concurrent change: Apply reads again and finishes
// instead of failing the notification.
func TestTransactionConflictIsRetried(t *testing.T) {
	e := newEnv(t)
	c := &cancelOnce{}
	h := e.harness(t, func(api dynamostore.API) dynamostore.API { c.API = api; return c })
	recs := readings(32, 40, 4, 2)
	key := objectKey(9, 3)
	h.handle(t, message(h.notification(key, h.put(t, key, body(recs, "2026-11-21T13:40:06.000Z")))))
	if !c.done {
		t.Fatal("the store wrote no transaction; the test exercises nothing")
	}
	h.check(t, expected(t, recs), true)
}

// TestContributionItemStatistics: the contribution item records the object's
// line statistics (records, skipped, summaryKeys), as the package documents.
func TestContributionItemStatistics(t *testing.T) {
	h := newHarness(t)
	recs := readings(33, 30, 3, 2)
	var plain strings.Builder
	for i, r := range recs {
		plain.WriteString(r.line(i+1, "2026-11-21T13:40:06.000Z") + "\n")
	}
	plain.WriteString("not an output line\n")
	b := gzipBytes([]byte(plain.String()))
	key := objectKey(9, 4)
	etag := h.put(t, key, b)
	c := mustParse(t, key, b)
	if c.Stats.Skipped() == 0 {
		t.Fatalf("contribution stats %+v: want a skipped line", c.Stats)
	}
	if _, err := h.store.Apply(context.Background(), key, etag, c); err != nil {
		t.Fatal(err)
	}
	ck := dynamostore.ContributionKey(key)
	item := h.item(t, ck.PK, ck.SK)
	for attr, want := range map[string]int64{"records": c.Stats.Records, "skipped": c.Stats.Skipped(), "summaryKeys": int64(len(c.Summaries))} {
		if got, ok := item[attr].(*types.AttributeValueMemberN); !ok || got.Value != strconv.FormatInt(want, 10) {
			t.Errorf("contribution item %s = %#v; want N %d", attr, item[attr], want)
		}
	}
}

// consistencyChecker records reads that are not strongly consistent.
type consistencyChecker struct {
	dynamostore.API
	mu    sync.Mutex
	reads int
	loose []string
}

func (c *consistencyChecker) note(op string, consistent *bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	if !aws.ToBool(consistent) {
		c.loose = append(c.loose, op)
	}
}

func (c *consistencyChecker) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.note("GetItem", in.ConsistentRead)
	return c.API.GetItem(ctx, in, opts...)
}

func (c *consistencyChecker) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	for table, ka := range in.RequestItems {
		c.note("BatchGetItem "+table, ka.ConsistentRead)
	}
	return c.API.BatchGetItem(ctx, in, opts...)
}

// TestApplyReadsConsistently: every read Apply makes (the contribution item, the
// blob items of the applied contribution, the summaries' extremes) is strongly
// consistent. An eventually consistent read may miss a write that just
// committed (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html):
// a stale applied contribution would make Diff subtract the wrong values. moto
// reads consistently either way, so the requests are checked.
func TestApplyReadsConsistently(t *testing.T) {
	e := newEnv(t)
	c := &consistencyChecker{}
	h := e.harness(t, func(api dynamostore.API) dynamostore.API { c.API = api; return c })
	key := objectKey(9, 5)
	v1 := readings(34, 30, 3, 2)
	h.handle(t, message(h.notification(key, h.put(t, key, body(v1, "2026-11-21T13:40:06.000Z")))))
	v2 := readings(35, 30, 3, 2) // an overwrite: the applied contribution is read back
	h.handle(t, message(h.notification(key, h.put(t, key, body(v2, "2026-11-21T13:41:06.000Z")))))
	if c.reads == 0 || len(c.loose) > 0 {
		t.Errorf("%d reads, eventually consistent: %v; want every read strongly consistent", c.reads, c.loose)
	}
}
