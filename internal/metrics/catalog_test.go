package metrics

import (
	"strings"
	"testing"
)

// TestCatalogUnits: the catalog's units are the ones README's metrics table
// states and the values are measured in: durations and ages in milliseconds
// (InMilliseconds), byte counts in bytes, everything else a count. CloudWatch
// stores the unit with each datum, so a wrong unit mislabels every graph and
// statistic of the metric.
func TestCatalogUnits(t *testing.T) {
	for _, m := range append(ProcessorMetrics(), AggregatorMetrics()...) {
		want := Count
		switch {
		case strings.HasSuffix(m.Name, "Duration"), strings.HasSuffix(m.Name, "Age"):
			want = Milliseconds
		case strings.HasPrefix(m.Name, "Bytes"):
			want = Bytes
		}
		if m.Unit != want {
			t.Errorf("metric %s has unit %s; want %s", m.Name, m.Unit, want)
		}
	}
}
