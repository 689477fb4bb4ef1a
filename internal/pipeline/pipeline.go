package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/filter"
	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/onfailure"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/samtemplate"
	"github.com/streamlake/streamlake/internal/sensor"
)

// Defaults of a local run.
const (
	DefaultCount        = 5000
	DefaultDevices      = 50
	DefaultPollInterval = 250 * time.Millisecond
	// maxEnvironments caps the execution environments of one function.
	maxEnvironments = 32
)

// Options configures a local run. The zero value runs template.yaml with
// DefaultCount records.
type Options struct {
	// TemplatePath, ConfigEnv and Overrides select the template and its parameters.
	TemplatePath string
	ConfigEnv    string
	Overrides    map[string]string
	// StackName names the local stack; "" takes samconfig.toml's stack_name.
	StackName string
	// Function is the logical ID of the function whose Kinesis event is emulated;
	// "" means the only function with a Kinesis event.
	Function string
	// WorkDir holds builds, logs, checkpoints and run.json; "" means .local beside
	// the template.
	WorkDir string

	// Count is the number of records the run produces in all (a resumed run
	// produces what is missing); 0 means DefaultCount.
	Count int
	// NoProduce reads what another producer puts instead of producing.
	NoProduce bool
	// Rate limits production to records per second; 0 is unlimited.
	Rate float64
	// Devices is the simulated fleet size; 0 means DefaultDevices.
	Devices int
	// Seed makes the produced records reproducible.
	Seed int64
	// HeartbeatRate is the fraction of produced records that are device
	// heartbeats (no temperature) instead of readings.
	HeartbeatRate float64
	// Shape is how sensor readings are written (sensor.ShapeSensor when zero;
	// sensor.ShapeRecipe for the classic recipe generator's records).
	Shape sensor.Shape
	// Start is the event time of the first record; zero means now.
	Start time.Time
	// Idle is how long a NoProduce run waits for records after the stream was last
	// drained before it stops; 0 means 5 s.
	Idle time.Duration

	Faults Faults
	// PollInterval is the mappings' pause between polls of an idle shard; 0 means
	// DefaultPollInterval (AWS polls about once per second).
	PollInterval time.Duration
	// Fresh discards an interrupted run's state instead of resuming it.
	Fresh bool
	// ReshardAt, if positive, reshards the stream to ReshardTo open shards
	// (UpdateShardCount, UNIFORM_SCALING) once ReshardAt records are produced,
	// while the mapping runs; the report then checks per-partition-key order
	// across the reshard (Report.KeyOrder). The emulator started for such a run
	// reshards as Kinesis does (fix 7 of internal/motoserver's launcher); with
	// another Kinesis emulator (the user's endpoint, or a moto the launcher
	// cannot patch) resharding is whatever it does, and the run says so.
	ReshardAt, ReshardTo int

	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Progress, if not nil, is called about once a second with live counters.
	Progress func(Progress)
	// Log receives the pipeline's own messages (text); nil discards them.
	Log io.Writer
}

// Progress is a live snapshot of a run.
type Progress struct {
	Produced, Polled, Filtered, Invocations, Succeeded, Dropped int64
	Retries, FunctionErrors                                     int64
	Elapsed                                                     time.Duration
	// Aggregating is true once the stream is drained and the SQS mappings (the
	// aggregator) drain their queues.
	Aggregating bool
	// Notifications counts the notifications the SQS mappings processed and
	// deleted; NotificationsLeft is the queues' approximate depth (visible and
	// in flight); SummaryItems the items in the summaries table.
	Notifications, NotificationsLeft, SummaryItems int64
}

