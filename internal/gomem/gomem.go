// Package gomem sets the Go garbage collector of a Lambda function from the
// function's memory size (AWS_LAMBDA_FUNCTION_MEMORY_SIZE): a soft memory
// limit (MemoryLimit) and a GC percent (GCPercent). The processor applies it
// at start-up, and its in-process benchmarks apply the same settings at the
// default 256 MB, so that they measure the collector the function runs with.
//
// See https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html and
// https://go.dev/doc/gc-guide#Memory_limit.
package gomem

import (
	"runtime/debug"
	"strconv"
)

// GCPercent is the function's GOGC: between collections the heap may grow to
// three times what is live instead of twice. The soft memory limit bounds the
// heap whatever the percent, so a higher one only spends less CPU on
// collections while the heap is below the limit. Measured on 2026-12-07 (04:10
// UTC, the real bootstrap behind lambdahost at 256 MB, S3 in moto server,
// `go test -bench BenchmarkPeakRSS -benchtime 20x -count 2 ./functions/processor`,
// GOGC 200 against 100): a 6 MB batch in a new process 31 ms instead of 58–62
// ms, its peak RSS 33 MiB instead of 37–38; 20 such batches in one process
// 53.7–55.4 MiB instead of 52.3–54.1 (the memory limit is what binds there),
// 19–22 ms each as before; the handler on 1,000-record batches in process about
// 3% less CPU (919–928 against 946–959 ns per record).
const GCPercent = 200

// MemoryLimit returns the Go soft memory limit for a function of memoryMB
// megabytes (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), or 0 for none: a quarter of the
// function's memory less 16 MiB for what the Go heap does not hold (the binary's
// pages, stacks, the runtime), and at least 32 MiB. At the default 256 MB that is
// 48 MiB, which holds the warm peak RSS over 20 consecutive 6 MB batches under
// 64 MiB (without a limit the heap grows to twice the live heap between
// collections, 73 MiB by `make bench`); the cost is more frequent collections
// while a 6 MB batch is being processed, measured by the same benchmark.
//
// Why a quarter and not most of the memory: on Lambda, memory is also the knob
// for CPU (1,769 MB is one vCPU), so functions are often given memory for speed,
// not heap; a batch's live heap is bounded by the 6 MB invoke payload; and the
// limit is soft, so a larger live heap only makes the collector work harder, it
// never fails. A GOMEMLIMIT in the environment (the function's Environment in
// template.yaml) takes precedence; the Go runtime reads it itself.
func MemoryLimit(memoryMB string, gomemlimit string) int64 {
	if gomemlimit != "" {
		return 0
	}
	mb, err := strconv.Atoi(memoryMB)
	if err != nil || mb <= 0 {
		return 0
	}
	limit := int64(mb)<<20/4 - 16<<20
	return max(limit, 32<<20)
}

// Apply sets the soft memory limit (MemoryLimit) and, unless GOGC is in the
// environment (the Go runtime reads it itself), GCPercent. It returns the limit
// set (0: none) and the GC percent set (0: none).
func Apply(getenv func(string) string) (limit int64, gcPercent int) {
	limit = MemoryLimit(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), getenv("GOMEMLIMIT"))
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
		gcPercent = GCPercent
	}
	return limit, gcPercent
}
