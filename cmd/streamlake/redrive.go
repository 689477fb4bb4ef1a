package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamlake/streamlake/internal/filter"
	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/localrun"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/redrive"
	"github.com/streamlake/streamlake/internal/s3store"
)

func init() {
	register(command{
		name:    "redrive",
		summary: "replay the failed batches of the failure queue from the stream to S3 or back into the stream",
		run:     runRedrive,
	})
}

const redriveDescription = `Reads the on-failure records that the event source mapping sent to the failure
queue, re-reads exactly the records of each range from the stream
(GetShardIterator AT_SEQUENCE_NUMBER startSequenceNumber, up to and including
endSequenceNumber), writes them, and deletes a message only after its records are
durably written. It is safe to run again at any time, also while another run is
under way: a run keeps the messages it holds hidden (it extends their visibility
timeout until it deletes them or, at its end, releases them), and what a rerun
writes again is below.

  --to s3      (default) writes the records in the processor's format (same
               transform, Hive-partitioned deterministic keys; with --template,
               the processor's compression and event-time field) under
               --prefix, default redriven/.
               A rerun, or a rerun after a crash between the write and the
               delete, overwrites the same keys (with the same --compression
               and --template options): no duplicates of a message's records
               among the latest object versions.
  --to stream  puts the records back into the stream (--stream, default the stream
               each range came from) with their partition keys, where the mapping
               processes them again. This is at-least-once: a rerun after a crash
               between the put and the delete puts them twice.

A range spans the sequence numbers from the first to the last record of the
failed batch, so it also holds the records between them that were not in that
batch: records the FilterCriteria dropped and, with ParallelizationFactor > 1,
records of other partition keys that a concurrent batch stored. Redrive re-writes
the whole range (at-least-once for those records), which is why redriven records
have a prefix of their own rather than processed/. For the same reason two
messages' ranges can overlap: their shared records are written under both
messages' keys (or put back twice). With --template, the function's
FilterCriteria (resolved as by 'streamlake filters') is applied and the records
it drops are skipped. A failed batch's range can also name records the processor
stored (a batch is failed from its first record when one of its two objects could
not be written; a bisect leaves the first attempt's objects): --skip-stored (on by
default) skips the records that the processor's latest processed and quarantine
objects in --bucket hold, and, with --to s3, the user records of a KPL aggregate
that they hold. With ParallelizationFactor 1, exactly the failed batches' records
that no object holds are then redriven. Use the same --template options on every
run.

Ranges the stream no longer holds (trimmed by its retention period, before or
while they are read, or the stream or shard deleted) are reported as expired and
left in the queue. Messages that are not Kinesis on-failure records (each is
named: an S3 event, an asynchronous invocation record, …) and, with
--source-stream (by default the local run's stream on its queue), on-failure
records of other streams, which this run's filter, transform and destination do
not fit, are reported invalid and left in the queue. Every message left in the
queue is made visible again at the end. A run handles each message once: one it
receives again (its visibility timeout lapsed because extending it failed, or
SQS delivered it twice) is not redriven again and does not count toward --max.
The run ends when the queue has nothing left to receive, after --max messages,
or when for one receive wait (2s) it receives only messages it already handled,
so messages that keep reappearing cannot keep it going; any message it did not
get to stays for the next run. --dry-run reads the queue and the stream and
reports what would be written, without writing or deleting anything.

Replay from a point in time: with --from TIME (and optionally --until TIME) and
--stream, no queue is read; every shard of the stream is re-read from its first
record that arrived at or after TIME, up to --until (default: when it starts;
either time in the future is refused, since a range still open would read other
records on a rerun), and written the same way (--to s3: default prefix
replayed/; --to stream: put back into the same stream, where the pipeline
processes the records again). Running it again with the same --from and --until
writes the same keys.

After ` + "`streamlake local`" + ` it works on that run's emulator, failure queue, bucket and
stream without flags (from .local/session.json; flags win; see
` + "`streamlake summaries --help`" + `), and on that run's queue or stream it reads
the run's template file with the run's samconfig environment, parameter overrides
and function, so that exactly the failed batches' records are redriven, in the
run's compression; --template names another, --template '' applies none. When
the run's template can no longer be read it stops and says so.
Otherwise credentials and region come from the default AWS chain (AWS_ENDPOINT_URL
points it at an emulator); the region defaults to the queue URL's (or the stream
ARN's).

Exit status: 0 every message read was redriven (or, with --dry-run, could be),
1 some message could not be (expired, invalid, failed) or an error, 2 bad flags.`

