package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/summary"
)

func TestDuplicateNotifications(t *testing.T) {
	h := newHarness(t)
	recs := readings(1, 300, 12, 3)
	key := objectKey(0, 1)
	etag := h.put(t, key, body(recs, "2026-11-21T13:40:06.000Z"))
	msg := h.notification(key, etag)

	// Twice in one batch (SQS at-least-once), then again in later batches.
	h.handle(t, message(msg), message(msg))
	first, _, _ := h.counter.snapshot()
	h.handle(t, message(msg))
	h.handle(t, message(msg), message(msg), message(msg))
	h.check(t, expected(t, recs), true)
	if again, _, _ := h.counter.snapshot(); again != first {
		t.Errorf("duplicate notifications wrote %d more actions; want 0", again-first)
	}
	c, ok, err := h.store.Contribution(context.Background(), key)
	if err != nil || !ok || c.ETag != etag || c.PendingETag != "" {
		t.Fatalf("Contribution(%s) = %+v, %v, %v; want applied etag %s", key, c, ok, err, etag)
	}
	if c.Contribution.Stats.Records != 300 || c.Contribution.Stats.NonNumeric["battery_level"] != 300 {
		t.Errorf("stored stats = %+v; want 300 records, 300 non-numeric battery_level", c.Contribution.Stats)
	}
}

func TestOverwrites(t *testing.T) {
	const stamp1, stamp2 = "2026-11-21T13:40:06.000Z", "2026-11-21T13:41:00.000Z"
	all := readings(2, 400, 15, 4)
	tests := []struct {
		name string
		// steps put objects (key index → records) and deliver notifications in
		// the given order; the expectation is the union of the latest versions.
		run      func(t *testing.T, h *harness) []reading
		extremes bool
	}{
		{"out of order: newer version notified first", func(t *testing.T, h *harness) []reading {
			k := objectKey(0, 1)
			e1 := h.put(t, k, body(all[:100], stamp1))
			e2 := h.put(t, k, body(all[:300], stamp2))
			h.handle(t, message(h.notification(k, e2)))
			h.handle(t, message(h.notification(k, e1)))
			return all[:300]
		}, true},
		{"in order: superset overwrite", func(t *testing.T, h *harness) []reading {
			k := objectKey(0, 1)
			e1 := h.put(t, k, body(all[:100], stamp1))
			h.handle(t, message(h.notification(k, e1)))
			e2 := h.put(t, k, body(all[:300], stamp2))
			h.handle(t, message(h.notification(k, e2)))
			h.handle(t, message(h.notification(k, e1))) // late duplicate of the old version
			return all[:300]
		}, true},
		{"overwrite with the same content", func(t *testing.T, h *harness) []reading {
			k := objectKey(0, 1)
			b := body(all[:200], stamp1)
			e1 := h.put(t, k, b)
			h.handle(t, message(h.notification(k, e1)))
			before, _, _ := h.counter.snapshot()
			e2 := h.put(t, k, b)
			if e1 != e2 {
				t.Fatalf("same bytes, different ETags %s, %s", e1, e2)
			}
			h.handle(t, message(h.notification(k, e2)))
			if after, _, _ := h.counter.snapshot(); after != before {
				t.Errorf("same content wrote %d actions; want 0", after-before)
			}
			return all[:200]
		}, true},
		{"same records, new processing time (new ETag)", func(t *testing.T, h *harness) []reading {
			k := objectKey(0, 1)
			e1 := h.put(t, k, body(all[:200], stamp1))
			h.handle(t, message(h.notification(k, e1)))
			before, _, _ := h.counter.snapshot()
			e2 := h.put(t, k, body(all[:200], stamp2))
			h.handle(t, message(h.notification(k, e2)))
			// Only the contribution item and its blob items change.
			if after, _, _ := h.counter.snapshot(); after-before != 3 {
				t.Errorf("rewrite with the same records wrote %d actions; want 3 (contribution item, new blob, old blob)", after-before)
			}
			return all[:200]
		}, true},
		{"bisect: prefix overwrite, rest in another object", func(t *testing.T, h *harness) []reading {
			k1, k2 := objectKey(0, 1), objectKey(0, 151)
			e1 := h.put(t, k1, body(all[:300], stamp1))
			h.handle(t, message(h.notification(k1, e1)))
			e2 := h.put(t, k1, body(all[:150], stamp2))
			e3 := h.put(t, k2, body(all[150:300], stamp2))
			h.handle(t, message(h.notification(k2, e3)), message(h.notification(k1, e2)))
			return all[:300]
		}, true},
		{"bisect: rest notified before the prefix", func(t *testing.T, h *harness) []reading {
			k1, k2 := objectKey(0, 1), objectKey(0, 151)
			e1 := h.put(t, k1, body(all[:300], stamp1))
			e2 := h.put(t, k1, body(all[:150], stamp2))
			e3 := h.put(t, k2, body(all[150:300], stamp2))
			h.handle(t, message(h.notification(k2, e3)))
			h.handle(t, message(h.notification(k1, e1)))
			h.handle(t, message(h.notification(k1, e2)))
			return all[:300]
		}, true},
		{"records leave for good: counts and sums retracted", func(t *testing.T, h *harness) []reading {
			k := objectKey(0, 1)
			e1 := h.put(t, k, body(all[:300], stamp1))
			h.handle(t, message(h.notification(k, e1)))
			e2 := h.put(t, k, body(all[:40], stamp2))
			h.handle(t, message(h.notification(k, e2)))
			return all[:40]
		}, false},
		{"empty object, then records", func(t *testing.T, h *harness) []reading {
			k := objectKey(0, 1)
			e1 := h.put(t, k, body(nil, stamp1))
			h.handle(t, message(h.notification(k, e1)))
			e2 := h.put(t, k, body(all[:50], stamp2))
			h.handle(t, message(h.notification(k, e2)))
			return all[:50]
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			want := tc.run(t, h)
			h.check(t, expected(t, want), tc.extremes)
			// The report's recomputation from S3 agrees with the table too.
			fromS3, _, err := summary.FromObjects(summary.Config{}, h.readAll(t))
			if err != nil {
				t.Fatal(err)
			}
			h.check(t, fromS3, tc.extremes)
		})
	}
}

