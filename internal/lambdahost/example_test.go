package lambdahost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/streamlake/streamlake/internal/lambdahost"
)

// Build a Go function, run it behind the Runtime API and invoke it: the first
// invocation is a cold start, the next ones reuse the process; a function error is
// reported in Result.Err, not as the error return.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	bin, err := lambdahost.Build(ctx, filepath.Join("testdata", "testfn"), dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	h := lambdahost.New(lambdahost.Config{
		Binary:       bin,
		FunctionName: "ProcessorFunction",
		MemoryMB:     256,
		Timeout:      30 * time.Second,
		Env:          map[string]string{"BUCKET": "my-bucket"},
		Stderr:       os.Stderr, // the function's logs; nil discards them
	})
	defer h.Close()

	for _, event := range []string{
		`{"cmd":"echo","data":{"hello":"world"}}`,
		`{"cmd":"error","msg":"no such device"}`,
		`{"cmd":"exit","code":2}`,
		`{"cmd":"echo","data":"back"}`,
	} {
		res, err := h.Invoke(ctx, []byte(event))
		if err != nil {
			fmt.Println("host error:", err)
			return
		}
		if res.Err != nil {
			fmt.Printf("cold=%v error %s\n", res.ColdStart, res.Err.Type)
			continue
		}
		fmt.Printf("cold=%v response %s\n", res.ColdStart, res.Payload)
	}
	// Output:
	// cold=true response {"hello":"world"}
	// cold=false error CustomError
	// cold=false error Runtime.ExitError
	// cold=true response "back"
}

// A Pool runs invocations of one function in parallel, one per environment.
func ExamplePool() {
	p := lambdahost.NewPool(lambdahost.Config{Binary: testBinary, FunctionName: "fn"}, 2)
	defer p.Close()

	var wg sync.WaitGroup
	out := make([]string, 4)
	for i := range out {
		wg.Go(func() {
			res, err := p.Invoke(context.Background(), fmt.Appendf(nil, `{"cmd":"echo","data":%d}`, i))
			if err != nil {
				out[i] = err.Error()
				return
			}
			out[i] = string(res.Payload)
		})
	}
	wg.Wait()
	fmt.Println(out)
	// Output: [0 1 2 3]
}
