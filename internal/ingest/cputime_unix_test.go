//go:build unix

package ingest

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) the process has used so far,
// garbage collection on other threads included. Benchmarks report it besides wall
// time because it is far less disturbed by other load on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