// resolveStream returns the ARN of a stream name or ARN and the Kinesis client
// of its region.
func resolveStream(ctx context.Context, clients *awsClients, stream string) (string, redrive.ReplayAPI, error) {
	region := arnRegion(stream)
	c := clients.Kinesis(region)
	if strings.HasPrefix(stream, "arn:") {
		return stream, c, nil
	}
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		return "", nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	return aws.ToString(out.StreamDescriptionSummary.StreamARN), c, nil
}

type redriveOptions struct {
	queue       string
	to          string
	bucket      string
	stream      string
	prefix      string
	compression string
	region      string
	dryRun      bool
	max         int
	visibility  time.Duration
	json        bool
	template    templateFlags
	function    string
	from, until string
	skipStored  bool
	// source is the stream whose ranges are redriven ("" = any).
	source string
}

func runRedrive(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "redrive", "", redriveDescription)
	var o redriveOptions
	fs.StringVar(&o.queue, "queue", "", "URL of the failure queue (stack output FailureQueueUrl; default: the last local run's; required otherwise unless --from)")
	fs.StringVar(&o.to, "to", "s3", "destination: s3 or stream")
	fs.StringVar(&o.bucket, "bucket", "", "the stack's output bucket (stack output OutputBucketName; default: the last local run's): where --to s3 writes, and where --skip-stored reads the processor's objects")
	fs.StringVar(&o.stream, "stream", "", "with --from: the stream to replay (name or ARN); else with --to stream: the stream to put into (default: each range's source stream)")
	fs.StringVar(&o.prefix, "prefix", "", "with --to s3: key prefix of the objects (default redriven, or replayed with --from)")
	fs.StringVar(&o.compression, "compression", "", "with --to s3: gzip, zstd or none (default: with --template the processor's COMPRESSION, else gzip; keep it the same on every run: another compression writes other keys)")
	fs.StringVar(&o.region, "region", "", "AWS region (default: the environment, the queue URL's, or the last local run's)")
	fs.BoolVar(&o.skipStored, "skip-stored", true, "with the queue: skip the records of a range that the processor's latest processed or quarantine objects in --bucket already hold (a failed batch's range can name stored records; with --to stream, --bucket names where they are); false redrives every record of each range")
	fs.StringVar(&o.source, "source-stream", "", "with the queue: redrive only the ranges of this stream (name or ARN); a message naming another stream is reported invalid and left in the queue (default: the last local run's stream for its queue, else any stream)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read and report only: write nothing, delete nothing")
	fs.IntVar(&o.max, "max", 0, "handle at most this many messages (0 = all)")
	fs.DurationVar(&o.visibility, "visibility-timeout", redrive.DefaultVisibilityTimeout, "visibility timeout of the messages received: the run extends it every third of it until a message is deleted or released at the end, so after a crash they reappear within this time")
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	o.template.register(fs, "", templateUsage{
		template:  "SAM template whose FilterCriteria to apply and whose COMPRESSION and TIME_FIELD to use (default: the last local run's for its queue or stream, else none: redrive every record of a range)",
		configEnv: "with --template (or the local run's): samconfig.toml environment for parameter overrides",
		overrides: "with --template (or the local run's): template parameter K=V (repeatable; space-separated pairs accepted; they win over the run's)",
	})
	fs.StringVar(&o.function, "function", "", "with --template (or the local run's): the function (default: the only one with a Kinesis event, or the run's)")
	fs.StringVar(&o.from, "from", "", "replay the --stream from this time (RFC 3339) instead of reading the queue")
	fs.StringVar(&o.until, "until", "", "with --from: replay records that arrived up to this time (RFC 3339; default: when the replay starts)")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	set := setFlags(fs)
	ses, err := localSession(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake redrive: %v\n", err)
		return exitFailure
	}
	o.localDefaults(ses)
	runTemplate, err := o.localTemplate(ses, set)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake redrive: %v\n", err)
		return exitFailure
	}
	if code, ok := o.validate(fs, set); !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "streamlake redrive: %v\n", err)
		return exitFailure
	}
	var fn functionSettings
	if o.template.path != "" {
		var code int
		if fn, code, err = templateSettings(&o); err != nil {
			if code == exitUsage {
				return usageError(fs, "%v", err)
			}
			return fail(err)
		}
		if o.compression == "" {
			o.compression = fn.compression
		}
	}
	if o.compression == "" {
		o.compression = string(ndjson.Gzip) // the processor's default
	}
	region := o.region
	if region == "" && e.getenv("AWS_REGION") == "" && e.getenv("AWS_DEFAULT_REGION") == "" {
		region = regionOfQueueURL(o.queue)
		if r, _, ok := strings.Cut(strings.TrimPrefix(o.stream, "arn:aws:kinesis:"), ":"); ok && strings.HasPrefix(o.stream, "arn:") {
			region = r
		}
	}
	noteLocal(e, "redrive", ses)
	if runTemplate != "" {
		fmt.Fprintf(e.stderr, "streamlake redrive: %s\n", runTemplate)
	}
	clients, err := newAWSClients(ctx, e, ses, region)
	if err != nil {
		return fail(err)
	}
	producers := func(r string) (producer.API, error) { return clients.Kinesis(r), nil }
	var w redrive.Writer
	if o.prefix == "" {
		o.prefix = redrive.DefaultPrefix
		if o.from != "" {
			o.prefix = redrive.DefaultReplayPrefix
		}
	}
	if o.to == "s3" {
		sw, err := redrive.ToS3(s3store.New(clients.S3(), o.bucket), redrive.S3Config{
			Bucket: o.bucket, Prefix: o.prefix, Compression: ndjson.Compression(o.compression), Transform: fn.transform})
		if err != nil {
			return fail(err)
		}
		w = sw
	} else if o.from != "" {
		w = redrive.ToStream(producers, "")
	} else {
		w = redrive.ToStream(producers, o.stream)
	}
	if o.from != "" {
		return runReplay(ctx, e, &o, clients, w, fn.keep)
	}
	var source string
	if o.source != "" {
		if source, _, err = resolveStream(ctx, clients, o.source); err != nil {
			return fail(fmt.Errorf("--source-stream: %w", err))
		}
	}
	opts := redrive.Options{
		QueueURL: o.queue, Queue: clients.SQS(), Writer: w, StreamARN: source,
		Streams: func(r string) (redrive.StreamAPI, error) { return clients.Kinesis(r), nil },
		DryRun:  o.dryRun, Max: o.max, VisibilityTimeout: o.visibility, Filter: fn.keep,
	}
	if o.skipStored {
		prefixes := fn.prefixes
		if prefixes == nil {
			prefixes = []string{ndjson.DefaultProcessedPrefix, ndjson.DefaultQuarantinePrefix}
		}
		opts.Stored = &redrive.Stored{API: clients.S3(), Bucket: o.bucket, Prefixes: prefixes}
	}
	return reportRun(e, o.json,
		func(progress func(redrive.Progress)) (*redrive.Summary, error) {
			opts.Progress = progress
			return redrive.Run(ctx, opts)
		},
		printRedriveSummary,
		func(sum *redrive.Summary) string {
			return fmt.Sprintf("%d of %d messages could not be redriven (%d expired, %d invalid, %d failed); they are still in the queue",
				sum.Expired+sum.Invalid+sum.Failed, sum.MessagesRead, sum.Expired, sum.Invalid, sum.Failed)
		})
}

