package pipeline

import (
	"bytes"
	"context"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestProxyQuietOnCancel: a request the client gives up on (a function process
// stopped, or Ctrl-C) is answered without a log line; a failure of the
// emulator itself is still logged.
func TestProxyQuietOnCancel(t *testing.T) {
	var logs bytes.Buffer
	log.SetOutput(&logs)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer slow.Close()
	u, _ := url.Parse(slow.URL)
	front := httptest.NewServer(newProxy(u))
	defer front.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front.URL+"/bucket/key", nil)
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("canceled request succeeded")
	}
	// Let the proxy's handler finish.
	time.Sleep(200 * time.Millisecond)
	if strings.Contains(logs.String(), "proxy error") {
		t.Errorf("canceled request logged %q; want nothing", logs.String())
	}

	// A target that refuses connections is a real failure.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead, _ := url.Parse("http://" + l.Addr().String())
	l.Close()
	front2 := httptest.NewServer(newProxy(dead))
	defer front2.Close()
	resp, err := http.Get(front2.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status for an unreachable emulator = %d; want 502", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), "proxy error") || !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("unreachable emulator logged %q; want the proxy error", logs.String())
	}
}

// TestS3FaultProxy: with rate 1 every PutObject is answered 503 SlowDown and
// counted; other requests reach the emulator.
func TestS3FaultProxy(t *testing.T) {
	emulator := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	t.Cleanup(emulator.Close)
	counts := &faultCounts{}
	p, err := startS3FaultProxy(emulator.URL, 1, newLockedRand(1, 1), counts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPut, "/bucket/key?x-id=PutObject", http.StatusServiceUnavailable},
		{http.MethodPut, "/bucket/key", http.StatusServiceUnavailable},
		{http.MethodGet, "/bucket/key", http.StatusTeapot},
		{http.MethodPut, "/bucket", http.StatusTeapot},
	} {
		req, _ := http.NewRequest(tc.method, p.url+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: status %d; want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
	if got := counts.s3Failures.Load(); got != 2 {
		t.Errorf("s3Failures = %d; want 2", got)
	}
	if _, err := startProxy("http://[::1", nil); err == nil || !strings.Contains(err.Error(), "emulator endpoint") {
		t.Errorf("startProxy(bad URL) error = %v; want an endpoint error", err)
	}
}
