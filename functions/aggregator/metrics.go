package main

import (
	"github.com/streamlake/streamlake/internal/metrics"
	"github.com/streamlake/streamlake/internal/summary"
)

// batchMetrics is the metric line of one invocation.
func batchMetrics(b summary.BatchStats) *metrics.Set {
	var s metrics.Set
	s.AddMetric(metrics.MessagesReceived, float64(b.Messages))
	s.AddMetric(metrics.MessagesFailed, float64(b.Failed))
	s.AddMetric(metrics.ObjectsAggregated, float64(b.Objects))
	s.AddMetric(metrics.DuplicatesSkipped, float64(b.Duplicates))
	s.AddMetric(metrics.RecordsAggregated, float64(b.Lines.Records))
	s.AddMetric(metrics.SummaryItemsUpdated, float64(b.Items))
	s.AddMetric(metrics.LinesMalformed, float64(b.Lines.Malformed))
	s.AddMetric(metrics.RecordsMissingDevice, float64(b.Lines.NoDevice))
	s.AddMetric(metrics.RecordsMissingTime, float64(b.Lines.NoTime))
	s.AddMetric(metrics.RecordsTimeFallback, float64(b.Lines.TimeFallback))
	var nonNumeric int64
	for _, n := range b.Lines.NonNumeric {
		nonNumeric += n
	}
	s.AddMetric(metrics.ValuesNotNumeric, float64(nonNumeric))
	var outOfRange int64
	for _, n := range b.Lines.OutOfRange {
		outOfRange += n
	}
	s.AddMetric(metrics.ValuesOutOfRange, float64(outOfRange))
	s.AddMetric(metrics.AggregationDuration, metrics.InMilliseconds(b.Duration))
	return &s
}
