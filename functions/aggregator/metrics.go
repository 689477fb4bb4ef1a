package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamlake/streamlake/internal/metrics"
	"github.com/streamlake/streamlake/internal/summary"
)

// tally counts what the Store applied during one invocation. The aggregator
// applies several objects of a batch at once, so it is locked.
type tally struct {
	mu                                            sync.Mutex
	objects, duplicates, records, items           int64
	malformed, noDevice, noTime, fallback, nonNum int64
}

type tallyKey struct{}

// meteredStore is the summary.Store the aggregator writes through: it counts each
// Apply in the tally of the invocation (found in ctx), without changing what the
// store does.
type meteredStore struct{ summary.Store }

// Apply implements summary.Store.
func (m meteredStore) Apply(ctx context.Context, objectKey, etag string, c *summary.Contribution) (summary.ApplyResult, error) {
	res, err := m.Store.Apply(ctx, objectKey, etag, c)
	if t, ok := ctx.Value(tallyKey{}).(*tally); ok && err == nil {
		t.add(c, res)
	}
	return res, err
}

func (t *tally) add(c *summary.Contribution, res summary.ApplyResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if res.Duplicate {
		// Already counted when that version was applied.
		t.duplicates++
		return
	}
	s := c.Stats
	t.objects++
	t.records += s.Records
	t.items += int64(res.Changes)
	t.malformed += s.Malformed
	t.noDevice += s.NoDevice
	t.noTime += s.NoTime
	t.fallback += s.TimeFallback
	for _, n := range s.NonNumeric {
		t.nonNum += n
	}
}

// metered wraps the aggregator's handler so that every invocation prints one
// metric line.
func metered(handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), w *metrics.Writer, logger *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		t := &tally{}
		start := time.Now()
		resp, err := handle(context.WithValue(ctx, tallyKey{}, t), ev)
		elapsed := time.Since(start)
		t.mu.Lock()
		defer t.mu.Unlock()
		failed := len(resp.BatchItemFailures)
		if err != nil {
			failed = len(ev.Records)
		}
		var s metrics.Set
		s.AddMetric(metrics.MessagesReceived, float64(len(ev.Records)))
		s.AddMetric(metrics.MessagesFailed, float64(failed))
		s.AddMetric(metrics.ObjectsAggregated, float64(t.objects))
		s.AddMetric(metrics.DuplicatesSkipped, float64(t.duplicates))
		s.AddMetric(metrics.RecordsAggregated, float64(t.records))
		s.AddMetric(metrics.SummaryItemsUpdated, float64(t.items))
		s.AddMetric(metrics.LinesMalformed, float64(t.malformed))
		s.AddMetric(metrics.RecordsMissingDevice, float64(t.noDevice))
		s.AddMetric(metrics.RecordsMissingTime, float64(t.noTime))
		s.AddMetric(metrics.RecordsTimeFallback, float64(t.fallback))
		s.AddMetric(metrics.ValuesNotNumeric, float64(t.nonNum))
		s.AddMetric(metrics.AggregationDuration, float64(elapsed.Microseconds())/1000)
		if emitErr := w.Emit(ctx, &s); emitErr != nil {
			logger.ErrorContext(ctx, "emit metrics", "error", emitErr)
		}
		return resp, err
	}
}
