package lambdahost

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// waitDelay bounds how long Wait waits for the output pipes after the process has
// exited (a child it spawned may keep them open).
const waitDelay = 2 * time.Second

// sandbox is one process and the Runtime API server it talks to. Each process gets
// its own listener, so a request from a dead process can never reach its successor.
type sandbox struct {
	functionARN string
	started     time.Time

	srv *http.Server
	cmd *exec.Cmd

	ready     chan struct{} // closed at the first /next
	readyOnce sync.Once
	readyAt   time.Time // written before ready is closed

	initErr chan *FunctionError // buffered 1: the /init/error report
	next    chan *invocation    // unbuffered: hands an event to a pending /next
	done    chan struct{}       // closed by stop: pending /next calls give up
	exited  chan struct{}       // closed when the process has been waited for
	waitErr error               // written before exited is closed

	stopOnce sync.Once

	mu      sync.Mutex
	state   runtimeState // where the runtime is in the Runtime API
	current *invocation  // the invocation last delivered, until the next /next
}

// runtimeState is the runtime's state in the Runtime API, named as the Runtime
// Interface Emulator names it in its answers (internal/lambda/core/states.go,
// runtime_state_names.go). Started is the zero value.
type runtimeState string

const (
	stateStarted       runtimeState = "Started"                  // before the first /next
	stateInitError     runtimeState = "InitError"                // after /init/error
	stateReady         runtimeState = "Ready"                    // in /next, waiting for an event
	stateRunning       runtimeState = "Running"                  // an event delivered, not answered
	stateResponse      runtimeState = "InvocationResponse"       // its /response being read
	stateErrorResponse runtimeState = "InvocationErrorResponse"  // its /error being read
	stateResponseSent  runtimeState = "RuntimeResponseSentState" // answered; until the next /next
)

// invocation is one event on its way through the Runtime API.
type invocation struct {
	id       string
	payload  []byte
	traceID  string
	deadline time.Time
	done     chan outcome // buffered 1
}

// outcome is the runtime's answer to an invocation.
type outcome struct {
	payload []byte
	err     *FunctionError
}

// startSandbox starts the Runtime API server and the process.
func startSandbox(cfg Config) (*sandbox, error) {
	binary, err := filepath.Abs(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("resolve binary %s: %w", cfg.Binary, err)
	}
	region := resolveRegion(cfg.Region, os.Getenv)
	sb := newSandbox(fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", cfg.Partition, region, cfg.AccountID, cfg.FunctionName))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the runtime API: %w", err)
	}
	sb.srv = &http.Server{
		Handler:           sb.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go sb.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed after stop

	now := time.Now()
	cmd := exec.Command(binary)
	cmd.Dir = filepath.Dir(binary)
	cmd.Env = environ(cfg, envParams{
		runtimeAPI: ln.Addr().String(),
		taskRoot:   cmd.Dir,
		region:     region,
		logStream:  newLogStreamName(now),
	}, os.Environ())
	cmd.Stdout = cfg.Stdout
	cmd.Stderr = cfg.Stderr
	cmd.WaitDelay = waitDelay
	setProcessGroup(cmd)
	sb.cmd = cmd
	sb.started = now
	if err := cmd.Start(); err != nil {
		sb.srv.Close()
		return nil, startError(binary, err)
	}
	go func() {
		sb.waitErr = cmd.Wait()
		close(sb.exited)
	}()
	return sb, nil
}

// execError is a bootstrap that the operating system would not start: missing,
// not executable, or not a program for this machine. Lambda reports it as a
// function error (see invalidEntrypointError), not a platform failure.
type execError struct {
	err error // from exec.Cmd.Start: "fork/exec <path>: <reason>"
}

// startError is the error of exec.Cmd.Start failing for binary: an execError
// when the operating system refused the bootstrap itself (exec's error is
// missing file, permission, or format: see bootstrapRefused), else a host
// error, as when no process or file descriptor was left (EAGAIN, ENOMEM,
// EMFILE), which a later start may not meet.
func startError(binary string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "fork/exec" &&
		(errors.Is(pe.Err, fs.ErrNotExist) || errors.Is(pe.Err, fs.ErrPermission) || bootstrapRefused(pe.Err)) {
		return &execError{err: err}
	}
	return fmt.Errorf("start %s: %w", binary, err)
}

func (e *execError) Error() string { return "start the bootstrap: " + e.err.Error() }

func (e *execError) Unwrap() error { return e.err }

// invalidEntrypointError is the function error of a bootstrap that could not be
// started, as Lambda's Invoke response gives it:
// {"errorType":"Runtime.InvalidEntrypoint","errorMessage":"RequestId: <id> Error: fork/exec /var/task/bootstrap: permission denied"}.
// The Runtime Interface Emulator stores Runtime.InvalidEntrypoint when exec
// fails (internal/lambda/rapid/handlers.go, doRuntimeDomainInit) and formats
// the message as "RequestId: <id> Error: <exec error>"
// (internal/lambda/interop/model.go, GetErrorResponseWithFormattedErrorMessage);
// the path is the local one instead of /var/task/bootstrap.
func invalidEntrypointError(requestID string, e *execError) *FunctionError {
	return platformError(ErrorTypeInvalidEntrypoint, fmt.Sprintf("RequestId: %s Error: %v", requestID, e.err))
}

// newSandbox returns a sandbox with no server and no process yet.
func newSandbox(functionARN string) *sandbox {
	return &sandbox{
		functionARN: functionARN,
		state:       stateStarted,
		ready:       make(chan struct{}),
		initErr:     make(chan *FunctionError, 1),
		next:        make(chan *invocation),
		done:        make(chan struct{}),
		exited:      make(chan struct{}),
	}
}

// initDuration is the time from process start to the first /next, or to now if
// there was none.
func (sb *sandbox) initDuration() time.Duration {
	select {
	case <-sb.ready:
		return sb.readyAt.Sub(sb.started)
	default:
		return time.Since(sb.started)
	}
}

// stop kills the process and its process group, waits for the process, and closes
// the server. It is idempotent.
func (sb *sandbox) stop() {
	sb.stopOnce.Do(func() {
		// Also after the process has exited: whatever it spawned goes with it.
		killProcessGroup(sb.cmd)
		<-sb.exited
		close(sb.done) // only now: a live runtime must not see its /next end
		sb.srv.Close()
	})
}

// exitError is the function error for a process that exited during init or an
// invocation. Call only after exited is closed.
func (sb *sandbox) exitError(requestID string) *FunctionError {
	reason := "Runtime exited without providing a reason"
	var exitErr *exec.ExitError
	switch {
	case errors.As(sb.waitErr, &exitErr):
		reason = "Runtime exited with error: " + exitErr.ProcessState.String()
	case sb.waitErr != nil:
		reason = "Runtime exited with error: " + sb.waitErr.Error()
	}
	return platformError(ErrorTypeExit, fmt.Sprintf("RequestId: %s Error: %s", requestID, reason))
}
