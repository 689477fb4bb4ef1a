package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
)

func init() {
	register(command{
		name:    "cost",
		summary: "estimate the monthly AWS cost of a stream through the pipeline",
		run:     runCost,
	})
}

const costDescription = `Estimates what the pipeline costs per million records and per month (730 hours)
at a steady rate, in us-east-1 with the processor on arm64, from list prices
(no free tier, no savings plans): Lambda requests and GB-seconds, S3 PUT requests
(one object per batch) and one month of storage of the objects a month writes,
Kinesis shard-hours and PUT payload units (provisioned) or stream-hours and
data in and out (on-demand), and with --aggregator the S3 GETs, SQS requests and
DynamoDB writes of the hourly summaries (not the aggregator's own Lambda time).

Settings no flag gives are the template's, as ` + "`sam deploy`" + ` would deploy it (its
defaults, then samconfig.toml's parameter_overrides of --config-env, then
--parameter-overrides): the Kinesis event's BatchSize and
MaximumBatchingWindowInSeconds, the function's MemorySize and COMPRESSION, and the
stream's ShardCount or ON_DEMAND mode. When the rate needs more shards than
ShardCount, the shards needed are priced and a note says so. Without flags it
prices 1,000 records/s of 166-byte sensor records.

How the event source mapping batches: per shard, an invocation takes
min(--batch-size, the records a shard gets in the batching window, what fits in
Lambda's 6 MB payload). With --window 0 the window is taken as 1 s, the rate at
which Lambda polls a shard.

The duration of a batch, unless --duration-ms is given, is the processor's CPU
time per record measured by 'make bench' (the function's handler from the raw
event bytes, scaled to the record size), stretched by the share of a vCPU the
memory size buys (1,769 MB = 1 vCPU), plus an assumed S3 PutObject latency of
30 ms and 1 ms of Runtime API overhead.

--recipe estimates the classic Python "Kinesis to S3" recipe instead: batches
of 100, a 5 s window, 256 MB, one uncompressed pretty-printed JSON object per
invocation, and its CPU time per record measured by 'make bench'.

Exit status: 0 on success, 1 when the template cannot be read for a setting no
flag gives (a missing or invalid template, an unknown --config-env, a bad
--parameter-overrides), 2 for a usage error.`

// Prices: us-east-1, Lambda on arm64, compiled from AWS's pricing pages
// (https://aws.amazon.com/lambda/pricing/, https://aws.amazon.com/s3/pricing/,
// https://aws.amazon.com/kinesis/data-streams/pricing/ in August 2026). Check them
// against the AWS Pricing Calculator before quoting a figure.
const (
	pricesAsOf = "2026-08"

	lambdaRequestPrice   = 0.20 / 1e6   // $ per request
	lambdaARMGBSecond    = 0.0000133334 // $ per GB-second, arm64, first 7.5 billion GB-s a month
	s3PutPrice           = 0.005 / 1000 // $ per PUT, S3 Standard
	s3GetPrice           = 0.0004 / 1000
	s3StoragePerGBMonth  = 0.023 // S3 Standard, first 50 TB
	kinesisShardHour     = 0.015
	kinesisPutUnitPrice  = 0.014 / 1e6 // $ per PUT payload unit (25 KB)
	kinesisPutUnitBytes  = 25 << 10
	kinesisODStreamHour  = 0.04
	kinesisODPerGBIn     = 0.08
	kinesisODPerGBOut    = 0.04
	kinesisODRecordRound = 1 << 10 // on-demand bills each record rounded up to 1 KB

	// Not in the reference: SQS standard queue requests (64 KB chunks), from
	// https://aws.amazon.com/sqs/pricing/, and DynamoDB on-demand write request
	// units after the price cut of 1 November 2024 (AWS What's New, "Amazon DynamoDB
	// reduces prices for on-demand throughput"), https://aws.amazon.com/dynamodb/pricing/on-demand/.
	sqsRequestPrice   = 0.40 / 1e6
	dynamoDBWRUPrice  = 0.625 / 1e6
	hoursPerMonth     = 730
	secondsPerMonth   = hoursPerMonth * 3600
	lambdaMaxPayload  = 6 << 20 // bytes of event per invocation
	vCPUMemoryMB      = 1769    // https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
	shardWriteBytes   = 1 << 20 // per second
	shardWriteRecords = 1000    // per second
	onDemandMinShards = 4       // an on-demand stream starts with 4 MB/s of write capacity
)

