package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/google/renameio/v2"

	"github.com/streamlake/streamlake/internal/kinesisevent"
	"github.com/streamlake/streamlake/internal/localrun"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/sensor"
)

func init() {
	register(command{
		name:    "produce",
		summary: "put seeded sensor records into a stream, or write a Kinesis event file",
		run:     runProduce,
	})
}

// Scenarios of --scenario (package producer generates them).
const (
	scenarioSensor   = producer.ScenarioSensor
	scenarioMixed    = producer.ScenarioMixed
	scenarioFiltered = producer.ScenarioFiltered
	scenarioPoison   = producer.ScenarioPoison
	scenarioFlood    = producer.ScenarioFlood
)

const (
	defaultProduceCount = 100
	defaultPoisonCount  = 10
)

const produceDescription = `Generates seeded, reproducible IoT sensor records (device_id, temperature,
humidity, timestamp, location, battery_level) and puts them into a Kinesis stream
with PutRecords: at most 500 records and 5 MiB per call, retrying only the failed
entries with exponential backoff and full jitter. The partition key is the device ID.
After ` + "`streamlake local`" + ` it puts into that run's stream and emulator unless told
otherwise (see ` + "`streamlake summaries --help`" + `); else credentials and region come
from the default AWS chain (AWS_ENDPOINT_URL points it at an emulator). A progress line is drawn on stderr when it is a terminal.

With --events-out FILE nothing is sent: the records are written as a Kinesis Lambda
event (as delivered by an event source mapping, one shard) for
'sam local invoke -e FILE' and 'streamlake invoke'. The file is the same byte for
byte for the same flags; --start is then required.

Scenarios (--scenario):
  sensor    sensor readings (default)
  mixed     8 payload kinds: sensor JSON, JSON array, JSON string, text log line,
            binary (not UTF-8), empty, JSON with unicode escapes, padded JSON
  filtered  12 records, 6 that the template's default filter passes and 6 it drops
            (heartbeats, disconnected probes at -127 °C, no device_id, plain text)
  poison    sensor readings, exactly one with "timestamp":"yesterday" (the middle one)
  flood     sensor readings whose event times no reading makes a time (a device
            fleet with broken clocks): every record is quarantined

Shapes (--shape, for the sensor, poison and flood scenarios):
  sensor    this project's encoding: compact JSON, "timestamp":"2026-11-21T13:40:00.000Z"
  recipe    what the classic Kinesis-to-S3 recipe's Python generator writes:
            json.dumps of the same fields, "timestamp": datetime.utcnow().isoformat()
            ("2026-11-21T13:40:01.357000": no UTC offset), battery_level an integer

Exit status: 0 all delivered, 1 records undelivered or an error, 2 bad flags.`

// produceOptions are the parsed flags.
type produceOptions struct {
	stream      string
	region      string
	count       int
	duration    time.Duration
	rate        float64
	devices     int
	seed        int64
	start       time.Time
	interval    time.Duration
	ordered     bool
	maxAttempts int
	json        bool
	eventsOut   string
	scenario    string
	shape       sensor.Shape
}