// Run runs the pipeline and returns its report. On ctx cancellation it returns an
// error and leaves the run resumable.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := opts.Faults.validate(); err != nil {
		return nil, err
	}
	if opts.HeartbeatRate < 0 || opts.HeartbeatRate > 1 {
		return nil, fmt.Errorf("heartbeat rate %g is not between 0 and 1", opts.HeartbeatRate)
	}
	if opts.Count < 0 || opts.Rate < 0 || opts.Devices < 0 {
		return nil, errors.New("count, rate and devices must not be negative")
	}
	if err := checkReshard(opts); err != nil {
		return nil, err
	}
	if opts.Count == 0 {
		opts.Count = DefaultCount
	}
	if opts.Devices == 0 {
		opts.Devices = DefaultDevices
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Idle == 0 {
		opts.Idle = 5 * time.Second
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.TemplatePath == "" {
		opts.TemplatePath = "template.yaml"
	}
	if opts.WorkDir == "" {
		opts.WorkDir = filepath.Join(filepath.Dir(opts.TemplatePath), ".local")
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	started := time.Now()
	rep := &Report{}

	// Read the template before starting an emulator for it: a broken template or
	// samconfig.toml must fail fast and leave no detached server behind.
	if err := checkTemplate(opts); err != nil {
		return nil, err
	}
	st, err := prepareEmulator(ctx, &opts, logw, rep)
	if err != nil {
		return nil, err
	}
	if opts.ReshardAt > 0 && !motoserver.Patched(st.endpoint("kinesis")) {
		fmt.Fprintf(logw, "warning: the Kinesis emulator %s is not moto patched by streamlake's launcher: it may not reshard as Kinesis does (records put again or copied at a split or merge, closed shards never ending)\n", st.endpoint("kinesis"))
	}
	earlier, err := earlierParts(opts.WorkDir, rep.Resumed)
	if err != nil {
		return nil, err
	}
	getenv := func(k string) string {
		if k == "AWS_ENDPOINT_URL" {
			return st.Endpoint
		}
		for _, svc := range motoserver.Services() {
			if k == motoserver.EndpointEnv(svc) {
				return st.endpoint(svc)
			}
		}
		return opts.Getenv(k)
	}
	lenv, err := localenv.Open(ctx, localenv.Options{TemplatePath: opts.TemplatePath, ConfigEnv: opts.ConfigEnv, Overrides: opts.Overrides, StackName: opts.StackName, WorkDir: opts.WorkDir, Getenv: getenv})
	if err != nil {
		return nil, err
	}
	defer lenv.Close()
	rep.Endpoint, rep.Endpoints = st.Endpoint, st.Endpoints

	fn, event, err := kinesisFunction(lenv.Template, opts.Function)
	if err != nil {
		return nil, err
	}
	resources, err := lenv.CreateResources(ctx)
	if err != nil {
		return nil, err
	}
	if err := saveSession(opts.WorkDir, lenv, st.serviceEndpoints(), resources); err != nil {
		return nil, err
	}
	buildStart := time.Now()
	fmt.Fprintf(logw, "building %s for this machine\n", fn.LogicalID)
	binary, err := lenv.Build(ctx, fn)
	if err != nil {
		return nil, err
	}
	rep.Function.BuildSeconds = time.Since(buildStart).Seconds()

	logDir := filepath.Join(opts.WorkDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	fnLog, err := os.Create(filepath.Join(logDir, fn.LogicalID+".log"))
	if err != nil {
		return nil, err
	}
	defer fnLog.Close()

	counts := &faultCounts{}
	extraEnv := map[string]string{}
	if opts.Faults.S3FailureRate > 0 {
		proxy, err := startS3FaultProxy(st.endpoint("s3"), opts.Faults.S3FailureRate, newLockedRand(opts.Faults.Seed, 1), counts)
		if err != nil {
			return nil, err
		}
		defer proxy.close()
		extraEnv["AWS_ENDPOINT_URL_S3"] = proxy.url
		extraEnv["AWS_MAX_ATTEMPTS"] = "1"
	}
	hostCfg := lenv.HostConfig(fn, binary, extraEnv, &lockedWriter{w: fnLog})
	if err := hostCfg.Validate(); err != nil {
		return nil, err
	}

	kin := kinesis.NewFromConfig(lenv.AWS)
	sqsClient := sqs.NewFromConfig(lenv.AWS)
	mcfg, matcher, err := mappingConfig(ctx, lenv, fn, event, hostCfg, sqsClient)
	if err != nil {
		return nil, err
	}
	mcfg.PollInterval = opts.PollInterval
	mcfg.CheckpointFile = filepath.Join(opts.WorkDir, "checkpoints", fn.LogicalID+"-"+event.Name+".json")
	if err := os.MkdirAll(filepath.Dir(mcfg.CheckpointFile), 0o755); err != nil {
		return nil, err
	}
	mcfg.Logger = slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The mapping's EventSourceArn may be an enhanced fan-out consumer's.
	streamARN := esm.StreamARNOf(mcfg.StreamARN)
	streamName := streamNameOf(streamARN)
	summary, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(streamARN)})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", streamName, err)
	}
	shards := int(aws.ToInt32(summary.StreamDescriptionSummary.OpenShardCount))
	pf := max(mcfg.ParallelizationFactor, 1)
	envs := min(max(shards*pf, 1), maxEnvironments)
	pool := newHostPool(hostCfg, envs)
	defer pool.close()
	inv := &invoker{pool: pool, faults: opts.Faults, rng: newLockedRand(opts.Faults.Seed, 2), counts: counts, timeout: hostCfg.Timeout}
	var mappingInv esm.Invoker = inv
	var order *orderCheck
	if opts.ReshardAt > 0 {
		order = newOrderCheck(inv)
		mappingInv = order
		mcfg.DiscoveryInterval = max(opts.PollInterval, 100*time.Millisecond)
	}
	mapping, err := esm.New(mcfg, kin, sqsClient, mappingInv)
	if err != nil {
		return nil, fmt.Errorf("event source mapping %s.%s: %w", fn.LogicalID, event.Name, err)
	}
	// The functions fed by SQS (the aggregator) run beside it, each with its own
	// host pool and SQS event source mapping. Their DynamoDB requests go through
	// a serializing proxy unless the emulator isolates transactions itself (see
	// startSerialProxy).
	dynamoURL := ""
	if !motoserver.Patched(st.endpoint("dynamodb")) {
		dynamo, err := startSerialProxy(st.endpoint("dynamodb"))
		if err != nil {
			return nil, err
		}
		defer dynamo.close()
		dynamoURL = dynamo.url
	}
	consumers, err := startSQSConsumers(ctx, lenv, opts, logDir, dynamoURL, logw, sqsClient)
	if err != nil {
		return nil, err
	}
	defer closeConsumers(consumers)
	rep.Function.Environments = envs
	rep.Bucket = fn.Environment["BUCKET_NAME"]
	if d := mcfg.DestinationConfig.OnFailure; d != nil {
		rep.FailureQueueURL = d.QueueURL
	}
	rep.Function.SetupSeconds = time.Since(started).Seconds()

	// Produce and process at the same time, as in AWS.
	produced := &producedCounter{}
	producerDone := make(chan struct{})
	var produceErr error
	var wg sync.WaitGroup
	if opts.NoProduce {
		go waitIdle(ctx, mapping, opts.Idle, producerDone)
	} else {
		wg.Go(func() {
			defer close(producerDone)
			produceStart := time.Now()
			produceErr = produce(ctx, kin, streamARN, opts, produced, rep)
			rep.Function.ProduceSecond = time.Since(produceStart).Seconds()
		})
	}
	// The SQS mappings drain their queues once the stream is drained: then every
	// object, and so every notification, is written.
	up := newUpstream()
	sqsCtx, cancelSQS := context.WithCancel(ctx)
	defer cancelSQS()
	waitConsumers := runConsumers(sqsCtx, consumers, up)
	part := partSources{mapping: mapping, inv: inv, counts: counts, consumers: consumers, rep: rep, started: started}
	tl := &timeline{}
	probe := newDrainProbe(ctx, lenv, consumers, resources.Tables, sqsClient, up)
	stopProgress := startProgress(opts.Progress, tl, mapping, produced, probe, started)
	runErr := mapping.RunUntilDrained(ctx, producerDone)
	wg.Wait()
	if runErr != nil {
		stopProgress()
		cancelSQS()
		_ = waitConsumers()
		return nil, errors.Join(fmt.Errorf("event source mapping: %w (state kept in %s: run again to resume)", runErr, opts.WorkDir),
			saveParts(opts.WorkDir, earlier.add(part.snapshot())))
	}
	up.close()
	err = waitConsumers()
	stopProgress()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%w (state kept in %s: run again to resume)", err, opts.WorkDir),
			saveParts(opts.WorkDir, earlier.add(part.snapshot())))
	}
	if produceErr != nil {
		return nil, produceErr
	}
	elapsed := time.Since(started)

	if order != nil {
		if rep.KeyOrder, err = order.verify(ctx, kin, streamARN, opts); err != nil {
			return nil, err
		}
	}

	// Accounting, from what is in the emulator.
	s3c := s3.NewFromConfig(lenv.AWS, func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	stream, shardIDs, err := readStream(ctx, kin, streamARN)
	if err != nil {
		return nil, err
	}
	processedPrefix := cmpOr(fn.Environment["PROCESSED_PREFIX"], "processed")
	quarantinePrefix := cmpOr(fn.Environment["QUARANTINE_PREFIX"], "quarantine")
	processed, err := readObjects(ctx, s3c, rep.Bucket, processedPrefix)
	if err != nil {
		return nil, err
	}
	quarantine, err := readObjects(ctx, s3c, rep.Bucket, quarantinePrefix)
	if err != nil {
		return nil, err
	}
	var failures []onfailure.Record
	if rep.FailureQueueURL != "" {
		if failures, err = readFailureQueue(ctx, sqsClient, rep.FailureQueueURL); err != nil {
			return nil, err
		}
	}
	passes := func(data []byte) bool {
		if matcher == nil {
			return true
		}
		ok, _ := matcher.Match(data)
		return ok
	}
	if err := account(ctx, kin, streamARN, stream, shardIDs, processed, quarantine, failures, passes, rep); err != nil {
		return nil, err
	}
	if err := reportConsumers(ctx, lenv, consumers, resources.Tables, rep.Bucket, processedPrefix, sqsClient, rep); err != nil {
		return nil, err
	}
	ms := mapping.Stats()
	rep.Timeline = tl.get()
	rep.Hourly = hourly(processed)
	rep.Mapping = MappingReport{
		Polled: ms.PolledRecords, FilteredOut: ms.FilteredRecords, Invocations: ms.Invocations,
		FunctionErrors: ms.FunctionErrors, PartialFailures: ms.PartialFailures, Retries: ms.Retries,
		Bisects: ms.Bisects, Dropped: ms.DroppedRecords, OnFailureSent: ms.OnFailureMessages,
	}
	for _, sh := range ms.Shards {
		sr := ShardReport{ShardID: sh.ShardID, Records: len(stream[sh.ShardID]), Checkpoint: sh.Checkpoint, MillisBehindLatest: sh.MillisBehindLatest}
		sr.LagRecords = lagAfter(stream[sh.ShardID], sh.Checkpoint)
		rep.Shards = append(rep.Shards, sr)
	}
	rep.Function.Invocations = inv.invocations.Load()
	rep.Function.ColdStarts = inv.coldStarts.Load()
	rep.Function.BusySeconds = float64(inv.busy.Load()) / 1e6
	if rep.Function.Invocations > 0 {
		rep.Function.MeanInvokeMS = rep.Function.BusySeconds * 1000 / float64(rep.Function.Invocations)
	}
	rep.Injected.S3Failures = counts.s3Failures.Load()
	rep.Injected.CrashesBefore = counts.crashesBefore.Load()
	rep.Injected.CrashesAfter = counts.crashesAfter.Load()
	rep.Injected.Timeouts = counts.timeouts.Load()
	readEmulators(st.Endpoints, rep)
	rep.DurationSeconds = elapsed.Seconds()
	if elapsed > 0 {
		rep.RecordsPerSecond = float64(rep.Sent) / elapsed.Seconds()
	}
	rep.Parts = 1
	earlier.addTo(rep)
	st.Status = statusCompleted
	if err := saveState(opts.WorkDir, st); err != nil {
		return nil, err
	}
	if err := removeParts(opts.WorkDir); err != nil {
		return nil, err
	}
	return rep, nil
}