// runSummary is what a redrive or a replay reports.
type runSummary[T any] interface {
	*T
	OK() bool
}

// reportRun runs a redrive or a replay with a progress line on a terminal,
// prints its summary (--json or text) and returns the exit code: 1 when it
// failed, or when the summary is not OK (shortfall says what was not done).
func reportRun[T any, S runSummary[T]](e *env, asJSON bool, run func(progress func(redrive.Progress)) (S, error),
	printText func(io.Writer, S), shortfall func(S) string) int {
	var progress func(redrive.Progress)
	var bar *redriveBar
	if e.isTerminal {
		bar = &redriveBar{w: e.stderr, began: time.Now()}
		progress = bar.draw
	}
	sum, err := run(progress)
	if bar != nil {
		bar.clear()
	}
	if sum != nil {
		if asJSON {
			if code := printJSON(e, "redrive", sum); code != exitOK {
				return code
			}
		} else {
			printText(e.stdout, sum)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake redrive: %v\n", err)
		return exitFailure
	}
	if !sum.OK() {
		fmt.Fprintf(e.stderr, "streamlake redrive: %s\n", shortfall(sum))
		return exitFailure
	}
	return exitOK
}

// localDefaults fills what the flags left out from the last local run: the
// failure queue, the bucket (with --to s3) and, for a replay (--from), the stream.
func (o *redriveOptions) localDefaults(ses *localrun.Session) {
	if ses == nil {
		return
	}
	if o.from == "" && o.queue == "" {
		o.queue = ses.Output("FailureQueueUrl")
	}
	if (o.to == "s3" || o.from == "" && o.skipStored) && o.bucket == "" {
		o.bucket = ses.Output("OutputBucketName")
	}
	if o.from != "" && o.stream == "" {
		o.stream = ses.Output("StreamName")
	}
	if o.from == "" && o.source == "" && o.queue != "" && o.queue == ses.Output("FailureQueueUrl") {
		// The run's queue holds its stream's failures only: another
		// stream's range would be written with the run's settings.
		o.source = ses.Output("StreamArn")
	}
}

// localTemplate makes a redrive of the last local run's failure queue, or a
// replay of its stream, read the run's template file with the run's parameters
// when --template is not given: the function's FilterCriteria, COMPRESSION and
// TIME_FIELD then apply as in the run (flags still win; --template "" applies
// none). It returns what to tell the user ("" when it changed nothing), or an
// error when the run's template cannot be read: redriving without it would
// write other records and other keys than the run's settings give.
func (o *redriveOptions) localTemplate(ses *localrun.Session, set map[string]bool) (string, error) {
	if ses == nil || ses.Template == nil || set["template"] {
		return "", nil
	}
	ofRun := o.from == "" && o.queue != "" && o.queue == ses.Output("FailureQueueUrl") ||
		o.from != "" && o.stream != "" && (o.stream == ses.Output("StreamName") || o.stream == ses.Output("StreamArn"))
	if !ofRun {
		return "", nil
	}
	t := ses.Template
	if _, err := os.Stat(t.Path); err != nil {
		return "", fmt.Errorf("the last local run's template cannot be read (%w): give --template FILE, or --template '' to redrive every record of each range", err)
	}
	o.template.path = t.Path
	if !set["config-env"] {
		o.template.configEnv = t.ConfigEnv
	}
	if !set["function"] {
		o.function = t.Function
	}
	merged := maps.Clone(t.Overrides)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, o.template.overrides.values) // the flags win
	o.template.overrides.values = merged
	return fmt.Sprintf("applying the run's template %s with the run's parameters (function %s): its FilterCriteria, COMPRESSION and TIME_FIELD; --template '' applies none", t.Path, cmp.Or(t.Function, "the only one with a Kinesis event")), nil
}

