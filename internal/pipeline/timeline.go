package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/htmlreport"
	"github.com/streamlake/streamlake/internal/record"
)

// Sample is the state of a run at one moment; Run takes four a second.
// Counters are cumulative since the run started.
type Sample struct {
	Elapsed                                               time.Duration
	Produced, Polled, Filtered, Succeeded, Dropped        int64
	Invocations, FunctionErrors, PartialFailures, Retries int64
	Shards                                                []ShardSample
	// Aggregator is the aggregator side (the SQS mappings) at the sample.
	Aggregator AggregatorSample
}

// ShardSample is one shard's lag at a Sample.
type ShardSample struct {
	ShardID string
	// MillisBehindLatest is the mapping's iterator age on the shard.
	MillisBehindLatest int64
	// Pending is the number of records read and not yet checkpointed.
	Pending int
}

// HourReport summarizes the processed records of one hour of event time (the
// record's "timestamp", else its arrival time), as the aggregator's fleet summary
// does.
type HourReport struct {
	Hour    time.Time `json:"hour"`
	Records int       `json:"records"`
	// Readings is the number of records with a numeric temperature.
	Readings        int     `json:"readings"`
	MeanTemperature float64 `json:"mean_temperature"`
	MinTemperature  float64 `json:"min_temperature"`
	MaxTemperature  float64 `json:"max_temperature"`
}

// timeline records Samples; it is safe for concurrent use.
type timeline struct {
	mu      sync.Mutex
	samples []Sample
}

func (t *timeline) add(elapsed time.Duration, produced int64, s esm.Stats, agg AggregatorSample) {
	smp := Sample{Elapsed: elapsed, Produced: produced, Polled: s.PolledRecords, Filtered: s.FilteredRecords,
		Succeeded: s.SucceededRecords, Dropped: s.DroppedRecords, Invocations: s.Invocations,
		FunctionErrors: s.FunctionErrors, PartialFailures: s.PartialFailures, Retries: s.Retries, Aggregator: agg}
	for _, sh := range s.Shards {
		smp.Shards = append(smp.Shards, ShardSample{ShardID: sh.ShardID, MillisBehindLatest: sh.MillisBehindLatest, Pending: sh.PendingRecords})
	}
	t.mu.Lock()
	t.samples = append(t.samples, smp)
	t.mu.Unlock()
}

func (t *timeline) get() []Sample {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Sample(nil), t.samples...)
}

// reading is what the hourly summary needs of a processed line.
type reading struct {
	hour    time.Time // zero when the line has no usable time
	temp    float64
	hasTemp bool
}

// readingOf extracts the event hour and temperature of an output line. A line
// whose original_data is not a sensor reading yields its arrival hour and no
// temperature.
func readingOf(line []byte) reading {
	var l struct {
		Data    json.RawMessage `json:"original_data"`
		Arrival string          `json:"approximate_arrival_timestamp"`
	}
	if json.Unmarshal(line, &l) != nil {
		return reading{}
	}
	var d struct {
		Timestamp   json.RawMessage `json:"timestamp"`
		Temperature any             `json:"temperature"`
	}
	_ = json.Unmarshal(l.Data, &d) // original_data may be any JSON value
	var r reading
	// The event time as the processor and the aggregator read it.
	if t, ok := record.ParseEventTime(d.Timestamp); ok {
		r.hour = t.Truncate(time.Hour)
	}
	if r.hour.IsZero() {
		if t, err := time.Parse(time.RFC3339Nano, l.Arrival); err == nil {
			r.hour = t.UTC().Truncate(time.Hour)
		}
	}
	if v, ok := d.Temperature.(float64); ok {
		r.temp, r.hasTemp = v, true
	}
	return r
}

// hourly groups the processed records by hour.
func hourly(processed map[string][]objectLine) []HourReport {
	byHour := map[time.Time]*HourReport{}
	sums := map[time.Time]float64{}
	for _, lines := range processed {
		for _, l := range lines {
			r := l.reading
			if r.hour.IsZero() {
				continue
			}
			h := byHour[r.hour]
			if h == nil {
				h = &HourReport{Hour: r.hour, MinTemperature: math.Inf(1), MaxTemperature: math.Inf(-1)}
				byHour[r.hour] = h
			}
			h.Records++
			if r.hasTemp {
				h.Readings++
				sums[r.hour] += r.temp
				h.MinTemperature = math.Min(h.MinTemperature, r.temp)
				h.MaxTemperature = math.Max(h.MaxTemperature, r.temp)
			}
		}
	}
	out := make([]HourReport, 0, len(byHour))
	for hour, h := range byHour {
		if h.Readings > 0 {
			h.MeanTemperature = sums[hour] / float64(h.Readings)
		} else {
			h.MinTemperature, h.MaxTemperature = 0, 0
		}
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hour.Before(out[j].Hour) })
	return out
}

