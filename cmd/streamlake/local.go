package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"

	"github.com/streamlake/streamlake/internal/localrun"
	"github.com/streamlake/streamlake/internal/pipeline"
	"github.com/streamlake/streamlake/internal/sensor"
)

func init() {
	register(command{name: "local", summary: "run the whole pipeline locally (stream, mapping, functions, S3) and account for every record", run: runLocal})
}

func runLocal(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "local", "", "Runs template.yaml on this machine: creates the stream, bucket and queues in moto server\n"+
		"(or in AWS_ENDPOINT_URL), builds the functions, runs them under the local Lambda Runtime API,\n"+
		"produces sensor records and emulates the Kinesis event source mapping with AWS semantics until\n"+
		"the stream is drained, then prints an accounting of every record read back from the emulator.\n"+
		"A run that is interrupted resumes from its checkpoints when started again (unless --fresh).\n"+
		"The emulator stays up after the run so its data can be inspected: the other commands (summaries,\n"+
		"redrive, produce) find it, its region and the stack's resources in .local/session.json by\n"+
		"themselves, and the run prints an export line for the AWS CLI; --stop stops it.")
	var tf templateFlags
	tf.register(fs, "template.yaml", templateUsage{})
	function := fs.String("function", "", "function whose Kinesis event to emulate (default: the only one)")
	count := fs.Int("count", pipeline.DefaultCount, "records to produce in all")
	rate := fs.Float64("rate", 0, "records per second to produce (0 = as fast as possible)")
	devices := fs.Int("devices", pipeline.DefaultDevices, "simulated devices")
	seed := fs.Int64("seed", 1, "seed of the produced records and of the injected faults")
	shape := fs.String("shape", string(sensor.ShapeSensor), "record shape of sensor readings: sensor, or recipe (the classic recipe generator's records)")
	heartbeats := fs.Float64("heartbeat-rate", 0.02, "fraction of produced records that are device heartbeats (the default filter drops them)")
	noProduce := fs.Bool("no-produce", false, "do not produce; process what another producer puts, until idle")
	idle := fs.Duration("idle", 5*time.Second, "with --no-produce: stop after the stream was idle this long")
	s3Fail := fs.Float64("s3-failure-rate", 0, "fraction of the functions' PutObject calls that fail with 503 SlowDown")
	crash := fs.Float64("crash-rate", 0, "fraction of invocations whose function process is killed")
	timeout := fs.Float64("timeout-rate", 0, "fraction of invocations that run past the function timeout")
	poison := fs.Float64("poison-rate", 0, "fraction of produced records with an unreadable event time (quarantined)")
	poll := fs.Duration("poll-interval", pipeline.DefaultPollInterval, "pause between polls of an idle shard (AWS: about 1s)")
	fresh := fs.Bool("fresh", false, "discard an interrupted run instead of resuming it")
	stop := fs.Bool("stop", false, "stop the emulator the last run left running, and exit")
	workDir := fs.String("work-dir", "", "directory for builds, logs and run state (default .local beside the template)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	reshardAt := fs.Int("reshard-at", 0, "reshard the stream once N records are produced, while the mapping runs (UpdateShardCount; needs --to-shards)")
	toShards := fs.Int("to-shards", 0, "with --reshard-at: the stream's open shard count after the reshard")
	htmlReport := fs.String("report", "", "also write a self-contained HTML report (throughput, per-shard lag, failures, hourly summaries) to `FILE.html`")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"--s3-failure-rate", *s3Fail}, {"--crash-rate", *crash}, {"--timeout-rate", *timeout}, {"--poison-rate", *poison}, {"--heartbeat-rate", *heartbeats}} {
		// Written so that NaN, which compares false with everything, fails too.
		if !(f.v >= 0 && f.v <= 1) {
			return usageError(fs, "%s %g: want a fraction between 0 and 1", f.name, f.v)
		}
	}
	if !(*rate >= 0) || math.IsInf(*rate, 1) {
		return usageError(fs, "--rate %g: want records per second, 0 or more (0 = as fast as possible)", *rate)
	}
	sh, err := sensor.ParseShape(*shape)
	if err != nil {
		return usageError(fs, "--shape: %v", err)
	}
	if *count <= 0 || *devices <= 0 || *poll <= 0 || *idle <= 0 {
		return usageError(fs, "--count, --devices, --poll-interval and --idle must be positive")
	}
	if *devices > sensor.MaxDevices {
		return usageError(fs, "--devices must be between 1 and %d, got %d", sensor.MaxDevices, *devices)
	}
	switch {
	case *reshardAt < 0 || *toShards < 0:
		return usageError(fs, "--reshard-at and --to-shards must not be negative")
	case (*reshardAt > 0) != (*toShards > 0):
		return usageError(fs, "--reshard-at and --to-shards go together")
	case *reshardAt > 0 && *reshardAt >= *count:
		return usageError(fs, "--reshard-at %d must be below --count %d", *reshardAt, *count)
	case *reshardAt > 0 && *noProduce:
		return usageError(fs, "--reshard-at cannot be used with --no-produce")
	}
	given := setFlags(fs)
	if *noProduce {
		// The flags of what local produces would otherwise be accepted and do nothing.
		var moot []string
		for _, name := range []string{"count", "devices", "heartbeat-rate", "poison-rate", "rate", "shape"} {
			if given[name] {
				moot = append(moot, "--"+name)
			}
		}
		if len(moot) == 1 {
			return usageError(fs, "%s does not apply with --no-produce (another producer puts the records)", moot[0])
		}
		if len(moot) > 1 {
			return usageError(fs, "%s do not apply with --no-produce (another producer puts the records)", strings.Join(moot, ", "))
		}
	} else if given["idle"] {
		return usageError(fs, "--idle applies with --no-produce only")
	}
	dir := *workDir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(tf.path), ".local")
	}
	if *stop {
		endpoint, err := pipeline.StopEmulator(dir)
		if err == nil {
			err = localrun.Remove(dir)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "streamlake local: %v\n", err)
			return exitFailure
		}
		if endpoint != "" {
			fmt.Fprintf(e.stdout, "stopped the emulator at %s\n", endpoint)
		} else {
			fmt.Fprintln(e.stdout, "no emulator was running")
		}
		return exitOK
	}
	if *htmlReport != "" {
		if err := checkReportPath(*htmlReport, dir); err != nil {
			fmt.Fprintf(e.stderr, "streamlake local: --report %s: %v\n", *htmlReport, err)
			return exitFailure
		}
	}
	opts := pipeline.Options{
		TemplatePath: tf.path, ConfigEnv: tf.configEnv, Overrides: tf.overrides.values, Function: *function,
		WorkDir: dir, Count: *count, Rate: *rate, Devices: *devices, Seed: *seed, HeartbeatRate: *heartbeats, Shape: sh, NoProduce: *noProduce, Idle: *idle,
		Faults:       pipeline.Faults{S3FailureRate: *s3Fail, CrashRate: *crash, TimeoutRate: *timeout, PoisonRate: *poison, Seed: *seed},
		PollInterval: *poll, Fresh: *fresh, Getenv: e.getenv, Log: e.stderr,
		ReshardAt: *reshardAt, ReshardTo: *toShards,
	}
	if e.isTerminal {
		opts.Progress = func(p pipeline.Progress) {
			if p.Aggregating {
				fmt.Fprintf(e.stderr, "\r\033[K%5.1fs  stream drained (stored %d)  aggregator: %d notifications done, %d left, %d table items",
					p.Elapsed.Seconds(), p.Succeeded, p.Notifications, p.NotificationsLeft, p.SummaryItems)
				return
			}
			fmt.Fprintf(e.stderr, "\r\033[K%5.1fs  produced %d  polled %d  filtered %d  invocations %d  stored %d  retries %d  errors %d  discarded %d  notifications %d",
				p.Elapsed.Seconds(), p.Produced, p.Polled, p.Filtered, p.Invocations, p.Succeeded, p.Retries, p.FunctionErrors, p.Dropped, p.Notifications)
		}
	} else if !*asJSON {
		opts.Progress = func(p pipeline.Progress) {
			if int(p.Elapsed.Seconds())%5 == 0 {
				fmt.Fprintf(e.stderr, "%5.1fs  produced %d  polled %d  invocations %d  stored %d  notifications %d done, %d left  table items %d\n",
					p.Elapsed.Seconds(), p.Produced, p.Polled, p.Invocations, p.Succeeded, p.Notifications, p.NotificationsLeft, p.SummaryItems)
			}
		}
	}
	rep, err := pipeline.Run(ctx, opts)
	if e.isTerminal {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if err != nil && ctx.Err() != nil {
		// Interrupted (Ctrl-C, SIGTERM): one message, not the errors of every
		// request the cancellation cut short.
		fmt.Fprintf(e.stderr, "streamlake local: interrupted; the run's state is kept in %s: run `streamlake local` again to resume it (--fresh starts over, --stop stops the emulator)\n", dir)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake local: %v\n", err)
		return exitFailure
	}
	return finishLocal(e, rep, *htmlReport, *asJSON, dir)
}

