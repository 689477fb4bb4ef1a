package lambdahost_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/lambdahost"
)

// barrierServer answers only once n calls are waiting at the same time, so n
// invocations that call it can only finish if they run in parallel.
func barrierServer(t *testing.T, n int) string {
	var mu sync.Mutex
	waiting := 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		waiting++
		if waiting == n {
			close(release)
		}
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestPoolRunsInvocationsInParallel(t *testing.T) {
	const size = 3
	p := lambdahost.NewPool(lambdahost.Config{Binary: testBinary, FunctionName: "pooled", Timeout: 30 * time.Second}, size)
	t.Cleanup(func() { p.Close() })
	if p.Size() != size {
		t.Fatalf("Size() = %d; want %d", p.Size(), size)
	}

	event := fmt.Sprintf(`{"cmd":"barrier","url":%q}`, barrierServer(t, size))
	results := make([]lambdahost.Result, size)
	errs := make([]error, size)
	var wg sync.WaitGroup
	for i := range size {
		wg.Go(func() { results[i], errs[i] = p.Invoke(context.Background(), []byte(event)) })
	}
	wg.Wait()
	pids := map[int]bool{}
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("Invoke error = %v; want nil", errs[i])
		}
		pids[decode[int](t, res)] = true
		if !res.ColdStart {
			t.Errorf("first round invocation %d: ColdStart = false; want true", i)
		}
	}
	if len(pids) != size {
		t.Errorf("invocations ran in %d processes; want %d", len(pids), size)
	}

	// Sequential invocations reuse a warm environment.
	for i := range 2 * size {
		res := invoke(t, p, `{"cmd":"context"}`)
		got := decode[struct {
			PID int `json:"pid"`
		}](t, res)
		if res.ColdStart || !pids[got.PID] {
			t.Errorf("second round invocation %d: ColdStart %v, pid %d; want a warm environment of %v", i, res.ColdStart, got.PID, pids)
		}
	}
}

func TestPoolSerializesOutput(t *testing.T) {
	const size = 3
	var out strings.Builder // not safe for concurrent use: the pool must serialize writes
	p := lambdahost.NewPool(lambdahost.Config{Binary: testBinary, FunctionName: "pooled", Stdout: &out, Stderr: &out}, size)
	var wg sync.WaitGroup
	for i := range 3 * size {
		wg.Go(func() {
			if _, err := p.Invoke(context.Background(), fmt.Appendf(nil, `{"cmd":"log","msg":"m%d"}`, i)); err != nil {
				t.Errorf("Invoke error = %v; want nil", err)
			}
		})
	}
	wg.Wait()
	p.Close()
	for i := range 3 * size {
		for _, stream := range []string{"stdout", "stderr"} {
			if line := fmt.Sprintf("%s: m%d\n", stream, i); !strings.Contains(out.String(), line) {
				t.Errorf("output %q; want it to contain %q", out.String(), line)
			}
		}
	}
}

func TestPoolErrors(t *testing.T) {
	for _, size := range []int{0, -1} {
		p := lambdahost.NewPool(lambdahost.Config{Binary: testBinary, FunctionName: "fn"}, size)
		if _, err := p.Invoke(context.Background(), []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "must be at least 1") {
			t.Errorf("NewPool(size %d).Invoke() error = %v; want a size error", size, err)
		}
		p.Close()
	}

	p := lambdahost.NewPool(lambdahost.Config{Binary: testBinary, FunctionName: "bad name"}, 2)
	if _, err := p.Invoke(context.Background(), []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "FunctionName") {
		t.Errorf("Invoke() with a bad config: error = %v; want the config error", err)
	}
	p.Close()

	p = lambdahost.NewPool(lambdahost.Config{Binary: testBinary, FunctionName: "fn"}, 1)
	p.Close()
	if _, err := p.Invoke(context.Background(), []byte(`{}`)); err != lambdahost.ErrClosed {
		t.Errorf("Invoke() after Close: error = %v; want ErrClosed", err)
	}
}

func TestPoolWaitHonoursContext(t *testing.T) {
	url, arrived := holdServer(t)
	p := lambdahost.NewPool(lambdahost.Config{Binary: testBinary, FunctionName: "fn", Timeout: time.Minute}, 1)
	t.Cleanup(func() { p.Close() })
	go p.Invoke(context.Background(), fmt.Appendf(nil, `{"cmd":"barrier","url":%q}`, url)) //nolint:errcheck // ends with Close
	<-arrived
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Invoke(ctx, []byte(`{"cmd":"echo"}`)); err == nil || !strings.Contains(err.Error(), "wait for a free execution environment") {
		t.Errorf("Invoke() with every environment busy and a cancelled context: error = %v; want a wait error", err)
	}
}

// TestPoolStop checks that InvokeAndStop returns the invocation's result and that
// it, like StopOne, leaves the environment to a cold start.
func TestPoolStop(t *testing.T) {
	p := lambdahost.NewPool(lambdahost.Config{Binary: testBinary, FunctionName: "fn", Timeout: 20 * time.Second}, 1)
	t.Cleanup(func() { p.Close() })
	ctx := context.Background()
	steps := []struct {
		name     string
		do       func() (lambdahost.Result, error)
		wantCold bool
	}{
		{"first Invoke", func() (lambdahost.Result, error) { return p.Invoke(ctx, []byte(`{"cmd":"echo","data":1}`)) }, true},
		{"InvokeAndStop of a warm environment", func() (lambdahost.Result, error) {
			return p.InvokeAndStop(ctx, []byte(`{"cmd":"echo","data":2}`))
		}, false},
		{"Invoke after InvokeAndStop", func() (lambdahost.Result, error) { return p.Invoke(ctx, []byte(`{"cmd":"echo","data":3}`)) }, true},
		{"Invoke after StopOne", func() (lambdahost.Result, error) {
			if err := p.StopOne(ctx); err != nil {
				t.Fatalf("StopOne() error = %v; want nil", err)
			}
			return p.Invoke(ctx, []byte(`{"cmd":"echo","data":4}`))
		}, true},
	}
	for i, s := range steps {
		res, err := s.do()
		if err != nil {
			t.Fatalf("%s: error = %v; want nil", s.name, err)
		}
		if got, want := decode[int](t, res), i+1; got != want {
			t.Errorf("%s: payload %d; want %d", s.name, got, want)
		}
		if res.ColdStart != s.wantCold {
			t.Errorf("%s: ColdStart = %v; want %v", s.name, res.ColdStart, s.wantCold)
		}
	}

	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	url, arrived := holdServer(t)
	go p.Invoke(context.Background(), fmt.Appendf(nil, `{"cmd":"barrier","url":%q}`, url)) //nolint:errcheck // ends with Close
	<-arrived
	if err := p.StopOne(ctx2); err == nil || !strings.Contains(err.Error(), "wait for a free execution environment") {
		t.Errorf("StopOne() with every environment busy and a cancelled context: error = %v; want a wait error", err)
	}
	if _, err := p.InvokeAndStop(ctx2, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "wait for a free execution environment") {
		t.Errorf("InvokeAndStop() with every environment busy and a cancelled context: error = %v; want a wait error", err)
	}
	p.Close()
	if err := p.StopOne(ctx); err != lambdahost.ErrClosed {
		t.Errorf("StopOne() after Close: error = %v; want ErrClosed", err)
	}
}
