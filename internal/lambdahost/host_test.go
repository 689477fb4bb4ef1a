package lambdahost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/streamlake/streamlake/internal/lambdahost"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestInvokeColdThenWarm(t *testing.T) {
	h := newHost(t, nil)
	event := `{"cmd":"echo","data":{"b":1,"a":[true,null]}}`
	var ids []string
	for i, wantCold := range []bool{true, false, false} {
		res := invoke(t, h, event)
		if res.Err != nil {
			t.Fatalf("invoke %d: Err = %v; want nil", i, res.Err)
		}
		if got, want := string(res.Payload), `{"b":1,"a":[true,null]}`; got != want {
			t.Errorf("invoke %d: Payload = %s; want %s", i, got, want)
		}
		if res.ColdStart != wantCold {
			t.Errorf("invoke %d: ColdStart = %v; want %v", i, res.ColdStart, wantCold)
		}
		if (res.InitDuration > 0) != wantCold {
			t.Errorf("invoke %d: InitDuration = %v; want > 0 only on a cold start", i, res.InitDuration)
		}
		if res.Duration <= 0 {
			t.Errorf("invoke %d: Duration = %v; want > 0", i, res.Duration)
		}
		if !uuidPattern.MatchString(res.RequestID) {
			t.Errorf("invoke %d: RequestID = %q; want a v4 UUID", i, res.RequestID)
		}
		ids = append(ids, res.RequestID)
	}
	if ids[0] == ids[1] || ids[1] == ids[2] {
		t.Errorf("request IDs %v; want distinct", ids)
	}
}

// TestFunctionErrors checks each failure's errorType and message, and whether the
// environment survives it (the next invocation is warm) or is replaced (cold).
func TestFunctionErrors(t *testing.T) {
	tests := []struct {
		name     string
		event    string
		wantType string
		wantMsg  string // %s is replaced by the request ID
		wantBody string // exact body; empty: contains wantMsg
		nextCold bool
	}{
		{
			name:     "custom error type",
			event:    `{"cmd":"error","msg":"device d-1 unknown"}`,
			wantType: "CustomError",
			wantMsg:  "device d-1 unknown",
			wantBody: `{"errorMessage":"device d-1 unknown","errorType":"CustomError"}`,
		},
		{
			name:     "errors.New",
			event:    `{"cmd":"what"}`,
			wantType: "errorString",
			wantMsg:  `unknown command "what"`,
			wantBody: `{"errorMessage":"unknown command \"what\"","errorType":"errorString"}`,
		},
		{
			name:     "panic exits the process",
			event:    `{"cmd":"panic","msg":"boom"}`,
			wantType: "string",
			wantMsg:  "boom",
			nextCold: true,
		},
		{
			name:     "os.Exit mid-invoke",
			event:    `{"cmd":"exit","code":7}`,
			wantType: "Runtime.ExitError",
			wantMsg:  "RequestId: %s Error: Runtime exited with error: exit status 7",
			wantBody: `{"errorMessage":"RequestId: %s Error: Runtime exited with error: exit status 7","errorType":"Runtime.ExitError"}`,
			nextCold: true,
		},
		{
			name:     "exit status 0 mid-invoke",
			event:    `{"cmd":"exit","code":0}`,
			wantType: "Runtime.ExitError",
			wantMsg:  "RequestId: %s Error: Runtime exited without providing a reason",
			nextCold: true,
		},
		{
			name:     "response over 6291556 bytes",
			event:    `{"cmd":"big","size":6291555}`, // 6291557 bytes with the JSON quotes
			wantType: "Function.ResponseSizeTooLarge",
			wantMsg:  "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
			wantBody: `{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}`,
			nextCold: true, // aws-lambda-go exits when its POST gets 413
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, nil)
			invoke(t, h, `{"cmd":"echo","data":1}`) // warm up
			res := invoke(t, h, tc.event)
			if res.Err == nil {
				t.Fatalf("Invoke(%s).Err = nil, Payload %.100s; want %s", tc.event, res.Payload, tc.wantType)
			}
			wantMsg := tc.wantMsg
			if strings.Contains(wantMsg, "%s") {
				wantMsg = fmt.Sprintf(wantMsg, res.RequestID)
			}
			if res.Err.Type != tc.wantType || res.Err.Message != wantMsg {
				t.Errorf("Invoke(%s).Err = %q, %q; want %q, %q", tc.event, res.Err.Type, res.Err.Message, tc.wantType, wantMsg)
			}
			if tc.wantBody != "" {
				wantBody := tc.wantBody
				if strings.Contains(wantBody, "%s") {
					wantBody = fmt.Sprintf(wantBody, res.RequestID)
				}
				if string(res.Err.Body) != wantBody {
					t.Errorf("Invoke(%s).Err.Body = %s; want %s", tc.event, res.Err.Body, wantBody)
				}
			} else if !bytes.Contains(res.Err.Body, []byte(wantMsg)) {
				t.Errorf("Invoke(%s).Err.Body = %s; want it to contain %q", tc.event, res.Err.Body, wantMsg)
			}
			if !bytes.Equal(res.Payload, res.Err.Body) {
				t.Errorf("Payload = %s; want the error body %s", res.Payload, res.Err.Body)
			}
			if res.ColdStart {
				t.Errorf("ColdStart = true; want false (the environment was warm)")
			}

			next := invoke(t, h, `{"cmd":"echo","data":"again"}`)
			if got := string(decode[string](t, next)); got != "again" {
				t.Errorf("next invocation Payload = %q; want again", got)
			}
			if next.ColdStart != tc.nextCold {
				t.Errorf("next invocation ColdStart = %v; want %v", next.ColdStart, tc.nextCold)
			}
		})
	}
}

