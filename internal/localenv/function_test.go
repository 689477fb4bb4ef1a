package localenv

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

// testFunction starts lambdahost's test function (testdata/testfn there) in one
// execution environment.
func testFunction(t *testing.T) *Function {
	t.Helper()
	bin, err := lambdahost.Build(context.Background(), filepath.Join("..", "lambdahost", "testdata", "testfn"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Template: &samtemplate.Template{StackName: "stack", Region: "us-east-1", AccountID: "123456789012", Partition: "aws"}}
	f, err := e.NewFunction(samtemplate.Function{LogicalID: "Fn", Timeout: 20}, bin, nil, nil, 1)
	if err != nil {
		t.Fatalf("NewFunction() error = %v", err)
	}
	t.Cleanup(func() { f.Close() })
	if got, want := f.ARN(), "arn:aws:lambda:us-east-1:123456789012:function:stack-Fn"; got != want {
		t.Errorf("ARN() = %s; want %s", got, want)
	}
	return f
}

// TestFunctionInvokedARN checks that the function is told the ARN the mappings
// use (Function.ARN), in the template's partition.
func TestFunctionInvokedARN(t *testing.T) {
	bin, err := lambdahost.Build(context.Background(), filepath.Join("..", "lambdahost", "testdata", "testfn"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Template: &samtemplate.Template{StackName: "stack", Region: "cn-north-1", AccountID: "123456789012", Partition: "aws-cn"}}
	f, err := e.NewFunction(samtemplate.Function{LogicalID: "Fn", Timeout: 20}, bin, nil, nil, 1)
	if err != nil {
		t.Fatalf("NewFunction() error = %v", err)
	}
	t.Cleanup(func() { f.Close() })
	inv, err := f.Invoke(context.Background(), []byte(`{"cmd":"context"}`))
	if err != nil || inv.FunctionError != "" {
		t.Fatalf("Invoke() = %+v, %v; want the context", inv, err)
	}
	var got struct {
		FunctionARN string `json:"functionArn"`
	}
	if err := json.Unmarshal(inv.Payload, &got); err != nil {
		t.Fatalf("decode %s: %v", inv.Payload, err)
	}
	if want := "arn:aws-cn:lambda:cn-north-1:123456789012:function:stack-Fn"; f.ARN() != want || got.FunctionARN != want {
		t.Errorf("ARN() = %s, the function saw %s; want %s for both", f.ARN(), got.FunctionARN, want)
	}
}

// TestFunctionFaults checks each injected fault's outcome, and that it leaves
// the environment to a cold start.
func TestFunctionFaults(t *testing.T) {
	f := testFunction(t)
	ctx := context.Background()
	echo := []byte(`{"cmd":"echo","data":"ok"}`)
	warm := func(step string, wantCold int64) {
		t.Helper()
		before := f.Stats()
		inv, err := f.Invoke(ctx, echo)
		if err != nil || inv.FunctionError != "" || string(inv.Payload) != `"ok"` || inv.RequestID == "" {
			t.Fatalf("%s: Invoke() = %+v, %v; want the echo", step, inv, err)
		}
		s := f.Stats()
		if s.Invocations != before.Invocations+1 || s.ColdStarts != before.ColdStarts+wantCold || s.Busy <= before.Busy {
			t.Errorf("%s: Stats() = %+v after %+v; want one more invocation, %d more cold starts, more busy time", step, s, before, wantCold)
		}
	}
	warm("first", 1)
	warm("second", 0)
	for _, tc := range []struct {
		fault       Fault
		wantType    string
		wantMessage string
		wantRequest bool
	}{
		{CrashBeforeHandler, lambdahost.ErrorTypeExit, "(injected crash before the handler)", false},
		{CrashAfterHandler, lambdahost.ErrorTypeExit, "Error: Runtime exited with error: signal: killed (injected crash after the handler)", true},
		{Timeout, lambdahost.ErrorTypeTimeout, "Error: Task timed out after 20.00 seconds (injected)", true},
	} {
		before := f.Stats()
		inv, err := f.InvokeWithFault(ctx, echo, tc.fault)
		if err != nil {
			t.Fatalf("InvokeWithFault(%d) error = %v", tc.fault, err)
		}
		if inv.FunctionError != tc.wantType || !strings.Contains(inv.ErrorMessage, tc.wantMessage) || (inv.RequestID != "") != tc.wantRequest || inv.Payload != nil {
			t.Errorf("InvokeWithFault(%d) = %+v; want %s %q, a request ID %v", tc.fault, inv, tc.wantType, tc.wantMessage, tc.wantRequest)
		}
		if got, want := f.Stats().Invocations-before.Invocations, map[bool]int64{false: 0, true: 1}[tc.wantRequest]; got != want {
			t.Errorf("InvokeWithFault(%d): %d invocations counted; want %d", tc.fault, got, want)
		}
		warm("after the fault", 1)
	}
	if _, err := f.InvokeWithFault(ctx, echo, Fault(99)); err == nil || !strings.Contains(err.Error(), "unknown fault 99") {
		t.Errorf("InvokeWithFault(99) error = %v; want unknown fault", err)
	}
	f.Close()
	for _, fault := range []Fault{CrashBeforeHandler, CrashAfterHandler} {
		if _, err := f.InvokeWithFault(ctx, echo, fault); err != lambdahost.ErrClosed {
			t.Errorf("InvokeWithFault(%d) after Close: error = %v; want ErrClosed", fault, err)
		}
	}
	if _, err := f.Invoke(ctx, echo); err != lambdahost.ErrClosed {
		t.Errorf("Invoke() after Close: error = %v; want ErrClosed", err)
	}
}

func TestNewFunctionRejectsABadConfig(t *testing.T) {
	e := &Env{Template: &samtemplate.Template{StackName: "stack", Region: "us-east-1", AccountID: "123456789012", Partition: "aws"}}
	fn := samtemplate.Function{LogicalID: "Fn", Properties: map[string]any{"FunctionName": "bad name"}}
	if _, err := e.NewFunction(fn, "/bin/true", nil, nil, 1); err == nil || !strings.Contains(err.Error(), "FunctionName") {
		t.Errorf("NewFunction(FunctionName %q) error = %v; want a FunctionName error", "bad name", err)
	}
}

var _ esm.Invoker = (*Function)(nil)
