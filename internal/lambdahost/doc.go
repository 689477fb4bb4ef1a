// Package lambdahost runs a real compiled Lambda function (a `bootstrap` executable,
// e.g. built with aws-lambda-go) on the local machine, without Docker and without
// AWS. It implements the Lambda Runtime API on a loopback port, starts the binary as a
// child process with the environment a Lambda execution environment has, and delivers
// invocations to it one at a time.
//
// A [Host] is one execution environment: it starts the process lazily on the first
// invocation (a cold start), reuses it while it stays healthy (warm invocations),
// and replaces it after the process exits, panics or times out, as Lambda does. A
// [Pool] holds several independent environments of the same function, for concurrent
// invocations. [Build] compiles a Go function package into a `bootstrap` for this
// machine.
//
// The Runtime API follows
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html, with the status
// codes and error bodies of the AWS Lambda Runtime Interface Emulator and the
// behaviour that github.com/aws/aws-lambda-go/lambda expects: 200 for /next, 202 for
// /response and /error, 413 for a response over [MaxResponseBytes], 400
// (InvalidRequestID) for a request ID other than the invocation last delivered, 403
// (InvalidStateTransition, "State transition from RuntimeResponseSentState to
// InvocationResponse failed for runtime. Error: State transition is not allowed")
// for a call out of order, such as a second answer to an invocation or /init/error
// after the first /next. A /next while the delivered invocation is unanswered gets
// that invocation again, as in the emulator. The environment variables follow
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime.
//
// Errors a caller sees for the platform failures match what Lambda returns in the
// Invoke response body (errorType / errorMessage):
//
//   - the bootstrap cannot be started (missing, not executable, not a program for
//     this machine): Runtime.InvalidEntrypoint,
//     "RequestId: <id> Error: fork/exec <path>: permission denied";
//   - the process exits during an invocation or during init: Runtime.ExitError,
//     "RequestId: <id> Error: Runtime exited with error: exit status 1";
//   - the invocation runs past the function timeout: Sandbox.Timedout,
//     "RequestId: <id> Error: Task timed out after 3.00 seconds" (the process is
//     killed; the next invocation is a cold start);
//   - the response is over 6291556 bytes: Function.ResponseSizeTooLarge;
//   - the runtime reports an error (POST /error or /init/error): the errorType and
//     body it posted.
//
// Decisions where Lambda is not reproduced exactly: Lambda retries an init phase that
// exceeds its 10 s limit once inside the invoke phase; a Host reports the invocation
// timeout right away instead. TZ is ":UTC" and LAMBDA_RUNTIME_DIR is
// "/var/runtime", the values Lambda sets, although that directory need not exist
// on the local machine. LD_LIBRARY_PATH is not set (a static Go binary does not
// need it).
package lambdahost
