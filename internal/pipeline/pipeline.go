package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/localrun"
	"github.com/streamlake/streamlake/internal/samtemplate"
	"github.com/streamlake/streamlake/internal/sensor"
)

// Defaults of a local run.
const (
	DefaultCount        = 5000
	DefaultDevices      = 50
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultIdle is how long a NoProduce run waits for records after the
	// stream was last drained.
	DefaultIdle = 5 * time.Second
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
	// drained before it stops; 0 means DefaultIdle.
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
//
// Its steps, one method of run each: setup stands the template up in the
// emulators; mappings prepares the event source mappings and the functions they
// invoke; startProduction puts the records; drain runs the mappings until the
// stream and the queues are drained; account and finish read the outcome back
// from the emulators into the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	unlock, err := lockWorkDir(opts.WorkDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r := &run{opts: opts, logw: opts.Log, started: time.Now(), rep: &Report{}}
	if r.logw == nil {
		r.logw = io.Discard
	}
	defer r.close()
	if err := r.setup(ctx); err != nil {
		return nil, r.abandonSetup(ctx, err)
	}
	if err := r.mappings(ctx); err != nil {
		return nil, r.abandonSetup(ctx, err)
	}
	wctx, stopWatch := watchEmulators(ctx, r.st, r.opts.WorkDir, emulatorWatchInterval)
	defer stopWatch()
	produced, waitProducer := r.startProduction(wctx)
	if err := r.drain(wctx, produced, waitProducer); err != nil {
		return nil, emulatorExited(wctx, err)
	}
	if err := r.account(wctx); err != nil {
		return nil, emulatorExited(wctx, err)
	}
	return r.finish()
}

// abandonSetup ends a run whose setup (setup, mappings) failed with err, before
// it produced a record. The emulators it started itself hold only the
// template's empty resources, and resuming would only repeat the failure: they
// are stopped, the session removed and the run marked failed, so that the next
// run starts afresh (of whichever template). The emulators of an interrupted
// run that this one resumed hold that run's records: they are kept, and the
// error says so. A cancelled setup stays resumable, as any interrupted run.
func (r *run) abandonSetup(ctx context.Context, err error) error {
	if ctx.Err() != nil || r.st.Status != statusRunning {
		return err
	}
	dir := r.opts.WorkDir
	pids := r.st.pids()
	if r.rep.Resumed {
		if len(pids) > 0 {
			return fmt.Errorf("%w\n(the emulators of the interrupted run in %s are still running, with its records: run again to resume it once this is fixed; --fresh discards it, --stop stops them)", err, dir)
		}
		return err
	}
	if len(pids) > 0 {
		if serr := localenv.StopEmulators(pids); serr != nil {
			return fmt.Errorf("%w\n(stopping the emulators this run started failed: %v; --stop stops them)", err, serr)
		}
	}
	r.st.PIDs, r.st.PID, r.st.Status = nil, 0, statusFailed
	if serr := saveState(dir, r.st); serr != nil {
		return fmt.Errorf("%w (and %v)", err, serr)
	}
	if serr := localrun.Remove(dir); serr != nil {
		return fmt.Errorf("%w (and %v)", err, serr)
	}
	return err
}

// run is one local run, as its steps build it up.
type run struct {
	opts    Options
	logw    io.Writer
	started time.Time
	rep     *Report
	closers []func()

	// setup
	st        runState
	earlier   partCounters
	lenv      *localenv.Env
	resources *localenv.Resources
	fn        samtemplate.Function
	event     samtemplate.Event
	binary    string
	logDir    string
	kin       *kinesis.Client
	sqs       *sqs.Client

	// mappings
	streamARN string
	matcher   esm.Matcher
	counts    *faultCounts
	function  *localenv.Function
	order     *orderCheck
	mapping   *esm.KinesisMapping
	consumers []*sqsConsumer

	// production and drain
	produced *producedCounter
	timeline *timeline
	elapsed  time.Duration
}