// prepareEmulator decides which emulators the run uses: the user's (every
// service's endpoint set through AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_<SERVICE>),
// the ones an interrupted run left (resume), or new detached moto processes
// (motoserver.Layout), with the user's per-service endpoints, if any, in place of
// theirs.
func prepareEmulator(ctx context.Context, opts *Options, logw io.Writer, rep *Report) (runState, error) {
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return runState{}, err
	}
	prev, err := loadState(opts.WorkDir)
	if err != nil {
		return runState{}, err
	}
	ckpt := filepath.Join(opts.WorkDir, "checkpoints")
	user := localenv.ResolveEndpoints(opts.Getenv)
	if len(user) == len(motoserver.Services()) {
		base := opts.Getenv("AWS_ENDPOINT_URL")
		resume := !opts.Fresh && prev.Status == statusRunning && len(prev.pids()) == 0 && prev.Endpoint == base && maps.Equal(prev.Endpoints, user)
		if !resume {
			_ = os.RemoveAll(ckpt)
		}
		rep.Resumed = resume
		st := runState{Endpoint: base, Endpoints: user, Status: statusRunning, Count: opts.Count}
		return st, saveState(opts.WorkDir, st)
	}
	if !opts.Fresh && prev.Status == statusRunning && len(prev.PIDs) > 0 && emulatorsAlive(prev, user) {
		fmt.Fprintf(logw, "resuming the interrupted run on %s\n", prev.Endpoint)
		rep.Resumed = true
		prev.Count = opts.Count
		return prev, saveState(opts.WorkDir, prev)
	}
	if pids := prev.pids(); len(pids) > 0 {
		// The emulators of an earlier run.
		if err := motoserver.Stop(pids, motoserver.StopGrace); err != nil {
			return runState{}, fmt.Errorf("stop the emulators of the previous run: %w", err)
		}
	}
	_ = os.RemoveAll(ckpt)
	fmt.Fprintf(logw, "starting the emulators (moto: %s)\n", layoutString())
	g, err := motoserver.StartGroup(ctx, opts.WorkDir, true)
	if err != nil {
		return runState{}, fmt.Errorf("start the AWS emulators: %w", err)
	}
	st := runState{Endpoint: g.Endpoints["s3"], Endpoints: g.Endpoints, PIDs: g.PIDs(), Status: statusRunning, Count: opts.Count}
	for svc, u := range user {
		st.Endpoints[svc] = u
	}
	return st, saveState(opts.WorkDir, st)
}