// rateWindow is the window of the throughput chart's rates.
const rateWindow = 2 * time.Second

// WriteHTML writes the report as a self-contained HTML page (package htmlreport):
// throughput over time, per-shard lag, failures by kind, hourly summaries and the
// accounting.
func (r *Report) WriteHTML(w io.Writer) error {
	return htmlreport.Write(w, r.page(time.Now()))
}

func (r *Report) page(now time.Time) *htmlreport.Page {
	verdict := "OK: every record is accounted for, none twice"
	if r.Summaries != nil {
		verdict += "; the summaries match the processed objects"
	}
	if f := r.Failures(); len(f) > 0 {
		verdict = "FAILED: " + strings.Join(f, ", ")
	}
	resumed := ""
	if r.Resumed {
		resumed = ", resumed"
	}
	n := func(v int) string { return htmlreport.FormatValue(float64(v)) }
	p := &htmlreport.Page{
		Title:    "streamlake local run",
		Subtitle: fmt.Sprintf("%d shards, %.1f s%s, bucket %s, emulator %s", len(r.Shards), r.DurationSeconds, resumed, r.Bucket, r.Endpoint),
		Verdict:  verdict,
		OK:       r.OK(),
		Figures: []htmlreport.Figure{
			{Label: "sent", Value: n(r.Sent)},
			{Label: "written", Value: n(r.Written)},
			{Label: "filtered", Value: n(r.Filtered)},
			{Label: "quarantined", Value: n(r.Quarantined)},
			{Label: "dead-lettered", Value: n(r.DeadLettered)},
			{Label: "duplicates", Value: n(r.Duplicates), Alert: r.Duplicates > 0},
			{Label: "lost", Value: n(r.Lost), Alert: r.Lost > 0},
			{Label: "records/s end to end", Value: fmt.Sprintf("%.0f", r.RecordsPerSecond)},
		},
		Footer: fmt.Sprintf("Generated %s by streamlake local. Counts are read back from the emulator; the time series are the mapping's live counters.",
			now.UTC().Format(time.RFC3339)),
	}

	// Throughput: rates between consecutive samples.
	var produced, stored, filtered, notified []htmlreport.Point
	var left, items []htmlreport.Point
	var lagSeries, pendingSeries []htmlreport.Series
	shardIndex := map[string]int{}
	for i, s := range r.Timeline {
		x := s.Elapsed.Seconds()
		for _, sh := range s.Shards {
			j, ok := shardIndex[sh.ShardID]
			if !ok {
				j = len(lagSeries)
				shardIndex[sh.ShardID] = j
				lagSeries = append(lagSeries, htmlreport.Series{Name: sh.ShardID})
				pendingSeries = append(pendingSeries, htmlreport.Series{Name: sh.ShardID})
			}
			lagSeries[j].Points = append(lagSeries[j].Points, htmlreport.Point{X: x, Y: float64(sh.MillisBehindLatest)})
			pendingSeries[j].Points = append(pendingSeries[j].Points, htmlreport.Point{X: x, Y: float64(sh.Pending)})
		}
		left = append(left, htmlreport.Point{X: x, Y: float64(s.Aggregator.NotificationsLeft)})
		items = append(items, htmlreport.Point{X: x, Y: float64(s.Aggregator.SummaryItems)})
		if i == 0 {
			continue
		}
		// Rates over a sliding window of rateWindow: the producer puts records
		// in bursts of up to 500, which a per-sample rate shows as spikes.
		j := i - 1
		for j > 0 && s.Elapsed-r.Timeline[j-1].Elapsed <= rateWindow {
			j--
		}
		prev := r.Timeline[j]
		dt := (s.Elapsed - prev.Elapsed).Seconds()
		if dt <= 0 {
			continue
		}
		produced = append(produced, htmlreport.Point{X: x, Y: float64(s.Produced-prev.Produced) / dt})
		stored = append(stored, htmlreport.Point{X: x, Y: float64(s.Succeeded-prev.Succeeded) / dt})
		filtered = append(filtered, htmlreport.Point{X: x, Y: float64(s.Filtered-prev.Filtered) / dt})
		notified = append(notified, htmlreport.Point{X: x, Y: float64(s.Aggregator.Notifications-prev.Aggregator.Notifications) / dt})
	}
	throughput := htmlreport.Section{ID: "throughput", Title: "Throughput",
		Description: "Records per second (2 s windows; time in seconds since the run started, to the end of the aggregator's drain): put into the stream by the producer, done by the function (stored or quarantined, then checkpointed), and dropped by the mapping's FilterCriteria; and the S3 notifications the aggregator processed per second.",
		Chart: &htmlreport.LineChart{Title: "Throughput (per second)", XUnit: "s", YUnit: "/s",
			Series: []htmlreport.Series{{Name: "produced", Points: produced}, {Name: "stored", Points: stored}, {Name: "filtered", Points: filtered}, {Name: "notifications", Points: notified}}}}
	aggregator := htmlreport.Section{ID: "aggregator", Title: "Aggregator",
		Description: "The aggregator's queue (notifications visible or in flight, read once a second) and the items in the summaries table (DescribeTable's ItemCount: the summaries and the table's OBJECT# records of the objects applied), over the whole run: after the stream is drained, the run waits until the queue is empty.",
		Chart: &htmlreport.LineChart{Title: "Notifications left and table items", XUnit: "s",
			Series: []htmlreport.Series{{Name: "notifications left", Points: left}, {Name: "table items", Points: items}}}}
	lag := htmlreport.Section{ID: "lag", Title: "Per-shard lag",
		Description: "Iterator age: how far behind the tip of each shard the mapping's last read was (MillisBehindLatest; Lambda's IteratorAge).",
		Chart:       &htmlreport.LineChart{Title: "Iterator age per shard (ms)", XUnit: "s", YUnit: "ms", Series: lagSeries}, Half: true}
	inflight := htmlreport.Section{ID: "inflight", Title: "Records in flight per shard",
		Description: "Records read from each shard, not yet checkpointed: batches being processed or retried.",
		Chart:       &htmlreport.LineChart{Title: "Records read, not yet checkpointed", XUnit: "s", Series: pendingSeries}, Half: true}
	shards := htmlreport.Section{ID: "shards", Title: "Shards at the end of the run", Table: r.shardTable()}

	i, m := r.Injected, r.Mapping
	failures := htmlreport.Section{ID: "failures", Title: "Failures by kind", Half: true,
		Description: "Injected faults and how the mapping and the function handled them.",
		Chart: &htmlreport.BarChart{Title: "Failures by kind", Bars: []htmlreport.Bar{
			{Label: "S3 failures", Value: float64(i.S3Failures), Note: "PutObject calls"},
			{Label: "crashes", Value: float64(i.CrashesBefore + i.CrashesAfter), Note: "invocations"},
			{Label: "timeouts", Value: float64(i.Timeouts), Note: "invocations"},
			{Label: "function errors", Value: float64(m.FunctionErrors), Note: "invocations"},
			{Label: "partial failures", Value: float64(m.PartialFailures), Note: "invocations"},
			{Label: "retries", Value: float64(m.Retries), Note: "invocations"},
			{Label: "bisects", Value: float64(m.Bisects), Note: "batches"},
			{Label: "dead-lettered", Value: float64(r.DeadLettered), Note: "records", Alert: true},
			{Label: "quarantined", Value: float64(r.Quarantined), Note: "records"},
			{Label: "discarded", Value: float64(m.Dropped), Note: "records (retries, record age or payload size)", Alert: true},
			{Label: "lost", Value: float64(r.Lost), Note: "records", Alert: true},
		}}}

	combo := &htmlreport.ComboChart{Title: "Hourly summaries", BarName: "records", LineName: "mean temperature", LineUnit: "°C"}
	table := &htmlreport.Table{Columns: []string{"hour (UTC)", "records", "readings", "mean °C", "min °C", "max °C"},
		Numeric: map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true}}
	for _, h := range r.Hourly {
		combo.Categories = append(combo.Categories, h.Hour.Format("01-02 15h"))
		combo.Bars = append(combo.Bars, float64(h.Records))
		mean, lo, hi := "–", "–", "–"
		if h.Readings > 0 {
			combo.Line = append(combo.Line, h.MeanTemperature)
			mean, lo, hi = fmt.Sprintf("%.2f", h.MeanTemperature), fmt.Sprintf("%.2f", h.MinTemperature), fmt.Sprintf("%.2f", h.MaxTemperature)
		} else {
			combo.Line = append(combo.Line, math.NaN())
		}
		table.Rows = append(table.Rows, []string{h.Hour.Format("2006-01-02 15:00"), n(h.Records), n(h.Readings), mean, lo, hi})
	}
	hourSection := htmlreport.Section{ID: "hourly", Title: "Hourly summaries", Half: true,
		Description: "Records per hour of event time and their mean temperature, from the latest processed objects (the fleet summaries).",
		Chart:       combo}
	if len(table.Rows) <= 48 {
		hourSection.Table = table
	}
	accounting := htmlreport.Section{ID: "accounting", Title: "Accounting",
		Description: "Every record in the stream, classified by where it ended up (read back from the emulator).",
		Table: &htmlreport.Table{Columns: []string{"outcome", "records", "where"}, Numeric: map[int]bool{1: true}, Rows: [][]string{
			{"sent", n(r.Sent), "records in the stream (a KPL aggregate's user records one by one)"},
			{"filtered", n(r.Filtered), "dropped by FilterCriteria (never invoked)"},
			{"written", n(r.Written), fmt.Sprintf("in %d processed objects (%d empty)", r.Objects.Processed, r.Objects.Empty)},
			{"quarantined", n(r.Quarantined), fmt.Sprintf("in %d quarantine objects", r.Objects.Quarantine)},
			{"dead-lettered", n(r.DeadLettered), fmt.Sprintf("in %d on-failure records in the failure queue", r.OnFailureRecords)},
			{"duplicates", n(r.Duplicates), "extra copies among the latest object versions"},
			{"lost", n(r.Lost), "in none of the above"},
		}}}
	if sm := r.Summaries; sm != nil {
		accounting.Table.Rows = append(accounting.Table.Rows, []string{"summary mismatches", n(sm.Mismatches),
			fmt.Sprintf("of %d summary items in DynamoDB, against a recomputation from the processed objects", sm.Items)})
		p.Figures = append(p.Figures, htmlreport.Figure{Label: "summary mismatches", Value: n(sm.Mismatches), Alert: sm.Mismatches > 0})
	}
	p.Sections = []htmlreport.Section{throughput, lag, inflight, failures, hourSection, accounting, shards}
	if len(r.SQSFunctions) > 0 {
		p.Sections = slices.Insert(p.Sections, 1, aggregator)
	}
	if len(r.Emulators) > 0 {
		emu := &htmlreport.Table{Columns: []string{"services", "endpoint", "requests", "5xx errors", "peak RSS (MB)", "CPU (s)"},
			Numeric: map[int]bool{2: true, 3: true, 4: true, 5: true}}
		for _, e := range r.Emulators {
			emu.Rows = append(emu.Rows, []string{strings.Join(e.Services, ", "), e.URL, n(int(e.Requests)), n(int(e.ServerErrors)),
				fmt.Sprintf("%.0f", e.PeakRSSMB), fmt.Sprintf("%.1f", e.CPUSeconds)})
		}
		p.Sections = append(p.Sections, htmlreport.Section{ID: "emulators", Title: "Emulators",
			Description: "The emulator processes (moto through streamlake's launcher): 5xx answers are emulator errors, since injected faults never reach them.",
			Table:       emu})
		p.Figures = append(p.Figures, htmlreport.Figure{Label: "emulator errors", Value: n(int(r.EmulatorErrors)), Alert: r.EmulatorErrors > 0})
	}
	return p
}

func (r *Report) shardTable() *htmlreport.Table {
	t := &htmlreport.Table{Columns: []string{"shard", "records", "lag (records after the checkpoint)", "ms behind latest"},
		Numeric: map[int]bool{1: true, 2: true, 3: true}}
	for _, s := range r.Shards {
		t.Rows = append(t.Rows, []string{s.ShardID, htmlreport.FormatValue(float64(s.Records)),
			htmlreport.FormatValue(float64(s.LagRecords)), htmlreport.FormatValue(float64(s.MillisBehindLatest))})
	}
	return t
}