func TestPanicStackTrace(t *testing.T) {
	h := newHost(t, nil)
	res := invoke(t, h, `{"cmd":"panic","msg":"boom"}`)
	if res.Err == nil {
		t.Fatal("Err = nil; want the panic")
	}
	// aws-lambda-go reports stack frames as objects.
	for _, want := range []string{`"errorMessage":"boom"`, `"errorType":"string"`, `"stackTrace":[{`, `"label":`} {
		if !bytes.Contains(res.Err.Body, []byte(want)) {
			t.Errorf("Err.Body = %s; want it to contain %s", res.Err.Body, want)
		}
	}
}

func TestTimeout(t *testing.T) {
	h := newHost(t, func(c *lambdahost.Config) { c.Timeout = time.Second })
	invoke(t, h, `{"cmd":"echo","data":1}`)
	res := invoke(t, h, `{"cmd":"sleep","ms":30000}`)
	if res.Err == nil {
		t.Fatalf("Err = nil, Payload %s; want Sandbox.Timedout", res.Payload)
	}
	// What Lambda's Invoke answers for a timeout (e.g. the payload quoted in
	// github.com/seek-oss/aws-codedeploy-hooks packages/infra/CHANGELOG.md, 2.1.3).
	wantMsg := "RequestId: " + res.RequestID + " Error: Task timed out after 1.00 seconds"
	if got, want := string(res.Err.Body), `{"errorMessage":"`+wantMsg+`","errorType":"Sandbox.Timedout"}`; got != want {
		t.Errorf("Err.Body = %s; want %s", got, want)
	}
	if res.Err.Type != lambdahost.ErrorTypeTimeout || res.Err.Message != wantMsg {
		t.Errorf("Err = %q, %q; want Sandbox.Timedout, %s", res.Err.Type, res.Err.Message, wantMsg)
	}
	if res.Duration != time.Second {
		t.Errorf("Duration = %v; want the timeout, 1s", res.Duration)
	}
	next := invoke(t, h, `{"cmd":"echo","data":2}`)
	if decode[int](t, next) != 2 || !next.ColdStart {
		t.Errorf("after a timeout: Payload %s, ColdStart %v; want 2, a cold start", next.Payload, next.ColdStart)
	}
}

func TestResponseSizeLimit(t *testing.T) {
	h := newHost(t, nil)
	// A JSON string of n x's is n+2 bytes.
	res := invoke(t, h, fmt.Sprintf(`{"cmd":"big","size":%d}`, lambdahost.MaxResponseBytes-2))
	if res.Err != nil {
		t.Fatalf("response of exactly %d bytes: Err = %v; want success", lambdahost.MaxResponseBytes, res.Err)
	}
	if len(res.Payload) != lambdahost.MaxResponseBytes {
		t.Errorf("len(Payload) = %d; want %d", len(res.Payload), lambdahost.MaxResponseBytes)
	}
	res = invoke(t, h, fmt.Sprintf(`{"cmd":"big","size":%d}`, lambdahost.MaxResponseBytes-1))
	if res.Err == nil || res.Err.Type != lambdahost.ErrorTypeResponseTooLarge {
		t.Errorf("response of %d bytes: Err = %v; want %s", lambdahost.MaxResponseBytes+1, res.Err, lambdahost.ErrorTypeResponseTooLarge)
	}
}

