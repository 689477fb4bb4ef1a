package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamlake/streamlake/internal/summary"
)

// errConflict means another writer changed an item this step depended on: the
// caller re-reads the contribution item and starts over from what it finds.
var errConflict = errors.New("concurrent change")

func defaultBackoff(round int) time.Duration {
	d := 10 * time.Millisecond << min(round, 7)
	return time.Duration(rand.Int64N(int64(d))) + time.Millisecond
}

// Apply implements summary.Store: it makes the table reflect c as the contribution
// of objectKey at etag, exactly once (see the package documentation).
func (s *Store) Apply(ctx context.Context, objectKey, etag string, c *summary.Contribution) (summary.ApplyResult, error) {
	var res summary.ApplyResult
	if etag == "" {
		return res, errors.New("apply: empty etag")
	}
	if c == nil {
		c = &summary.Contribution{}
	}
	key := ContributionKey(objectKey)
	var encoded *summary.Contribution
	var parts [][]byte
	conflict := false
	// attempted: a transition of this call failed with a conflict, which may
	// have been its own write committing unseen (an answer lost and the call
	// sent again after the ClientRequestToken's 10 minutes, or the SDK giving
	// up on TransactionInProgressException while it commits), or another
	// aggregator's applying the same ETag. Finding the ETag applied then is no
	// proof of either: the result says so (Unconfirmed).
	attempted := false
	for round := 0; ; round++ {
		if round >= s.maxRounds {
			return res, fmt.Errorf("apply %s: still conflicting after %d rounds", objectKey, round)
		}
		if conflict {
			if err := sleep(ctx, s.backoff(round)); err != nil {
				return res, err
			}
		}
		st, err := s.readState(ctx, key)
		if err != nil {
			return res, err
		}
		if st.pendingETag != "" {
			err := s.finish(ctx, objectKey, st, nil, nil, &res)
			if conflict = errors.Is(err, errConflict); conflict {
				continue
			}
			if err != nil {
				return res, err
			}
			res.Resumed++
			continue
		}
		if st.exists && st.etag == etag {
			res.Duplicate = res.Transactions == 0
			res.Unconfirmed = res.Duplicate && attempted
			return res, nil
		}
		if encoded == nil {
			// Work from the decoded encoding, exactly as a resuming aggregator
			// will, so that both compute the same chunks.
			blob, err := c.MarshalBinary()
			if err != nil {
				return res, err
			}
			if encoded, err = decodeContribution(blob); err != nil {
				return res, err
			}
			if parts = splitBlob(blob); len(parts) > maxBlobParts {
				return res, fmt.Errorf("object %s: %w (%d bytes encoded for %d summary keys; at most %d)",
					objectKey, ErrContributionTooLarge, len(blob), len(c.Summaries), MaxContributionBytes)
			}
		}
		err = s.transition(ctx, objectKey, st, etag, encoded, parts, &res)
		if conflict = errors.Is(err, errConflict); conflict {
			attempted = true
			continue
		}
		return res, err
	}
}

func (s *Store) readState(ctx context.Context, key summary.Key) (*contributionState, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyAttrs(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get contribution %s: %w", key.PK, err)
	}
	st, err := decodeState(out.Item)
	if err != nil {
		return nil, fmt.Errorf("contribution %s: %w", key.PK, err)
	}
	return st, nil
}

// splitBlob cuts an encoded contribution into blob item parts.
func splitBlob(b []byte) [][]byte {
	return slices.Collect(slices.Chunk(b, blobPartBytes))
}

// readBlob reads and decodes the contribution stored in parts blob items at rev;
// no parts is no contribution. A missing part means a concurrent finalization
// deleted it: errConflict.
func (s *Store) readBlob(ctx context.Context, objectKey string, rev int64, parts int) (*summary.Contribution, error) {
	if parts == 0 {
		return nil, nil
	}
	keys := make([]map[string]types.AttributeValue, parts)
	for i := range keys {
		keys[i] = keyAttrs(blobKey(objectKey, rev, i))
	}
	got := map[string][]byte{}
	err := s.batchGet(ctx, "contribution of "+objectKey, keys, types.KeysAndAttributes{}, func(item map[string]types.AttributeValue) error {
		sk, _ := getString(item, attrSK)
		if b, ok := item[attrData].(*types.AttributeValueMemberB); ok {
			got[sk] = b.Value
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var blob []byte
	for i := 0; i < parts; i++ {
		b, ok := got[blobKey(objectKey, rev, i).SK]
		if !ok {
			return nil, fmt.Errorf("contribution of %s: part %d of revision %d is missing: %w", objectKey, i, rev, errConflict)
		}
		blob = append(blob, b...)
	}
	c, err := decodeContribution(blob)
	if err != nil {
		return nil, fmt.Errorf("contribution of %s (revision %d): %w", objectKey, rev, err)
	}
	return c, nil
}

// putParts returns the actions writing parts as the blob items of revision rev.
func (s *Store) putParts(objectKey string, rev int64, parts [][]byte) []types.TransactWriteItem {
	out := make([]types.TransactWriteItem, 0, len(parts))
	for i, p := range parts {
		item := keyAttrs(blobKey(objectKey, rev, i))
		item[attrData] = &types.AttributeValueMemberB{Value: p}
		if s.ttlAttr != "" {
			item[s.ttlAttr] = num(s.now().Add(s.ttl).Unix())
		}
		out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}})
	}
	return out
}

