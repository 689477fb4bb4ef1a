package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/bench/benchdata"
)

// Targets of issue #9, per core on the benchmark machine, gzip output.
const (
	targetPayloadMBps      = 200
	targetOutBytesPerRec   = 100
	targetAllocsPerRecord  = 2
	targetColdStartMs      = 15
	targetBinaryMB         = 15
	targetPeakRSSMiB       = 64
	targetVsLimit          = 0.8  // processor / compression-only throughput of the same lines (issue #16)
	targetVsPython         = 15   // processor / the recipe's handler (issue #16)
	targetBatchRecords     = 1000 // the batch size the throughput targets are read at
	warmBatches            = 20   // batches in a row for the warm peak RSS
	targetCompression      = "gzip"
	lambdaBenchmark        = "BenchmarkLambdaHandler"
	handleBenchmark        = "BenchmarkHandle"
	limitBenchmark         = "BenchmarkCompressLines"
	stepsBenchmark         = "BenchmarkSteps"
	summaryParseBenchmark  = "BenchmarkParseObject"
	summaryPackage         = "./internal/summary"
	processorPackage       = "./functions/processor"
	processorProfile       = "functions/processor/default.pgo" // the processor's profile-guided build
	ingestPackage          = "./internal/ingest"
	filterPackage          = "./internal/filter"
	pythonRecipeScript     = "bench/recipe/bench.py"
	requireMotoEnvironment = "STREAMLAKE_REQUIRE_MOTO=1"
)

var (
	batchSizes   = []int{100, 1000, 10000}
	compressions = []string{"gzip", "zstd", "none"}
)

