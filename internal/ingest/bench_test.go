package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamlake/streamlake/bench/benchdata"
	"github.com/streamlake/streamlake/internal/gomem"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/record"
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

// asTheFunction applies the processor function's garbage-collector settings at
// its default memory size, 256 MB (package gomem), so that the CPU time per
// record counts the collections the function makes. The environment's GOGC and
// GOMEMLIMIT still win, as they do in the function.
var asTheFunction = sync.OnceFunc(func() {
	gomem.Apply(func(k string) string {
		if k == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" {
			return "256"
		}
		return os.Getenv(k)
	})
})

var benchCompressions = []ndjson.Compression{ndjson.Gzip, ndjson.Zstd, ndjson.None}

// benchmarkHandle runs one batch of n sensor records per iteration through
// handle and reports, besides the payload throughput (b.SetBytes counts the
// records' data bytes, the bytes producers put), the heap allocations per record,
// the object bytes per record, records/s and the process's CPU time per record
// (cpu-ns/record: garbage collection included, and little disturbed by other
// load on the machine, unlike wall time). It counts allocations with
// runtime.MemStats because the per-batch figure that b.ReportAllocs gives hides
// the per-record one the target is about.
func benchmarkHandle(b *testing.B, n int, c ndjson.Compression, handle func(p *Processor, ev *events.KinesisEvent, raw []byte) error) {
	asTheFunction()
	ev, err := benchdata.SensorEvent(n)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := benchdata.SensorEventJSON(n) // ev as Lambda writes it
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
	asTheFunction()
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

// processedLines returns the NDJSON lines the processor writes for ev, uncompressed.
func processedLines(b *testing.B, ev *events.KinesisEvent) []byte {
	b.Helper()
	sink := &captureSink{}
	p, err := New(sink, Config{Compression: ndjson.None, Now: func() time.Time { return benchdata.Start.Add(time.Minute) }})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Handle(context.Background(), ev); err != nil {
		b.Fatal(err)
	}
	return sink.body
}

type captureSink struct{ body []byte }

func (s *captureSink) Put(_ context.Context, obj Object) error {
	s.body = bytes.Clone(obj.Body)
	return nil
}

// BenchmarkCompressLines is the limit the processor is measured against: the
// same encoder compressing the very lines the processor writes for the batch, in
// one Write, and nothing else. b.SetBytes counts the records' payload bytes, as
// BenchmarkLambdaHandler does, so the two MB/s compare directly; line-MB/s is
// the rate in bytes of lines.
func BenchmarkCompressLines(b *testing.B) {
	asTheFunction()
	for _, c := range []ndjson.Compression{ndjson.Gzip, ndjson.Zstd} {
		for _, n := range benchBatchSizes {
			b.Run(fmt.Sprintf("%s/%d", c, n), func(b *testing.B) {
				ev, err := benchdata.SensorEvent(n)
				if err != nil {
					b.Fatal(err)
				}
				lines := processedLines(b, &ev)
				enc := ndjson.NewEncoder(c)
				b.SetBytes(int64(benchdata.PayloadBytes(&ev)))
				b.ReportAllocs()
				cpu := processCPU()
				for b.Loop() {
					enc.Reset()
					if err := enc.Write(lines); err != nil {
						b.Fatal(err)
					}
					if _, err := enc.Finish(); err != nil {
						b.Fatal(err)
					}
				}
				cpu = processCPU() - cpu
				records := float64(b.N) * float64(n)
				b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds()/1e6, "line-MB/s")
				if cpu > 0 {
					b.ReportMetric(float64(cpu.Nanoseconds())/records, "cpu-ns/record")
				}
			})
		}
	}
}

// BenchmarkSteps measures each step of the processor's hot path on its own, per
// record of a 1,000-record sensor batch: decoding the Lambda event (the fast
// decoder, base64 included), base64 alone (the decoder's decodeBase64), the payload scan (classify, compact,
// and find the "timestamp" member, with the batch's record.PayloadScanner as
// the processor does with the default transform), the event-time check (the default transform's verdict on the
// member the scan found), formatting the output line, and gzip of the lines. cpu-ns/record is the process's CPU time (garbage
// collection included), steadier than wall time on a shared machine.
func BenchmarkSteps(b *testing.B) {
	asTheFunction()
	const n = 1000
	ev, err := benchdata.SensorEvent(n)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := benchdata.SensorEventJSON(n)
	if err != nil {
		b.Fatal(err)
	}
	var b64 [][]byte
	for _, r := range ev.Records {
		b64 = append(b64, []byte(base64.StdEncoding.EncodeToString(r.Kinesis.Data)))
	}
	var payloads, times [][]byte
	for _, r := range ev.Records {
		p, _, v, ok := record.AppendPayloadMember(nil, r.Kinesis.Data, DefaultTimeField)
		if !ok {
			b.Fatalf("payload %s has no %s", p, DefaultTimeField)
		}
		payloads, times = append(payloads, p), append(times, v)
	}
	meta := record.Meta{PartitionKey: "sensor-0001", SequenceNumber: ev.Records[0].Kinesis.SequenceNumber,
		EventID: ev.Records[0].EventID, ShardID: "shardId-000000000000", ArrivalTime: benchdata.Start}
	arrivals := make([]time.Time, n)
	for i := range ev.Records {
		arrivals[i] = arrival(&ev.Records[i])
	}
	lines := processedLines(b, &ev)
	perRecord := func(b *testing.B, step func()) {
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			step()
		}
		cpu = processCPU() - cpu
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
		if cpu > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/n, "cpu-ns/record")
		}
	}
	b.Run("decode-event", func(b *testing.B) {
		perRecord(b, func() {
			d := decoderPool.Get().(*eventDecoder)
			if _, ok := d.decode(raw); !ok {
				b.Fatal("decode took the slow path")
			}
			d.release()
		})
	})
	b.Run("base64", func(b *testing.B) {
		buf := make([]byte, 4096)
		perRecord(b, func() {
			for _, s := range b64 {
				if _, ok := decodeBase64(buf, s); !ok {
					b.Fatalf("%s is not base64", s)
				}
			}
		})
	})
	b.Run("payload-scan", func(b *testing.B) {
		var buf []byte
		var sc record.PayloadScanner
		perRecord(b, func() {
			sc.Reset(DefaultTimeField)
			for i := range ev.Records {
				buf, _, _, _ = sc.Append(buf[:0], ev.Records[i].Kinesis.Data)
			}
		})
	})
	b.Run("event-time", func(b *testing.B) {
		perRecord(b, func() {
			for _, v := range times {
				if err := ValidateEventTime.(*eventTimeCheck).check(v, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("line", func(b *testing.B) {
		var buf []byte
		var lf record.LineFormat
		perRecord(b, func() {
			lf.Reset("2026-11-21T13:41:00.000Z", meta.ShardID)
			for i, p := range payloads {
				meta.ArrivalTime = arrivals[i]
				buf = lf.Append(buf[:0], p, &meta, "")
			}
		})
	})
	b.Run("gzip", func(b *testing.B) {
		enc := ndjson.NewEncoder(ndjson.Gzip)
		perRecord(b, func() {
			enc.Reset()
			_ = enc.Write(lines)
			_, _ = enc.Finish()
		})
	})
}
