package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/lambdahost"
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
	// (Sandbox.Timeout).
	TimeoutRate float64
	// PoisonRate is the fraction of produced records whose event time is
	// unreadable, so that the transform rejects (quarantines) them.
	PoisonRate float64
	// Seed makes the injected faults reproducible.
	Seed int64
}

func (f Faults) validate() error {
	for name, v := range map[string]float64{"S3 failure rate": f.S3FailureRate, "crash rate": f.CrashRate, "timeout rate": f.TimeoutRate, "poison rate": f.PoisonRate} {
		if v < 0 || v > 1 {
			return fmt.Errorf("%s %g is not between 0 and 1", name, v)
		}
	}
	if f.CrashRate+f.TimeoutRate > 1 {
		return fmt.Errorf("crash rate + timeout rate = %g, over 1", f.CrashRate+f.TimeoutRate)
	}
	return nil
}

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

// hostPool is a set of lambdahost environments of one function. Unlike
// lambdahost.Pool it lets the fault injector kill the environment an invocation
// ran in, as a crash or a timeout does.
type hostPool struct {
	cfg  lambdahost.Config
	free chan *lambdahost.Host
}

func newHostPool(cfg lambdahost.Config, size int) *hostPool {
	p := &hostPool{cfg: cfg, free: make(chan *lambdahost.Host, size)}
	for i := 0; i < size; i++ {
		p.free <- lambdahost.New(cfg)
	}
	return p
}

func (p *hostPool) acquire(ctx context.Context) (*lambdahost.Host, error) {
	select {
	case h := <-p.free:
		return h, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release returns h to the pool; a killed environment is replaced by a new one,
// whose next invocation is a cold start.
func (p *hostPool) release(h *lambdahost.Host, kill bool) {
	if kill {
		h.Close()
		h = lambdahost.New(p.cfg)
	}
	p.free <- h
}

func (p *hostPool) close() {
	for i := 0; i < cap(p.free); i++ {
		(<-p.free).Close()
	}
}

// invoker adapts a hostPool to esm.Invoker, injecting crashes and timeouts.
type invoker struct {
	pool    *hostPool
	faults  Faults
	rng     *lockedRand
	counts  *faultCounts
	timeout time.Duration

	invocations atomic.Int64
	coldStarts  atomic.Int64
	busy        atomic.Int64 // summed invocation time in microseconds
}

func (iv *invoker) Invoke(ctx context.Context, payload []byte) (esm.Invocation, error) {
	h, err := iv.pool.acquire(ctx)
	if err != nil {
		return esm.Invocation{}, err
	}
	roll := iv.rng.float()
	crash := roll < iv.faults.CrashRate
	timeout := !crash && roll < iv.faults.CrashRate+iv.faults.TimeoutRate
	if crash && iv.rng.float() < 0.5 {
		// The process dies before the handler runs: nothing is done.
		iv.counts.crashesBefore.Add(1)
		iv.pool.release(h, true)
		return esm.Invocation{FunctionError: lambdahost.ErrorTypeExit,
			ErrorMessage: "Runtime exited with error: signal: killed (injected crash before the handler)"}, nil
	}
	start := time.Now()
	res, err := h.Invoke(ctx, payload)
	iv.busy.Add(time.Since(start).Microseconds())
	iv.invocations.Add(1)
	if res.ColdStart {
		iv.coldStarts.Add(1)
	}
	if err != nil {
		iv.pool.release(h, true)
		return esm.Invocation{}, err
	}
	switch {
	case crash:
		iv.counts.crashesAfter.Add(1)
		iv.pool.release(h, true)
		return esm.Invocation{RequestID: res.RequestID, FunctionError: lambdahost.ErrorTypeExit,
			ErrorMessage: "RequestId: " + res.RequestID + " Error: Runtime exited with error: signal: killed (injected crash after the handler)"}, nil
	case timeout:
		iv.counts.timeouts.Add(1)
		iv.pool.release(h, true)
		return esm.Invocation{RequestID: res.RequestID, FunctionError: lambdahost.ErrorTypeTimeout,
			ErrorMessage: fmt.Sprintf("Task timed out after %.2f seconds (injected)", iv.timeout.Seconds())}, nil
	}
	iv.pool.release(h, false)
	inv := esm.Invocation{Payload: res.Payload, RequestID: res.RequestID}
	if res.Err != nil {
		inv.FunctionError, inv.ErrorMessage = res.Err.Type, res.Err.Message
	}
	return inv, nil
}

// s3FaultProxy forwards the functions' S3 requests to the emulator and answers a
// fraction of PutObject requests with 503 SlowDown, as S3 does when throttling.
type s3FaultProxy struct {
	server *http.Server
	url    string
}

func startS3FaultProxy(target string, rate float64, rng *lockedRand, counts *faultCounts) (*s3FaultProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("emulator endpoint %q: %w", target, err)
	}
	rp := newProxy(u)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	l, err := listenLoopback()
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return &s3FaultProxy{server: srv, url: "http://" + l.Addr().String()}, nil
}

func (p *s3FaultProxy) close() { _ = p.server.Close() }
