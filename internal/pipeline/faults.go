package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/localenv"
)

// Faults are the failure rates a local run injects, each a probability in [0, 1].
// The zero value injects nothing.
type Faults struct {
	// S3FailureRate is the fraction of the functions' PutObject requests answered
	// with 503 SlowDown. The functions' SDK retries are turned off while it is set
	// (AWS_MAX_ATTEMPTS=1), so that every injected failure reaches the handler.
	S3FailureRate float64
	// CrashRate is the fraction of invocations whose function process is killed:
	// half of them before the handler runs, half after it has done its work but
	// before the response reaches the event source mapping (Runtime.ExitError).
	CrashRate float64
	// TimeoutRate is the fraction of invocations that run past the function
	// timeout: the handler's work is done, its response comes too late
	// (Sandbox.Timedout).
	TimeoutRate float64
	// PoisonRate is the fraction of produced records whose event time is
	// unreadable, so that the transform rejects (quarantines) them.
	PoisonRate float64
	// Seed makes the injected faults reproducible.
	Seed int64
}

func (f Faults) validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"S3 failure rate", f.S3FailureRate}, {"crash rate", f.CrashRate}, {"timeout rate", f.TimeoutRate}, {"poison rate", f.PoisonRate}} {
		if !isFraction(r.v) {
			return fmt.Errorf("%s %g is not between 0 and 1", r.name, r.v)
		}
	}
	if f.CrashRate+f.TimeoutRate > 1 {
		return fmt.Errorf("crash rate + timeout rate = %g, over 1", f.CrashRate+f.TimeoutRate)
	}
	return nil
}

// isFraction reports whether v is in [0, 1]. It is written so that NaN, which
// compares false with everything, is not.
func isFraction(v float64) bool { return v >= 0 && v <= 1 }

// lockedRand is a seeded random source safe for concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newLockedRand(seed int64, stream uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(uint64(seed), stream))}
}

func (l *lockedRand) float() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// faultCounts counts what was injected.
type faultCounts struct {
	s3Failures, crashesBefore, crashesAfter, timeouts atomic.Int64
}

// report returns the counts, with poison records produced.
func (c *faultCounts) report(poison int) InjectedFaults {
	return InjectedFaults{S3Failures: c.s3Failures.Load(), CrashesBefore: c.crashesBefore.Load(),
		CrashesAfter: c.crashesAfter.Load(), Timeouts: c.timeouts.Load(), Poison: poison}
}

// faultable is the invoker a faultInjector decorates: it can end an
// invocation with a fault of its execution environment (*localenv.Function).
type faultable interface {
	esm.Invoker
	InvokeWithFault(ctx context.Context, payload []byte, fault localenv.Fault) (esm.Invocation, error)
}

// faultInjector decorates the invoker of the Kinesis function with the crashes
// and timeouts of faults: of its invocations, CrashRate end in a crash (half of
// them before the handler runs, half after) and TimeoutRate in a timeout; the
// others are next's. It is safe for concurrent use.
type faultInjector struct {
	next   faultable
	faults Faults
	rng    *lockedRand
	counts *faultCounts
}

// Invoke implements esm.Invoker.
func (fi *faultInjector) Invoke(ctx context.Context, payload []byte) (esm.Invocation, error) {
	roll := fi.rng.float()
	var fault localenv.Fault
	var count *atomic.Int64
	switch {
	case roll < fi.faults.CrashRate && fi.rng.float() < 0.5:
		fault, count = localenv.CrashBeforeHandler, &fi.counts.crashesBefore
	case roll < fi.faults.CrashRate:
		fault, count = localenv.CrashAfterHandler, &fi.counts.crashesAfter
	case roll < fi.faults.CrashRate+fi.faults.TimeoutRate:
		fault, count = localenv.Timeout, &fi.counts.timeouts
	default:
		return fi.next.Invoke(ctx, payload)
	}
	inv, err := fi.next.InvokeWithFault(ctx, payload, fault)
	if err == nil {
		count.Add(1)
	}
	return inv, err
}

// startS3FaultProxy starts a proxy that forwards the functions' S3 requests to
// the emulator at target and answers a fraction rate of PutObject requests with
// 503 SlowDown, as S3 does when throttling.
func startS3FaultProxy(target string, rate float64, rng *lockedRand, counts *faultCounts) (*localProxy, error) {
	return startProxy(target, func(rp *httputil.ReverseProxy) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// PutObject: PUT /bucket/key (path-style), which the SDK marks x-id=PutObject.
			q := r.URL.Query()
			isPut := r.Method == http.MethodPut && strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1 &&
				(r.URL.RawQuery == "" || len(q) == 1 && q.Get("x-id") == "PutObject")
			if isPut && rng.float() < rate {
				counts.s3Failures.Add(1)
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate. (injected)</Message></Error>`)
				return
			}
			rp.ServeHTTP(w, r)
		})
	})
}