func runProduce(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "produce", "", produceDescription)
	var o produceOptions
	var start, shape string
	fs.StringVar(&o.stream, "stream", "", "stream name or ARN (default: the last local run's StreamName; required otherwise unless --events-out)")
	fs.StringVar(&o.region, "region", "", "AWS region (default: from the environment, or the stream ARN)")
	fs.IntVar(&o.count, "count", defaultProduceCount, "number of records (poison: default 10; not with mixed/filtered)")
	fs.DurationVar(&o.duration, "duration", 0, "produce for this long instead of --count (sensor scenario only)")
	fs.Float64Var(&o.rate, "rate", 0, "records per second, retries included (0 = unlimited)")
	fs.IntVar(&o.devices, "devices", sensor.DefaultDevices, "number of devices")
	fs.Int64Var(&o.seed, "seed", 1, "random seed: the same seed gives the same records")
	fs.StringVar(&start, "start", "", "event time of the first record, RFC 3339 (default now; required with --events-out)")
	fs.DurationVar(&o.interval, "interval", 0, "event time between consecutive records (default 1/rate with --rate, else 1s)")
	fs.BoolVar(&o.ordered, "ordered", false, "keep per-device order exactly across retries (at most one record per device per call)")
	fs.IntVar(&o.maxAttempts, "max-attempts", producer.DefaultMaxAttempts, "sends per record before it is reported undelivered")
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	fs.StringVar(&o.eventsOut, "events-out", "", "write a Kinesis Lambda event `file` instead of calling AWS")
	fs.StringVar(&o.scenario, "scenario", scenarioSensor, "content: sensor, mixed, filtered, poison or flood")
	fs.StringVar(&shape, "shape", string(sensor.ShapeSensor), "record shape of sensor readings: sensor or recipe")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	set := setFlags(fs)
	sh, err := sensor.ParseShape(shape)
	if err != nil {
		return usageError(fs, "--shape: %v", err)
	}
	o.shape = sh
	var ses *localrun.Session
	if o.eventsOut == "" {
		var err error
		if ses, err = localSession(e); err != nil {
			fmt.Fprintf(e.stderr, "streamlake produce: %v\n", err)
			return exitFailure
		}
		if ses != nil && o.stream == "" {
			o.stream = ses.Output("StreamName")
		}
	}
	if code, ok := o.validate(fs, set, start); !ok {
		return code
	}
	if o.eventsOut != "" {
		return writeEvents(e, o)
	}
	noteLocal(e, "produce", ses)
	return produceToStream(ctx, e, ses, o, set["duration"])
}

// validate checks the flags together and fills in derived defaults. It returns
// (exitUsage, false) after printing the problem.
func (o *produceOptions) validate(fs *flag.FlagSet, set map[string]bool, start string) (int, bool) {
	bad := func(format string, a ...any) (int, bool) { return usageError(fs, format, a...), false }
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case set["count"] && set["duration"]:
		return bad("--count and --duration are mutually exclusive")
	case set["count"] && o.count < 1:
		return bad("--count must be at least 1, got %d", o.count)
	case set["duration"] && o.duration <= 0:
		return bad("--duration must be positive, got %s", o.duration)
	case o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0):
		return bad("--rate must be a number >= 0, got %v", o.rate)
	case o.devices < 1 || o.devices > sensor.MaxDevices:
		return bad("--devices must be between 1 and %d, got %d", sensor.MaxDevices, o.devices)
	case o.interval < 0:
		return bad("--interval must not be negative, got %s", o.interval)
	case o.maxAttempts < 1:
		return bad("--max-attempts must be at least 1, got %d", o.maxAttempts)
	}
	switch o.scenario {
	case scenarioSensor, scenarioFlood:
	case scenarioPoison:
		if !set["count"] {
			o.count = defaultPoisonCount
		}
	case scenarioMixed, scenarioFiltered:
		if set["count"] {
			return bad("--count does not apply to scenario %s: it has a fixed set of records", o.scenario)
		}
		if set["shape"] {
			return bad("--shape does not apply to scenario %s: it has a fixed set of records", o.scenario)
		}
	default:
		return bad("unknown --scenario %q (want sensor, mixed, filtered, poison or flood)", o.scenario)
	}
	if set["duration"] && o.scenario != scenarioSensor {
		return bad("--duration works with scenario sensor only")
	}
	if o.eventsOut != "" {
		for _, f := range []string{"duration", "rate", "ordered", "max-attempts"} {
			if set[f] {
				return bad("--%s does not apply with --events-out (nothing is sent)", f)
			}
		}
		if start == "" {
			return bad("--events-out needs --start, so that the file is reproducible")
		}
		if o.count > kinesisevent.MaxRecords {
			return bad("--count %d: an event source mapping delivers at most %d records in one event", o.count, kinesisevent.MaxRecords)
		}
		if o.stream != "" && !strings.HasPrefix(o.stream, "arn:") {
			o.stream = kinesisevent.StreamARN(cmp.Or(o.region, kinesisevent.DefaultRegion), kinesisevent.DefaultAccountID, o.stream)
		}
	} else if o.stream == "" {
		return bad("--stream is required (or --events-out to write an event file)")
	}
	if start != "" {
		t, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			return bad("--start %q is not an RFC 3339 time (e.g. 2026-11-21T13:40:00Z)", start)
		}
		o.start = t.UTC()
	} else {
		o.start = time.Now().UTC().Truncate(time.Millisecond)
	}
	if o.interval == 0 {
		o.interval = time.Second
		if o.rate > 0 && o.eventsOut == "" {
			o.interval = max(time.Duration(float64(time.Second)/o.rate), time.Microsecond)
		}
	}
	return exitOK, true
}

