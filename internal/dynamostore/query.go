package dynamostore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamlake/streamlake/internal/summary"
)

// Item is one stored summary with its key.
type Item struct {
	Key     summary.Key
	Summary *summary.Summary
}

// Query returns the summaries of partition pk (summary.DevicePK(id) or
// summary.FleetPK) for the hours from the hour holding from to the hour holding to,
// inclusive, in hour order. It is one paginated Query with SK BETWEEN, never a
// Scan.
func (s *Store) Query(ctx context.Context, pk string, from, to time.Time) ([]Item, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("query %s: end %s is before start %s", pk, to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	e := newExpr()
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table),
		KeyConditionExpression: aws.String(e.n(attrPK) + " = " + e.v(str(pk)) + " AND " +
			e.n(attrSK) + " BETWEEN " + e.v(str(summary.HourSK(from))) + " AND " + e.v(str(summary.HourSK(to)))),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
	}
	var items []Item
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query summaries of %s: %w", pk, err)
		}
		for _, raw := range out.Items {
			k, sum, err := decodeSummary(raw, s.ttlAttr)
			if err != nil {
				return nil, err
			}
			items = append(items, Item{Key: k, Summary: sum})
		}
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Get reads the summaries with the given keys (BatchGetItem, consistent reads);
// keys without an item are absent from the result.
func (s *Store) Get(ctx context.Context, keys []summary.Key) (map[summary.Key]*summary.Summary, error) {
	out := map[summary.Key]*summary.Summary{}
	batch := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		batch = append(batch, keyAttrs(k))
	}
	err := s.batchGet(ctx, "summaries", batch, types.KeysAndAttributes{}, func(raw map[string]types.AttributeValue) error {
		k, sum, err := decodeSummary(raw, s.ttlAttr)
		if err != nil {
			return err
		}
		out[k] = sum
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// maxBatchGetKeys is the most keys one BatchGetItem call may ask for.
const maxBatchGetKeys = 100

// batchGet reads the items with keys by consistent BatchGetItem calls of at most
// maxBatchGetKeys keys each, with ka's projection, and calls each for every
// item found (in no particular order); keys without an item are skipped. It
// asks again, with backoff, for the keys DynamoDB returns as UnprocessedKeys (a
// batch over 16 MB or throttled); what names what is read in errors. An error
// from each stops the reads and is returned as is.
//
// See https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html.
func (s *Store) batchGet(ctx context.Context, what string, keys []map[string]types.AttributeValue, ka types.KeysAndAttributes, each func(item map[string]types.AttributeValue) error) error {
	ka.ConsistentRead = aws.Bool(true)
	for len(keys) > 0 {
		n := min(maxBatchGetKeys, len(keys))
		ka.Keys, keys = keys[:n], keys[n:]
		req := map[string]types.KeysAndAttributes{s.table: ka}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, s.backoff(attempt)); err != nil {
					return err
				}
			}
			resp, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return fmt.Errorf("read %s: %w", what, err)
			}
			for _, item := range resp.Responses[s.table] {
				if err := each(item); err != nil {
					return err
				}
			}
			req = resp.UnprocessedKeys
		}
	}
	return nil
}

// ScanSummaries reads every summary item of the table (device and fleet hours;
// contribution items are left out). It reads the whole table: it is meant for
// verification reports on test and local tables, not for serving queries (use
// Query).
func (s *Store) ScanSummaries(ctx context.Context) (map[summary.Key]*summary.Summary, error) {
	out := map[summary.Key]*summary.Summary{}
	in := &dynamodb.ScanInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true)}
	for {
		resp, err := s.client.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan summaries: %w", err)
		}
		for _, raw := range resp.Items {
			pk, _ := getString(raw, attrPK)
			if strings.HasPrefix(pk, contributionPrefix) { // contribution and blob items
				continue
			}
			k, sum, err := decodeSummary(raw, s.ttlAttr)
			if err != nil {
				return nil, err
			}
			out[k] = sum
		}
		if len(resp.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = resp.LastEvaluatedKey
	}
}

// Contribution describes the applied contribution of one object, as its
// contribution item records it.
type Contribution struct {
	// ETag of the object version whose contribution is applied ("" if none).
	ETag string
	// Contribution is the applied contribution (nil if none or empty).
	Contribution *summary.Contribution
	// PendingETag is set while a transition to another version is unfinished.
	PendingETag string
}

// Contribution reads the contribution item of objectKey; ok is false if there is
// none.
func (s *Store) Contribution(ctx context.Context, objectKey string) (c Contribution, ok bool, err error) {
	st, err := s.readState(ctx, ContributionKey(objectKey))
	if err != nil || !st.exists {
		return Contribution{}, false, err
	}
	applied, err := s.readBlob(ctx, objectKey, st.appliedRev, st.appliedParts)
	if err != nil {
		return Contribution{}, false, err
	}
	return Contribution{ETag: st.etag, Contribution: applied, PendingETag: st.pendingETag}, true, nil
}

// SortedItems returns the summaries of m as Items in key order.
func SortedItems(m map[summary.Key]*summary.Summary) []Item {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b summary.Key) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})
	items := make([]Item, 0, len(keys))
	for _, k := range keys {
		items = append(items, Item{Key: k, Summary: m[k]})
	}
	return items
}

// LatestHour returns the latest hour of partition pk that has data, and false
// when it has none. It reads the sort key range backwards one item at a time and
// stops at the first item whose count is not 0: an hour whose records all left
// (their object was overwritten without them) keeps an item of count 0, which is
// no data. Usually that is the first item, so one Query.
func (s *Store) LatestHour(ctx context.Context, pk string) (time.Time, bool, error) {
	e := newExpr()
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table),
		KeyConditionExpression: aws.String(e.n(attrPK) + " = " + e.v(str(pk)) + " AND " +
			e.n(attrSK) + " BETWEEN " + e.v(str(summary.HourSK(time.Time{}))) + " AND " + e.v(str(summary.HourSK(time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC))))),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
	}
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("query the latest summary of %s: %w", pk, err)
		}
		for _, item := range out.Items {
			k, sum, err := decodeSummary(item, s.ttlAttr)
			if err != nil {
				return time.Time{}, false, err
			}
			if sum.Count == 0 {
				continue
			}
			h, err := k.Hour()
			if err != nil {
				return time.Time{}, false, err
			}
			return h, true, nil
		}
		if len(out.LastEvaluatedKey) == 0 {
			return time.Time{}, false, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
