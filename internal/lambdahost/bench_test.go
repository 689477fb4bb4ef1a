package lambdahost_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/lambdahost"
)

// BenchmarkInvokeWarm measures a warm invocation round trip (the event is echoed
// back) for several event sizes.
func BenchmarkInvokeWarm(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			h := newHost(b, nil)
			event := []byte(`{"cmd":"echo","data":"` + strings.Repeat("x", size) + `"}`)
			invoke(b, h, string(event))
			b.SetBytes(int64(len(event)))
			for b.Loop() {
				res, err := h.Invoke(context.Background(), event)
				if err != nil || res.Err != nil || res.ColdStart {
					b.Fatalf("Invoke() = cold %v, %v, %v; want a warm success", res.ColdStart, res.Err, err)
				}
			}
		})
	}
}

// BenchmarkColdStart measures starting a new environment: process start to the
// runtime's first /next (init-ms), and the whole first invocation.
func BenchmarkColdStart(b *testing.B) {
	var initTotal time.Duration
	n := 0
	for b.Loop() {
		h := lambdahost.New(lambdahost.Config{Binary: testBinary, FunctionName: "cold"})
		res, err := h.Invoke(context.Background(), []byte(`{"cmd":"echo","data":1}`))
		if err != nil || res.Err != nil || !res.ColdStart {
			b.Fatalf("Invoke() = cold %v, %v, %v; want a cold success", res.ColdStart, res.Err, err)
		}
		initTotal += res.InitDuration
		n++
		h.Close()
	}
	b.ReportMetric(float64(initTotal.Microseconds())/1000/float64(n), "init-ms/op")
}

// BenchmarkPoolParallel measures throughput of small invocations on a pool of 2.
func BenchmarkPoolParallel(b *testing.B) {
	p := lambdahost.NewPool(lambdahost.Config{Binary: testBinary, FunctionName: "pooled"}, 2)
	b.Cleanup(func() { p.Close() })
	event := []byte(`{"cmd":"echo","data":{"k":"v"}}`)
	b.SetBytes(int64(len(event)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := p.Invoke(context.Background(), event)
			if err != nil || res.Err != nil {
				b.Errorf("Invoke() = %v, %v; want success", res.Err, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invokes/s")
}