// Figures measured by `make bench` (bench/collect) on the benchmark machine (AMD
// EPYC, 2 cores, go1.27.3, 2026-12-07 08:09 UTC, load average about 1),
// 1,000-record batches of 166-byte sensor records: CPU time per record of the
// processor's Lambda handler from the raw event bytes (garbage collection
// included) and object bytes per record; the same for the classic Python recipe
// (Python 3.11, json.loads of the event included). The per-record CPU time is
// scaled to other record sizes in proportion to the output line, whose encoding
// dominates it; the Lambda arm64 core is taken to be as fast as the benchmark's.
const (
	benchRecordBytes    = 166
	lineOverheadBytes   = 377 // NDJSON line bytes besides the payload (542.9 - 165.9)
	recipeOverheadBytes = 407 // pretty-printed recipe bytes besides the payload (573.5 - 165.9)
	recipeCPUNsRecord   = 15681
	s3PutLatencyMs      = 30 // assumed PutObject latency for objects under 1 MB in the same region
	invokeOverheadMs    = 1
	aggregatorBatch     = 10  // template default AggregatorBatchSize
	summaryItemBytes    = 250 // assumed encoded size of one summary in an object's contribution
	maxTransactionItems = 100
)

// goCPUNsRecord and goOutBytesRecord are per compression.
var (
	goCPUNsRecord    = map[string]float64{"gzip": 938, "zstd": 910, "none": 358}
	goOutBytesRecord = map[string]float64{"gzip": 62.15, "zstd": 37.09, "none": 542.9}
)

// costInput is what `cost` is asked about.
type costInput struct {
	Rate        float64 `json:"rate"`         // records per second, all shards
	RecordBytes float64 `json:"record_bytes"` // payload bytes per record
	BatchSize   int     `json:"batch_size"`
	Window      float64 `json:"window_s"`
	MemoryMB    int     `json:"memory_mb"`
	DurationMs  float64 `json:"duration_ms,omitempty"` // 0: modelled
	Shards      int     `json:"shards,omitempty"`      // 0: the fewest the rate needs
	OnDemand    bool    `json:"on_demand"`
	Aggregator  bool    `json:"aggregator"`
	Devices     int     `json:"devices"`
	Compression string  `json:"compression"`
	Recipe      bool    `json:"recipe"`
	// TemplateShards is the template's ShardCount when --shards and --on-demand
	// were not given: the stream is priced with it, or with the shards the rate
	// needs when that is more.
	TemplateShards int `json:"template_shards,omitempty"`
	// Template names the template the defaults came from ("" when flags gave all).
	Template string `json:"template,omitempty"`
}

// costEstimate is the answer; money is in dollars per month.
type costEstimate struct {
	Input             costInput  `json:"input"`
	Shards            int        `json:"shards"`
	RecordsPerBatch   float64    `json:"records_per_batch"`
	BatchesPerSecond  float64    `json:"batches_per_second"`
	DurationMs        float64    `json:"duration_ms"`
	DurationModelled  bool       `json:"duration_modelled"`
	OutputBytesPerRec float64    `json:"output_bytes_per_record"`
	RecordsPerMonth   float64    `json:"records_per_month"`
	Items             []costItem `json:"items"`
	TotalPerMonth     float64    `json:"total_per_month"`
	PerMillionRecords float64    `json:"per_million_records"`
	Warnings          []string   `json:"warnings,omitempty"`
	Notes             []string   `json:"notes,omitempty"`
	PricesAsOf        string     `json:"prices_as_of"`
}

type costItem struct {
	Name     string  `json:"name"`
	Quantity float64 `json:"quantity"` // per month
	Unit     string  `json:"unit"`
	PerMonth float64 `json:"per_month"`
}

