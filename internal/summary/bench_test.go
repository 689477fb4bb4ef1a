package summary

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkParseObject measures the aggregator's object parsing (gzip decoding,
// line scanning, aggregation) on a 1000-record object of 100 devices over 2
// hours; bytes/s are of the decompressed NDJSON.
func BenchmarkParseObject(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	plain := ndBody(randomRecords(r, 1000, 100, 2))
	body := gzipped(plain)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := Config{}.ParseObject("processed/x.ndjson.gz", body)
		if err != nil || c.Stats.Records != 1000 {
			b.Fatalf("ParseObject = %v, %v", c, err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(len(body)), "gzip-bytes/object")
}
