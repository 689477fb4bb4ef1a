// Command collect runs the project's benchmarks and prints one JSON object with
// every figure as its last line of output; `make bench` runs it.
//
// It runs, with `go test -bench` in the module root:
//
//   - the processor in-process with a discarding sink (internal/ingest
//     BenchmarkHandle: from the decoded event; BenchmarkLambdaHandler: the
//     function's handler from the raw event bytes), for batches of 100, 1,000 and
//     10,000 sensor records and gzip, zstd and none;
//   - in the same run, the compression-only limit (internal/ingest
//     BenchmarkCompressLines: the same encoder compressing the very lines the
//     processor writes for the batch, nothing else) and each step of the hot path
//     on its own (BenchmarkSteps: event decoding, base64, payload scan, event-time
//     check, line formatting, gzip); the report gives the processor / limit ratio
//     from CPU time and from wall time;
//   - the event filter matcher (internal/filter BenchmarkMatch) and, when the
//     package has it, the aggregator's object parser (internal/summary
//     BenchmarkParseObject);
//   - the real bootstrap behind the local Runtime API host (functions/processor
//     BenchmarkColdStart: process start to the first /next, median of
//     -cold-starts starts; BenchmarkPeakRSS: peak RSS for a 6 MB batch, against
//     S3 in moto server, which must be available);
//
// then it builds the function as `sam build` does for Lambda (linux/arm64, static,
// -tags lambda.norpc -trimpath -ldflags=-s -w) to report the binary size, and runs
// the classic Python recipe (bench/recipe) on the same events.
//
// The processor's in-process benchmarks are built with the function's profile
// (functions/processor/default.pgo, passed as go test -pgo), as the function's
// profile-guided build is; the binaries built from functions/processor pick it up
// themselves. The filter and the aggregator's parser have no profile.
//
// Each Go benchmark runs -count times and the fastest run is kept, as the Python
// benchmark keeps the fastest of its rounds: other load on the machine can only
// slow a run down. MB/s always counts payload bytes (the records' data, what
// producers put into the stream), 10^6 bytes per MB as `go test` reports. Besides
// wall time, the processor and Python benchmarks report the process's CPU time
// per record (garbage collection included); the per-core throughput target is
// read from it, since on a shared machine it is far steadier than wall time (on
// an idle machine the two agree).
//
// The targets of issue #9 are checked at the end (gzip, 1,000-record batches):
// payload throughput per core >= 200 MB/s, <= 100 object bytes and <= 2
// allocations per record, cold start <= 15 ms, binary <= 15 MB, peak RSS <= 64 MiB
// for one 6 MB batch; and those of issue #16: warm peak RSS <= 64 MiB over 20 such
// batches, processor / compression-only limit >= 0.8 and processor / the recipe's
// handler >= 15 (both from CPU time, the figure a shared machine disturbs least).
// A missed target is reported, not an error.
//
// Usage:
//
//	go run ./bench/collect [-count 3] [-benchtime 1s] [-cold-starts 50] [-python python3]
package main