// deleteParts returns the actions deleting the blob items of revision rev.
func (s *Store) deleteParts(objectKey string, rev int64, parts int) []types.TransactWriteItem {
	out := make([]types.TransactWriteItem, 0, parts)
	for i := 0; i < parts; i++ {
		out = append(out, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: keyAttrs(blobKey(objectKey, rev, i))}})
	}
	return out
}

// transition replaces the applied contribution described by st with c (at etag,
// encoded as parts). When everything fits one transaction (the changed
// summaries, the contribution item, the new blob items and the deletion of the
// old ones: at most 100 actions), it is one transaction. Otherwise a first
// transaction records the pending transition (new ETag, its blob items, the chunk
// count) and bumps the revision; then every chunk of ChunkSize changes is a
// transaction that also adds its index to done, and a last transaction makes the
// pending contribution the applied one and deletes the old blob items.
func (s *Store) transition(ctx context.Context, objectKey string, st *contributionState, etag string, c *summary.Contribution, parts [][]byte, res *summary.ApplyResult) error {
	key := ContributionKey(objectKey)
	old, err := s.readBlob(ctx, objectKey, st.appliedRev, st.appliedParts)
	if err != nil {
		return err
	}
	changes := summary.Diff(old, c)
	res.Changes = len(changes)

	ce := newExpr()
	if st.exists {
		ce.cond(ce.n(attrRev) + " = " + ce.v(num(st.rev)))
		ce.cond("attribute_not_exists(" + ce.n(attrPendingETag) + ")")
	} else {
		ce.cond("attribute_not_exists(" + ce.n(attrPK) + ")")
	}
	next := st.rev + 1
	ce.set(attrRev, num(next))

	if len(changes) <= s.chunkSize && len(changes)+1+len(parts)+st.appliedParts <= summary.MaxTransactionActions {
		s.setApplied(ce, etag, next, len(parts), c)
		extra := append(s.putParts(objectKey, next, parts), s.deleteParts(objectKey, st.appliedRev, st.appliedParts)...)
		return s.commit(ctx, key, changes, ce, extra, res)
	}

	chunks := summary.Chunks(changes, s.chunkSize)
	ce.set(attrPendingETag, str(etag))
	ce.set(attrPendingParts, num(int64(len(parts))))
	ce.set(attrPendingChunks, num(int64(len(chunks))))
	ce.set(attrChunkSize, num(int64(s.chunkSize)))
	if err := s.commit(ctx, key, nil, ce, s.putParts(objectKey, next, parts), res); err != nil {
		return err
	}
	pending := &contributionState{exists: true, rev: next, etag: st.etag, appliedRev: st.appliedRev, appliedParts: st.appliedParts,
		pendingETag: etag, pendingParts: len(parts), chunks: len(chunks), chunkSize: s.chunkSize, done: map[int]bool{}}
	return s.finish(ctx, objectKey, pending, chunks, c, res)
}

// setApplied adds to ce what makes c (at etag, in blob items of revision rev) the
// item's applied contribution.
func (s *Store) setApplied(ce *expr, etag string, rev int64, parts int, c *summary.Contribution) {
	ce.set(attrETag, str(etag))
	ce.set(attrAppliedRev, num(rev))
	ce.set(attrAppliedParts, num(int64(parts)))
	ce.set(attrStats, statsValue(c.Stats))
	ce.set(attrRecords, num(c.Stats.Records))
	ce.set(attrSkipped, num(c.Stats.Skipped()))
	ce.set(attrSummaryKeys, num(int64(len(c.Summaries))))
	now := s.now()
	ce.set(attrUpdatedAt, str(now.UTC().Format(time.RFC3339Nano)))
	if s.ttlAttr != "" {
		ce.set(s.ttlAttr, num(now.Add(s.ttl).Unix()))
	}
}