// source returns the records of o.scenario.
func (o produceOptions) source() (producer.Source, error) {
	return producer.NewSource(producer.ScenarioConfig{Scenario: o.scenario, Devices: o.devices, Seed: o.seed,
		Start: o.start, Interval: o.interval, Shape: o.shape, Count: o.count})
}

// arrivalLag is a deterministic ingest latency between 200 and 799 ms.
func arrivalLag(i int) time.Duration {
	return time.Duration(200+(i*397)%600) * time.Millisecond
}

// writeEvents writes the scenario as a Kinesis event file.
func writeEvents(e *env, o produceOptions) int {
	src, err := o.source()
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake produce: %v\n", err)
		return exitFailure
	}
	n := o.count
	if o.scenario == scenarioMixed || o.scenario == scenarioFiltered {
		n = math.MaxInt // fixed sets: src ends them
	}
	var recs []kinesisevent.Record
	var prev time.Time
	for i := 0; i < n; i++ {
		it, ok := src()
		if !ok {
			break
		}
		at := it.EventTime.Add(arrivalLag(i))
		if at.Before(prev) {
			at = prev
		}
		prev = at
		recs = append(recs, kinesisevent.Record{PartitionKey: it.PartitionKey, Data: it.Data, ArrivalTime: at})
	}
	ev, err := kinesisevent.Build(recs, kinesisevent.Options{Region: o.region, StreamARN: o.stream})
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake produce: %v\n", err)
		return exitFailure
	}
	b, err := kinesisevent.Marshal(ev)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake produce: %v\n", err)
		return exitFailure
	}
	if err := renameio.WriteFile(o.eventsOut, b, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "streamlake produce: write %s: %v\n", o.eventsOut, err)
		return exitFailure
	}
	if o.json {
		return printJSON(e, "produce", map[string]any{"events_out": o.eventsOut, "scenario": o.scenario, "records": len(recs), "bytes": len(b)})
	}
	fmt.Fprintf(e.stdout, "wrote %d records (scenario %s) to %s\n", len(recs), o.scenario, o.eventsOut)
	return exitOK
}

// produceSummary is the --json output of a run against a stream.
type produceSummary struct {
	Sent             int64   `json:"sent"`
	Failed           int64   `json:"failed"`
	Retries          int64   `json:"retries"`
	Calls            int64   `json:"calls"`
	Bytes            int64   `json:"bytes"`
	DurationSeconds  float64 `json:"duration_seconds"`
	RecordsPerSecond float64 `json:"records_per_second"`
}

