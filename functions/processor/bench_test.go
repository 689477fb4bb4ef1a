package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/bench/benchdata"
	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/motoserver"
)

// BenchmarkColdStart starts the real bootstrap (built for this machine as for
// Lambda) b.N times behind the local Runtime API host and reports the time from
// process start to the runtime's first /next (lambdahost.Result.InitDuration):
// the median and the 90th percentile over the b.N starts. Each start is then
// given an empty batch, which needs no AWS service. Run it with
// -benchtime=50x for the median of 50.
func BenchmarkColdStart(b *testing.B) {
	var inits []time.Duration
	for b.Loop() {
		h := lambdahost.New(lambdahost.Config{
			Binary: binary, FunctionName: "streamlake-processor", MemoryMB: 256, Timeout: 10 * time.Second,
			Env: map[string]string{"BUCKET_NAME": "streamlake-bench"},
		})
		res, err := h.Invoke(context.Background(), []byte(`{"Records":[]}`))
		h.Close()
		if err != nil || res.Err != nil || !res.ColdStart {
			b.Fatalf("Invoke() = cold %v, %v, %v; want a cold success", res.ColdStart, res.Err, err)
		}
		inits = append(inits, res.InitDuration)
	}
	slices.Sort(inits)
	b.ReportMetric(ms(inits[len(inits)/2]), "init-ms-median")
	b.ReportMetric(ms(inits[len(inits)*9/10]), "init-ms-p90")
}

// BenchmarkPeakRSS measures the real bootstrap (built for this machine) behind
// the local Runtime API host, writing to S3 in moto server, given the largest
// sensor batch that fits Lambda's 6 MB invocation payload limit. Each iteration
// starts a new process and sends it one such batch; the benchmark reports the
// median over the iterations of the process's peak resident set size (VmHWM in
// /proc/<pid>/status, Linux only) and of the invocation's duration.
func BenchmarkPeakRSS(b *testing.B) {
	ctx, bucket, event, n := rssSetup(b)
	var peaks []int64
	var durations []time.Duration
	for b.Loop() {
		h := rssHost(bucket)
		hwm, d := invokeAndMeasure(b, ctx, h, event)
		h.Close()
		peaks = append(peaks, hwm)
		durations = append(durations, d)
	}
	slices.Sort(peaks)
	slices.Sort(durations)
	b.SetBytes(int64(len(event)))
	b.ReportMetric(float64(peaks[len(peaks)/2])/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(n), "records/batch")
	b.ReportMetric(float64(len(event))/1e6, "event-MB")
	b.ReportMetric(ms(durations[len(durations)/2]), "invoke-ms")
}

// BenchmarkPeakRSSWarm is BenchmarkPeakRSS in one process: b.N batches in a row
// through the same warm environment, as a busy shard's environment sees them.
// The peak grows over the first invocations until the garbage collector's pacing
// settles (the function's GOGC 200 lets the heap grow to three times what is
// live, up to the soft memory limit: package gomem).
func BenchmarkPeakRSSWarm(b *testing.B) {
	ctx, bucket, event, n := rssSetup(b)
	h := rssHost(bucket)
	defer h.Close()
	var hwm int64
	var total time.Duration
	for b.Loop() {
		var d time.Duration
		hwm, d = invokeAndMeasure(b, ctx, h, event)
		total += d
	}
	b.SetBytes(int64(len(event)))
	b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(n), "records/batch")
	b.ReportMetric(ms(total)/float64(b.N), "invoke-ms")
}

// rssSetup creates a bucket in moto server and the 6 MB event.
func rssSetup(b *testing.B) (context.Context, string, []byte, int) {
	b.Helper()
	motoserver.ForTest(b)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		b.Fatal(err)
	}
	bucket := fmt.Sprintf("streamlake-bench-rss-%d", time.Now().UnixNano())
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		b.Fatal(err)
	}
	event, n, err := benchdata.LargestSensorEventJSON(lambdahost.MaxRequestBytes)
	if err != nil {
		b.Fatal(err)
	}
	return ctx, bucket, event, n
}

func rssHost(bucket string) *lambdahost.Host {
	return lambdahost.New(lambdahost.Config{
		Binary: binary, FunctionName: "streamlake-processor", MemoryMB: 256, Timeout: 60 * time.Second,
		Env: map[string]string{"BUCKET_NAME": bucket},
	})
}

// invokeAndMeasure sends event, checks that the batch was stored, and returns
// the process's peak RSS so far and the invocation's duration.
func invokeAndMeasure(b *testing.B, ctx context.Context, h *lambdahost.Host, event []byte) (int64, time.Duration) {
	b.Helper()
	res, err := h.Invoke(ctx, event)
	if err != nil || res.Err != nil {
		b.Fatalf("Invoke() = %v, %v; want success", res.Err, err)
	}
	if string(res.Payload) != `{"batchItemFailures":[]}` {
		b.Fatalf("response = %s; want no failures", res.Payload)
	}
	pid, err := childPID(binary)
	if err != nil {
		b.Fatal(err)
	}
	hwm, err := peakRSS(pid)
	if err != nil {
		b.Fatal(err)
	}
	return hwm, res.Duration
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// childPID finds this process's child running the executable at path. The host
// does not expose its process; the binary's path is unique to this test binary.
func childPID(path string) (int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	for _, dir := range dirs {
		exe, err := os.Readlink(filepath.Join(dir, "exe"))
		if err != nil || exe != path {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(dir))
		if ppid, err := statusField(pid, "PPid"); err == nil && ppid == int64(os.Getpid()) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child process runs %s (peak RSS needs Linux /proc)", path)
}

// peakRSS returns the peak resident set size of a process in bytes.
func peakRSS(pid int) (int64, error) {
	kb, err := statusField(pid, "VmHWM")
	return kb << 10, err
}

// statusField returns the first number of a line of /proc/<pid>/status.
func statusField(pid int, name string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(raw) {
		k, v, ok := strings.Cut(string(line), ":")
		if !ok || k != name {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, name)
}