// TestCrashMidTransition stops an aggregator at each write of a transition that
// needs several transactions (a new object touching 13 summary keys in chunks of
// 5: begin, chunks 0, 1 and 2, finalize), either before the write reaches
// DynamoDB or after it committed with the response lost (a timeout), then lets
// another aggregator, with the default chunk size, handle the redelivered
// notification. TestChunking covers full-size chunks.
func TestCrashMidTransition(t *testing.T) {
	v1 := wideReadings(3, 12) // 12 device-hours + 1 fleet-hour
	small := dynamostore.WithChunkSize(5)
	for _, lost := range []bool{false, true} {
		for allow := 0; allow <= 4; allow++ {
			name := fmt.Sprintf("crash before write %d", allow+1)
			if lost {
				name = fmt.Sprintf("response of write %d lost", allow+1)
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				k := objectKey(1, 1)
				e1 := e.put(t, k, body(v1, "2026-11-21T13:40:06.000Z"))
				crashing := e.harness(t, func(api dynamostore.API) dynamostore.API {
					return &crashingClient{API: api, allow: allow, lostResponse: lost}
				}, small)
				resp, err := crashing.agg.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message(e.notification(k, e1))}})
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.BatchItemFailures) != 1 {
					t.Errorf("aggregator crashing at write %d reported %v; want its message failed", allow+1, resp.BatchItemFailures)
				}
				// Writes 1 to 4 leave a transition pending; write 5 finishes it.
				committed := allow
				if lost {
					committed++
				}
				c, ok, err := crashing.store.Contribution(context.Background(), k)
				if err != nil {
					t.Fatal(err)
				}
				if wantPending := committed >= 1 && committed <= 4; (c.PendingETag != "") != wantPending || ok != (committed >= 1) {
					t.Errorf("after %d committed writes: contribution %+v (exists %v); want pending %v", committed, c, ok, wantPending)
				}
				// SQS redelivers the message to a healthy aggregator.
				healthy := e.harness(t, nil)
				if c.PendingETag != "" {
					// Finishing the pending transition of the same ETag is this
					// call's work, not a duplicate: the aggregator counts the
					// object as aggregated. (The contribution is read back from
					// the pending transition, so none is passed.)
					res, err := healthy.store.Apply(context.Background(), k, e1, nil)
					if err != nil || res.Duplicate || res.Resumed != 1 || res.Transactions == 0 {
						t.Errorf("Apply resuming the pending transition = %+v, %v; want Resumed 1, transactions, not Duplicate", res, err)
					}
				}
				healthy.handle(t, message(e.notification(k, e1)))
				healthy.check(t, expected(t, v1), true)
				c, ok, err = healthy.store.Contribution(context.Background(), k)
				if err != nil || !ok || c.ETag != e1 || c.PendingETag != "" {
					t.Errorf("Contribution = %+v, %v, %v; want etag %s and nothing pending", c, ok, err, e1)
				}
			})
		}
	}
	t.Run("object overwritten before the crashed transition is resumed", func(t *testing.T) {
		e := newEnv(t)
		k := objectKey(1, 1)
		e1 := e.put(t, k, body(v1, "2026-11-21T13:40:06.000Z"))
		crashing := e.harness(t, func(api dynamostore.API) dynamostore.API {
			return &crashingClient{API: api, allow: 2} // begin and chunk 0 only
		}, small)
		if _, err := crashing.agg.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message(e.notification(k, e1))}}); err != nil {
			t.Fatal(err)
		}
		v2 := append(append([]reading{}, v1[:6]...), readings(8, 20, 5, 2)...)
		e2 := e.put(t, k, body(v2, "2026-11-21T13:41:00.000Z"))
		healthy := e.harness(t, nil)
		healthy.handle(t, message(e.notification(k, e1)), message(e.notification(k, e2)))
		// Records of v1 left the object for good: counts and sums are exact,
		// extremes may stay wider (see the package documentation).
		healthy.check(t, expected(t, v2), false)
		c, ok, err := healthy.store.Contribution(context.Background(), k)
		if err != nil || !ok || c.ETag != e2 || c.PendingETag != "" {
			t.Errorf("Contribution = %+v, %v, %v; want etag %s and nothing pending", c, ok, err, e2)
		}
	})
}

