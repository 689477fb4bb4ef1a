package localenv

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

// Function is a template function as the event source mappings of a local run
// invoke it: a pool of execution environments (lambdahost.Pool) seen as an
// esm.Invoker, which counts invocations, cold starts and busy time. It is safe for
// concurrent use; Close stops its processes.
type Function struct {
	pool    *lambdahost.Pool
	arn     string
	timeout time.Duration

	invocations atomic.Int64
	coldStarts  atomic.Int64
	busy        atomic.Int64 // summed invocation time in microseconds
}

// FunctionStats are a Function's counters.
type FunctionStats struct {
	// Invocations counts the invocations that reached an environment (an
	// injected crash before the handler is not one).
	Invocations int64
	ColdStarts  int64
	// Busy is the summed invocation time.
	Busy time.Duration
}

// NewFunction returns fn, built at binary, in envs execution environments, with
// the function's template environment overlaid by env (see HostConfig); the
// environments' output goes to logs, serialized. Processes start on the first
// invocations.
func (e *Env) NewFunction(fn samtemplate.Function, binary string, env map[string]string, logs io.Writer, envs int) (*Function, error) {
	cfg := e.HostConfig(fn, binary, env, logs)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Function{pool: lambdahost.NewPool(cfg, envs), arn: e.FunctionARN(fn), timeout: cfg.Timeout}, nil
}

// ARN is the function's ARN in the emulator's account.
func (f *Function) ARN() string { return f.arn }

// Stats returns the counters so far.
func (f *Function) Stats() FunctionStats {
	return FunctionStats{Invocations: f.invocations.Load(), ColdStarts: f.coldStarts.Load(), Busy: time.Duration(f.busy.Load()) * time.Microsecond}
}

// Close stops the function's processes.
func (f *Function) Close() error { return f.pool.Close() }

// Invoke implements esm.Invoker.
func (f *Function) Invoke(ctx context.Context, payload []byte) (esm.Invocation, error) {
	res, err := f.invoke(ctx, payload, f.pool.Invoke)
	if err != nil {
		return esm.Invocation{}, err
	}
	inv := esm.Invocation{Payload: res.Payload, RequestID: res.RequestID}
	if res.Err != nil {
		inv.FunctionError, inv.ErrorMessage = res.Err.Type, res.Err.Message
	}
	return inv, nil
}

func (f *Function) invoke(ctx context.Context, payload []byte, invoke func(context.Context, []byte) (lambdahost.Result, error)) (lambdahost.Result, error) {
	start := time.Now()
	res, err := invoke(ctx, payload)
	f.busy.Add(time.Since(start).Microseconds())
	f.invocations.Add(1)
	if res.ColdStart {
		f.coldStarts.Add(1)
	}
	return res, err
}

// Fault is a failure of an execution environment that a local run injects.
type Fault int

// Faults of InvokeWithFault.
const (
	// CrashBeforeHandler kills the process before the handler runs: nothing
	// is done (Runtime.ExitError).
	CrashBeforeHandler Fault = iota + 1
	// CrashAfterHandler kills the process after the handler has done its
	// work, before the response reaches the caller (Runtime.ExitError).
	CrashAfterHandler
	// Timeout lets the handler do its work but its response come after the
	// function timeout (Sandbox.Timedout).
	Timeout
)

// InvokeWithFault invokes as Invoke does, but ends the invocation with fault:
// the environment's process is killed (its next invocation is a cold start) and
// the outcome is the function error Lambda reports for the fault, its message
// marked "injected". An error is returned as by Invoke.
func (f *Function) InvokeWithFault(ctx context.Context, payload []byte, fault Fault) (esm.Invocation, error) {
	if fault == CrashBeforeHandler {
		if err := f.pool.StopOne(ctx); err != nil {
			return esm.Invocation{}, err
		}
		return esm.Invocation{FunctionError: lambdahost.ErrorTypeExit,
			ErrorMessage: "Runtime exited with error: signal: killed (injected crash before the handler)"}, nil
	}
	res, err := f.invoke(ctx, payload, f.pool.InvokeAndStop)
	if err != nil {
		return esm.Invocation{}, err
	}
	switch fault {
	case CrashAfterHandler:
		return esm.Invocation{RequestID: res.RequestID, FunctionError: lambdahost.ErrorTypeExit,
			ErrorMessage: "RequestId: " + res.RequestID + " Error: Runtime exited with error: signal: killed (injected crash after the handler)"}, nil
	case Timeout:
		return esm.Invocation{RequestID: res.RequestID, FunctionError: lambdahost.ErrorTypeTimeout,
			ErrorMessage: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds (injected)", res.RequestID, f.timeout.Seconds())}, nil
	}
	return esm.Invocation{}, fmt.Errorf("invoke %s: unknown fault %d", f.arn, fault)
}
