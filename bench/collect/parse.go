package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// result is one line of `go test -bench` output.
type result struct {
	// Name is the benchmark's full name without the -GOMAXPROCS suffix, e.g.
	// "BenchmarkHandle/gzip/1000".
	Name       string
	Iterations int64
	// Metrics maps a unit ("ns/op", "MB/s", "allocs/record", …) to its value.
	Metrics map[string]float64
}

// parseResults reads `go test -bench` output and returns its result lines in
// order. Lines that are not results (headers, PASS, logs) are ignored; a line that
// starts like a result but is malformed is an error.
func parseResults(r io.Reader) ([]result, error) {
	var out []result
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue // "BenchmarkX" alone: a benchmark that logged before its result
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue // a log line that starts with "Benchmark"
		}
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("benchmark line %q: want value/unit pairs", line)
		}
		res := result{Name: trimProcs(f[0]), Iterations: n, Metrics: map[string]float64{}}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: value %q: %w", line, f[i], err)
			}
			res.Metrics[f[i+1]] = v
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return out, nil
}

// trimProcs removes the "-N" GOMAXPROCS suffix that go test appends.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// best returns, per benchmark name, the run with the lowest ns/op among repeated
// runs (-count): the one least disturbed by other load on the machine.
func best(results []result) map[string]result {
	out := map[string]result{}
	for _, r := range results {
		prev, ok := out[r.Name]
		if !ok || r.Metrics["ns/op"] < prev.Metrics["ns/op"] {
			out[r.Name] = r
		}
	}
	return out
}