// validate checks the flags together; it returns (exitUsage, false) after
// printing the problem.
func (o *redriveOptions) validate(fs *flag.FlagSet, set map[string]bool) (int, bool) {
	bad := func(format string, a ...any) (int, bool) { return usageError(fs, format, a...), false }
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case o.from != "":
		return o.validateReplay(fs, set)
	case set["until"]:
		return bad("--until applies with --from only")
	case o.queue == "":
		return bad("--queue is required (the stack output FailureQueueUrl), or --from to replay a stream")
	case !validQueueURL(o.queue):
		return bad("--queue %q is not a queue URL (e.g. https://sqs.us-east-1.amazonaws.com/123456789012/name)", o.queue)
	case o.max < 0:
		return bad("--max must not be negative, got %d", o.max)
	case o.source != "" && strings.HasPrefix(o.source, "arn:") && !isStreamARN(o.source):
		return bad("--source-stream %q is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>) or a stream name", o.source)
	case o.visibility < time.Second || o.visibility > 12*time.Hour:
		return bad("--visibility-timeout must be between 1s and 12h (SQS limits), got %s", o.visibility)
	case o.template.path == "" && (set["function"] || set["config-env"] || set["parameter-overrides"]):
		return bad("--function, --config-env and --parameter-overrides apply with --template only")
	case o.to == "s3" && o.bucket != "" && set["stream"]:
		return bad("--stream applies to --to stream only")
	}
	return o.validateDestination(fs, set)
}