// produceToStream sends records until --count are done or --duration is over.
func produceToStream(ctx context.Context, e *env, ses *localrun.Session, o produceOptions, byDuration bool) int {
	region := cmp.Or(o.region, arnRegion(o.stream))
	client, err := putRecordsAPI(ctx, e, ses, region)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake produce: %v\n", err)
		return exitFailure
	}
	src, err := o.source()
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake produce: %v\n", err)
		return exitFailure
	}
	p := producer.New(client, o.stream,
		producer.WithOrdered(o.ordered),
		producer.WithMaxAttempts(o.maxAttempts),
		producer.WithRate(o.rate))

	// Put blocks until a chunk is done; chunks stay small enough that --duration
	// ends on time and ordered mode moves on regularly.
	chunk := producer.MaxRecordsPerCall
	if o.rate > 0 {
		chunk = max(1, min(chunk, int(o.rate/2)))
	}
	if o.ordered {
		chunk = max(1, min(chunk, o.devices*10))
	}

	began := time.Now()
	var deadline time.Time
	total := int64(o.count)
	if byDuration {
		deadline = began.Add(o.duration)
		total = 0
	}
	stop := startProgress(e, p, began, total, o.duration)
	var putErr error
	generated := 0
	batch := make([]producer.Record, 0, chunk)
	for ctx.Err() == nil {
		batch = batch[:0]
		for len(batch) < chunk {
			if !byDuration && generated >= o.count {
				break
			}
			it, ok := src()
			if !ok {
				break
			}
			generated++
			batch = append(batch, it.Record)
		}
		if len(batch) == 0 {
			break
		}
		if _, err := p.Put(ctx, batch); err != nil {
			putErr = err
			if !errors.Is(err, producer.ErrUndelivered) {
				break // a non-retryable error or an interrupt: stop
			}
		}
		if byDuration && !time.Now().Before(deadline) {
			break
		}
	}
	stop()
	// Records of --count that were never given to Put because an error stopped the
	// run are not delivered either: count them, so that sent + failed is --count.
	unsent := int64(0)
	if putErr != nil && !errors.Is(putErr, producer.ErrUndelivered) && ctx.Err() == nil && !byDuration {
		switch o.scenario {
		case scenarioMixed, scenarioFiltered: // fixed sets, shorter than --count
			for _, ok := src(); ok; _, ok = src() {
				unsent++
			}
		default:
			unsent = int64(o.count - generated)
		}
	}
	elapsed := time.Since(began)
	st := p.Stats()
	sum := produceSummary{
		Sent: st.Sent, Failed: st.Failed + unsent, Retries: st.Retries, Calls: st.Calls, Bytes: st.Bytes,
		DurationSeconds: round3(elapsed.Seconds()),
	}
	if elapsed > 0 {
		sum.RecordsPerSecond = round3(float64(st.Sent) / elapsed.Seconds())
	}
	if o.json {
		printJSON(e, "produce", sum)
	} else {
		fmt.Fprintf(e.stdout, "sent %d records (%s) to %s in %s: %.1f records/s, %d calls, %d retries, %d failed\n",
			sum.Sent, humanBytes(sum.Bytes), o.stream, elapsed.Round(time.Millisecond), sum.RecordsPerSecond, sum.Calls, sum.Retries, sum.Failed)
	}
	switch {
	case unsent > 0:
		fmt.Fprintf(e.stderr, "streamlake produce: %d records not delivered (%d of them not sent after the error): %v\n", sum.Failed, unsent, putErr)
		return exitFailure
	case sum.Failed > 0:
		fmt.Fprintf(e.stderr, "streamlake produce: %d records not delivered: %v\n", sum.Failed, putErr)
		return exitFailure
	case putErr != nil:
		fmt.Fprintf(e.stderr, "streamlake produce: %v\n", putErr)
		return exitFailure
	case ctx.Err() != nil:
		fmt.Fprintf(e.stderr, "streamlake produce: interrupted after %d records\n", sum.Sent)
		return exitFailure
	}
	return exitOK
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// startProgress draws a progress line on stderr while records are sent, when stderr
// is a terminal. total is the record count (0 when producing for a duration d). The
// returned function stops it and clears the line.
func startProgress(e *env, p *producer.Producer, began time.Time, total int64, d time.Duration) func() {
	if !e.isTerminal {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			drawProgress(e.stderr, p.Stats(), time.Since(began), total, d)
			select {
			case <-done:
				fmt.Fprint(e.stderr, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func drawProgress(w io.Writer, st producer.Stats, elapsed time.Duration, total int64, d time.Duration) {
	const width = 24
	frac := 0.0
	switch {
	case total > 0:
		frac = float64(st.Sent+st.Failed) / float64(total)
	case d > 0:
		frac = elapsed.Seconds() / d.Seconds()
	}
	frac = math.Max(0, math.Min(1, frac))
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(st.Sent) / elapsed.Seconds()
	}
	count := fmt.Sprintf("%d", st.Sent)
	if total > 0 {
		count = fmt.Sprintf("%d/%d", st.Sent, total)
	}
	fmt.Fprintf(w, "\r\033[K[%s] %3.0f%%  sent %s  %.0f rec/s  retries %d  failed %d",
		bar, frac*100, count, rate, st.Retries, st.Failed)
}