func runCost(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "cost", "", costDescription)
	in := costInput{}
	fs.Float64Var(&in.Rate, "rate", defaultCostRate, "records per second into the stream, up to 10000000 (the write limit of 10,000 shards)")
	fs.Float64Var(&in.RecordBytes, "record-bytes", defaultCostRecordBytes, "payload bytes per record, 1-10485760; the default is the mean size of the sensor records that streamlake produce writes")
	fs.IntVar(&in.BatchSize, "batch-size", 0, "BatchSize of the event source mapping, 1-10000 (default: the template's)")
	fs.Float64Var(&in.Window, "window", 0, "MaximumBatchingWindowInSeconds, 0-300 (default: the template's)")
	fs.IntVar(&in.MemoryMB, "memory", 0, "processor memory in MB, 128-10240 (default: the template's)")
	fs.Float64Var(&in.DurationMs, "duration-ms", 0, "billed duration of one batch in ms, up to 900000 (Lambda's 15-minute timeout); default: modelled, see above")
	fs.IntVar(&in.Shards, "shards", 0, "provisioned shards (default: the template's ShardCount, or the fewest the rate needs when that is more)")
	fs.BoolVar(&in.OnDemand, "on-demand", false, "price an on-demand stream instead of provisioned shards (default: the template's StreamMode)")
	fs.BoolVar(&in.Aggregator, "aggregator", false, "add the aggregator's S3 GETs, SQS requests and DynamoDB writes")
	fs.IntVar(&in.Devices, "devices", 100, "distinct devices in a batch's records (for --aggregator)")
	fs.StringVar(&in.Compression, "compression", "", "object compression: gzip, zstd or none (default: the template's)")
	var tf templateFlags
	tf.register(fs, "template.yaml", templateUsage{
		template:  "SAM template whose settings are the defaults",
		configEnv: "samconfig.toml environment whose parameter_overrides apply (default: default)",
	})
	fs.BoolVar(&in.Recipe, "recipe", false, "estimate the classic Python recipe (batch 100, 5 s window, 256 MB, uncompressed JSON)")
	asJSON := fs.Bool("json", false, "print the estimate as one JSON object")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	set := setFlags(fs)
	if in.Recipe {
		for _, name := range []string{"batch-size", "window", "memory", "compression"} {
			if set[name] {
				return usageError(fs, "--%s cannot be combined with --recipe, which sets it", name)
			}
		}
		if in.Aggregator {
			return usageError(fs, "--aggregator cannot be combined with --recipe, which has no aggregator")
		}
		in.BatchSize, in.Window, in.MemoryMB, in.Compression = 100, 5, 256, "none"
	}
	if set["shards"] && in.OnDemand {
		return usageError(fs, "--shards and --on-demand are mutually exclusive")
	}
	if code, ok := in.templateDefaults(e, set, &tf); !ok {
		return code
	}
	if set["duration-ms"] && !(in.DurationMs > 0 && in.DurationMs <= maxCostDurationMs) {
		return usageError(fs, "--duration-ms must be a number > 0 and at most %d (Lambda's 15-minute timeout), got %g", maxCostDurationMs, in.DurationMs)
	}
	if set["shards"] && in.Shards < 1 {
		return usageError(fs, "--shards must be at least 1")
	}
	if err := in.validate(); err != nil {
		return usageError(fs, "%v", err)
	}
	est := estimateCost(in)
	if *asJSON {
		if err := encodeJSON(e.stdout, est, false); err != nil {
			fmt.Fprintf(e.stderr, "streamlake cost: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	printCost(e.stdout, est)
	return exitOK
}

// Defaults of `cost` that are not the template's: a steady 1,000 records/s of
// the 166-byte sensor records `streamlake produce` writes (their mean size).
const (
	defaultCostRate        = 1000
	defaultCostRecordBytes = 166
)

// Upper bounds of --rate and --duration-ms. Above them the estimate means
// nothing (and 1e308 made the figures +Inf, which --json cannot encode); with
// them and the other flags' bounds every figure is finite.
const (
	maxCostRate       = 10_000_000 // records/s: the write limit of 10,000 provisioned shards
	maxCostDurationMs = 900_000    // Lambda's maximum timeout, 15 minutes
)

// templateDefaults fills the settings no flag gave from the template (see
// costDefaults). It returns (code, false) after printing a problem.
func (in *costInput) templateDefaults(e *env, set map[string]bool, tf *templateFlags) (int, bool) {
	needed := !in.Recipe && !(set["batch-size"] && set["window"] && set["memory"] && set["compression"]) || !set["shards"] && !set["on-demand"]
	if !needed {
		return exitOK, true
	}
	d, err := readCostDefaults(tf)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake cost: %v\n", err)
		return exitFailure, false
	}
	in.Template = tf.path
	if !in.Recipe {
		if !set["batch-size"] {
			in.BatchSize = d.BatchSize
		}
		if !set["window"] {
			in.Window = d.Window
		}
		if !set["memory"] {
			in.MemoryMB = d.MemoryMB
		}
		if !set["compression"] {
			in.Compression = d.Compression
		}
	}
	if !set["shards"] && !set["on-demand"] {
		in.OnDemand = d.OnDemand
		in.TemplateShards = d.Shards
	}
	return exitOK, true
}

func (in costInput) validate() error {
	switch {
	case !(in.Rate > 0 && in.Rate <= maxCostRate):
		return fmt.Errorf("--rate must be a number > 0 and at most %d, got %g", maxCostRate, in.Rate)
	case !(in.RecordBytes >= 1) || in.RecordBytes > 10<<20:
		return errors.New("--record-bytes must be between 1 and 10485760 (10 MiB)")
	case in.BatchSize < 1 || in.BatchSize > 10000:
		return errors.New("--batch-size must be between 1 and 10000")
	case !(in.Window >= 0) || in.Window > 300:
		return errors.New("--window must be between 0 and 300 seconds")
	case in.MemoryMB < 128 || in.MemoryMB > 10240:
		return errors.New("--memory must be between 128 and 10240 MB")
	case in.Devices < 1:
		return errors.New("--devices must be at least 1")
	}
	if _, ok := goCPUNsRecord[in.Compression]; !ok {
		return fmt.Errorf("unknown --compression %q: want gzip, zstd or none", in.Compression)
	}
	return nil
}

// estimateCost computes the estimate of a validated input.
func estimateCost(in costInput) costEstimate {
	est := costEstimate{Input: in, PricesAsOf: pricesAsOf}
	b := in.RecordBytes

	// Shards: the write limits decide the fewest.
	needed := int(math.Max(1, math.Ceil(math.Max(in.Rate*b/shardWriteBytes, in.Rate/shardWriteRecords))))
	switch {
	case in.OnDemand:
		est.Shards = max(needed, onDemandMinShards)
	case in.Shards > 0:
		est.Shards = in.Shards
		if in.Shards < needed {
			est.Warnings = append(est.Warnings, fmt.Sprintf("%d shards cannot take %.0f records/s of %.0f bytes: %d needed", in.Shards, in.Rate, b, needed))
		}
	case in.TemplateShards > 0:
		est.Shards = max(in.TemplateShards, needed)
		if in.TemplateShards < needed {
			est.Notes = append(est.Notes, fmt.Sprintf("the template's ShardCount %d cannot take %s records/s of %s bytes: priced with the %d shards needed (set ShardCount when deploying)",
				in.TemplateShards, fmtNum(in.Rate), fmtNum(b), needed))
		}
	default:
		est.Shards = needed
	}

	// Batches: per shard, what the window gathers, capped by the batch size and
	// by the 6 MB invocation payload (base64 data plus about 600 bytes of
	// metadata per record in the event).
	perShard := in.Rate / float64(est.Shards)
	window := in.Window
	if window == 0 {
		window = 1
	}
	eventBytes := math.Ceil(b/3)*4 + 600
	n := math.Min(float64(in.BatchSize), math.Max(1, perShard*window))
	n = math.Min(n, math.Max(1, math.Floor(lambdaMaxPayload/eventBytes)))
	est.RecordsPerBatch = n
	est.BatchesPerSecond = in.Rate / n

	// Duration and output size.
	if in.Recipe {
		est.OutputBytesPerRec = b + recipeOverheadBytes
	} else {
		est.OutputBytesPerRec = goOutBytesRecord[in.Compression] * (b + lineOverheadBytes) / (benchRecordBytes + lineOverheadBytes)
	}
	if in.DurationMs > 0 {
		est.DurationMs = in.DurationMs
	} else {
		est.DurationModelled = true
		perRecord := goCPUNsRecord[in.Compression] * (b + lineOverheadBytes) / (benchRecordBytes + lineOverheadBytes)
		if in.Recipe {
			perRecord = recipeCPUNsRecord * (b + recipeOverheadBytes) / (benchRecordBytes + recipeOverheadBytes)
		}
		stretch := math.Max(1, vCPUMemoryMB/float64(in.MemoryMB))
		est.DurationMs = n*perRecord/1e6*stretch + s3PutLatencyMs + invokeOverheadMs
	}
	billedMs := math.Ceil(est.DurationMs) // Lambda bills duration in 1 ms steps
	if fill := n / perShard * 1000; est.DurationMs > fill {
		est.Warnings = append(est.Warnings, fmt.Sprintf(
			"a batch takes %.0f ms but a shard gathers one every %.0f ms: the shard falls behind (batches grow, iterator age rises); add shards, memory or ParallelizationFactor", est.DurationMs, fill))
	}

	records := in.Rate * secondsPerMonth
	batches := est.BatchesPerSecond * secondsPerMonth
	est.RecordsPerMonth = records
	add := func(name string, qty float64, unit string, price float64) {
		est.Items = append(est.Items, costItem{Name: name, Quantity: qty, Unit: unit, PerMonth: qty * price})
	}
	add("Lambda requests", batches, "requests", lambdaRequestPrice)
	add("Lambda duration", batches*float64(in.MemoryMB)/1024*billedMs/1000, "GB-s", lambdaARMGBSecond)
	add("S3 PUT (one object per batch)", batches, "requests", s3PutPrice)
	add("S3 storage (one month of a month's objects)", records*est.OutputBytesPerRec/1e9, "GB-month", s3StoragePerGBMonth)
	if in.OnDemand {
		billed := math.Ceil(b/kinesisODRecordRound) * kinesisODRecordRound * records / (1 << 30)
		add("Kinesis on-demand stream-hours", hoursPerMonth, "stream-hours", kinesisODStreamHour)
		add("Kinesis on-demand data in", billed, "GB", kinesisODPerGBIn)
		add("Kinesis on-demand data out (Lambda's reads)", billed, "GB", kinesisODPerGBOut)
	} else {
		add("Kinesis shard-hours", float64(est.Shards)*hoursPerMonth, "shard-hours", kinesisShardHour)
		add("Kinesis PUT payload units", math.Ceil(b/kinesisPutUnitBytes)*records, "units", kinesisPutUnitPrice)
	}
	if in.Aggregator {
		add("S3 GET (aggregator reads each object)", batches, "requests", s3GetPrice)
		// S3 sends one message per object; the aggregator receives and deletes them
		// in batches.
		add("SQS requests (notification, receive, delete)", batches*(1+2.0/aggregatorBatch), "requests", sqsRequestPrice)
		add("DynamoDB writes (summaries, transactional)", batches*summaryWRUs(n, in.Devices), "WRU", dynamoDBWRUPrice)
	}
	for _, it := range est.Items {
		est.TotalPerMonth += it.PerMonth
	}
	est.PerMillionRecords = est.TotalPerMonth / records * 1e6
	return est
}

// summaryWRUs estimates the write request units the aggregator spends on one new
// object of n records: every summary it touches (one per device and hour, one
// for the fleet) is updated in a transaction (2 WRU per item up to 1 KB), plus
// the object's contribution: its blob (about summaryItemBytes per summary, 2 WRU
// per KB) and one update of the contribution item per transaction of at most 99
// changes, and two more when the changes take several transactions.
func summaryWRUs(n float64, devices int) float64 {
	keys := math.Min(float64(devices), n) + 1
	txs := math.Ceil(keys / (maxTransactionItems - 1))
	wrus := 2*keys + 2*math.Ceil(keys*summaryItemBytes/1024) + 2*txs
	if txs > 1 {
		wrus += 2 * 2
	}
	return wrus
}

func printCost(w io.Writer, est costEstimate) {
	in := est.Input
	what := fmt.Sprintf("streamlake (Go, arm64, %s)", in.Compression)
	if in.Recipe {
		what = "the classic Python recipe (uncompressed JSON)"
	}
	stream := fmt.Sprintf("%d provisioned shard(s)", est.Shards)
	if in.OnDemand {
		stream = fmt.Sprintf("on-demand (about %d shards)", est.Shards)
	}
	fmt.Fprintf(w, "%s at %s records/s of %s bytes, %s\n", what, fmtNum(in.Rate), fmtNum(in.RecordBytes), stream)
	if in.Template != "" {
		fmt.Fprintf(w, "settings not given as flags are %s's (with samconfig.toml's parameter_overrides)\n", in.Template)
	}
	how := "modelled"
	if !est.DurationModelled {
		how = "given"
	}
	fmt.Fprintf(w, "batches of %s records (BatchSize %d, window %gs), %s batches/s, %.1f ms per batch (%s), %d MB, %.1f bytes stored per record\n\n",
		fmtNum(est.RecordsPerBatch), in.BatchSize, in.Window, fmtNum(est.BatchesPerSecond), est.DurationMs, how, in.MemoryMB, est.OutputBytesPerRec)
	const row = "%-46s %14s %-12s %10s %13s\n"
	fmt.Fprintf(w, row, "item", "quantity/month", "unit", "$/month", "$/1M records")
	for _, it := range est.Items {
		fmt.Fprintf(w, row, it.Name, fmtNum(it.Quantity), it.Unit, fmt.Sprintf("%.2f", it.PerMonth), fmt.Sprintf("%.4f", it.PerMonth/est.RecordsPerMonth*1e6))
	}
	fmt.Fprintf(w, row, "total", "", "", fmt.Sprintf("%.2f", est.TotalPerMonth), fmt.Sprintf("%.4f", est.PerMillionRecords))
	for _, note := range est.Notes {
		fmt.Fprintf(w, "\nnote: %s\n", note)
	}
	for _, warn := range est.Warnings {
		fmt.Fprintf(w, "\nwarning: %s\n", warn)
	}
	fmt.Fprintf(w, "\nList prices of us-east-1 as of %s, no free tier; see `streamlake cost --help` for the model.\n", est.PricesAsOf)
}

// fmtNum prints a quantity compactly: integers without decimals, large numbers
// with thousands separators.
func fmtNum(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