// validateDestination checks the flags of --to, for a redrive and a replay.
func (o *redriveOptions) validateDestination(fs *flag.FlagSet, set map[string]bool) (int, bool) {
	bad := func(format string, a ...any) (int, bool) { return usageError(fs, format, a...), false }
	switch o.to {
	case "s3":
		if o.bucket == "" {
			return bad("--to s3 needs --bucket (the stack output OutputBucketName)")
		}
		if _, err := ndjson.ParseCompression(o.compression); set["compression"] && err != nil {
			return bad("--compression: %v", err)
		}
		if set["prefix"] && strings.Trim(o.prefix, "/") == "" {
			return bad("--prefix must not be empty")
		}
	case "stream":
		for _, f := range []string{"prefix", "compression"} {
			if set[f] {
				return bad("--%s applies to --to s3 only", f)
			}
		}
		switch {
		case o.from != "" && set["bucket"]:
			return bad("--bucket applies to --to s3 only in a replay")
		case o.from == "" && o.skipStored && o.bucket == "":
			return bad("--to stream skips the records that the processor's objects already hold: give --bucket (the stack output OutputBucketName), or --skip-stored=false to put back every record of each range")
		}
	default:
		return bad("--to %q: want s3 or stream", o.to)
	}
	return exitOK, true
}

// validateReplay checks the flags of a replay (--from).
func (o *redriveOptions) validateReplay(fs *flag.FlagSet, set map[string]bool) (int, bool) {
	bad := func(format string, a ...any) (int, bool) { return usageError(fs, format, a...), false }
	for _, f := range []string{"queue", "max", "visibility-timeout", "skip-stored", "source-stream"} {
		if set[f] {
			return bad("--%s does not apply with --from (a replay reads the stream, not the queue)", f)
		}
	}
	if o.stream == "" {
		return bad("--from needs --stream, the stream to replay")
	}
	from, err := time.Parse(time.RFC3339Nano, o.from)
	if err != nil {
		return bad("--from %q is not an RFC 3339 time (e.g. 2026-11-21T13:00:00Z)", o.from)
	}
	if o.until != "" {
		until, err := time.Parse(time.RFC3339Nano, o.until)
		if err != nil {
			return bad("--until %q is not an RFC 3339 time (e.g. 2026-11-21T14:00:00Z)", o.until)
		}
		if until.Before(from) {
			return bad("--until %s is before --from %s", o.until, o.from)
		}
		if until.After(time.Now()) {
			return bad("--until %s is in the future: a replay reads records that have arrived (the default is when it starts), and one ending later would read other records on a rerun", o.until)
		}
	} else if from.After(time.Now()) {
		return bad("--from %s is in the future: no record has arrived after it yet", o.from)
	}
	if code, ok := o.validateDestination(fs, set); !ok {
		return code, false
	}
	if o.template.path == "" && (set["function"] || set["config-env"] || set["parameter-overrides"]) {
		return bad("--function, --config-env and --parameter-overrides apply with --template only")
	}
	return exitOK, true
}

// runReplay replays o.stream from o.from.
func runReplay(ctx context.Context, e *env, o *redriveOptions, clients *awsClients, w redrive.Writer, keep func([]byte) bool) int {
	from, _ := time.Parse(time.RFC3339Nano, o.from)
	var until time.Time
	if o.until != "" {
		until, _ = time.Parse(time.RFC3339Nano, o.until)
	}
	arn, client, err := resolveStream(ctx, clients, o.stream)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake redrive: %v\n", err)
		return exitFailure
	}
	opts := redrive.ReplayOptions{Stream: client, StreamARN: arn, From: from, Until: until, Writer: w, Filter: keep, DryRun: o.dryRun}
	return reportRun(e, o.json,
		func(progress func(redrive.Progress)) (*redrive.ReplaySummary, error) {
			opts.Progress = progress
			return redrive.Replay(ctx, opts)
		},
		printReplaySummary,
		func(sum *redrive.ReplaySummary) string {
			return fmt.Sprintf("%d of %d shards could not be replayed completely", sum.Failed, len(sum.Shards))
		})
}