func TestRequestSizeLimit(t *testing.T) {
	h := newHost(t, nil)
	prefix, suffix := `{"cmd":"echo","data":"`, `"}`
	fill := lambdahost.MaxRequestBytes - len(prefix) - len(suffix)

	_, err := h.Invoke(context.Background(), []byte(prefix+strings.Repeat("y", fill+1)+suffix))
	if !errors.Is(err, lambdahost.ErrRequestTooLarge) {
		t.Fatalf("Invoke(%d bytes) error = %v; want ErrRequestTooLarge", lambdahost.MaxRequestBytes+1, err)
	}

	res := invoke(t, h, prefix+strings.Repeat("y", fill)+suffix)
	if got := decode[string](t, res); len(got) != fill {
		t.Errorf("Invoke(%d bytes) echoed %d bytes; want %d", lambdahost.MaxRequestBytes, len(got), fill)
	}
	if !res.ColdStart {
		t.Error("ColdStart = false; want true: the rejected request must not have started the process")
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:5001")
	t.Setenv("AWS_REGION", "ap-south-1")
	t.Setenv("AWS_PROFILE", "must-not-leak")
	t.Setenv("LAMBDAHOST_LEAK_CHECK", "must-not-leak")

	h := newHost(t, func(c *lambdahost.Config) {
		c.FunctionName = "env-fn"
		c.MemoryMB = 512
		c.Region = "eu-west-1"
		c.LogFormat = "JSON"
		c.LogLevel = "DEBUG"
		c.Env = map[string]string{"BUCKET": "my-bucket", "LANG": "C.UTF-8", "EMPTY": ""}
	})
	got := decode[map[string]string](t, invoke(t, h, `{"cmd":"env"}`))

	checks := map[string]*regexp.Regexp{
		"AWS_LAMBDA_RUNTIME_API":     regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`),
		"AWS_LAMBDA_LOG_STREAM_NAME": regexp.MustCompile(`^[0-9]{4}/[0-9]{2}/[0-9]{2}/\[\$LATEST\][0-9a-f]{32}$`),
	}
	for k, re := range checks {
		if !re.MatchString(got[k]) {
			t.Errorf("%s = %q; want match for %s", k, got[k], re)
		}
		delete(got, k)
	}
	want := map[string]string{
		"_HANDLER":                        "bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME":        "env-fn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/env-fn",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "DEBUG",
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"LAMBDA_TASK_ROOT":                filepath.Dir(testBinary),
		"TZ":                              ":UTC",
		"LANG":                            "C.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"AWS_ACCESS_KEY_ID":               "AKIDLOCAL",
		"AWS_SECRET_ACCESS_KEY":           "secret",
		"AWS_SESSION_TOKEN":               "token",
		"AWS_ENDPOINT_URL":                "http://127.0.0.1:5000",
		"AWS_ENDPOINT_URL_S3":             "http://127.0.0.1:5001",
		"BUCKET":                          "my-bucket",
		"EMPTY":                           "",
		// Set by aws-lambda-go itself from Lambda-Runtime-Trace-Id; checked in
		// TestInvocationContext.
		"_X_AMZN_TRACE_ID": got["_X_AMZN_TRACE_ID"],
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("function environment mismatch (-want +got):\n%s", diff)
	}
}

func TestRegionFromHostEnvironment(t *testing.T) {
	tests := []struct {
		name          string
		region        string
		defaultRegion string
		want          string
	}{
		{"AWS_REGION", "sa-east-1", "ca-central-1", "sa-east-1"},
		{"AWS_DEFAULT_REGION", "", "ca-central-1", "ca-central-1"},
		{"default", "", "", "us-east-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", tc.region)
			t.Setenv("AWS_DEFAULT_REGION", tc.defaultRegion)
			env := decode[map[string]string](t, invoke(t, newHost(t, nil), `{"cmd":"env"}`))
			if env["AWS_REGION"] != tc.want || env["AWS_DEFAULT_REGION"] != tc.want {
				t.Errorf("AWS_REGION, AWS_DEFAULT_REGION = %q, %q; want %q", env["AWS_REGION"], env["AWS_DEFAULT_REGION"], tc.want)
			}
		})
	}
}

// TestInvokedFunctionARNPartition checks that the invoked function ARN the
// function sees is in the configured partition.
func TestInvokedFunctionARNPartition(t *testing.T) {
	h := newHost(t, func(c *lambdahost.Config) {
		c.FunctionName = "cn-fn"
		c.Region = "cn-north-1"
		c.AccountID = "000000000042"
		c.Partition = "aws-cn"
	})
	got := decode[struct {
		FunctionARN string `json:"functionArn"`
	}](t, invoke(t, h, `{"cmd":"context"}`))
	if want := "arn:aws-cn:lambda:cn-north-1:000000000042:function:cn-fn"; got.FunctionARN != want {
		t.Errorf("function ARN = %q; want %q", got.FunctionARN, want)
	}
}

func TestInvocationContext(t *testing.T) {
	h := newHost(t, func(c *lambdahost.Config) {
		c.FunctionName = "ctx-fn"
		c.Region = "eu-central-1"
		c.AccountID = "000000000042"
		c.Timeout = 7 * time.Second
	})
	before := time.Now().Truncate(time.Millisecond)
	res := invoke(t, h, `{"cmd":"context"}`)
	after := time.Now()
	got := decode[struct {
		RequestID   string `json:"requestId"`
		FunctionARN string `json:"functionArn"`
		DeadlineMs  int64  `json:"deadlineMs"`
		TraceID     string `json:"traceId"`
		Cwd         string `json:"cwd"`
	}](t, res)

	if got.RequestID != res.RequestID {
		t.Errorf("function saw request ID %q; want %q", got.RequestID, res.RequestID)
	}
	if want := "arn:aws:lambda:eu-central-1:000000000042:function:ctx-fn"; got.FunctionARN != want {
		t.Errorf("function ARN = %q; want %q", got.FunctionARN, want)
	}
	// The deadline is the delivery time plus the timeout.
	deadline := time.UnixMilli(got.DeadlineMs)
	if deadline.Before(before.Add(7*time.Second)) || deadline.After(after.Add(7*time.Second)) {
		t.Errorf("deadline = %v; want between %v and %v", deadline, before.Add(7*time.Second), after.Add(7*time.Second))
	}
	if re := regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`); !re.MatchString(got.TraceID) {
		t.Errorf("_X_AMZN_TRACE_ID = %q; want match for %s", got.TraceID, re)
	}
	if want := filepath.Dir(testBinary); got.Cwd != want {
		t.Errorf("working directory = %q; want the task root %q", got.Cwd, want)
	}
}

func TestInitErrors(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		wantType string
		wantMsg  string // %s is replaced by the request ID
		wantBody string
	}{
		{
			name:     "exit before the first next",
			mode:     "exit",
			wantType: "Runtime.ExitError",
			wantMsg:  "RequestId: %s Error: Runtime exited with error: exit status 3",
			wantBody: `{"errorMessage":"RequestId: %s Error: Runtime exited with error: exit status 3","errorType":"Runtime.ExitError"}`,
		},
		{
			name:     "init error reported",
			mode:     "report",
			wantType: "ConfigError",
			wantMsg:  "missing setting BUCKET",
			wantBody: `{"errorMessage":"missing setting BUCKET","errorType":"ConfigError"}`,
		},
		{
			name:     "init over its time limit",
			mode:     "hang",
			wantType: "Sandbox.Timedout",
			wantMsg:  "RequestId: %s Error: Task timed out after 2.00 seconds",
			wantBody: `{"errorMessage":"RequestId: %s Error: Task timed out after 2.00 seconds","errorType":"Sandbox.Timedout"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, func(c *lambdahost.Config) {
				c.Env = map[string]string{"TESTFN_INIT": tc.mode}
				c.Timeout = 2 * time.Second
				c.InitTimeout = 500 * time.Millisecond
			})
			for i := range 2 { // an init failure repeats at every invocation
				res := invoke(t, h, `{"cmd":"echo","data":1}`)
				if res.Err == nil {
					t.Fatalf("invoke %d: Err = nil, Payload %s; want %s", i, res.Payload, tc.wantType)
				}
				wantMsg, wantBody := tc.wantMsg, tc.wantBody
				if strings.Contains(wantMsg, "%s") {
					wantMsg, wantBody = fmt.Sprintf(wantMsg, res.RequestID), fmt.Sprintf(wantBody, res.RequestID)
				}
				if res.Err.Type != tc.wantType || res.Err.Message != wantMsg || string(res.Err.Body) != wantBody {
					t.Errorf("invoke %d: Err = %q, %q, %s; want %q, %q, %s", i, res.Err.Type, res.Err.Message, res.Err.Body, tc.wantType, wantMsg, wantBody)
				}
				if !res.ColdStart || res.InitDuration <= 0 {
					t.Errorf("invoke %d: ColdStart, InitDuration = %v, %v; want true, > 0", i, res.ColdStart, res.InitDuration)
				}
			}
		})
	}
}

// TestInvalidEntrypoint: a bootstrap the operating system will not start is a
// function error, as Lambda reports it in the Invoke response (RIE
// internal/lambda/rapid/handlers.go:361-371 stores Runtime.InvalidEntrypoint
// when exec fails, and internal/lambda/interop/model.go:135-141 formats the
// message "RequestId: <id> Error: <exec error>"; recorded from Lambda:
// {"errorMessage":"RequestId: a81f0097-… Error: fork/exec /var/task/bootstrap:
// permission denied","errorType":"Runtime.InvalidEntrypoint"} in
// awslabs/aws-lambda-dart-runtime#20, "… fork/exec /lambda-entrypoint.sh: exec
// format error" in gbdevw/python-fastapi-aws-lambda-container#5). Each
// invocation tries again, as a cold start.
func TestInvalidEntrypoint(t *testing.T) {
	write := func(content string, mode os.FileMode) func(t *testing.T) string {
		return func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "bootstrap")
			if err := os.WriteFile(path, []byte(content), mode); err != nil {
				t.Fatal(err)
			}
			return path
		}
	}
	tests := []struct {
		name   string
		binary func(t *testing.T) string
		reason string
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "bootstrap") }, "no such file or directory"},
		{"not executable", write("#!/bin/sh\n", 0o644), "permission denied"},
		{"not a program for this machine", write("\x7fELF not really\n", 0o755), "exec format error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			binary := tc.binary(t)
			h := newHost(t, func(c *lambdahost.Config) { c.Binary = binary })
			for i := range 2 {
				res := invoke(t, h, `{"cmd":"echo","data":1}`)
				wantMsg := fmt.Sprintf("RequestId: %s Error: fork/exec %s: %s", res.RequestID, binary, tc.reason)
				if res.Err == nil || res.Err.Type != "Runtime.InvalidEntrypoint" || res.Err.Message != wantMsg {
					t.Fatalf("invoke %d: Err = %v, Payload %s; want Runtime.InvalidEntrypoint: %s", i, res.Err, res.Payload, wantMsg)
				}
				wantBody, _ := json.Marshal(map[string]string{"errorMessage": wantMsg, "errorType": "Runtime.InvalidEntrypoint"})
				if string(res.Payload) != string(wantBody) || string(res.Err.Body) != string(wantBody) {
					t.Errorf("invoke %d: Payload %s, Body %s; want %s", i, res.Payload, res.Err.Body, wantBody)
				}
				if !res.ColdStart {
					t.Errorf("invoke %d: ColdStart = false; want true", i)
				}
			}
		})
	}
}

// TestRuntimeAPIErrors checks the answers to out-of-order and unknown calls, made
// from inside an invocation, as the Runtime Interface Emulator gives them: a
// /next while the invocation is unanswered gets the same event again.
func TestRuntimeAPIErrors(t *testing.T) {
	h := newHost(t, nil)
	got := decode[map[string]string](t, invoke(t, h, `{"cmd":"probe"}`))
	want := map[string]string{
		"unknownResponse": `400 {"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`,
		"unknownError":    `400 {"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`,
		"initError":       `403 {"errorMessage":"State transition from Running to InitError failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}`,
		"nextWhileBusy":   `200 {"cmd":"probe"}`,
		"badPath":         `404 404 page not found`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runtime API answers mismatch (-want +got):\n%s", diff)
	}
	next := invoke(t, h, `{"cmd":"echo","data":3}`)
	if decode[int](t, next) != 3 || next.ColdStart {
		t.Errorf("after the probe: Payload %s, ColdStart %v; want 3, warm", next.Payload, next.ColdStart)
	}
}

// TestErrorReportedByHand covers an error body that is not JSON, with and without a
// valid Lambda-Runtime-Function-Error-Type header.
func TestErrorReportedByHand(t *testing.T) {
	tests := []struct {
		header   string
		wantType string
	}{
		{"Function.Teapot", "Function.Teapot"},
		{"teapot", "Runtime.Unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			h := newHost(t, nil)
			res := invoke(t, h, fmt.Sprintf(`{"cmd":"rawerror","msg":%q}`, tc.header))
			if res.Err == nil {
				t.Fatalf("Err = nil, Payload %s; want %s", res.Payload, tc.wantType)
			}
			if res.Err.Type != tc.wantType || res.Err.Message != "short and stout" || string(res.Err.Body) != "short and stout" {
				t.Errorf("Err = %q, %q, %q; want %q, short and stout, short and stout", res.Err.Type, res.Err.Message, res.Err.Body, tc.wantType)
			}
			// The function's own response after that is refused and aws-lambda-go exits.
			if next := invoke(t, h, `{"cmd":"echo","data":4}`); decode[int](t, next) != 4 || !next.ColdStart {
				t.Errorf("next: Payload %s, ColdStart %v; want 4, cold", next.Payload, next.ColdStart)
			}
		})
	}
}

func TestOutput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	h := newHost(t, func(c *lambdahost.Config) { c.Stdout, c.Stderr = &stdout, &stderr })
	invoke(t, h, `{"cmd":"log","msg":"hello"}`)
	h.Close() // output is complete once the process is gone
	if got := stdout.String(); got != "stdout: hello\n" {
		t.Errorf("stdout = %q; want %q", got, "stdout: hello\n")
	}
	if got := stderr.String(); got != "stderr: hello\n" {
		t.Errorf("stderr = %q; want %q", got, "stderr: hello\n")
	}
}

