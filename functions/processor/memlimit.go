package main

import (
	"runtime/debug"
	"strconv"
)

// memoryLimit returns the Go soft memory limit for a function of memoryMB
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
// See https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html and
// https://go.dev/doc/gc-guide#Memory_limit.
func memoryLimit(memoryMB string, gomemlimit string) int64 {
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

// setMemoryLimit applies memoryLimit; it returns the limit set (0: none).
func setMemoryLimit(getenv func(string) string) int64 {
	limit := memoryLimit(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), getenv("GOMEMLIMIT"))
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return limit
}