type options struct {
	count      int
	benchtime  string
	coldStarts int
	python     string
	root       string
	summary    bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.count, "count", 3, "runs of each Go benchmark; the fastest is kept")
	fs.StringVar(&o.benchtime, "benchtime", "1s", "go test -benchtime for the in-process benchmarks")
	fs.IntVar(&o.coldStarts, "cold-starts", 50, "cold starts to take the median of")
	fs.StringVar(&o.python, "python", envOr("PYTHON", "python3"), "Python interpreter for the recipe benchmark")
	fs.BoolVar(&o.summary, "summary", true, "run "+summaryPackage+" "+summaryParseBenchmark+" when the package has it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.count < 1 || o.coldStarts < 2 {
		return errors.New("-count must be at least 1 and -cold-starts at least 2")
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	o.root = root
	rep, err := collect(ctx, o, stderr)
	if err != nil {
		return err
	}
	printHuman(stdout, rep)
	enc := json.NewEncoder(stdout) // one line, and ">=" stays readable
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

// report is the JSON object `make bench` ends with.
type report struct {
	Machine machine `json:"machine"`
	// Processor holds, per benchmark ("lambda": the function's handler from raw
	// event bytes; "handle": Processor.Handle from the decoded event), compression
	// and batch size, the figures of one batch.
	Processor map[string]map[string]map[string]batchFigures `json:"processor"`
	Filter    *figures                                      `json:"filter_match"`
	// SummaryParse is null when internal/summary has no BenchmarkParseObject.
	SummaryParse *figures                 `json:"summary_parse_object"`
	ColdStart    coldStart                `json:"cold_start"`
	Binary       binary                   `json:"binary"`
	PeakRSS      peakRSS                  `json:"peak_rss"`
	Python       map[string]pythonFigures `json:"python_recipe"`
	// GoVsPython is the payload throughput ratio, Go over Python, both from the raw
	// event bytes of the same 1,000-record batch (Go: gzip, lambda benchmark).
	GoVsPython float64 `json:"go_vs_python"`
	// GoVsPythonCPU is GoVsPython from CPU time rather than wall time.
	GoVsPythonCPU float64 `json:"go_vs_python_cpu"`
	// GoHandleVsPython is GoVsPython with Go starting from the decoded event.
	GoHandleVsPython float64 `json:"go_handle_vs_python"`
	// CompressionLimit is, per compression and batch size, the throughput of the
	// compressor alone on the very lines the processor writes for the batch
	// (internal/ingest BenchmarkCompressLines), in payload MB/s like the processor.
	CompressionLimit map[string]map[string]limitFigures `json:"compression_limit"`
	// VsLimit is the processor (lambda, gzip, 1,000 records) over that limit, from
	// CPU time and from wall time.
	VsLimitCPU  float64 `json:"processor_vs_limit_cpu"`
	VsLimitWall float64 `json:"processor_vs_limit_wall"`
	// StepsNsPerRecord is the cost of each step of the hot path on its own
	// (internal/ingest BenchmarkSteps, 1,000-record batch, CPU ns per record;
	// wall time where CPU time is not measured).
	StepsNsPerRecord map[string]float64 `json:"steps_ns_per_record"`
	// ProcessorProfile is the profile the processor's benchmarks above (and its
	// builds) are built with, as the function is.
	ProcessorProfile string   `json:"processor_pgo"`
	Targets          []target `json:"targets"`
}

type limitFigures struct {
	PayloadMBps    float64 `json:"payload_MBps"`
	PayloadMBpsCPU float64 `json:"payload_MBps_cpu"`
	CPUNsPerRecord float64 `json:"cpu_ns_per_record"`
	LineMBps       float64 `json:"line_MBps"`
}

type machine struct {
	GoVersion string `json:"go"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
}

type batchFigures struct {
	PayloadMBps float64 `json:"payload_MBps"`
	RecordsPerS float64 `json:"records_per_s"`
	NsPerRecord float64 `json:"ns_per_record"`
	// CPUNsPerRecord is the process's CPU time per record (garbage collection
	// included); PayloadMBpsCPU is the payload throughput it implies. Other load
	// on the machine disturbs them much less than the wall-time figures.
	CPUNsPerRecord  float64 `json:"cpu_ns_per_record"`
	PayloadMBpsCPU  float64 `json:"payload_MBps_cpu"`
	AllocsPerRecord float64 `json:"allocs_per_record"`
	OutBytesPerRec  float64 `json:"out_bytes_per_record"`
}

type figures struct {
	Benchmark string             `json:"benchmark"`
	Metrics   map[string]float64 `json:"metrics"`
}

type coldStart struct {
	MedianMs float64 `json:"median_ms"`
	P90Ms    float64 `json:"p90_ms"`
	Starts   int     `json:"starts"`
}

type binary struct {
	Bytes int64   `json:"bytes"`
	MB    float64 `json:"MB"`
	Build string  `json:"build"`
}

type peakRSS struct {
	// MiB is the peak RSS of a new process given one 6 MB batch (median of 3).
	MiB      float64 `json:"MiB"`
	EventMB  float64 `json:"event_MB"`
	Records  int     `json:"records"`
	InvokeMs float64 `json:"invoke_ms"`
	// WarmMiB is the peak RSS of one process after WarmBatches such batches in a
	// row, and WarmInvokeMs their mean duration.
	WarmMiB      float64 `json:"warm_MiB"`
	WarmBatches  int     `json:"warm_batches"`
	WarmInvokeMs float64 `json:"warm_invoke_ms"`
	Invocation   string  `json:"invocation"`
}

type pythonFigures struct {
	PayloadMBps    float64 `json:"payload_MBps"`
	CPUNsPerRecord float64 `json:"cpu_ns_per_record"`
	PayloadMBpsCPU float64 `json:"payload_MBps_cpu"`
	RecordsPerS    float64 `json:"records_per_s"`
	MsPerBatch     float64 `json:"ms_per_batch"`
	OutBytesPerRec float64 `json:"output_bytes_per_record"`
	Version        string  `json:"python"`
}

type target struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit string  `json:"limit"`
	Met   bool    `json:"met"`
}

func collect(ctx context.Context, o options, log io.Writer) (*report, error) {
	rep := &report{
		Machine:          machine{GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPU: cpuModel(), Cores: runtime.NumCPU()},
		Processor:        map[string]map[string]map[string]batchFigures{},
		ProcessorProfile: processorProfile,
	}

	// The processor in-process.
	// The processor, the compression-only limit and the steps, in one run.
	res, err := goBench(ctx, o, log, ingestPackage, "^("+handleBenchmark+"|"+lambdaBenchmark+"|"+limitBenchmark+"|"+stepsBenchmark+")$", o.benchtime, o.count, processorProfile, nil)
	if err != nil {
		return nil, err
	}
	rep.CompressionLimit = map[string]map[string]limitFigures{}
	for _, c := range []string{"gzip", "zstd"} {
		rep.CompressionLimit[c] = map[string]limitFigures{}
		for _, n := range batchSizes {
			r, cpu, cpuMBps, err := batchResult(res, limitBenchmark, c, n)
			if err != nil {
				return nil, err
			}
			rep.CompressionLimit[c][strconv.Itoa(n)] = limitFigures{
				PayloadMBps: round(r.Metrics["MB/s"], 2), PayloadMBpsCPU: round(cpuMBps, 2),
				CPUNsPerRecord: round(cpu, 1), LineMBps: round(r.Metrics["line-MB/s"], 1),
			}
		}
	}
	rep.StepsNsPerRecord = map[string]float64{}
	for _, step := range []string{"decode-event", "base64", "payload-scan", "event-time", "line", "gzip"} {
		r, ok := res[stepsBenchmark+"/"+step]
		if !ok {
			return nil, fmt.Errorf("no result for %s/%s", stepsBenchmark, step)
		}
		v := r.Metrics["cpu-ns/record"]
		if v == 0 {
			v = r.Metrics["ns/record"]
		}
		rep.StepsNsPerRecord[step] = round(v, 1)
	}
	for key, bench := range map[string]string{"lambda": lambdaBenchmark, "handle": handleBenchmark} {
		rep.Processor[key] = map[string]map[string]batchFigures{}
		for _, c := range compressions {
			rep.Processor[key][c] = map[string]batchFigures{}
			for _, n := range batchSizes {
				r, cpu, cpuMBps, err := batchResult(res, bench, c, n)
				if err != nil {
					return nil, err
				}
				rps := r.Metrics["records/s"]
				rep.Processor[key][c][strconv.Itoa(n)] = batchFigures{
					PayloadMBps:     round(r.Metrics["MB/s"], 2),
					RecordsPerS:     math.Round(rps),
					NsPerRecord:     round(1e9/rps, 1),
					CPUNsPerRecord:  round(cpu, 1),
					PayloadMBpsCPU:  round(cpuMBps, 2),
					AllocsPerRecord: round(r.Metrics["allocs/record"], 4),
					OutBytesPerRec:  round(r.Metrics["out-B/record"], 2),
				}
			}
		}
	}

	// The filter matcher and the aggregator's parser.
	res, err = goBench(ctx, o, log, filterPackage, "^BenchmarkMatch$", o.benchtime, o.count, "", nil)
	if err != nil {
		return nil, err
	}
	rep.Filter = pick(res, "BenchmarkMatch")
	if rep.Filter == nil {
		return nil, errors.New("no result for BenchmarkMatch")
	}
	if !o.summary {
		fmt.Fprintf(log, "bench: -summary=false; summary_parse_object is null\n")
	} else if has, err := hasBenchmark(ctx, o, summaryPackage, summaryParseBenchmark); err != nil {
		return nil, err
	} else if has {
		res, err = goBench(ctx, o, log, summaryPackage, "^"+summaryParseBenchmark+"$", o.benchtime, o.count, "", nil)
		if err != nil {
			return nil, err
		}
		rep.SummaryParse = pickPrefix(res, summaryParseBenchmark)
	} else {
		fmt.Fprintf(log, "bench: %s has no %s; summary_parse_object is null\n", summaryPackage, summaryParseBenchmark)
	}

	// The real bootstrap: cold start and peak RSS.
	res, err = goBench(ctx, o, log, processorPackage, "^BenchmarkColdStart$", fmt.Sprintf("%dx", o.coldStarts), 1, "", nil)
	if err != nil {
		return nil, err
	}
	cs, ok := res["BenchmarkColdStart"]
	if !ok {
		return nil, errors.New("no result for BenchmarkColdStart")
	}
	rep.ColdStart = coldStart{MedianMs: cs.Metrics["init-ms-median"], P90Ms: cs.Metrics["init-ms-p90"], Starts: int(cs.Iterations)}
	res, err = goBench(ctx, o, log, processorPackage, "^BenchmarkPeakRSS$", "3x", 1, "", []string{requireMotoEnvironment})
	if err != nil {
		return nil, err
	}
	pr, ok := res["BenchmarkPeakRSS"]
	if !ok {
		return nil, errors.New("no result for BenchmarkPeakRSS")
	}
	res, err = goBench(ctx, o, log, processorPackage, "^BenchmarkPeakRSSWarm$", fmt.Sprintf("%dx", warmBatches), 1, "", []string{requireMotoEnvironment})
	if err != nil {
		return nil, err
	}
	pw, ok := res["BenchmarkPeakRSSWarm"]
	if !ok {
		return nil, errors.New("no result for BenchmarkPeakRSSWarm")
	}
	rep.PeakRSS = peakRSS{
		MiB: round(pr.Metrics["peak-RSS-MiB"], 1), EventMB: pr.Metrics["event-MB"], Records: int(pr.Metrics["records/batch"]),
		InvokeMs: round(pr.Metrics["invoke-ms"], 1),
		WarmMiB:  round(pw.Metrics["peak-RSS-MiB"], 1), WarmBatches: int(pw.Iterations), WarmInvokeMs: round(pw.Metrics["invoke-ms"], 1),
		Invocation: "real bootstrap built for this machine, behind lambdahost at 256 MB, S3 in moto server, the function's own collector settings (package gomem: GOGC 200, soft memory limit 48 MiB)",
	}

	// The Lambda binary.
	rep.Binary, err = buildLambdaBinary(ctx, o, log)
	if err != nil {
		return nil, err
	}

	// The classic Python recipe on the same events.
	rep.Python = map[string]pythonFigures{}
	for _, n := range batchSizes {
		pf, err := runPython(ctx, o, log, n)
		if err != nil {
			return nil, err
		}
		rep.Python[strconv.Itoa(n)] = pf
	}
	key := strconv.Itoa(targetBatchRecords)
	py := rep.Python[key].PayloadMBps
	lam := rep.Processor["lambda"][targetCompression][key]
	hdl := rep.Processor["handle"][targetCompression][key]
	rep.GoVsPython = round(lam.PayloadMBps/py, 1)
	if lam.CPUNsPerRecord > 0 {
		rep.GoVsPythonCPU = round(rep.Python[key].CPUNsPerRecord/lam.CPUNsPerRecord, 1)
	}
	rep.GoHandleVsPython = round(hdl.PayloadMBps/py, 1)
	limit := rep.CompressionLimit[targetCompression][key]
	if limit.PayloadMBpsCPU > 0 {
		rep.VsLimitCPU = round(lam.PayloadMBpsCPU/limit.PayloadMBpsCPU, 2)
	}
	rep.VsLimitWall = round(lam.PayloadMBps/limit.PayloadMBps, 2)

	// "Per core": payload bytes per second of CPU time, which other load on a
	// shared machine disturbs far less than wall time (wall where not measured).
	perCore := lam.PayloadMBpsCPU
	if perCore == 0 {
		perCore = lam.PayloadMBps
	}
	rep.Targets = []target{
		{"processor payload MB/s per core (lambda, gzip, 1,000 records, CPU time)", perCore, fmt.Sprintf(">= %d", targetPayloadMBps), perCore >= targetPayloadMBps},
		{"output bytes per record (gzip, 1,000 records)", lam.OutBytesPerRec, fmt.Sprintf("<= %d", targetOutBytesPerRec), lam.OutBytesPerRec <= targetOutBytesPerRec},
		{"allocations per record (lambda, gzip, 1,000 records)", lam.AllocsPerRecord, fmt.Sprintf("<= %d", targetAllocsPerRecord), lam.AllocsPerRecord <= targetAllocsPerRecord},
		{"cold start ms (median)", rep.ColdStart.MedianMs, fmt.Sprintf("<= %d", targetColdStartMs), rep.ColdStart.MedianMs <= targetColdStartMs},
		{"binary MB (linux/arm64, stripped)", rep.Binary.MB, fmt.Sprintf("<= %d", targetBinaryMB), rep.Binary.MB <= targetBinaryMB},
		{"peak RSS MiB (one 6 MB batch, new process)", rep.PeakRSS.MiB, fmt.Sprintf("<= %d", targetPeakRSSMiB), rep.PeakRSS.MiB <= targetPeakRSSMiB},
		{fmt.Sprintf("warm peak RSS MiB (%d 6 MB batches in one process)", warmBatches), rep.PeakRSS.WarmMiB, fmt.Sprintf("<= %d", targetPeakRSSMiB), rep.PeakRSS.WarmMiB <= targetPeakRSSMiB},
		{"processor / compression-only limit (gzip, 1,000 records, CPU time)", rep.VsLimitCPU, fmt.Sprintf(">= %.1f", targetVsLimit), rep.VsLimitCPU >= targetVsLimit},
		{"processor / recipe handler (1,000 records, CPU time)", rep.GoVsPythonCPU, fmt.Sprintf(">= %d", targetVsPython), rep.GoVsPythonCPU >= targetVsPython},
	}
	return rep, nil
}

// batchResult returns the result of bench for compression c and batch size n
// (the sub-benchmark "bench/c/n"), its CPU ns per record, and its payload MB/s
// from CPU time rather than wall time (0 without a CPU figure).
func batchResult(res map[string]result, bench, c string, n int) (r result, cpuNs, cpuMBps float64, err error) {
	name := fmt.Sprintf("%s/%s/%d", bench, c, n)
	r, ok := res[name]
	if !ok {
		return result{}, 0, 0, fmt.Errorf("no result for %s", name)
	}
	cpuNs = r.Metrics["cpu-ns/record"]
	if cpuNs > 0 {
		cpuMBps = r.Metrics["MB/s"] * (1e9 / r.Metrics["records/s"]) / cpuNs
	}
	return r, cpuNs, cpuMBps, nil
}

// goBench runs the benchmarks of pkg matching pattern and returns the fastest run
// of each. It fails if go test fails, so that a skipped integration benchmark is
// an error through the missing result. profile, when not empty, is the profile
// (relative to the module root) of the function whose code pkg holds: the
// benchmarks are built with it, as the function is.
func goBench(ctx context.Context, o options, log io.Writer, pkg, pattern, benchtime string, count int, profile string, env []string) (map[string]result, error) {
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", strconv.Itoa(count)}
	if profile != "" {
		args = append(args, "-pgo="+filepath.Join(o.root, profile))
	}
	args = append(args, pkg)
	fmt.Fprintf(log, "bench: go %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench %s %s: %w", pattern, pkg, err)
	}
	results, err := parseResults(&out)
	if err != nil {
		return nil, err
	}
	return best(results), nil
}

// hasBenchmark reports whether pkg exists and has a benchmark called name.
func hasBenchmark(ctx context.Context, o options, pkg, name string) (bool, error) {
	if _, err := os.Stat(filepath.Join(o.root, pkg)); err != nil {
		return false, nil
	}
	cmd := exec.CommandContext(ctx, "go", "test", "-list", "^"+name+"$", pkg)
	cmd.Dir = o.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("go test -list %s: %w\n%s", pkg, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) == name {
			return true, nil
		}
	}
	return false, nil
}

func pick(res map[string]result, name string) *figures {
	r, ok := res[name]
	if !ok {
		return nil
	}
	return &figures{Benchmark: name, Metrics: r.Metrics}
}

// pickPrefix returns the first (by name) result of a benchmark or its sub-benchmarks.
func pickPrefix(res map[string]result, name string) *figures {
	if f := pick(res, name); f != nil {
		return f
	}
	var first string
	for k := range res {
		if strings.HasPrefix(k, name+"/") && (first == "" || k < first) {
			first = k
		}
	}
	if first == "" {
		return nil
	}
	return pick(res, first)
}

// buildLambdaBinary builds the processor as `sam build` does for Lambda and
// returns its size.
func buildLambdaBinary(ctx context.Context, o options, log io.Writer) (binary, error) {
	dir, err := os.MkdirTemp("", "streamlake-bench-build")
	if err != nil {
		return binary{}, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "bootstrap")
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, processorPackage}
	fmt.Fprintf(log, "bench: CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return binary{}, fmt.Errorf("build the arm64 bootstrap: %w", err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return binary{}, err
	}
	return binary{
		Bytes: fi.Size(), MB: round(float64(fi.Size())/1e6, 2),
		Build: "CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w' ./functions/processor (-pgo=auto: " + processorProfile + ")",
	}, nil
}

// runPython runs the recipe benchmark on the n-record event.
func runPython(ctx context.Context, o options, log io.Writer, n int) (pythonFigures, error) {
	event, err := benchdata.SensorEventJSON(n)
	if err != nil {
		return pythonFigures{}, err
	}
	f, err := os.CreateTemp("", "streamlake-bench-event-*.json")
	if err != nil {
		return pythonFigures{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(event); err != nil {
		f.Close()
		return pythonFigures{}, err
	}
	if err := f.Close(); err != nil {
		return pythonFigures{}, err
	}
	args := []string{filepath.Join(o.root, pythonRecipeScript), f.Name()}
	fmt.Fprintf(log, "bench: %s %s (%d records)\n", o.python, strings.Join(args, " "), n)
	cmd := exec.CommandContext(ctx, o.python, args...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1") // no __pycache__ in the tree
	cmd.Stderr = log
	out, err := cmd.Output()
	if err != nil {
		return pythonFigures{}, fmt.Errorf("python recipe benchmark: %w", err)
	}
	fmt.Fprintf(log, "%s", out)
	var v struct {
		PayloadMBps float64 `json:"payload_MBps"`
		CPUNs       float64 `json:"cpu_ns_per_record"`
		Payload     int     `json:"payload_bytes"`
		RecordsPerS float64 `json:"records_per_s"`
		MsPerBatch  float64 `json:"ms_per_batch"`
		OutPerRec   float64 `json:"output_bytes_per_record"`
		Records     int     `json:"records"`
		Python      string  `json:"python"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &v); err != nil {
		return pythonFigures{}, fmt.Errorf("python recipe benchmark output %q: %w", out, err)
	}
	if v.Records != n {
		return pythonFigures{}, fmt.Errorf("python recipe benchmark ran %d records; want %d", v.Records, n)
	}
	return pythonFigures{
		PayloadMBps: round(v.PayloadMBps, 2), RecordsPerS: math.Round(v.RecordsPerS),
		CPUNsPerRecord: round(v.CPUNs, 1), PayloadMBpsCPU: round(float64(v.Payload)/float64(v.Records)/v.CPUNs*1e3, 2),
		MsPerBatch: round(v.MsPerBatch, 2), OutBytesPerRec: round(v.OutPerRec, 1), Version: v.Python,
	}, nil
}