// emulatorsAlive reports whether every endpoint of st answers and the user's
// per-service endpoints are still those st uses.
func emulatorsAlive(st runState, user map[string]string) bool {
	for svc, u := range user {
		if st.Endpoints[svc] != u {
			return false
		}
	}
	for _, svc := range motoserver.Services() {
		if u := st.endpoint(svc); u == "" || !motoserver.Alive(u) {
			return false
		}
	}
	return true
}

// StopEmulator stops the detached emulator processes a run in workDir left
// running, if any, and returns once they have exited (SIGTERM, then SIGKILL after
// motoserver.StopGrace). It returns the base endpoint they served.
func StopEmulator(workDir string) (string, error) {
	st, err := loadState(workDir)
	if err != nil {
		return "", err
	}
	pids := st.pids()
	if len(pids) == 0 {
		return "", nil
	}
	if err := motoserver.Stop(pids, motoserver.StopGrace); err != nil {
		return "", err
	}
	st.PIDs, st.PID, st.Status = nil, 0, statusCompleted
	return st.Endpoint, saveState(workDir, st)
}

// EmulatorEndpoint returns the base endpoint (AWS_ENDPOINT_URL) of the emulators
// the last run in workDir used, if it still answers.
func EmulatorEndpoint(workDir string) string {
	st, err := loadState(workDir)
	if err != nil || st.Endpoint == "" || !motoserver.Alive(st.Endpoint) {
		return ""
	}
	return st.Endpoint
}

