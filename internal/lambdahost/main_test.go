package lambdahost_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/lambdahost"
)

// testBinary is testdata/testfn built by TestMain.
var testBinary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lambdahost-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	testBinary, err = lambdahost.Build(ctx, filepath.Join("testdata", "testfn"), filepath.Join(dir, "task"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// newHost returns a Host of the test function, closed at the end of the test.
func newHost(t testing.TB, edit func(*lambdahost.Config)) *lambdahost.Host {
	t.Helper()
	cfg := lambdahost.Config{Binary: testBinary, FunctionName: "testfn", Timeout: 20 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	h := lambdahost.New(cfg)
	t.Cleanup(func() { h.Close() })
	return h
}

// invoke invokes h with the event and fails the test on a host error.
func invoke(t testing.TB, h interface {
	Invoke(context.Context, []byte) (lambdahost.Result, error)
}, event string) lambdahost.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := h.Invoke(ctx, []byte(event))
	if err != nil {
		t.Fatalf("Invoke(%s) error = %v; want nil", event, err)
	}
	return res
}

// decode unmarshals a successful result's payload.
func decode[T any](t testing.TB, res lambdahost.Result) T {
	t.Helper()
	var v T
	if res.Err != nil {
		t.Fatalf("invocation failed: %v (body %s)", res.Err, res.Err.Body)
	}
	if err := json.Unmarshal(res.Payload, &v); err != nil {
		t.Fatalf("decode payload %.200s: %v", res.Payload, err)
	}
	return v
}
