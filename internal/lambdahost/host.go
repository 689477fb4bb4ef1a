package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
	"time"
)

// Limits and defaults, as Lambda applies them.
const (
	// MaxRequestBytes is the largest invocation payload a synchronous Invoke accepts
	// (Lambda: "Request must be smaller than 6291456 bytes for the InvokeFunction
	// operation").
	MaxRequestBytes = 6291456
	// MaxResponseBytes is the largest response (or error) body a runtime may post;
	// larger bodies get HTTP 413 and the invocation fails with
	// Function.ResponseSizeTooLarge. It is the Runtime Interface Emulator's
	// 6*1024*1024+100.
	MaxResponseBytes = 6291556

	// DefaultMemoryMB is the memory size reported to the function when
	// Config.MemoryMB is 0 (Lambda's default).
	DefaultMemoryMB = 128
	// DefaultTimeout is the function timeout when Config.Timeout is 0 (Lambda's
	// default).
	DefaultTimeout = 3 * time.Second
	// MaxTimeout is the longest function timeout Lambda allows.
	MaxTimeout = 900 * time.Second
	// DefaultInitTimeout bounds the init phase (process start to its first /next)
	// when Config.InitTimeout is 0; Lambda's init limit is 10 seconds.
	DefaultInitTimeout = 10 * time.Second
	// DefaultHandler is the _HANDLER value when Config.Handler is empty.
	DefaultHandler = "bootstrap"
	// DefaultAccountID is the account in the invoked function ARN when
	// Config.AccountID is empty (moto's default account).
	DefaultAccountID = "123456789012"
	// DefaultRegion is the region when neither Config.Region nor AWS_REGION /
	// AWS_DEFAULT_REGION in the host environment say otherwise.
	DefaultRegion = "us-east-1"
	// DefaultPartition is the partition of the invoked function ARN when
	// Config.Partition is empty.
	DefaultPartition = "aws"
)

// Error types of the failures the platform (not the function code) reports. A
// timeout is Sandbox.Timedout, as Lambda names it
// (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html#troubleshooting-timeouts,
// and what AppSync reports as a function's unhandledErrorType in
// aws/aws-appsync-community#386); the Runtime Interface Emulator's internal
// constant is Sandbox.Timeout.
const (
	ErrorTypeExit              = "Runtime.ExitError"
	ErrorTypeInvalidEntrypoint = "Runtime.InvalidEntrypoint"
	ErrorTypeTimeout           = "Sandbox.Timedout"
	ErrorTypeResponseTooLarge  = "Function.ResponseSizeTooLarge"
	ErrorTypeTruncated         = "Runtime.TruncatedResponse"
	ErrorTypeUnknown           = "Runtime.Unknown"
)

var (
	// ErrClosed is returned by Invoke after Close (also to an invocation that Close
	// interrupted).
	ErrClosed = errors.New("lambdahost: host is closed")
	// ErrRequestTooLarge is returned (wrapped) by Invoke for a payload over
	// MaxRequestBytes; nothing is delivered to the function.
	ErrRequestTooLarge = errors.New("request payload too large")
)

// Config describes one function. The zero value is not usable: Binary and
// FunctionName are required; every other zero field takes the documented default.
type Config struct {
	// Binary is the path of the executable to run (normally named bootstrap). Its
	// directory is LAMBDA_TASK_ROOT and the process's working directory.
	Binary string
	// FunctionName is AWS_LAMBDA_FUNCTION_NAME (1-64 of [A-Za-z0-9_-]).
	FunctionName string
	// Handler is _HANDLER; empty means DefaultHandler.
	Handler string
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE, 128-10240; 0 means
	// DefaultMemoryMB. It is reported, not enforced.
	MemoryMB int
	// Timeout is the function timeout, at most MaxTimeout; 0 means DefaultTimeout.
	// An invocation still running at the timeout is killed with its process.
	Timeout time.Duration
	// InitTimeout bounds the init phase; 0 means DefaultInitTimeout.
	InitTimeout time.Duration
	// Region is AWS_REGION and AWS_DEFAULT_REGION; empty means the host's
	// AWS_REGION, else AWS_DEFAULT_REGION, else DefaultRegion (read at each cold
	// start).
	Region string
	// AccountID is the account in the invoked function ARN; empty means
	// DefaultAccountID.
	AccountID string
	// Partition is the partition of the invoked function ARN
	// (Lambda-Runtime-Invoked-Function-Arn): "aws", "aws-cn", "aws-us-gov", …;
	// empty means DefaultPartition. It should be the partition of Region.
	Partition string
	// Env is the function's own environment variables (template.yaml
	// Environment.Variables, env.json). Keys must match [a-zA-Z][a-zA-Z0-9_]+ and
	// must not be reserved by Lambda (AWS_REGION, AWS_ACCESS_KEY_ID, …); together
	// they may not exceed 4 KB, as in Lambda.
	Env map[string]string
	// LogFormat is "" or "Text" (no variable set) or "JSON" (AWS_LAMBDA_LOG_FORMAT=JSON).
	LogFormat string
	// LogLevel is the application log level (AWS_LAMBDA_LOG_LEVEL: TRACE, DEBUG,
	// INFO, WARN, ERROR, FATAL); Lambda allows it only with LogFormat "JSON".
	LogLevel string
	// Stdout and Stderr receive the function process's output unchanged; nil
	// discards it. A Host calls Write from at most one goroutine at a time per
	// writer; a Pool serializes writes across its environments. Output is copied
	// asynchronously: it is complete once Close has returned.
	Stdout, Stderr io.Writer
}