// finishLocal writes a run's HTML report (htmlReport, if not "") and prints
// its accounting (as JSON with asJSON), and returns the exit code. A report
// that cannot be written fails the run, after the accounting is printed: the
// check before the run (checkReportPath) cannot foresee a directory removed
// meanwhile or a full disk.
func finishLocal(e *env, rep *pipeline.Report, htmlReport string, asJSON bool, dir string) int {
	code := exitOK
	if !rep.OK() {
		code = exitFailure
	}
	if htmlReport != "" {
		if err := writeHTMLReport(htmlReport, rep); err != nil {
			fmt.Fprintf(e.stderr, "streamlake local: %v\n", err)
			code = exitFailure
		} else {
			fmt.Fprintf(e.stderr, "HTML report written to %s\n", htmlReport)
		}
	}
	if asJSON {
		if c := printJSON(e, "local", rep); c != exitOK {
			return c
		}
	} else {
		printReport(e.stdout, rep)
		printInspect(e.stdout, dir)
	}
	return code
}

func printReport(w io.Writer, r *pipeline.Report) {
	verdict := "OK: every record is accounted for, none twice"
	if r.Summaries != nil {
		verdict += "; the summaries match the processed objects"
	}
	switch k := r.KeyOrder; {
	case k == nil:
	case k.AcrossShards > 0:
		verdict += "; per-key order held across the reshard"
	default:
		// A resumed run whose parent shards were done before the interruption
		// sees no key in both a parent and a child: nothing was put to the test.
		verdict += "; per-key order across the reshard not checked (no key read from a parent and a child shard)"
	}
	if f := r.Failures(); len(f) > 0 {
		verdict = "FAILED: " + strings.Join(f, ", ")
	}
	resumed := ""
	if r.Resumed {
		resumed = " (resumed)"
		if r.Parts > 1 {
			resumed = fmt.Sprintf(" (resumed; counters and time below total all %d parts of the run)", r.Parts)
		}
	}
	fmt.Fprintf(w, "\nAccounting%s, read back from the emulator at %s\n", resumed, r.Endpoint)
	rows := []struct {
		name string
		n    int
		note string
	}{
		{"sent", r.Sent, "records in the stream (a KPL aggregate's user records one by one)"},
		{"filtered", r.Filtered, "dropped by FilterCriteria (never invoked)"},
		{"written", r.Written, fmt.Sprintf("in %d processed objects (%d empty)", r.Objects.Processed, r.Objects.Empty)},
		{"quarantined", r.Quarantined, fmt.Sprintf("in %d quarantine objects", r.Objects.Quarantine)},
		{"dead_lettered", r.DeadLettered, fmt.Sprintf("in %d on-failure records in the failure queue", r.OnFailureRecords)},
		{"duplicates", r.Duplicates, "extra copies among the latest object versions"},
		{"lost", r.Lost, "in none of the above"},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-14s %8d   %s\n", row.name, row.n, row.note)
	}
	if len(r.LostSample) > 0 {
		fmt.Fprintf(w, "  lost, e.g.: %s\n", strings.Join(r.LostSample, ", "))
	}
	for _, s := range r.InvalidOnFailureSample {
		fmt.Fprintf(w, "  on-failure record excusing nothing (another stream or no end): %s\n", s)
	}
	if len(r.DuplicateSample) > 0 {
		fmt.Fprintf(w, "  duplicated, e.g.: %s\n", strings.Join(r.DuplicateSample, ", "))
	}
	if r.Produced != nil {
		fmt.Fprintf(w, "Stream: %d records, the producer put %d\n", r.Sent, *r.Produced)
	}
	fmt.Fprintf(w, "Content: %d stored lines compared with their stream record, %d with another original_data, %d of no record in the stream\n",
		r.ContentChecked, r.ContentMismatches, r.Phantoms)
	for _, s := range r.ContentSample {
		fmt.Fprintf(w, "  original_data differs: %s\n", s)
	}
	for _, s := range r.PhantomSample {
		fmt.Fprintf(w, "  no such record in the stream: %s\n", s)
	}
	switch r.Placement {
	case "exact":
		fmt.Fprintf(w, "Placement: %d records in the wrong prefix (poison processed, or valid quarantined)\n", r.Misplaced)
	case "poison only":
		fmt.Fprintf(w, "Placement: %d records in the wrong prefix; %d quarantined records not checked (put by a part of the run that could not record them)\n", r.Misplaced, r.PlacementUnchecked)
	}
	for _, s := range r.MisplacedSample {
		fmt.Fprintf(w, "  wrong prefix: %s\n", s)
	}
	fmt.Fprintf(w, "\nShards\n")
	for _, s := range r.Shards {
		fmt.Fprintf(w, "  %s  %6d records  lag %d records, %d ms behind latest\n", s.ShardID, s.Records, s.LagRecords, s.MillisBehindLatest)
	}
	m := r.Mapping
	fmt.Fprintf(w, "\nEvent source mapping: %d invocations, %d function errors, %d partial failures, %d retries, %d bisects, %d records discarded (retries, record age or payload size), %d on-failure records sent\n",
		m.Invocations, m.FunctionErrors, m.PartialFailures, m.Retries, m.Bisects, m.Dropped, m.OnFailureSent)
	i := r.Injected
	if i.S3Failures+i.CrashesBefore+i.CrashesAfter+i.Timeouts+int64(i.Poison) > 0 {
		fmt.Fprintf(w, "Faults injected: %d S3 failures, %d crashes before and %d after the handler, %d timeouts, %d poison records\n",
			i.S3Failures, i.CrashesBefore, i.CrashesAfter, i.Timeouts, i.Poison)
	}
	f := r.Function
	fmt.Fprintf(w, "Function: %d invocations (%d cold starts) in %d environments, mean %.1f ms per invocation\n",
		f.Invocations, f.ColdStarts, f.Environments, f.MeanInvokeMS)
	for _, a := range r.SQSFunctions {
		fmt.Fprintf(w, "%s (SQS): %d notifications received, %d deleted, %d failed, %d dead-lettered; %d invocations (largest batch %d), %d function errors, %d partial failures; mean %.1f ms per invocation, %.0f notifications per busy second, drained %.1fs after the stream\n",
			a.Function, a.Received, a.Deleted, a.Failed, a.DeadLettered, a.Invocations, a.LargestBatch, a.FunctionErrors, a.PartialFailures, a.MeanInvokeMS, a.MessagesPerBusySecond, a.TailSeconds)
	}
	if k := r.KeyOrder; k != nil {
		fmt.Fprintf(w, "Key order across the reshard (%s): %d records of %d partition keys checked (%d keys read from a parent and a child shard), %d out of order\n",
			k.Reshard, k.Records, k.Keys, k.AcrossShards, k.Violations)
		for _, v := range k.ViolationSample {
			fmt.Fprintf(w, "  out of order: %s\n", v)
		}
	}
	if s := r.Summaries; s != nil {
		fmt.Fprintf(w, "Summaries: %d device and fleet items read by Scan, %d mismatches against a recomputation from the processed objects\n", s.Items, s.Mismatches)
		for _, m := range s.Sample {
			fmt.Fprintf(w, "  mismatch: %s\n", m)
		}
		st := s.Recomputed
		fmt.Fprintf(w, "  recomputation: %d lines, %d records aggregated (%d written, %d without a device read with encoding/json), %d without a device, %d without a time, %d malformed\n",
			st.Lines, st.Records, r.Written, s.WithoutDevice, st.NoDevice, st.NoTime, st.Malformed)
		fmt.Fprintf(w, "  cross-check (encoding/json, time.Parse): %d records counted per device and hour, %d not cross-checked, %d device items with another count\n",
			s.CrossChecked, s.NotCrossChecked, s.CrossMismatches)
		for _, m := range s.CrossSample {
			fmt.Fprintf(w, "  cross-check: %s\n", m)
		}
	}
	fmt.Fprintf(w, "Time: %.1fs in all (%.1fs setup incl. %.1fs build, production %.1fs), %.0f records/s end to end\n",
		r.DurationSeconds, f.SetupSeconds, f.BuildSeconds, f.ProduceSecond, r.RecordsPerSecond)
	if line := r.EmulatorSummary(); line != "" {
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "\n%s\n", verdict)
}