// TestHostSerializesInvocations: concurrent Invoke calls on one Host all run, one
// after another, in the same process.
func TestHostSerializesInvocations(t *testing.T) {
	h := newHost(t, nil)
	const n = 4
	type ctxResult struct {
		Invocations int `json:"invocations"`
		PID         int `json:"pid"`
	}
	raw := make([]lambdahost.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { raw[i], errs[i] = h.Invoke(context.Background(), []byte(`{"cmd":"context"}`)) })
	}
	wg.Wait()
	results := make([]ctxResult, n)
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Invoke error = %v; want nil", errs[i])
		}
		results[i] = decode[ctxResult](t, raw[i])
	}
	seen := map[int]bool{}
	for _, r := range results {
		seen[r.Invocations] = true
		if r.PID != results[0].PID {
			t.Errorf("pids %v; want one process", results)
		}
	}
	for i := 1; i <= n; i++ {
		if !seen[i] {
			t.Errorf("invocation counters %v; want 1..%d each once", results, n)
		}
	}
}

// holdServer answers the test function's "barrier" call only when the request is
// cancelled; arrived is closed when the call comes in.
func holdServer(t *testing.T) (url string, arrived <-chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(ch) })
		<-r.Context().Done() // hold the function until its process is killed
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

func TestContextCancel(t *testing.T) {
	url, arrived := holdServer(t)
	h := newHost(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Invoke(ctx, fmt.Appendf(nil, `{"cmd":"barrier","url":%q}`, url))
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Invoke with a cancelled context: error = %v; want context.Canceled", err)
	}
	if next := invoke(t, h, `{"cmd":"echo","data":5}`); decode[int](t, next) != 5 || !next.ColdStart {
		t.Errorf("next: Payload %s, ColdStart %v; want 5, cold (the abandoned process is killed)", next.Payload, next.ColdStart)
	}
}

