package pipeline

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/htmlreport"
	"github.com/streamlake/streamlake/internal/motoserver"
)

func TestReadingOf(t *testing.T) {
	h13 := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	h14 := h13.Add(time.Hour)
	const arrival = `"approximate_arrival_timestamp":"2026-11-21T14:00:05.000Z"`
	tests := []struct {
		name, line string
		want       reading
	}{
		{"reading", `{"original_data":{"device_id":"d","temperature":21.5,"timestamp":"2026-11-21T13:59:59.999Z"},` + arrival + `}`, reading{h13, 21.5, true}},
		{"no timestamp", `{"original_data":{"temperature":-3},` + arrival + `}`, reading{h14, -3, true}},
		{"bad timestamp", `{"original_data":{"temperature":1,"timestamp":"unknown"},` + arrival + `}`, reading{h14, 1, true}},
		{"epoch seconds", `{"original_data":{"timestamp":1795266000},` + arrival + `}`, reading{hour: h13}},
		{"recipe isoformat, no offset", `{"original_data":{"timestamp":"2026-11-21T13:59:59.123456"},` + arrival + `}`, reading{hour: h13}},
		{"boolean timestamp", `{"original_data":{"timestamp":true},` + arrival + `}`, reading{hour: h14}},
		{"string temperature", `{"original_data":{"temperature":"hot","timestamp":"2026-11-21T13:00:00Z"},` + arrival + `}`, reading{hour: h13}},
		{"text payload", `{"original_data":{"message":"hello"},` + arrival + `}`, reading{hour: h14}},
		{"array payload", `{"original_data":[1,2],` + arrival + `}`, reading{hour: h14}},
		{"no arrival", `{"original_data":"x"}`, reading{}},
		{"not JSON", `{`, reading{}},
	}
	for _, tc := range tests {
		if got := readingOf([]byte(tc.line)); got != tc.want {
			t.Errorf("%s: readingOf(%s) = %+v; want %+v", tc.name, tc.line, got, tc.want)
		}
	}
}

func TestHourly(t *testing.T) {
	h13 := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	h14 := h13.Add(time.Hour)
	processed := map[string][]objectLine{
		"a": {{reading: reading{h14, 20, true}}, {reading: reading{h13, 10, true}}, {reading: reading{hour: h13}}},
		"b": {{reading: reading{h13, 30, true}}, {reading: reading{}}},
		"c": {{reading: reading{hour: h14.Add(time.Hour)}}},
	}
	want := []HourReport{
		{Hour: h13, Records: 3, Readings: 2, MeanTemperature: 20, MinTemperature: 10, MaxTemperature: 30},
		{Hour: h14, Records: 1, Readings: 1, MeanTemperature: 20, MinTemperature: 20, MaxTemperature: 20},
		{Hour: h14.Add(time.Hour), Records: 1},
	}
	if d := cmp.Diff(want, hourly(processed)); d != "" {
		t.Errorf("hourly (-want +got):\n%s", d)
	}
}

