package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/metrics"
)

// batchMetrics is the metric line of one batch.
func batchMetrics(b ingest.BatchStats) *metrics.Set {
	var s metrics.Set
	s.AddMetric(metrics.RecordsReceived, float64(b.Records))
	s.AddMetric(metrics.RecordsWritten, float64(b.Written))
	s.AddMetric(metrics.RecordsQuarantined, float64(b.Quarantined))
	s.AddMetric(metrics.BytesIn, float64(b.BytesIn))
	s.AddMetric(metrics.BytesOut, float64(b.BytesOut))
	s.AddMetric(metrics.ObjectsWritten, float64(b.Objects))
	s.AddMetric(metrics.BatchDuration, metrics.InMilliseconds(b.Duration))
	failed := 0.0
	if b.Failed {
		failed = 1
	}
	s.AddMetric(metrics.BatchFailures, failed)
	if !b.FirstArrival.IsZero() {
		s.AddMetric(metrics.OldestRecordAge, metrics.InMilliseconds(max(b.Start.Sub(b.FirstArrival), 0)))
		s.Property("shardId", b.ShardID)
	}
	return &s
}

// metered is the function's handler: the processor's raw-event handler, plus the
// metric line of an invocation the processor rejects (Observe emits the others).
type metered struct {
	p      *ingest.Processor
	emf    *metrics.Writer
	logger *slog.Logger
}

// Invoke implements lambda.Handler.
func (h metered) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := h.p.Invoke(ctx, payload)
	if err != nil {
		m := metrics.HandlerErrors
		if _, invalid := errors.AsType[*ingest.EventError](err); invalid {
			m = metrics.InvalidEvents
		}
		var s metrics.Set
		s.AddMetric(m, 1)
		h.emf.EmitOrLog(ctx, h.logger, &s)
	}
	return out, err
}