// withDefaults checks opts and fills in the defaults.
func (opts Options) withDefaults() (Options, error) {
	if err := opts.Faults.validate(); err != nil {
		return opts, err
	}
	if !isFraction(opts.HeartbeatRate) {
		return opts, fmt.Errorf("heartbeat rate %g is not between 0 and 1", opts.HeartbeatRate)
	}
	if !(opts.Rate >= 0) || math.IsInf(opts.Rate, 1) {
		return opts, fmt.Errorf("rate %g: want records per second, 0 or more", opts.Rate)
	}
	if opts.Count < 0 || opts.Devices < 0 {
		return opts, errors.New("count and devices must not be negative")
	}
	if err := checkReshard(opts); err != nil {
		return opts, err
	}
	opts.Count = cmp.Or(opts.Count, DefaultCount)
	opts.Devices = cmp.Or(opts.Devices, DefaultDevices)
	opts.PollInterval = cmp.Or(opts.PollInterval, DefaultPollInterval)
	opts.Idle = cmp.Or(opts.Idle, DefaultIdle)
	opts.TemplatePath = cmp.Or(opts.TemplatePath, "template.yaml")
	opts.WorkDir = cmp.Or(opts.WorkDir, filepath.Join(filepath.Dir(opts.TemplatePath), ".local"))
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	return opts, nil
}

// onClose registers f to run when the run ends, before what was registered
// earlier.
func (r *run) onClose(f func()) { r.closers = append(r.closers, f) }

// close stops what the steps started, the last first.
func (r *run) close() {
	for _, f := range slices.Backward(r.closers) {
		f()
	}
}

// setup stands the template up: it starts or resumes the emulators (or takes
// the user's), creates the template's resources there, records the session and
// builds the Kinesis function.
func (r *run) setup(ctx context.Context) error {
	o := r.opts
	lopts := localenv.Options{TemplatePath: o.TemplatePath, ConfigEnv: o.ConfigEnv, Overrides: o.Overrides, StackName: o.StackName, WorkDir: o.WorkDir, Getenv: o.Getenv}
	if err := r.emulators(ctx, lopts); err != nil {
		return err
	}
	lopts.Getenv = localenv.Getenv(r.st.Endpoint, r.st.Endpoints, o.Getenv)
	var err error
	if r.lenv, err = localenv.Open(ctx, lopts); err != nil {
		return err
	}
	r.onClose(func() { r.lenv.Close() })
	if r.fn, r.event, err = localenv.KinesisFunction(r.lenv.Template, o.Function); err != nil {
		return err
	}
	if r.resources, err = r.lenv.CreateResources(ctx); err != nil {
		return err
	}
	if err := r.lenv.SaveSession(o.WorkDir, r.st.serviceEndpoints(), r.resources, r.fn.LogicalID); err != nil {
		return err
	}
	buildStart := time.Now()
	fmt.Fprintf(r.logw, "building %s for this machine\n", r.fn.LogicalID)
	if r.binary, err = r.lenv.Build(ctx, r.fn); err != nil {
		return err
	}
	r.rep.Function.BuildSeconds = time.Since(buildStart).Seconds()
	r.logDir = filepath.Join(o.WorkDir, "logs")
	if err := os.MkdirAll(r.logDir, 0o755); err != nil {
		return err
	}
	r.kin = kinesis.NewFromConfig(r.lenv.AWS)
	r.sqs = sqs.NewFromConfig(r.lenv.AWS)
	return nil
}

// emulators decides which emulators the run uses (prepareEmulator) once the
// template has been read: a broken template or samconfig.toml must fail fast
// and leave no detached server behind. It reads the counters of the earlier
// parts of a resumed run.
func (r *run) emulators(ctx context.Context, lopts localenv.Options) error {
	if err := localenv.CheckKinesisEvent(lopts, r.opts.Function); err != nil {
		return err
	}
	st, err := prepareEmulator(ctx, &r.opts, r.logw, r.rep)
	if err != nil {
		return err
	}
	r.st = st
	r.rep.RunEndpoints = st.RunEndpoints
	if r.opts.ReshardAt > 0 && !localenv.Faithful(st.endpoint("kinesis")) {
		fmt.Fprintf(r.logw, "warning: the Kinesis emulator %s is not moto patched by streamlake's launcher: it may not reshard as Kinesis does (records put again or copied at a split or merge, closed shards never ending)\n", st.endpoint("kinesis"))
	}
	r.earlier, err = earlierParts(r.opts.WorkDir, r.rep.Resumed)
	return err
}