// TestHTMLReport runs a small pipeline with faults and checks its HTML report:
// well-formed, self-contained, every chart present, and figures that agree with
// the accounting.
func TestHTMLReport(t *testing.T) {
	motoserver.ForTest(t)
	opts := options(t, "htmlreport", 1500)
	opts.Faults = Faults{S3FailureRate: 0.05, PoisonRate: 0.01, Seed: 3}
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, rep, 1500)
	if len(rep.Timeline) < 2 {
		t.Fatalf("timeline has %d samples; want at least the first and the last", len(rep.Timeline))
	}
	last := rep.Timeline[len(rep.Timeline)-1]
	if last.Produced != 1500 || last.Polled < 1500 || len(last.Shards) != 3 {
		t.Errorf("last sample = %+v; want 1500 produced and polled, 3 shards", last)
	}
	for i := 1; i < len(rep.Timeline); i++ {
		if rep.Timeline[i].Elapsed < rep.Timeline[i-1].Elapsed || rep.Timeline[i].Succeeded < rep.Timeline[i-1].Succeeded ||
			rep.Timeline[i].Aggregator.Notifications < rep.Timeline[i-1].Aggregator.Notifications {
			t.Fatalf("sample %d goes back in time or counts: %+v after %+v", i, rep.Timeline[i], rep.Timeline[i-1])
		}
	}
	// The timeline covers the aggregator's drain: its last sample is taken
	// after the queue was drained, with every notification processed and the
	// summaries in the table.
	if len(rep.SQSFunctions) != 1 {
		t.Fatalf("SQS functions %+v; want the aggregator", rep.SQSFunctions)
	}
	agg := last.Aggregator
	if !agg.Aggregating || agg.Notifications != rep.SQSFunctions[0].Deleted || agg.NotificationsLeft != 0 || agg.SummaryItems == 0 {
		t.Errorf("last sample's aggregator side %+v; want the drain finished: %d notifications done, none left, summary items",
			agg, rep.SQSFunctions[0].Deleted)
	}
	if rep.Timeline[0].Aggregator.Aggregating {
		t.Error("the first sample is already in the aggregator phase")
	}
	// Emulators started by the run report themselves, with no 5xx.
	if len(rep.Emulators) != 1 || rep.EmulatorErrors != 0 || rep.Emulators[0].Requests == 0 || rep.Emulators[0].PeakRSSMB <= 0 {
		t.Errorf("emulators %+v, %d errors; want the test's moto server, answering without 5xx", rep.Emulators, rep.EmulatorErrors)
	}
	records := 0
	for _, h := range rep.Hourly {
		records += h.Records
		if h.Readings > 0 && (h.MeanTemperature < h.MinTemperature || h.MeanTemperature > h.MaxTemperature || math.IsNaN(h.MeanTemperature)) {
			t.Errorf("hour %v: mean %v outside [%v, %v]", h.Hour, h.MeanTemperature, h.MinTemperature, h.MaxTemperature)
		}
	}
	if records != rep.Written || len(rep.Hourly) == 0 {
		t.Errorf("hourly records sum to %d over %d hours; want the %d written", records, len(rep.Hourly), rep.Written)
	}

	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	out, err := htmlreport.Inspect(buf.Bytes())
	if err != nil {
		t.Fatalf("Inspect(report) = %v", err)
	}
	wantSections := []string{"throughput", "aggregator", "lag", "inflight", "failures", "hourly", "accounting", "shards", "emulators"}
	wantCharts := []string{"throughput-chart", "aggregator-chart", "lag-chart", "inflight-chart", "failures-chart", "hourly-chart"}
	if d := cmp.Diff(wantSections, out.Sections); d != "" {
		t.Errorf("sections (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantCharts, out.Charts); d != "" {
		t.Errorf("charts (-want +got):\n%s", d)
	}
	page := buf.String()
	for _, want := range []string{"no data"} {
		if strings.Contains(page, want) {
			t.Errorf("report has an empty chart (%q)", want)
		}
	}
	for _, want := range []string{
		">" + htmlreport.FormatValue(float64(rep.Written)) + "<", // the written tile
		"shardId-000000000002", // the lag legend and table
		"S3 failures", "quarantined", "dead-lettered", "bisects", "retries", "partial failures", "crashes", "timeouts",
		"mean temperature",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestHTMLReportOfAFailedRun(t *testing.T) {
	rep := &Report{Sent: 10, Written: 8, Lost: 1, Duplicates: 1, Summaries: &SummaryReport{Items: 12, Mismatches: 2}}
	p := rep.page(time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC))
	if p.OK || !strings.Contains(p.Verdict, "1 records lost, 1 duplicated, 2 summary items wrong") {
		t.Errorf("verdict %q (OK %v); want a failure naming what went wrong", p.Verdict, p.OK)
	}
	alerts := map[string]bool{}
	for _, f := range p.Figures {
		alerts[f.Label] = f.Alert
	}
	if !alerts["lost"] || !alerts["duplicates"] || !alerts["summary mismatches"] || alerts["sent"] {
		t.Errorf("figure alerts %v; want lost, duplicates and summary mismatches only", alerts)
	}
	var buf bytes.Buffer
	if err := htmlreport.Write(&buf, p); err != nil {
		t.Fatal(err)
	}
	// A run without samples still renders every chart (saying there is no data).
	out, err := htmlreport.Inspect(buf.Bytes())
	if err != nil || len(out.Charts) != 5 || !strings.Contains(buf.String(), "no data") {
		t.Errorf("Inspect = %+v, %v; want 5 charts (no aggregator), the empty ones saying so", out, err)
	}
}
