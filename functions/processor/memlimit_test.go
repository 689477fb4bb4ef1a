package main

import "testing"

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
		if got := memoryLimit(tc.memoryMB, tc.gomemlimit); got != tc.want {
			t.Errorf("memoryLimit(%q, %q) = %d; want %d", tc.memoryMB, tc.gomemlimit, got, tc.want)
		}
	}
}