var (
	functionNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	accountIDPattern    = regexp.MustCompile(`^[0-9]{12}$`)
	logLevels           = map[string]bool{"TRACE": true, "DEBUG": true, "INFO": true, "WARN": true, "ERROR": true, "FATAL": true}
	// partitionPattern is the partition part of the Lambda API's function ARN
	// pattern (arn:(aws[a-zA-Z-]*)?:lambda:…).
	partitionPattern = regexp.MustCompile(`^aws[a-zA-Z-]*$`)
)

// Validate reports the first problem with c, or nil. Invoke calls it too.
func (c Config) Validate() error {
	switch {
	case c.Binary == "":
		return errors.New("lambdahost: config: Binary is empty")
	case !functionNamePattern.MatchString(c.FunctionName):
		return fmt.Errorf("lambdahost: config: FunctionName %q must be 1-64 characters of [A-Za-z0-9_-]", c.FunctionName)
	case c.MemoryMB != 0 && (c.MemoryMB < 128 || c.MemoryMB > 10240):
		return fmt.Errorf("lambdahost: config: MemoryMB %d is outside 128-10240", c.MemoryMB)
	case c.Timeout < 0 || c.Timeout > MaxTimeout:
		return fmt.Errorf("lambdahost: config: Timeout %v is outside 0-%v", c.Timeout, MaxTimeout)
	case c.InitTimeout < 0:
		return fmt.Errorf("lambdahost: config: InitTimeout %v is negative", c.InitTimeout)
	case c.AccountID != "" && !accountIDPattern.MatchString(c.AccountID):
		return fmt.Errorf("lambdahost: config: AccountID %q is not 12 digits", c.AccountID)
	case c.Partition != "" && !partitionPattern.MatchString(c.Partition):
		return fmt.Errorf("lambdahost: config: Partition %q must match aws[a-zA-Z-]*", c.Partition)
	case c.LogFormat != "" && c.LogFormat != "Text" && c.LogFormat != "JSON":
		return fmt.Errorf("lambdahost: config: LogFormat %q must be Text or JSON", c.LogFormat)
	case c.LogLevel != "" && !logLevels[c.LogLevel]:
		return fmt.Errorf("lambdahost: config: LogLevel %q must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL", c.LogLevel)
	case c.LogLevel != "" && c.LogFormat != "JSON":
		return errors.New("lambdahost: config: LogLevel needs LogFormat JSON")
	}
	if err := validateEnv(c.Env); err != nil {
		return fmt.Errorf("lambdahost: config: %w", err)
	}
	return nil
}

