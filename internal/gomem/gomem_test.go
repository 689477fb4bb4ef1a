package gomem

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		memoryMB, gomemlimit string
		want                 int64
	}{
		{"256", "", 48 << 20},
		{"128", "", 32 << 20},
		{"1769", "", 1769<<20/4 - 16<<20},
		{"10240", "", 2544 << 20},
		{"256", "200MiB", 0}, // the user's GOMEMLIMIT wins
		{"", "", 0},
		{"lots", "", 0},
		{"-1", "", 0},
	}
	for _, tc := range tests {
		if got := MemoryLimit(tc.memoryMB, tc.gomemlimit); got != tc.want {
			t.Errorf("MemoryLimit(%q, %q) = %d; want %d", tc.memoryMB, tc.gomemlimit, got, tc.want)
		}
	}
}

// TestApply: the settings reach the runtime, and the environment's GOGC and
// GOMEMLIMIT are left to the runtime.
func TestApply(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	limit, pct := Apply(env(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}))
	if limit != 48<<20 || pct != GCPercent {
		t.Fatalf("Apply at 256 MB = %d, %d; want %d, %d", limit, pct, 48<<20, GCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != 48<<20 {
		t.Errorf("runtime memory limit %d; want %d", got, 48<<20)
	}
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Errorf("runtime GC percent %d; want %d", got, GCPercent)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	limit, pct = Apply(env(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "GOGC": "50", "GOMEMLIMIT": "100MiB"}))
	if limit != 0 || pct != 0 {
		t.Fatalf("Apply with GOGC and GOMEMLIMIT set = %d, %d; want 0, 0", limit, pct)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("runtime GC percent %d; want it untouched (100)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("runtime memory limit %d; want it untouched", got)
	}
}