func printReplaySummary(w io.Writer, s *redrive.ReplaySummary) {
	mode := ""
	if s.DryRun {
		mode = " (dry run: nothing written)"
	}
	fmt.Fprintf(w, "Replay of %s from %s to %s, to %s%s\n", s.StreamARN, s.From.Format(time.RFC3339Nano), s.Until.Format(time.RFC3339Nano), s.Destination, mode)
	for _, sh := range s.Shards {
		status := "ok"
		if sh.Error != "" {
			status = "FAILED: " + sh.Error
		}
		fmt.Fprintf(w, "  %s  %7d read  %7d filtered  %7d written  %4d objects  %s\n", sh.ShardID, sh.RecordsRead, sh.RecordsFiltered, sh.RecordsWritten, len(sh.Objects), status)
	}
	fmt.Fprintf(w, "  %-20s  %7d read  %7d filtered  %7d written  %4d objects\n", "total", s.RecordsRead, s.RecordsFiltered, s.RecordsWritten, s.Objects)
}

// functionSettings is what redrive takes from the template's processor
// function.
type functionSettings struct {
	// keep is its FilterCriteria as a record filter (nil if it has none).
	keep func([]byte) bool
	// compression is its COMPRESSION (default gzip, as the processor reads it).
	compression string
	// transform checks the event time in its TIME_FIELD, as the processor's
	// default transform does (nil: it has none, the default timestamp).
	transform ingest.Transform
	// prefixes are its PROCESSED_PREFIX and QUARANTINE_PREFIX (nil: the defaults).
	prefixes []string
}

// templateSettings returns what redrive takes from the template's function, or
// an error with the exit code to use. With the processor's compression,
// redriven objects have the keys the processor's format gives them on every
// run: gzip on one run and zstd on the next would store a chunk under two keys.
// With its TIME_FIELD, redrive quarantines the records the processor would.
func templateSettings(o *redriveOptions) (functionSettings, int, error) {
	var s functionSettings
	tpl, code, err := o.template.load()
	if err != nil {
		return s, code, err
	}
	ev, code, err := pickKinesisEvent(tpl, o.function, "")
	if err != nil {
		return s, code, err
	}
	fn, _ := tpl.Function(ev.Function)
	s.prefixes = []string{cmp.Or(fn.Environment["PROCESSED_PREFIX"], ndjson.DefaultProcessedPrefix),
		cmp.Or(fn.Environment["QUARANTINE_PREFIX"], ndjson.DefaultQuarantinePrefix)}
	s.compression = cmp.Or(fn.Environment["COMPRESSION"], string(ndjson.Gzip))
	if _, err := ndjson.ParseCompression(s.compression); err != nil {
		return s, exitFailure, fmt.Errorf("%s: function %s: COMPRESSION: %w", o.template.path, fn.LogicalID, err)
	}
	if v := fn.Environment["TIME_FIELD"]; v != "" {
		if s.transform, err = ingest.ValidateEventTimeAt(v); err != nil {
			return s, exitFailure, fmt.Errorf("%s: function %s: TIME_FIELD: %w", o.template.path, fn.LogicalID, err)
		}
	}
	patterns, err := ev.FilterPatterns()
	if err != nil {
		return s, exitFailure, fmt.Errorf("%s: %w", o.template.path, err)
	}
	if patterns == nil {
		return s, exitOK, nil
	}
	crit, err := filter.Compile(patterns)
	if err != nil {
		return s, exitFailure, fmt.Errorf("%s: event %s: invalid FilterCriteria: %w", o.template.path, ev.Name, err)
	}
	s.keep = func(data []byte) bool { ok, _ := crit.Match(data); return ok }
	return s, exitOK, nil
}

// isStreamARN reports whether s is a Kinesis stream ARN.
func isStreamARN(s string) bool {
	a, err := arn.Parse(s)
	name, ok := strings.CutPrefix(a.Resource, "stream/")
	return err == nil && a.Service == "kinesis" && a.Region != "" && ok && name != "" && !strings.Contains(name, "/")
}

func validQueueURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && strings.Count(strings.Trim(u.Path, "/"), "/") == 1
}