// TestConcurrentAggregators runs three aggregators on the same object at once,
// also while it is overwritten, with small chunks so that transitions take many
// transactions and the aggregators interleave inside them.
func TestConcurrentAggregators(t *testing.T) {
	e := newEnv(t) // its harnesses serialize DynamoDB requests (see serialClient)
	small := dynamostore.WithChunkSize(4)
	hs := []*harness{e.harness(t, nil, small), e.harness(t, nil, small), e.harness(t, nil)}
	k := objectKey(2, 1)
	run := func(etags ...string) {
		var wg sync.WaitGroup
		errs := make(chan error, len(hs)*len(etags))
		for _, h := range hs {
			for _, etag := range etags {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := h.agg.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message(e.notification(k, etag))}})
					if err == nil && len(resp.BatchItemFailures) > 0 {
						err = errors.New("batch item failure")
					}
					if err != nil {
						errs <- err
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent Handle: %v", err)
		}
	}
	v1 := wideReadings(5, 25)
	v2 := append(append([]reading{}, v1...), readings(6, 40, 10, 2)...)
	for round := 0; round < 3; round++ {
		stamp := fmt.Sprintf("2026-11-21T13:4%d:00.000Z", round)
		e1 := e.put(t, k, body(v1, stamp+"1"))
		run(e1, e1)
		hs[0].check(t, expected(t, v1), false)

		e2 := e.put(t, k, body(v2, stamp+"2"))
		run(e1, e2)
		hs[1].check(t, expected(t, v2), false)

		// Overwritten while the aggregators are running.
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(e2, e2)
		}()
		e3 := e.put(t, k, body(v2[10:50], stamp+"3"))
		wg.Wait()
		run(e3)
		hs[2].check(t, expected(t, v2[10:50]), false)
	}
}