// finish completes the pending transition described by st (its revision is the
// transition's): it applies the chunks not yet done, then makes the pending
// contribution the applied one. chunks and pending may be passed by the caller
// that began the transition; otherwise they are recomputed from the stored
// contributions, which is what makes a resumed transition apply the same chunks.
func (s *Store) finish(ctx context.Context, objectKey string, st *contributionState, chunks [][]summary.Change, pending *summary.Contribution, res *summary.ApplyResult) error {
	key := ContributionKey(objectKey)
	if chunks == nil {
		old, err := s.readBlob(ctx, objectKey, st.appliedRev, st.appliedParts)
		if err != nil {
			return err
		}
		if pending, err = s.readBlob(ctx, objectKey, st.rev, st.pendingParts); err != nil {
			return err
		}
		chunks = summary.Chunks(summary.Diff(old, pending), st.chunkSize)
	}
	if len(chunks) != st.chunks {
		return fmt.Errorf("contribution %s: pending transition has %d chunks, recomputed %d: cannot resume it safely", key.PK, st.chunks, len(chunks))
	}
	for i, ch := range chunks {
		if st.done[i] {
			continue
		}
		ce := newExpr()
		done := ce.n(attrDone)
		ce.cond(ce.n(attrRev) + " = " + ce.v(num(st.rev)))
		ce.cond("(attribute_not_exists(" + done + ") OR NOT contains(" + done + ", " + ce.v(num(int64(i))) + "))")
		ce.add(attrDone, &types.AttributeValueMemberNS{Value: []string{strconv.Itoa(i)}})
		if err := s.commit(ctx, key, ch, ce, nil, res); err != nil {
			return err
		}
		st.done[i] = true
	}
	ce := newExpr()
	ce.cond(ce.n(attrRev) + " = " + ce.v(num(st.rev)))
	ce.cond("size(" + ce.n(attrDone) + ") = " + ce.v(num(int64(len(chunks)))))
	ce.set(attrRev, num(st.rev+1))
	s.setApplied(ce, st.pendingETag, st.rev, st.pendingParts, pending)
	for _, a := range []string{attrPendingETag, attrPendingParts, attrPendingChunks, attrChunkSize, attrDone} {
		ce.remove(a)
	}
	return s.commit(ctx, key, nil, ce, s.deleteParts(objectKey, st.appliedRev, st.appliedParts), res)
}

// commit writes the summary changes, the extra actions (blob items) and the
// contribution item's update (ce) atomically. A cancelled transaction or failed
// condition is errConflict.
func (s *Store) commit(ctx context.Context, key summary.Key, changes []summary.Change, ce *expr, extra []types.TransactWriteItem, res *summary.ApplyResult) error {
	actions, err := s.summaryActions(ctx, changes)
	if err != nil {
		return err
	}
	actions = append(actions, extra...)
	actions = append(actions, ce.update(s.table, keyAttrs(key)))
	if len(actions) == 1 {
		u := actions[0].Update
		_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
			ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
			ExpressionAttributeValues: u.ExpressionAttributeValues,
		})
	} else {
		_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
	}
	if err != nil {
		return classify(key, err)
	}
	res.Transactions++
	res.WriteActions += len(actions)
	return nil
}

// classify maps a write error: conflicts become errConflict, anything else is
// returned with context. A single-item write (UpdateItem) on an item that an
// ongoing transaction holds fails with TransactionConflictException, which the
// SDK does not retry: a concurrent change too.
func classify(key summary.Key, err error) error {
	var ccf *types.ConditionalCheckFailedException
	var tip *types.TransactionInProgressException
	var tc *types.TransactionConflictException
	var tce *types.TransactionCanceledException
	switch {
	case errors.As(err, &ccf), errors.As(err, &tip), errors.As(err, &tc):
		return errConflict
	case errors.As(err, &tce):
		var reasons []string
		retryable := true
		for _, r := range tce.CancellationReasons {
			code := aws.ToString(r.Code)
			switch code {
			case "", "None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			default:
				retryable = false
				reasons = append(reasons, code+": "+aws.ToString(r.Message))
			}
		}
		if retryable {
			return errConflict
		}
		return fmt.Errorf("write summaries for %s: transaction cancelled: %s: %w", key.PK, strings.Join(reasons, "; "), err)
	}
	return fmt.Errorf("write summaries for %s: %w", key.PK, err)
}