// EmulatorEndpoints returns, for the emulators the last run in workDir used,
// each service's endpoint URL (keys "kinesis", "dynamodb", "s3", "sqs"; the
// variables are motoserver.EndpointEnv(service)), or nil when they no longer
// answer.
func EmulatorEndpoints(workDir string) map[string]string {
	st, err := loadState(workDir)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, svc := range motoserver.Services() {
		u := st.endpoint(svc)
		if u == "" || !motoserver.Alive(u) {
			return nil
		}
		out[svc] = u
	}
	return out
}

// checkTemplate loads the template as localenv.Open will, and finds the function
// to emulate, without starting anything.
func checkTemplate(opts Options) error {
	if _, err := os.Stat(opts.TemplatePath); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	cfgFile := filepath.Join(filepath.Dir(opts.TemplatePath), "samconfig.toml")
	if _, err := os.Stat(cfgFile); err != nil {
		if opts.ConfigEnv != "" {
			return fmt.Errorf("--config-env %s: %s not found", opts.ConfigEnv, cfgFile)
		}
		cfgFile = ""
	}
	tpl, err := samtemplate.Load(opts.TemplatePath, samtemplate.Options{
		ConfigFile: cfgFile, ConfigEnv: opts.ConfigEnv, Overrides: opts.Overrides, StackName: opts.StackName,
		Region: "us-east-1", AccountID: lambdahost.DefaultAccountID,
	})
	if err != nil {
		return err
	}
	fn, ev, err := kinesisFunction(tpl, opts.Function)
	if err != nil {
		return err
	}
	patterns, err := ev.FilterPatterns()
	if err != nil {
		return err
	}
	if patterns != nil {
		if _, err := filter.Compile(patterns); err != nil {
			return fmt.Errorf("function %s event %s: FilterCriteria: %w", fn.LogicalID, ev.Name, err)
		}
	}
	return nil
}

