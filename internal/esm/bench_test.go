package esm

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func benchRecords(b *testing.B, n, size int) []*record {
	b.Helper()
	src := goldenSource()
	data := []byte(`{"device_id":"device-7","pad":"` + strings.Repeat("x", max(size-30, 0)) + `"}`)
	recs := make([]*record, n)
	for i := range recs {
		seq := fmt.Sprintf("4959033827149025660855969253836157109592157598913%07d", i)
		js, err := src.encodeRecord(seq, "device-7", data, time.UnixMilli(1545084650987))
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = &record{seq: seq, json: js}
	}
	return recs
}

// BenchmarkEncodeRecord measures turning one 1 KiB Kinesis record into its event
// JSON (done once per record read).
func BenchmarkEncodeRecord(b *testing.B) {
	src := goldenSource()
	data := []byte(strings.Repeat("y", 1024))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.encodeRecord("49590338271490256608559692538361571095921575989136588898", "device-7", data, time.UnixMilli(1545084650987)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildEvent measures assembling the invocation payload of a
// 500-record batch of 1 KiB records.
func BenchmarkBuildEvent(b *testing.B) {
	recs := benchRecords(b, 500, 1024)
	size := eventSize(recs)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if ev := buildEvent(recs); len(ev) != size {
			b.Fatalf("len(buildEvent) = %d; want %d", len(ev), size)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkClassifyPartialResponse measures parsing a partial batch response
// that reports 50 failures in a 500-record batch.
func BenchmarkClassifyPartialResponse(b *testing.B) {
	recs := benchRecords(b, 500, 16)
	var sb strings.Builder
	sb.WriteString(`{"batchItemFailures":[`)
	for i := 450; i < 500; i++ {
		if i > 450 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"itemIdentifier":%q}`, recs[i].seq)
	}
	sb.WriteString(`]}`)
	inv := Invocation{Payload: []byte(sb.String())}
	b.SetBytes(int64(len(inv.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		if out := classify(inv, recs, true); out.kind != outcomePartial || out.failIndex != 450 {
			b.Fatalf("classify = %+v; want partial at 450", out)
		}
	}
}

// BenchmarkTracker measures checkpoint tracking of records finished out of
// order by 4 lanes.
func BenchmarkTracker(b *testing.B) {
	const n = 1000
	recs := make([]*record, n)
	for i := range recs {
		recs[i] = &record{seq: fmt.Sprint(i + 1)}
	}
	b.ReportAllocs()
	for b.Loop() {
		tr := newTracker("")
		tr.add(recs)
		for lane := 3; lane >= 0; lane-- {
			for i := lane; i < n; i += 4 {
				tr.done(recs[i : i+1])
			}
		}
		if cp, _ := tr.state(); cp != fmt.Sprint(n) {
			b.Fatalf("checkpoint = %s; want %d", cp, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// noopInvoker accepts every batch.
type noopInvoker struct{}

func (noopInvoker) Invoke(context.Context, []byte) (Invocation, error) {
	return Invocation{Payload: []byte("null")}, nil
}

// BenchmarkDrainMoto measures the emulated mapping end to end against moto:
// 2000 records on 2 shards, BatchSize 100, ParallelizationFactor 2, a function
// that returns at once. moto's GetRecords dominates.
func BenchmarkDrainMoto(b *testing.B) {
	const n = 2000
	e := newEnv(b)
	b.ReportAllocs()
	var total int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		arn, _ := e.stream(2)
		e.putAll(arn, records(n, 50, "bench"))
		cfg := baseConfig(arn)
		cfg.ParallelizationFactor = 2
		m, err := New(cfg, e.kin, nil, noopInvoker{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		if err := m.RunUntilDrained(ctx, nil); err != nil {
			cancel()
			b.Fatal(err)
		}
		cancel()
		if got := m.Stats().SucceededRecords; got != n {
			b.Fatalf("succeeded %d records; want %d", got, n)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReceiptFileUpdate measures one ReceiptFile rewrite as an SQS
// mapping does it after every receive and every settled batch: 10 messages
// held, then released, with 100 other handles in the file.
func BenchmarkReceiptFileUpdate(b *testing.B) {
	f := &receiptFile{path: b.TempDir() + "/receipts.json", queueARN: "arn:aws:sqs:us-east-1:123456789012:q", held: map[string]bool{}}
	other := make([]*sqsMessage, 100)
	for i := range other {
		other[i] = &sqsMessage{receipt: fmt.Sprintf("other-%03d-%s", i, strings.Repeat("r", 100))}
	}
	if err := f.update(other, true); err != nil {
		b.Fatal(err)
	}
	batch := make([]*sqsMessage, 10)
	for i := range batch {
		batch[i] = &sqsMessage{receipt: fmt.Sprintf("batch-%03d-%s", i, strings.Repeat("r", 100))}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.update(batch, true); err != nil {
			b.Fatal(err)
		}
		if err := f.update(batch, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2, "writes/op")
}
