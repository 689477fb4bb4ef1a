package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseResults(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/streamlake/streamlake/internal/ingest
BenchmarkHandle/gzip/100-2         	    7608	    144286 ns/op	 114.98 MB/s	         0.09007 allocs/record	        64.61 out-B/record	     646 B/op	       9 allocs/op
BenchmarkHandle/gzip/100-2         	    7000	    140000 ns/op	 118.00 MB/s	         0.09 allocs/record	        64.61 out-B/record	     646 B/op	       9 allocs/op
BenchmarkMatch
    filter_bench_test.go:10: a log line
BenchmarkMatch-16   	 1000	 1200 ns/op
BenchmarkTool-x 	 10	 5 ns/op
PASS
ok  	github.com/streamlake/streamlake/internal/ingest	23.050s
`
	got, err := parseResults(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []result{
		{Name: "BenchmarkHandle/gzip/100", Iterations: 7608, Metrics: map[string]float64{
			"ns/op": 144286, "MB/s": 114.98, "allocs/record": 0.09007, "out-B/record": 64.61, "B/op": 646, "allocs/op": 9}},
		{Name: "BenchmarkHandle/gzip/100", Iterations: 7000, Metrics: map[string]float64{
			"ns/op": 140000, "MB/s": 118, "allocs/record": 0.09, "out-B/record": 64.61, "B/op": 646, "allocs/op": 9}},
		{Name: "BenchmarkMatch", Iterations: 1000, Metrics: map[string]float64{"ns/op": 1200}},
		{Name: "BenchmarkTool-x", Iterations: 10, Metrics: map[string]float64{"ns/op": 5}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseResults mismatch (-want +got):\n%s", diff)
	}
	b := best(got)
	if r := b["BenchmarkHandle/gzip/100"]; r.Iterations != 7000 {
		t.Errorf("best(BenchmarkHandle/gzip/100) = run of %d iterations; want the faster run of 7000", r.Iterations)
	}
}

func TestParseResultsMalformed(t *testing.T) {
	for _, line := range []string{
		"BenchmarkX-2 10 5 ns/op 7",
		"BenchmarkX-2 10 fast ns/op",
	} {
		if _, err := parseResults(strings.NewReader(line + "\n")); err == nil {
			t.Errorf("parseResults(%q) = nil error; want an error", line)
		}
	}
}

func TestBatchResult(t *testing.T) {
	res := map[string]result{
		// 100 MB/s at 1e6 records/s is 1,000 wall ns per record; 500 CPU ns
		// per record make it 200 MB/s of CPU time.
		"BenchmarkX/gzip/1000": {Name: "BenchmarkX/gzip/1000", Metrics: map[string]float64{"MB/s": 100, "records/s": 1e6, "cpu-ns/record": 500}},
		"BenchmarkX/none/1000": {Name: "BenchmarkX/none/1000", Metrics: map[string]float64{"MB/s": 100, "records/s": 1e6}},
	}
	r, cpu, cpuMBps, err := batchResult(res, "BenchmarkX", "gzip", 1000)
	if err != nil || r.Name != "BenchmarkX/gzip/1000" || cpu != 500 || cpuMBps != 200 {
		t.Errorf("batchResult(gzip/1000) = %s, %v, %v, %v; want BenchmarkX/gzip/1000, 500, 200, nil", r.Name, cpu, cpuMBps, err)
	}
	if _, cpu, cpuMBps, err := batchResult(res, "BenchmarkX", "none", 1000); err != nil || cpu != 0 || cpuMBps != 0 {
		t.Errorf("batchResult(none/1000) = %v, %v, %v; want 0, 0, nil (no CPU figure)", cpu, cpuMBps, err)
	}
	if _, _, _, err := batchResult(res, "BenchmarkX", "zstd", 1000); err == nil {
		t.Error("batchResult(zstd/1000) = nil error; want one for a missing result")
	}
}