func printHuman(w io.Writer, rep *report) {
	fmt.Fprintf(w, "\nstreamlake benchmarks (%s, %s/%s, %s, %d cores; fastest of repeated runs)\n\n", rep.Machine.GoVersion, rep.Machine.GOOS, rep.Machine.GOARCH, rep.Machine.CPU, rep.Machine.Cores)
	fmt.Fprintf(w, "%-8s %-5s %7s %12s %10s %12s %10s %11s %10s\n", "bench", "comp", "records", "payload MB/s", "ns/record", "MB/s (cpu)", "cpu ns/rec", "allocs/rec", "out B/rec")
	for _, key := range []string{"lambda", "handle"} {
		for _, c := range compressions {
			for _, n := range batchSizes {
				f := rep.Processor[key][c][strconv.Itoa(n)]
				fmt.Fprintf(w, "%-8s %-5s %7d %12.1f %10.0f %12.1f %10.0f %11.4f %10.1f\n", key, c, n, f.PayloadMBps, f.NsPerRecord, f.PayloadMBpsCPU, f.CPUNsPerRecord, f.AllocsPerRecord, f.OutBytesPerRec)
			}
		}
	}
	for _, n := range batchSizes {
		p := rep.Python[strconv.Itoa(n)]
		fmt.Fprintf(w, "%-8s %-5s %7d %12.1f %10.0f %12.1f %10.0f %11s %10.1f\n", "python", "none", n, p.PayloadMBps, 1e9/p.RecordsPerS, p.PayloadMBpsCPU, p.CPUNsPerRecord, "-", p.OutBytesPerRec)
	}
	fmt.Fprintf(w, "\n(lambda: the function's handler from the raw event bytes; handle: Processor.Handle from the decoded event; both built with %s as the function is; python: the classic recipe, json.loads of the event included)\n", rep.ProcessorProfile)
	fmt.Fprintf(w, "Go/Python payload throughput, 1,000 records, gzip: %.1fx (wall), %.1fx (CPU time); %.1fx from the decoded event (wall)\n", rep.GoVsPython, rep.GoVsPythonCPU, rep.GoHandleVsPython)
	l := rep.CompressionLimit[targetCompression][strconv.Itoa(targetBatchRecords)]
	fmt.Fprintf(w, "compression-only limit (gzip, the same lines, 1,000 records): %.1f payload MB/s (%.1f from CPU time, %.0f MB/s of lines); processor / limit: %.2f (CPU time), %.2f (wall)\n",
		l.PayloadMBps, l.PayloadMBpsCPU, l.LineMBps, rep.VsLimitCPU, rep.VsLimitWall)
	fmt.Fprintf(w, "steps, CPU ns per record (1,000 records):")
	for _, step := range []string{"decode-event", "base64", "payload-scan", "event-time", "line", "gzip"} {
		fmt.Fprintf(w, " %s %.0f", step, rep.StepsNsPerRecord[step])
	}
	fmt.Fprintf(w, " (decode-event includes base64)\n")
	fmt.Fprintf(w, "filter match: %.0f records/s\n", rep.Filter.Metrics["records/s"])
	if rep.SummaryParse != nil {
		fmt.Fprintf(w, "summary parse object (%s): %.1f MB/s\n", rep.SummaryParse.Benchmark, rep.SummaryParse.Metrics["MB/s"])
	} else {
		fmt.Fprintf(w, "summary parse object: no %s in %s\n", summaryParseBenchmark, summaryPackage)
	}
	fmt.Fprintf(w, "cold start: median %.2f ms, p90 %.2f ms over %d starts\n", rep.ColdStart.MedianMs, rep.ColdStart.P90Ms, rep.ColdStart.Starts)
	fmt.Fprintf(w, "binary: %.2f MB (%d bytes)\n", rep.Binary.MB, rep.Binary.Bytes)
	fmt.Fprintf(w, "peak RSS: %.1f MiB for one %.2f MB event of %d records in a new process (%.0f ms); %.1f MiB after %d such events in a row (%.0f ms each)\n\n",
		rep.PeakRSS.MiB, rep.PeakRSS.EventMB, rep.PeakRSS.Records, rep.PeakRSS.InvokeMs, rep.PeakRSS.WarmMiB, rep.PeakRSS.WarmBatches, rep.PeakRSS.WarmInvokeMs)
	for _, t := range rep.Targets {
		mark := "MET   "
		if !t.Met {
			mark = "MISSED"
		}
		fmt.Fprintf(w, "%s %-55s %10.2f (target %s)\n", mark, t.Name, t.Value, t.Limit)
	}
	fmt.Fprintln(w)
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the streamlake module")
	}
	return filepath.Dir(mod), nil
}

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}