// kinesisFunction finds the function (and its Kinesis event) to emulate.
func kinesisFunction(t *samtemplate.Template, logicalID string) (samtemplate.Function, samtemplate.Event, error) {
	var candidates []samtemplate.Function
	for _, fn := range t.Functions() {
		if len(fn.KinesisEvents()) > 0 && (logicalID == "" || fn.LogicalID == logicalID) {
			candidates = append(candidates, fn)
		}
	}
	switch {
	case len(candidates) == 0 && logicalID != "":
		return samtemplate.Function{}, samtemplate.Event{}, fmt.Errorf("function %s has no Kinesis event in %s", logicalID, t.Path)
	case len(candidates) == 0:
		return samtemplate.Function{}, samtemplate.Event{}, fmt.Errorf("no function with a Kinesis event in %s", t.Path)
	case len(candidates) > 1:
		var names []string
		for _, c := range candidates {
			names = append(names, c.LogicalID)
		}
		return samtemplate.Function{}, samtemplate.Event{}, fmt.Errorf("several functions have Kinesis events (%s): choose one", strings.Join(names, ", "))
	}
	fn := candidates[0]
	events := fn.KinesisEvents()
	if len(events) > 1 {
		return samtemplate.Function{}, samtemplate.Event{}, fmt.Errorf("function %s has %d Kinesis events; one is supported", fn.LogicalID, len(events))
	}
	return fn, events[0], nil
}

