package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamlake/streamlake/bench/benchdata"
)

// discardSink counts what it is given and stores nothing, so that the benchmarks
// measure the processor alone.
type discardSink struct {
	puts      int
	bodyBytes int
}

func (s *discardSink) Put(_ context.Context, obj Object) error {
	s.puts++
	s.bodyBytes = len(obj.Body)
	return nil
}

var benchBatchSizes = []int{100, 1000, 10000}

var benchCompressions = []Compression{Gzip, Zstd, None}

// benchmarkHandle runs one batch of n sensor records per iteration through
// handle and reports, besides the payload throughput (b.SetBytes counts the
// records' data bytes, the bytes producers put), the heap allocations per record,
// the object bytes per record, records/s and the process's CPU time per record
// (cpu-ns/record: garbage collection included, and little disturbed by other
// load on the machine, unlike wall time). It counts allocations with
// runtime.MemStats because the per-batch figure that b.ReportAllocs gives hides
// the per-record one the target is about.
func benchmarkHandle(b *testing.B, n int, c Compression, handle func(p *Processor, ev *events.KinesisEvent, raw []byte) error) {
	ev, err := benchdata.SensorEvent(n)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	sink := &discardSink{}
	p, err := New(sink, Config{Compression: c, Now: func() time.Time { return benchdata.Start.Add(time.Minute) }})
	if err != nil {
		b.Fatal(err)
	}
	if err := handle(p, &ev, raw); err != nil { // warm the pools
		b.Fatal(err)
	}
	b.SetBytes(int64(benchdata.PayloadBytes(&ev)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if err := handle(p, &ev, raw); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu = processCPU() - cpu
	runtime.ReadMemStats(&after)
	records := float64(b.N) * float64(n)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
	b.ReportMetric(float64(sink.bodyBytes)/float64(n), "out-B/record")
	b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/records, "cpu-ns/record")
	}
}

// BenchmarkHandle measures Processor.Handle from an already decoded event (what a
// handler gets after aws-lambda-go has decoded the event into
// events.KinesisEvent), with a sink that discards the object.
func BenchmarkHandle(b *testing.B) {
	for _, c := range benchCompressions {
		for _, n := range benchBatchSizes {
			b.Run(fmt.Sprintf("%s/%d", c, n), func(b *testing.B) {
				benchmarkHandle(b, n, c, func(p *Processor, ev *events.KinesisEvent, _ []byte) error {
					resp, err := p.Handle(context.Background(), ev)
					if err == nil && len(resp.BatchItemFailures) != 0 {
						err = fmt.Errorf("Handle reported failures %v", resp.BatchItemFailures)
					}
					return err
				})
			})
		}
	}
}

// BenchmarkHandleJSON measures Processor.HandleJSON from the raw event bytes, the
// function's whole handler: decoding the Lambda event included.
func BenchmarkHandleJSON(b *testing.B) {
	for _, c := range benchCompressions {
		for _, n := range benchBatchSizes {
			b.Run(fmt.Sprintf("%s/%d", c, n), func(b *testing.B) {
				benchmarkHandle(b, n, c, func(p *Processor, _ *events.KinesisEvent, raw []byte) error {
					resp, err := p.HandleJSON(context.Background(), raw)
					if err == nil && len(resp.BatchItemFailures) != 0 {
						err = fmt.Errorf("HandleJSON reported failures %v", resp.BatchItemFailures)
					}
					return err
				})
			})
		}
	}
}

// BenchmarkLambdaHandler measures what the function runs per invocation, minus
// the Runtime API's HTTP exchange and the S3 PutObject: aws-lambda-go's handler
// for a Processor (lambda.Start(p)) from the raw event bytes to the encoded
// response.
func BenchmarkLambdaHandler(b *testing.B) {
	benchmarkLambda(b, func(p *Processor) lambda.Handler { return lambda.NewHandler(p) })
}

// BenchmarkLambdaHandleJSON is BenchmarkLambdaHandler with the handler wired as
// lambda.Start(p.HandleJSON): aws-lambda-go first decodes the event into a
// json.RawMessage.
func BenchmarkLambdaHandleJSON(b *testing.B) {
	benchmarkLambda(b, func(p *Processor) lambda.Handler { return lambda.NewHandler(p.HandleJSON) })
}

func benchmarkLambda(b *testing.B, wrap func(p *Processor) lambda.Handler) {
	for _, c := range benchCompressions {
		for _, n := range benchBatchSizes {
			b.Run(fmt.Sprintf("%s/%d", c, n), func(b *testing.B) {
				var h lambda.Handler
				benchmarkHandle(b, n, c, func(p *Processor, _ *events.KinesisEvent, raw []byte) error {
					if h == nil {
						h = wrap(p)
					}
					resp, err := h.Invoke(context.Background(), raw)
					if err == nil && string(bytes.TrimSpace(resp)) != `{"batchItemFailures":[]}` {
						err = fmt.Errorf("handler response %s; want no failures", resp)
					}
					return err
				})
			})
		}
	}
}

// BenchmarkDecodeEvent measures decoding a 1,000-record event: the fast decoder
// HandleJSON uses, and encoding/json (what the fast decoder replaces).
func BenchmarkDecodeEvent(b *testing.B) {
	raw, err := benchdata.SensorEventJSON(1000)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			d := decoderPool.Get().(*eventDecoder)
			if _, ok := d.decode(raw); !ok {
				b.Fatal("decode took the slow path")
			}
			d.release()
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			var ev events.KinesisEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