// printInspect tells how to look at what the run left in the emulator: the other
// commands find it by themselves, other tools through the export line.
func printInspect(w io.Writer, dir string) {
	ses, err := localrun.Load(dir)
	if err != nil {
		return
	}
	resources := fmt.Sprintf("bucket %s, failure queue %s, table %s", ses.Output("OutputBucketName"), ses.Output("FailureQueueUrl"), ses.Output("SummaryTableName"))
	started := pipeline.StartedEmulators(dir)
	if started {
		fmt.Fprintf(w, "\nThe emulator is still running (%s).\n", resources)
	} else {
		fmt.Fprintf(w, "\nThe run's resources stay in your emulator (%s).\n", resources)
	}
	fmt.Fprintf(w, "`streamlake summaries`, `redrive --dry-run` and `produce` use it without flags; for the AWS CLI and other tools:\n")
	fmt.Fprintf(w, "  %s\n", ses.ExportLine())
	if started {
		fmt.Fprintf(w, "`streamlake local --stop` stops it.\n")
	} else {
		fmt.Fprintf(w, "`streamlake local --stop` forgets the run; your emulator keeps running.\n")
	}
}

// checkReportPath makes sure, before a run, that the HTML report can be written
// to path: its directory exists and takes a new file, and path is not a
// directory. Found only at the end, the error would come after the whole run.
// A directory the run creates (workDir, and those above it) need not exist yet:
// the nearest one that exists must take it.
func checkReportPath(path, workDir string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a directory; give a file name")
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) && createdByRun(dir, workDir) {
		for {
			parent := filepath.Dir(dir)
			if _, err := os.Stat(parent); err == nil || parent == dir {
				dir = parent
				break
			}
			dir = parent
		}
	}
	f, err := os.CreateTemp(dir, ".streamlake-report-*")
	if err != nil {
		return fmt.Errorf("cannot write there: %w", err)
	}
	name := f.Name()
	return errors.Join(f.Close(), os.Remove(name))
}

// createdByRun reports whether the run creates dir: it is workDir or a
// directory above it (pipeline.Run creates workDir with os.MkdirAll).
func createdByRun(dir, workDir string) bool {
	d, err1 := filepath.Abs(dir)
	w, err2 := filepath.Abs(workDir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, w)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// writeHTMLReport writes the report to path atomically (renameio: a temporary
// file, fsync, rename), so that a failed write leaves no half page.
func writeHTMLReport(path string, rep *pipeline.Report) error {
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		return fmt.Errorf("HTML report: %w", err)
	}
	if err := renameio.WriteFile(path, page.Bytes(), 0o644); err != nil {
		return fmt.Errorf("HTML report: %w", err)
	}
	return nil
}
