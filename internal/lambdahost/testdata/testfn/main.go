// Command testfn is an aws-lambda-go function for the lambdahost tests. Its event
// says what to do ({"cmd": "echo", ...}); TESTFN_INIT makes its init phase fail.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Cmd  string          `json:"cmd"`
	Data json.RawMessage `json:"data,omitempty"`
	Msg  string          `json:"msg,omitempty"`
	Ms   int             `json:"ms,omitempty"`
	Size int             `json:"size,omitempty"`
	Code int             `json:"code,omitempty"`
	URL  string          `json:"url,omitempty"`
}

// CustomError is a function error whose errorType is "CustomError".
type CustomError struct{ msg string }

func (e *CustomError) Error() string { return e.msg }

// invocations counts the invocations this process has handled.
var invocations int

func runtimeAPI(path string) string {
	return "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/" + path
}

// status calls the Runtime API and returns the HTTP status and body.
func status(method, path string, header http.Header, body string) string {
	req, err := http.NewRequest(method, runtimeAPI(path), strings.NewReader(body))
	if err != nil {
		return err.Error()
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(b))
}

func handle(ctx context.Context, ev event) (any, error) {
	invocations++
	lc, _ := lambdacontext.FromContext(ctx)
	switch ev.Cmd {
	case "echo":
		return ev.Data, nil
	case "error":
		return nil, &CustomError{msg: ev.Msg}
	case "panic":
		panic(ev.Msg)
	case "sleep":
		time.Sleep(time.Duration(ev.Ms) * time.Millisecond)
		return "slept", nil
	case "exit":
		os.Exit(ev.Code)
	case "big":
		return strings.Repeat("x", ev.Size), nil
	case "env":
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return env, nil
	case "context":
		deadline, _ := ctx.Deadline()
		cwd, _ := os.Getwd()
		return map[string]any{
			"requestId":   lc.AwsRequestID,
			"functionArn": lc.InvokedFunctionArn,
			"deadlineMs":  deadline.UnixMilli(),
			"traceId":     os.Getenv("_X_AMZN_TRACE_ID"),
			"cwd":         cwd,
			"invocations": invocations,
			"pid":         os.Getpid(),
		}, nil
	case "log":
		fmt.Fprintln(os.Stdout, "stdout: "+ev.Msg)
		fmt.Fprintln(os.Stderr, "stderr: "+ev.Msg)
		return "logged", nil
	case "barrier":
		resp, err := http.Get(ev.URL)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		return os.Getpid(), nil
	case "probe":
		return map[string]string{
			"unknownResponse": status("POST", "invocation/00000000-0000-4000-8000-000000000000/response", nil, `"x"`),
			"unknownError":    status("POST", "invocation/00000000-0000-4000-8000-000000000000/error", nil, `{}`),
			"initError":       status("POST", "init/error", nil, `{}`),
			"nextWhileBusy":   status("GET", "invocation/next", nil, ""),
			"badPath":         status("GET", "invocation/nope", nil, ""),
		}, nil
	case "rawerror":
		// Report an error by hand: a non-JSON body and an explicit error type. The
		// response aws-lambda-go then posts is refused, and the process exits.
		return status("POST", "invocation/"+lc.AwsRequestID+"/error",
			http.Header{"Lambda-Runtime-Function-Error-Type": {ev.Msg}}, "short and stout"), nil
	}
	return nil, fmt.Errorf("unknown command %q", ev.Cmd)
}

func main() {
	switch os.Getenv("TESTFN_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "init failed")
		os.Exit(3)
	case "report":
		fmt.Fprintln(os.Stderr, status("POST", "init/error",
			http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.ConfigError"}},
			`{"errorMessage":"missing setting BUCKET","errorType":"ConfigError"}`))
		os.Exit(1)
	case "hang":
		time.Sleep(time.Hour)
	}
	lambda.Start(handle)
}
