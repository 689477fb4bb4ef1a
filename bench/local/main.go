// Command local benchmarks the local pipeline end to end (`make bench-local`): it
// runs `streamlake local` with every fault injected at 10,000 and 100,000
// records over 3 shards, each on fresh emulators that it stops afterwards, and
// prints one JSON line with, per run: records per second of the Kinesis side
// (until the stream is drained) and of the whole run (until the summaries are
// written), aggregator objects per second, the emulators' CPU share of the run
// and their peak resident memory, and whether the accounting was exact.
//
// Usage: go run ./bench/local [-bin .local/bin/streamlake] [-counts 10000,100000]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/streamlake/streamlake/internal/pipeline"
)

// faults are the fault flags of every run (the 100,000-record target).
var faults = []string{"--s3-failure-rate", "0.05", "--crash-rate", "0.01", "--timeout-rate", "0.01", "--poison-rate", "0.005"}

// Run is one benchmark run.
type Run struct {
	Records int    `json:"records"`
	Shards  int    `json:"shards"`
	OK      bool   `json:"ok"`
	Lost    int    `json:"lost"`
	Dups    int    `json:"duplicates"`
	Summary string `json:"summaries"`
	// Seconds: the whole run without setup (emulator start, builds); the
	// Kinesis side until the stream was drained; the aggregator's tail after it.
	RunSeconds        float64 `json:"run_seconds"`
	KinesisSeconds    float64 `json:"kinesis_seconds"`
	AggregatorTail    float64 `json:"aggregator_tail_seconds"`
	KinesisRecordsPS  float64 `json:"kinesis_records_per_second"`
	EndToEndRecordsPS float64 `json:"end_to_end_records_per_second"`
	Objects           int64   `json:"aggregator_objects"`
	ObjectsPS         float64 `json:"aggregator_objects_per_second"`
	// EmulatorCPUSeconds is the emulators' CPU time; OtherCPUSeconds that of
	// the CLI and the function processes; EmulatorCPUShare the first's share of
	// both.
	EmulatorCPUSeconds float64 `json:"emulator_cpu_seconds"`
	OtherCPUSeconds    float64 `json:"other_cpu_seconds"`
	EmulatorCPUShare   float64 `json:"emulator_cpu_share"`
	// EmulatorPeakRSSMB sums the emulator processes' peak resident memory.
	EmulatorPeakRSSMB float64            `json:"emulator_peak_rss_mb"`
	EmulatorRSSMB     map[string]float64 `json:"emulator_peak_rss_mb_by_process"`
	EmulatorErrors    int64              `json:"emulator_errors"`
}

func main() {
	bin := flag.String("bin", ".local/bin/streamlake", "the streamlake CLI binary")
	counts := flag.String("counts", "10000,100000", "records per run, comma-separated")
	shards := flag.Int("shards", 3, "shards")
	flag.Parse()
	out := struct {
		Benchmark string `json:"benchmark"`
		Date      string `json:"date"`
		CPUs      int    `json:"cpus"`
		Runs      []Run  `json:"runs"`
	}{Benchmark: "local pipeline", Date: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU()}
	ok := true
	for _, c := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bench-local: bad count %q\n", c)
			os.Exit(2)
		}
		r, err := run(*bin, n, *shards)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench-local: %d records: %v\n", n, err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "bench-local: %d records: %.1f s, %.0f records/s end to end (Kinesis side %.0f/s), %.1f objects/s, emulators %.0f MB peak, %.0f%% of the CPU\n",
			n, r.RunSeconds, r.EndToEndRecordsPS, r.KinesisRecordsPS, r.ObjectsPS, r.EmulatorPeakRSSMB, 100*r.EmulatorCPUShare)
		ok = ok && r.OK
		out.Runs = append(out.Runs, r)
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	if !ok {
		os.Exit(1)
	}
}

func run(bin string, n, shards int) (Run, error) {
	dir, err := os.MkdirTemp("", "streamlake-bench-local-")
	if err != nil {
		return Run{}, err
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	args := append([]string{"local", "--json", "--fresh", "--work-dir", dir, "--count", strconv.Itoa(n),
		"--parameter-overrides", fmt.Sprintf("ShardCount=%d", shards)}, faults...)
	cmd := exec.Command(bin, args...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &before)
	runErr := cmd.Run()
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &after)
	// The emulators outlive the run (detached): stop them, waiting for them to
	// exit, whatever happened.
	defer func() {
		stop := exec.Command(bin, "local", "--stop", "--work-dir", dir)
		stop.Stdout, stop.Stderr = os.Stderr, os.Stderr
		_ = stop.Run()
	}()
	if runErr != nil {
		return Run{}, fmt.Errorf("%s: %w", bin, runErr)
	}
	var rep pipeline.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return Run{}, fmt.Errorf("report: %w", err)
	}
	r := Run{Records: rep.Sent, Shards: len(rep.Shards), OK: rep.OK() && rep.EmulatorErrors == 0, Lost: rep.Lost, Dups: rep.Duplicates,
		EmulatorErrors: rep.EmulatorErrors, EmulatorRSSMB: map[string]float64{}}
	r.Summary = "none"
	if s := rep.Summaries; s != nil {
		r.Summary = fmt.Sprintf("%d items, %d mismatches", s.Items, s.Mismatches)
	}
	r.RunSeconds = rep.DurationSeconds - rep.Function.SetupSeconds
	for _, f := range rep.SQSFunctions {
		r.AggregatorTail = max(r.AggregatorTail, f.TailSeconds)
		r.Objects += f.Deleted
	}
	r.KinesisSeconds = r.RunSeconds - r.AggregatorTail
	if r.KinesisSeconds > 0 {
		r.KinesisRecordsPS = float64(rep.Sent) / r.KinesisSeconds
	}
	if r.RunSeconds > 0 {
		r.EndToEndRecordsPS = float64(rep.Sent) / r.RunSeconds
		r.ObjectsPS = float64(r.Objects) / r.RunSeconds
	}
	for _, e := range rep.Emulators {
		r.EmulatorCPUSeconds += e.CPUSeconds
		r.EmulatorPeakRSSMB += e.PeakRSSMB
		r.EmulatorRSSMB[strings.Join(e.Services, "+")] = e.PeakRSSMB
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	r.OtherCPUSeconds = tv(after.Utime) + tv(after.Stime) - tv(before.Utime) - tv(before.Stime)
	if total := r.EmulatorCPUSeconds + r.OtherCPUSeconds; total > 0 {
		r.EmulatorCPUShare = r.EmulatorCPUSeconds / total
	}
	if !r.OK {
		keep = true
		return r, fmt.Errorf("run not exact: lost %d, duplicates %d, summaries %s, emulator errors %d (work dir %s)",
			r.Lost, r.Dups, r.Summary, r.EmulatorErrors, filepath.Clean(dir))
	}
	return r, nil
}
