package filter

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchPatterns are five filters of the kind the project's template uses on its
// sensor stream.
var benchPatterns = []string{
	`{"data":{"temperature":[{"numeric":[">",35]}]}}`,
	`{"data":{"battery_level":[{"numeric":["<",10]}]}}`,
	`{"data":{"device_id":[{"prefix":"sensor-000"}],"humidity":[{"numeric":[">=",40,"<",45]}]}}`,
	`{"data":{"location":{"lat":[{"numeric":[">",52.5,"<=",52.51]}]}}}`,
	`{"data":{"status":["alarm","fault"],"timestamp":[{"prefix":"2026-11-21T13"}]}}`,
}

// sensorRecords returns n deterministic ~200-byte sensor records.
func sensorRecords(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil,
			`{"device_id":"sensor-%04d","temperature":%.2f,"humidity":%.1f,"timestamp":"2026-11-21T13:%02d:%02dZ","location":{"lat":%.4f,"lon":%.4f},"battery_level":%d}`,
			rng.IntN(10000), 15+rng.Float64()*25, 30+rng.Float64()*40, rng.IntN(60), rng.IntN(60),
			52.4+rng.Float64()*0.2, 13.3+rng.Float64()*0.2, rng.IntN(101))
	}
	return out
}

// BenchmarkMatch matches sensor records against five compiled filters, the
// workload of one Kinesis event source mapping. records/s is per core.
func BenchmarkMatch(b *testing.B) {
	c, err := Compile(benchPatterns)
	if err != nil {
		b.Fatalf("Compile = %v", err)
	}
	records := sensorRecords(1024)
	size := 0
	for _, r := range records {
		size += len(r)
	}
	b.SetBytes(int64(size / len(records)))
	b.ReportAllocs()
	matched := 0
	i := 0
	for b.Loop() {
		if ok, _ := c.Match(records[i%len(records)]); ok {
			matched++
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(matched)/float64(i), "matched/record")
}

// BenchmarkCompile measures compiling the five filters (done once per mapping).
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(benchPatterns); err != nil {
			b.Fatal(err)
		}
	}
}
