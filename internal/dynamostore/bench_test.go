package dynamostore_test

import (
	"context"
	"testing"
)

// BenchmarkAggregateObject measures the aggregation of one new object against
// moto (read from S3, parse, apply in DynamoDB, check the ETag again): DynamoDB
// write actions and transactions per object, and objects/s. moto copies the
// whole table for every action of a transaction, so absolute rates fall as the
// table grows; run with a fixed -benchtime such as 20x. With ≤ 99 changed
// summary keys an object costs one transaction: one action per key plus the
// contribution item and its blob item.
func BenchmarkAggregateObject(b *testing.B) {
	for _, bc := range []struct {
		name    string
		records []reading
	}{
		{"keys=11", readings(31, 100, 10, 1)}, // 10 device-hours + 1 fleet-hour
		{"keys=250", wideReadings(32, 249)},   // 3 chunks
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b)
			ctx := context.Background()
			n := 0
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				n++
				k := objectKey(9, n)
				h.put(b, k, body(bc.records, "2026-11-21T13:40:06.000Z"))
				b.StartTimer()
				if err := h.agg.Object(ctx, h.bucket, k); err != nil {
					b.Fatal(err)
				}
			}
			writes, calls, _ := h.counter.snapshot()
			b.ReportMetric(float64(writes)/float64(n), "writes/object")
			b.ReportMetric(float64(calls)/float64(n), "txns/object")
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
		})
	}
	b.Run("duplicate", func(b *testing.B) {
		h := newHarness(b)
		ctx := context.Background()
		k := objectKey(9, 0)
		h.put(b, k, body(readings(33, 100, 10, 1), "x"))
		if err := h.agg.Object(ctx, h.bucket, k); err != nil {
			b.Fatal(err)
		}
		before, _, _ := h.counter.snapshot()
		n := 0
		b.ResetTimer()
		for b.Loop() {
			n++
			if err := h.agg.Object(ctx, h.bucket, k); err != nil {
				b.Fatal(err)
			}
		}
		writes, _, _ := h.counter.snapshot()
		b.ReportMetric(float64(writes-before)/float64(n), "writes/object")
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
	})
}