// mappingConfig turns a SAM Kinesis event into an esm.Config.
func mappingConfig(ctx context.Context, lenv *localenv.Env, fn samtemplate.Function, ev samtemplate.Event, hc lambdahost.Config, sqsClient *sqs.Client) (esm.Config, esm.Matcher, error) {
	p := ev.Properties
	where := fmt.Sprintf("function %s event %s", fn.LogicalID, ev.Name)
	var err error
	geti := func(name string, def int) int {
		if err != nil {
			return 0
		}
		v, e := localenv.IntProperty(p, name, def)
		if e != nil {
			err = fmt.Errorf("%s: %w", where, e)
		}
		return v
	}
	c := esm.Config{
		FunctionARN:                    lenv.FunctionARN(hc),
		StreamARN:                      fmt.Sprint(p["Stream"]),
		StartingPosition:               fmt.Sprint(p["StartingPosition"]),
		BatchSize:                      geti("BatchSize", esm.DefaultBatchSize),
		MaximumBatchingWindowInSeconds: geti("MaximumBatchingWindowInSeconds", 0),
		ParallelizationFactor:          geti("ParallelizationFactor", 1),
		BisectBatchOnFunctionError:     boolValue(p["BisectBatchOnFunctionError"]),
		InvokeIdentityArn:              lenv.RoleARN(fn),
		Region:                         lenv.Template.Region,
	}
	retries := geti("MaximumRetryAttempts", -1)
	age := geti("MaximumRecordAgeInSeconds", -1)
	if err != nil {
		return esm.Config{}, nil, err
	}
	c.MaximumRetryAttempts, c.MaximumRecordAgeInSeconds = &retries, &age
	if ts, ok := p["StartingPositionTimestamp"]; ok {
		f, perr := strconv.ParseFloat(fmt.Sprint(ts), 64)
		if perr != nil {
			return esm.Config{}, nil, fmt.Errorf("%s: StartingPositionTimestamp %v is not Unix seconds", where, ts)
		}
		c.StartingPositionTimestamp = time.Unix(0, int64(f*1e9))
	}
	if types, ok := p["FunctionResponseTypes"].([]any); ok {
		for _, t := range types {
			c.FunctionResponseTypes = append(c.FunctionResponseTypes, fmt.Sprint(t))
		}
	}
	patterns, err := ev.FilterPatterns()
	if err != nil {
		return esm.Config{}, nil, err
	}
	var matcher esm.Matcher
	if patterns != nil {
		crit, err := filter.Compile(patterns)
		if err != nil {
			return esm.Config{}, nil, fmt.Errorf("%s: FilterCriteria: %w", where, err)
		}
		c.FilterCriteria, matcher = crit, crit
	}
	if dc, ok := p["DestinationConfig"].(map[string]any); ok {
		if of, ok := dc["OnFailure"].(map[string]any); ok {
			dest := fmt.Sprint(of["Destination"])
			if t, ok := of["Type"]; ok && t != "SQS" {
				return esm.Config{}, nil, fmt.Errorf("%s: on-failure destination type %v: only SQS is emulated", where, t)
			}
			name := dest[strings.LastIndexByte(dest, ':')+1:]
			out, err := sqsClient.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
			if err != nil {
				return esm.Config{}, nil, fmt.Errorf("%s: on-failure queue %s: %w", where, dest, err)
			}
			c.DestinationConfig.OnFailure = &esm.OnFailureDestination{Destination: dest, QueueURL: aws.ToString(out.QueueUrl)}
		}
	}
	return c, matcher, nil
}

func boolValue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}