// regionOfQueueURL returns the region of https://sqs.<region>.amazonaws.com/… or
// https://<region>.queue.amazonaws.com/…, or "".
func regionOfQueueURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	parts := strings.Split(u.Hostname(), ".")
	switch {
	case len(parts) >= 4 && parts[0] == "sqs":
		return parts[1]
	case len(parts) >= 4 && parts[1] == "queue":
		return parts[0]
	}
	return ""
}

func printRedriveSummary(w io.Writer, s *redrive.Summary) {
	mode := ""
	if s.DryRun {
		mode = " (dry run: nothing written, nothing deleted)"
	}
	fmt.Fprintf(w, "Redrive from %s to %s%s\n", s.Queue, s.Destination, mode)
	objects := fmt.Sprintf("%d objects", s.Objects)
	if s.Destination != "" && !strings.HasPrefix(s.Destination, "s3://") {
		objects = "put into the stream"
	}
	rows := []struct {
		name string
		n    int
		note string
	}{
		{"messages read", s.MessagesRead, fmt.Sprintf("%d records in their ranges, %d skipped by the FilterCriteria, %d already in the processor's objects", s.RecordsRead, s.RecordsFiltered, s.RecordsStored)},
		{"redriven", s.Redriven, fmt.Sprintf("%d records written, %s; messages deleted", s.RecordsWritten, objects)},
		{"expired", s.Expired, "range no longer in the stream; left in the queue"},
		{"invalid", s.Invalid, "not Kinesis on-failure records, or of another stream or shard; left in the queue"},
		{"failed", s.Failed, "read, write or delete failed; left in the queue"},
		{"left in queue", s.LeftInQueue, ""},
	}
	if s.DryRun {
		rows[1] = struct {
			name string
			n    int
			note string
		}{"would redrive", s.WouldRedrive, fmt.Sprintf("%d records read, %s", s.RecordsRead, objects)}
	}
	if s.ReceivedAgain > 0 {
		rows = append(rows, struct {
			name string
			n    int
			note string
		}{"received again", s.ReceivedAgain, "receives of messages this run had received before (handled once; see \"received\" in --json)"})
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-14s %6d   %s\n", r.name, r.n, r.note)
	}
	if s.VisibilityError != "" {
		what := "They reappeared in the queue while the run held them, where another run could receive them too."
		if s.ReceivedAgain == 0 {
			what = "None reappeared in this run, but one held longer than --visibility-timeout would reappear in the queue, where another run could receive it too."
		}
		fmt.Fprintf(w, "\nExtending the visibility timeout of the messages held failed: %s\n%s\n"+
			"Grant sqs:ChangeMessageVisibility on the queue; a --visibility-timeout longer than a message takes to redrive keeps them hidden meanwhile.\n", s.VisibilityError, what)
	}
	var problems []redrive.MessageResult
	for _, m := range s.Messages {
		if m.Status == redrive.StatusExpired || m.Status == redrive.StatusFailed || m.Status == redrive.StatusInvalid {
			problems = append(problems, m)
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "\nNot redriven:\n")
		for _, m := range problems {
			where := ""
			if m.Range != nil {
				where = fmt.Sprintf(" %s %s..%s", m.Range.ShardID, m.Range.StartSequenceNumber, m.Range.EndSequenceNumber)
			}
			fmt.Fprintf(w, "  %s %s%s: %s\n", m.MessageID, m.Status, where, m.Reason)
		}
	}
}

// redriveBar draws a progress line on a terminal.
type redriveBar struct {
	w     io.Writer
	began time.Time
	last  time.Time
}

func (b *redriveBar) draw(p redrive.Progress) {
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	const width = 24
	frac := 0.0
	count := fmt.Sprintf("%d", p.MessagesRead)
	if p.Total > 0 {
		frac = math.Min(1, float64(p.MessagesRead)/float64(p.Total))
		count = fmt.Sprintf("%d/%d", p.MessagesRead, p.Total)
	}
	filled := int(frac * width)
	fmt.Fprintf(b.w, "\r\033[K[%s%s] messages %s  redriven %d  expired %d  failed %d  records %d read, %d written  %s",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), count, p.Redriven, p.Expired, p.Failed,
		p.RecordsRead, p.RecordsWritten, time.Since(b.began).Round(time.Second))
}

func (b *redriveBar) clear() { fmt.Fprint(b.w, "\r\033[K") }