// summaryActions builds one update per change. Counts and sums are added; an
// extreme is set only where it goes beyond the item's current value, read just
// before (consistently), and the update is conditioned on that still being so: a
// concurrent writer that moved the extreme further makes the transaction fail
// and the chunk is retried from a fresh read.
func (s *Store) summaryActions(ctx context.Context, changes []summary.Change) ([]types.TransactWriteItem, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	current, err := s.readExtremes(ctx, changes)
	if err != nil {
		return nil, err
	}
	actions := make([]types.TransactWriteItem, 0, len(changes)+1)
	for _, ch := range changes {
		cur := current[ch.Key]
		e := newExpr()
		if ch.Count != 0 {
			e.add(attrCount, num(ch.Count))
		}
		for _, name := range slices.Sorted(maps.Keys(ch.Fields)) {
			fc := ch.Fields[name]
			if fc.N != 0 {
				e.add(name+suffixN, num(fc.N))
			}
			// With the count, also a sum delta of 0: ADD creates the attribute,
			// so an item whose values add up to 0 holds <field>_sum 0 beside
			// <field>_n instead of no sum.
			if fc.N != 0 || !fc.Sum.IsZero() {
				e.add(name+suffixSum, dec(fc.Sum))
			}
			if fc.HasMin {
				lowerNumber(e, cur, name+suffixMin, fc.Min, -1)
			}
			if fc.HasMax {
				lowerNumber(e, cur, name+suffixMax, fc.Max, +1)
			}
		}
		if ch.HasFirst {
			lowerString(e, cur, attrFirst, summary.FormatTime(ch.First), -1)
		}
		if ch.HasLast {
			lowerString(e, cur, attrLast, summary.FormatTime(ch.Last), +1)
		}
		if e.empty() {
			continue // everything this change would do is already there
		}
		if s.ttlAttr != "" {
			if hour, err := ch.Key.Hour(); err == nil {
				e.set(s.ttlAttr, num(hour.Add(time.Hour+s.ttl).Unix()))
			}
		}
		actions = append(actions, e.update(s.table, keyAttrs(ch.Key)))
	}
	return actions, nil
}

// lowerNumber sets attr to v when v is beyond the current value in direction dir
// (-1: smaller, +1: larger), conditioned on that still holding at write time.
func lowerNumber(e *expr, cur map[string]types.AttributeValue, attr string, v summary.Decimal, dir int) {
	if c, ok, err := getNumber(cur, attr); err == nil && ok && v.Cmp(c)*dir <= 0 {
		return
	}
	n := e.n(attr)
	p := e.set(attr, dec(v))
	e.cond(extremeCondition(n, p, dir))
}

// lowerString is lowerNumber for the fixed-width time strings.
func lowerString(e *expr, cur map[string]types.AttributeValue, attr, v string, dir int) {
	if c, ok := getString(cur, attr); ok && strings.Compare(v, c)*dir <= 0 {
		return
	}
	n := e.n(attr)
	p := e.set(attr, str(v))
	e.cond(extremeCondition(n, p, dir))
}

func extremeCondition(name, value string, dir int) string {
	op := ">"
	if dir > 0 {
		op = "<"
	}
	return "(attribute_not_exists(" + name + ") OR " + name + " " + op + " " + value + ")"
}

// readExtremes reads, consistently, the extremes of the items the changes touch
// (only the attributes a change may lower or raise).
func (s *Store) readExtremes(ctx context.Context, changes []summary.Change) (map[summary.Key]map[string]types.AttributeValue, error) {
	attrs := map[string]bool{}
	for _, ch := range changes {
		if ch.HasFirst {
			attrs[attrFirst] = true
		}
		if ch.HasLast {
			attrs[attrLast] = true
		}
		for name, fc := range ch.Fields {
			if fc.HasMin {
				attrs[name+suffixMin] = true
			}
			if fc.HasMax {
				attrs[name+suffixMax] = true
			}
		}
	}
	out := map[summary.Key]map[string]types.AttributeValue{}
	if len(attrs) == 0 {
		return out, nil
	}
	e := newExpr()
	proj := []string{e.n(attrPK), e.n(attrSK)}
	for _, a := range slices.Sorted(maps.Keys(attrs)) {
		proj = append(proj, e.n(a))
	}
	keys := make([]map[string]types.AttributeValue, 0, len(changes))
	for _, ch := range changes {
		keys = append(keys, keyAttrs(ch.Key))
	}
	ka := types.KeysAndAttributes{ProjectionExpression: aws.String(strings.Join(proj, ", ")), ExpressionAttributeNames: e.names}
	err := s.batchGet(ctx, "summaries", keys, ka, func(item map[string]types.AttributeValue) error {
		pk, _ := getString(item, attrPK)
		sk, _ := getString(item, attrSK)
		out[summary.Key{PK: pk, SK: sk}] = item
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