func streamNameOf(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// lagAfter counts the records after checkpoint.
func lagAfter(recs []streamRecord, checkpoint string) int {
	if checkpoint == "" {
		return len(recs)
	}
	for i, r := range recs {
		if r.seq == checkpoint {
			return len(recs) - i - 1
		}
	}
	return 0
}

type producedCounter struct {
	n sync.Mutex
	v int64
}

func (p *producedCounter) add(d int64) { p.n.Lock(); p.v += d; p.n.Unlock() }
func (p *producedCounter) get() int64  { p.n.Lock(); defer p.n.Unlock(); return p.v }

// produce puts the records the run still needs: Count minus what the stream holds
// (a resumed run does not produce twice).
func produce(ctx context.Context, kin *kinesis.Client, streamARN string, opts Options, produced *producedCounter, rep *Report) error {
	existing, _, err := readStream(ctx, kin, streamARN)
	if err != nil {
		return err
	}
	have := 0
	for _, recs := range existing {
		have += len(recs)
	}
	produced.add(int64(have))
	start := opts.Start
	if start.IsZero() {
		start = time.Now().UTC().Truncate(time.Second)
	}
	gen, err := sensor.NewGenerator(sensor.Config{Devices: opts.Devices, Seed: opts.Seed, Start: start})
	if err != nil {
		return err
	}
	poison := newLockedRand(opts.Faults.Seed, 3)
	noise := newLockedRand(opts.Seed, 4)
	var records []producer.Record
	for i := 0; i < opts.Count; i++ {
		r := gen.Next()
		if i < have {
			continue // produced by the interrupted run
		}
		data := r.AppendShape(nil, opts.Shape)
		if opts.HeartbeatRate > 0 && noise.float() < opts.HeartbeatRate {
			// Devices also send heartbeats, which carry no reading: the default
			// FilterCriteria drops them before invocation.
			data = fmt.Appendf(nil, `{"device_id":%q,"type":"heartbeat","battery_level":%.1f,"timestamp":%q}`,
				r.DeviceID, r.BatteryLevel, r.Timestamp.Format(sensor.TimestampLayout))
		} else if opts.Faults.PoisonRate > 0 && poison.float() < opts.Faults.PoisonRate {
			// A device with a broken clock: the transform quarantines it.
			ts := `"` + opts.Shape.Timestamp(r.Timestamp) + `"`
			data = bytes.Replace(data, []byte(ts), []byte(`"unknown"`), 1)
			rep.Injected.Poison++
		}
		records = append(records, producer.Record{PartitionKey: r.PartitionKey(), Data: data})
	}
	popts := []producer.Option{producer.WithDeliveryFunc(func(producer.Delivery) { produced.add(1) })}
	if opts.Rate > 0 {
		popts = append(popts, producer.WithRate(opts.Rate))
	}
	p := producer.New(kin, streamARN, popts...)
	before, after := records, []producer.Record(nil)
	if opts.ReshardAt > 0 {
		cut := min(max(opts.ReshardAt-have, 0), len(records))
		before, after = records[:cut], records[cut:]
	}
	// Sent counts the deliveries, which an interrupted Put reports too.
	defer func() { rep.Producer.Sent = produced.get() - int64(have) }()
	for i, part := range [][]producer.Record{before, after} {
		if i == 1 && opts.ReshardAt > 0 {
			// The reshard happens while the mapping runs, after ReshardAt
			// records were produced (a resumed run reshards if the stream does
			// not have ReshardTo shards yet).
			if err := reshardOnce(ctx, kin, streamARN, opts.ReshardTo, opts.Log); err != nil {
				return err
			}
		}
		res, err := p.Put(ctx, part)
		rep.Producer.Retries += res.Retries
		rep.Producer.Failed += res.Failed
		if err != nil {
			return fmt.Errorf("produce: %w", err)
		}
		if res.Failed > 0 {
			return fmt.Errorf("produce: %d records not delivered", res.Failed)
		}
	}
	return nil
}

// waitIdle closes done once the mapping has polled nothing new for idle.
func waitIdle(ctx context.Context, m *esm.KinesisMapping, idle time.Duration, done chan<- struct{}) {
	defer close(done)
	last, since := int64(-1), time.Now()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if p := m.Stats().PolledRecords; p != last {
			last, since = p, time.Now()
		} else if time.Since(since) >= idle {
			return
		}
	}
}

// startProgress samples the run into tl four times a second, and at the start and
// the end, and passes a sample to f about once a second if f is not nil. It runs
// until stop is called: through the aggregator's drain too.
func startProgress(f func(Progress), tl *timeline, m *esm.KinesisMapping, produced *producedCounter, probe *drainProbe, started time.Time) (stop func()) {
	tl.add(time.Since(started), produced.get(), m.Stats(), probe.sample(false))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second / 4)
		defer t.Stop()
		for tick := 1; ; tick++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			s := m.Stats()
			// The queue and the table are read once a second; the mappings'
			// counters at every sample.
			a := probe.sample(tick%4 == 0)
			tl.add(time.Since(started), produced.get(), s, a)
			if f == nil || tick%4 != 0 {
				continue
			}
			f(Progress{Produced: produced.get(), Polled: s.PolledRecords, Filtered: s.FilteredRecords, Invocations: s.Invocations,
				Succeeded: s.SucceededRecords, Dropped: s.DroppedRecords, Retries: s.Retries, FunctionErrors: s.FunctionErrors, Elapsed: time.Since(started),
				Aggregating: a.Aggregating, Notifications: a.Notifications, NotificationsLeft: a.NotificationsLeft, SummaryItems: a.SummaryItems})
		}
	})
	return func() {
		close(done)
		wg.Wait()
		tl.add(time.Since(started), produced.get(), m.Stats(), probe.sample(true))
	}
}

// lockedWriter serializes writes from several environments to one log file.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// layoutString describes motoserver.Layout, e.g. "s3+sqs, kinesis, dynamodb".
func layoutString() string {
	var parts []string
	for _, p := range motoserver.Layout {
		parts = append(parts, strings.Join(p.Services, "+"))
	}
	return strings.Join(parts, ", ")
}