// withDefaults returns c with the documented defaults filled in (no I/O).
func (c Config) withDefaults() Config {
	if c.Handler == "" {
		c.Handler = DefaultHandler
	}
	if c.MemoryMB == 0 {
		c.MemoryMB = DefaultMemoryMB
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.InitTimeout == 0 {
		c.InitTimeout = DefaultInitTimeout
	}
	if c.AccountID == "" {
		c.AccountID = DefaultAccountID
	}
	if c.Partition == "" {
		c.Partition = DefaultPartition
	}
	return c
}

// Result is the outcome of one invocation.
type Result struct {
	// Payload is the response body on success. On a function error it is the
	// error document Lambda's Invoke API would return (the same bytes as Err.Body).
	Payload []byte
	// Err is nil on success, else the function error.
	Err *FunctionError
	// ColdStart is true when this invocation started a new process.
	ColdStart bool
	// InitDuration is the time from process start to its first /next call on a
	// cold start (the init phase), else 0.
	InitDuration time.Duration
	// Duration is the time from delivering the event to the response, error or
	// timeout (the invoke phase).
	Duration time.Duration
	// RequestID is the invocation's request ID (Lambda-Runtime-Aws-Request-Id).
	RequestID string
}

// FunctionError is a failed invocation, as Lambda reports it to the caller with
// X-Amz-Function-Error: Unhandled.
type FunctionError struct {
	// Type is the errorType: the one the runtime posted (aws-lambda-go: the Go type
	// name of the error, e.g. "errorString"), or a platform type such as
	// Runtime.ExitError, Sandbox.Timedout or Function.ResponseSizeTooLarge.
	Type string
	// Message is the errorMessage.
	Message string
	// Body is the error document as the caller receives it.
	Body []byte
}

// Error implements error.
func (e *FunctionError) Error() string {
	return e.Type + ": " + e.Message
}

// errorDocument is Lambda's error body.
type errorDocument struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// platformError builds a FunctionError raised by the platform itself.
func platformError(typ, msg string) *FunctionError {
	body, _ := json.Marshal(errorDocument{ErrorMessage: msg, ErrorType: typ}) // cannot fail for two strings
	return &FunctionError{Type: typ, Message: msg, Body: body}
}

// timeoutError is the function error of an invocation that ran past its timeout,
// as Lambda's Invoke response gives it:
// {"errorType":"Sandbox.Timedout","errorMessage":"RequestId: <id> Error: Task timed out after 3.00 seconds"}.
func timeoutError(requestID string, timeout time.Duration) *FunctionError {
	return platformError(ErrorTypeTimeout, fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", requestID, timeout.Seconds()))
}

func responseTooLargeError() *FunctionError {
	return platformError(ErrorTypeResponseTooLarge,
		fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes))
}

// Host is one Lambda execution environment for one function: at most one process,
// handling one invocation at a time. It is safe for concurrent use; concurrent
// Invoke calls wait for each other (use a Pool for parallelism). Close stops the
// process. The zero value is not usable; use New.
type Host struct {
	cfg    Config
	cfgErr error

	slot      chan struct{} // holds one token while an invocation runs
	closing   chan struct{} // closed by Close
	closeOnce sync.Once

	sb *sandbox // current environment; guarded by slot
}

// New returns a Host for cfg. It does no I/O: the process starts on the first
// Invoke. A config error is reported by every Invoke.
func New(cfg Config) *Host {
	return &Host{
		cfg:     cfg.withDefaults(),
		cfgErr:  cfg.Validate(),
		slot:    make(chan struct{}, 1),
		closing: make(chan struct{}),
	}
}

// Invoke delivers payload to the function and waits for its response, starting the
// process first when there is none (a cold start). Whatever Lambda reports as a
// function error is reported in Result.Err with a nil error: an error the function
// returns, a crash or exit (Runtime.ExitError), a timeout (Sandbox.Timedout), and a
// bootstrap that cannot be started because it is missing, not executable or not a
// program for this machine (Runtime.InvalidEntrypoint; the next invocation tries
// again). The error return is for host problems only: an invalid config, the
// Runtime API that cannot listen, a process that cannot be started for want of
// processes, memory or file descriptors, a payload over MaxRequestBytes
// (ErrRequestTooLarge), a closed Host (ErrClosed), or ctx ending (the invocation
// is abandoned and its process killed, as its outcome is unknown).
func (h *Host) Invoke(ctx context.Context, payload []byte) (Result, error) {
	if h.cfgErr != nil {
		return Result{}, h.cfgErr
	}
	if len(payload) > MaxRequestBytes {
		return Result{}, fmt.Errorf("invoke %s: payload is %d bytes, the limit is %d: %w",
			h.cfg.FunctionName, len(payload), MaxRequestBytes, ErrRequestTooLarge)
	}
	select {
	case h.slot <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: wait for the execution environment: %w", h.cfg.FunctionName, ctx.Err())
	case <-h.closing:
		return Result{}, ErrClosed
	}
	defer func() { <-h.slot }()
	select {
	case <-h.closing:
		return Result{}, ErrClosed
	default:
	}
	return h.invoke(ctx, payload)
}

// invoke runs one invocation; the caller holds the slot.
func (h *Host) invoke(ctx context.Context, payload []byte) (Result, error) {
	res := Result{RequestID: newRequestID()}
	for {
		if h.sb == nil {
			sb, fe, err := h.start(ctx, res.RequestID)
			res.ColdStart = true
			if sb != nil {
				res.InitDuration = sb.initDuration()
			}
			if err != nil {
				return res, err
			}
			if fe != nil {
				res.Err, res.Payload = fe, fe.Body
				return res, nil
			}
			h.sb = sb
		}
		sb := h.sb
		inv := &invocation{
			id:      res.RequestID,
			payload: payload,
			traceID: newTraceID(time.Now()),
			done:    make(chan outcome, 1),
		}
		start := time.Now()
		inv.deadline = start.Add(h.cfg.Timeout)
		timer := time.NewTimer(h.cfg.Timeout)
		delivered, retry, err := h.deliver(ctx, sb, inv, timer, &res)
		if !delivered {
			timer.Stop()
			if retry {
				continue
			}
			return res, err
		}
		err = h.await(ctx, sb, inv, timer, &res)
		timer.Stop()
		res.Duration = time.Since(start)
		if res.Err != nil && res.Err.Type == ErrorTypeTimeout {
			res.Duration = h.cfg.Timeout
		}
		return res, err
	}
}

// deliver hands inv to the runtime's pending /next. It reports whether the event
// was delivered; when not, retry says to start a new environment and try again
// (the warm process had exited between invocations), else res and err are final.
func (h *Host) deliver(ctx context.Context, sb *sandbox, inv *invocation, timer *time.Timer, res *Result) (delivered, retry bool, err error) {
	select {
	case sb.next <- inv:
		return true, false, nil
	case <-sb.exited:
		h.discard()
		if !res.ColdStart {
			return false, true, nil
		}
		fe := sb.exitError(inv.id)
		res.Err, res.Payload = fe, fe.Body
		return false, false, nil
	case <-timer.C:
		h.discard()
		fe := timeoutError(inv.id, h.cfg.Timeout)
		res.Err, res.Payload, res.Duration = fe, fe.Body, h.cfg.Timeout
		return false, false, nil
	case <-ctx.Done():
		h.discard()
		return false, false, fmt.Errorf("invoke %s: %w", h.cfg.FunctionName, ctx.Err())
	case <-h.closing:
		h.discard()
		return false, false, ErrClosed
	}
}

// await waits for the outcome of a delivered invocation and fills res.
func (h *Host) await(ctx context.Context, sb *sandbox, inv *invocation, timer *time.Timer, res *Result) error {
	var out outcome
	select {
	case out = <-inv.done:
	case <-sb.exited:
		h.discard()
		select {
		case out = <-inv.done: // the runtime answered, then exited (e.g. after a panic)
		default:
			out.err = sb.exitError(inv.id)
		}
	case <-timer.C:
		h.discard()
		out.err = timeoutError(inv.id, h.cfg.Timeout)
	case <-ctx.Done():
		h.discard()
		return fmt.Errorf("invoke %s: %w", h.cfg.FunctionName, ctx.Err())
	case <-h.closing:
		h.discard()
		return ErrClosed
	}
	if out.err != nil {
		res.Err, res.Payload = out.err, out.err.Body
	} else {
		res.Payload = out.payload
	}
	return nil
}

// start starts a new environment and waits for the end of its init phase. It
// returns the running sandbox, or a function error (the bootstrap could not be
// started, or init failed), or a host error. After a failed init the sandbox is
// also returned with the function error, stopped, for its init duration.
func (h *Host) start(ctx context.Context, requestID string) (*sandbox, *FunctionError, error) {
	sb, err := startSandbox(h.cfg)
	if execErr := (*execError)(nil); errors.As(err, &execErr) {
		return nil, invalidEntrypointError(requestID, execErr), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("invoke %s: %w", h.cfg.FunctionName, err)
	}
	timer := time.NewTimer(h.cfg.InitTimeout)
	defer timer.Stop()
	select {
	case <-sb.ready:
		return sb, nil, nil
	case fe := <-sb.initErr:
		sb.stop()
		return sb, fe, nil
	case <-sb.exited:
		sb.stop()
		select {
		case fe := <-sb.initErr:
			return sb, fe, nil
		default:
			return sb, sb.exitError(requestID), nil
		}
	case <-timer.C:
		sb.stop()
		return sb, timeoutError(requestID, h.cfg.Timeout), nil
	case <-ctx.Done():
		sb.stop()
		return nil, nil, fmt.Errorf("invoke %s: init: %w", h.cfg.FunctionName, ctx.Err())
	case <-h.closing:
		sb.stop()
		return nil, nil, ErrClosed
	}
}

// discard stops the current environment; the next invocation cold-starts.
func (h *Host) discard() {
	if h.sb != nil {
		h.sb.stop()
		h.sb = nil
	}
}

// stop kills the process, if any, and waits for it to exit; unlike Close it
// leaves the Host usable: the next invocation is a cold start.
func (h *Host) stop() {
	h.slot <- struct{}{}
	defer func() { <-h.slot }()
	h.discard()
}

// Close kills the process, if any, and waits for it to exit. An invocation in
// flight returns ErrClosed. Later Invoke calls return ErrClosed. Close is safe to
// call more than once and concurrently with Invoke.
func (h *Host) Close() error {
	h.closeOnce.Do(func() { close(h.closing) })
	h.stop()
	return nil
}