func TestCloseInterruptsInvocation(t *testing.T) {
	url, arrived := holdServer(t)
	h := lambdahost.New(lambdahost.Config{Binary: testBinary, FunctionName: "testfn", Timeout: time.Minute})
	done := make(chan error, 1)
	go func() {
		_, err := h.Invoke(context.Background(), fmt.Appendf(nil, `{"cmd":"barrier","url":%q}`, url))
		done <- err
	}()
	<-arrived
	if err := h.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if err := <-done; !errors.Is(err, lambdahost.ErrClosed) {
		t.Errorf("interrupted Invoke error = %v; want ErrClosed", err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"cmd":"echo"}`)); !errors.Is(err, lambdahost.ErrClosed) {
		t.Errorf("Invoke after Close error = %v; want ErrClosed", err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close() = %v; want nil", err)
	}
}

func TestHostErrors(t *testing.T) {
	valid := lambdahost.Config{Binary: testBinary, FunctionName: "fn"}
	tests := []struct {
		name string
		edit func(*lambdahost.Config)
		want string
	}{
		{"no binary", func(c *lambdahost.Config) { c.Binary = "" }, "Binary is empty"},
		{"no function name", func(c *lambdahost.Config) { c.FunctionName = "" }, `FunctionName "" must be`},
		{"bad function name", func(c *lambdahost.Config) { c.FunctionName = "a:b" }, `FunctionName "a:b" must be`},
		{"memory too small", func(c *lambdahost.Config) { c.MemoryMB = 64 }, "MemoryMB 64 is outside 128-10240"},
		{"memory too large", func(c *lambdahost.Config) { c.MemoryMB = 10241 }, "MemoryMB 10241 is outside"},
		{"negative timeout", func(c *lambdahost.Config) { c.Timeout = -time.Second }, "Timeout -1s is outside"},
		{"timeout over 900s", func(c *lambdahost.Config) { c.Timeout = 901 * time.Second }, "Timeout 15m1s is outside"},
		{"negative init timeout", func(c *lambdahost.Config) { c.InitTimeout = -1 }, "InitTimeout -1ns is negative"},
		{"bad account", func(c *lambdahost.Config) { c.AccountID = "12" }, `AccountID "12" is not 12 digits`},
		{"bad partition", func(c *lambdahost.Config) { c.Partition = "cn" }, `Partition "cn" must match aws[a-zA-Z-]*`},
		{"partition with a colon", func(c *lambdahost.Config) { c.Partition = "aws:x" }, `Partition "aws:x" must match`},
		{"bad log format", func(c *lambdahost.Config) { c.LogFormat = "json" }, `LogFormat "json" must be Text or JSON`},
		{"bad log level", func(c *lambdahost.Config) { c.LogFormat, c.LogLevel = "JSON", "debug" }, `LogLevel "debug" must be one of`},
		{"log level without JSON", func(c *lambdahost.Config) { c.LogLevel = "INFO" }, "LogLevel needs LogFormat JSON"},
		{"reserved variable", func(c *lambdahost.Config) { c.Env = map[string]string{"AWS_REGION": "x"} }, "AWS_REGION is reserved"},
		{"reserved credentials", func(c *lambdahost.Config) { c.Env = map[string]string{"AWS_SECRET_ACCESS_KEY": "x"} }, "AWS_SECRET_ACCESS_KEY is reserved"},
		{"bad key", func(c *lambdahost.Config) { c.Env = map[string]string{"1X": "x"} }, `"1X": key must match`},
		{"NUL in value", func(c *lambdahost.Config) { c.Env = map[string]string{"X1": "a\x00b"} }, "X1: value contains a NUL byte"},
		{"over 4 KB", func(c *lambdahost.Config) { c.Env = map[string]string{"BIG": strings.Repeat("v", 4094)} }, "environment variables total 4097 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.edit(&cfg)
			h := lambdahost.New(cfg)
			defer h.Close()
			res, err := h.Invoke(context.Background(), []byte(`{"cmd":"echo","data":1}`))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Invoke() error = %v; want one containing %q", err, tc.want)
			}
			if res.Err != nil {
				t.Errorf("Invoke().Err = %v; want nil for a host problem", res.Err)
			}
		})
	}
	if err := valid.Validate(); err != nil {
		t.Errorf("Validate(valid config) = %v; want nil", err)
	}
}

func TestBuildReportsCompilerOutput(t *testing.T) {
	_, err := lambdahost.Build(context.Background(), filepath.Join("testdata", "broken"), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "cannot use") || !strings.Contains(err.Error(), "main.go:6") {
		t.Errorf("Build(testdata/broken) error = %v; want the compiler's message with its position", err)
	}
}