// TestChunking checks the transaction sizes and write counts of an object
// touching 250 summary keys.
func TestChunking(t *testing.T) {
	h := newHarness(t)
	recs := wideReadings(7, 249)
	k := objectKey(3, 1)
	etag := h.put(t, k, body(recs, "2026-11-21T13:40:06.000Z"))
	res, err := h.store.Apply(context.Background(), k, etag, mustParse(t, k, body(recs, "2026-11-21T13:40:06.000Z")))
	if err != nil {
		t.Fatal(err)
	}
	writes, calls, maxActions := h.counter.snapshot()
	// begin (contribution item + 1 blob item), 3 chunks of 99+99+52 summaries each
	// with the contribution item, finalization.
	if want := 2 + 250 + 3 + 1; writes != want || res.WriteActions != want {
		t.Errorf("write actions = %d (result %d); want %d = 250 summaries + 3 chunks + 3", writes, res.WriteActions, want)
	}
	if calls != 5 || res.Transactions != 5 || maxActions != 100 {
		t.Errorf("calls = %d, transactions = %d, largest = %d actions; want 5, 5, 100", calls, res.Transactions, maxActions)
	}
	if res.Changes != 250 || res.Duplicate {
		t.Errorf("Apply = %+v; want 250 changes", res)
	}
	h.check(t, expected(t, recs), true)

	again, err := h.store.Apply(context.Background(), k, etag, mustParse(t, k, body(recs, "2026-11-21T13:40:06.000Z")))
	// No write of this call failed: a confirmed duplicate, which the aggregator
	// need not check the object's ETag again for.
	if err != nil || !again.Duplicate || again.Unconfirmed || again.WriteActions != 0 {
		t.Errorf("Apply again = %+v, %v; want a confirmed duplicate with no writes", again, err)
	}
}

// TestChunkSizeBoundary: a contribution of at most ChunkSize changes whose
// actions (the changes, the contribution item, its blob items) fit one
// transaction is one transaction; one change more, or one action more than a
// transaction holds (100), makes a multi-transaction transition: begin, the
// chunks, finalization.
func TestChunkSizeBoundary(t *testing.T) {
	for _, tc := range []struct {
		devices, chunkSize, transactions int
	}{ // devices+1 changes: a device-hour each and the fleet-hour
		{4, 5, 1},
		{5, 5, 4},
		{98, 0, 3}, // 99 changes + contribution item + blob item: 101 actions
	} {
		t.Run(fmt.Sprintf("%d changes, chunk size %d", tc.devices+1, tc.chunkSize), func(t *testing.T) {
			e := newEnv(t)
			var opts []dynamostore.Option
			if tc.chunkSize > 0 {
				opts = append(opts, dynamostore.WithChunkSize(tc.chunkSize))
			}
			h := e.harness(t, nil, opts...)
			recs := wideReadings(11, tc.devices)
			k := objectKey(4, 1)
			b := body(recs, "2026-11-21T13:40:06.000Z")
			etag := h.put(t, k, b)
			res, err := h.store.Apply(context.Background(), k, etag, mustParse(t, k, b))
			if err != nil {
				t.Fatal(err)
			}
			if res.Changes != tc.devices+1 || res.Transactions != tc.transactions {
				t.Errorf("Apply = %+v; want %d changes in %d transactions", res, tc.devices+1, tc.transactions)
			}
			if _, _, maxActions := h.counter.snapshot(); maxActions > summary.MaxTransactionActions {
				t.Errorf("a transaction had %d actions; DynamoDB takes at most %d", maxActions, summary.MaxTransactionActions)
			}
			h.check(t, expected(t, recs), true)
		})
	}
}

func mustParse(t testing.TB, key string, b []byte) *summary.Contribution {
	t.Helper()
	c, err := summary.Config{}.ParseObject(key, b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
