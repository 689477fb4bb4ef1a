package lambdahost

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"

// newTestAPI serves a sandbox's Runtime API without a process.
func newTestAPI(t *testing.T) (*sandbox, string) {
	t.Helper()
	sb := newSandbox(testARN)
	srv := httptest.NewServer(sb.routes())
	t.Cleanup(func() {
		close(sb.done) // releases pending /next calls
		srv.Close()
	})
	return sb, srv.URL + "/2018-06-01/runtime/"
}

type httpAnswer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, req *http.Request) httpAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return httpAnswer{resp.StatusCode, resp.Header, string(b)}
}

func post(t *testing.T, url string, body io.Reader, header http.Header) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return do(t, req)
}

// deliver runs GET /next and hands it an invocation.
func deliver(t *testing.T, sb *sandbox, base string) (*invocation, httpAnswer) {
	t.Helper()
	inv := &invocation{
		id:       "8f0e6d8a-1c5b-4a8e-9d6f-2b7c1e0a9f31",
		payload:  []byte(`{"k":1}`),
		traceID:  "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
		deadline: time.UnixMilli(1700000000123),
		done:     make(chan outcome, 1),
	}
	answers := make(chan httpAnswer, 1)
	errs := make(chan error, 1)
	go func() {
		resp, err := http.Get(base + "invocation/next")
		if err != nil {
			errs <- err
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			errs <- err
			return
		}
		answers <- httpAnswer{resp.StatusCode, resp.Header, string(b)}
	}()
	select {
	case sb.next <- inv:
	case err := <-errs:
		t.Fatalf("GET /next: %v", err)
	}
	select {
	case a := <-answers:
		return inv, a
	case err := <-errs:
		t.Fatalf("GET /next: %v", err)
	}
	return nil, httpAnswer{}
}

func TestNextDeliversEvent(t *testing.T) {
	sb, base := newTestAPI(t)
	_, got := deliver(t, sb, base)
	if got.status != http.StatusOK || got.body != `{"k":1}` {
		t.Errorf("GET /next = %d %s; want 200 {\"k\":1}", got.status, got.body)
	}
	wantHeaders := map[string]string{
		"Lambda-Runtime-Aws-Request-Id":       "8f0e6d8a-1c5b-4a8e-9d6f-2b7c1e0a9f31",
		"Lambda-Runtime-Deadline-Ms":          "1700000000123",
		"Lambda-Runtime-Invoked-Function-Arn": testARN,
		"Lambda-Runtime-Trace-Id":             "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
		"Content-Type":                        "application/json",
	}
	for k, want := range wantHeaders {
		if v := got.header.Get(k); v != want {
			t.Errorf("GET /next header %s = %q; want %q", k, v, want)
		}
	}
	select {
	case <-sb.ready:
	default:
		t.Error("ready not closed after the first /next")
	}
}

// streamingBody hides its length so that the request is chunked and can carry
// trailers.
type streamingBody struct{ io.Reader }

func TestPostAfterDelivery(t *testing.T) {
	const id = "8f0e6d8a-1c5b-4a8e-9d6f-2b7c1e0a9f31"
	tooLarge := `{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}`
	accepted := `{"status":"OK"}` + "\n"
	tests := []struct {
		name       string
		path       string
		body       string
		header     http.Header
		trailer    http.Header
		wantStatus int
		wantBody   string
		want       *outcome // nil: nothing delivered to the invocation
	}{
		{
			name: "response", path: id + "/response", body: `{"ok":true}`,
			wantStatus: 202, wantBody: accepted, want: &outcome{payload: []byte(`{"ok":true}`)},
		},
		{
			name: "empty response", path: id + "/response", body: "",
			wantStatus: 202, wantBody: accepted, want: &outcome{payload: []byte{}},
		},
		{
			name: "response at the limit", path: id + "/response", body: strings.Repeat("a", MaxResponseBytes),
			wantStatus: 202, wantBody: accepted, want: &outcome{payload: []byte(strings.Repeat("a", MaxResponseBytes))},
		},
		{
			name: "response over the limit", path: id + "/response", body: strings.Repeat("a", MaxResponseBytes+1),
			wantStatus: 413, wantBody: tooLarge, want: &outcome{err: responseTooLargeError()},
		},
		{
			name: "error over the limit", path: id + "/error", body: strings.Repeat("a", MaxResponseBytes+1),
			wantStatus: 413, wantBody: tooLarge, want: &outcome{err: responseTooLargeError()},
		},
		{
			name: "response with error trailers", path: id + "/response", body: `partial`,
			trailer: http.Header{
				"Lambda-Runtime-Function-Error-Type": {"ReadError"},
				"Lambda-Runtime-Function-Error-Body": {base64.StdEncoding.EncodeToString([]byte(`{"errorMessage":"disk gone","errorType":"ReadError"}`))},
			},
			wantStatus: 202, wantBody: accepted,
			want: &outcome{err: &FunctionError{Type: "ReadError", Message: "disk gone", Body: []byte(`{"errorMessage":"disk gone","errorType":"ReadError"}`)}},
		},
		{
			name: "error document", path: id + "/error", body: `{"errorMessage":"bad","errorType":"CustomError","stackTrace":[]}`,
			header:     http.Header{"Lambda-Runtime-Function-Error-Type": {"Function.Ignored"}},
			wantStatus: 202, wantBody: accepted,
			want: &outcome{err: &FunctionError{Type: "CustomError", Message: "bad", Body: []byte(`{"errorMessage":"bad","errorType":"CustomError","stackTrace":[]}`)}},
		},
		{
			name: "unknown request ID", path: "00000000-0000-4000-8000-000000000000/response", body: `1`,
			wantStatus: 400, wantBody: `{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`,
		},
		{
			name: "init error after init", path: "../init/error", body: `{}`,
			wantStatus: 403, wantBody: `{"errorMessage":"State transition from Running to InitError failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb, base := newTestAPI(t)
			inv, _ := deliver(t, sb, base)
			url := base + "invocation/" + tc.path
			if tc.path == "../init/error" {
				url = base + "init/error"
			}
			var body io.Reader = strings.NewReader(tc.body)
			if tc.trailer != nil {
				body = streamingBody{body}
			}
			req, err := http.NewRequest(http.MethodPost, url, body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			req.Trailer = tc.trailer
			got := do(t, req)
			if got.status != tc.wantStatus || got.body != tc.wantBody {
				t.Errorf("POST %s = %d %.200s; want %d %s", tc.path, got.status, got.body, tc.wantStatus, tc.wantBody)
			}
			var gotOutcome *outcome
			select {
			case o := <-inv.done:
				gotOutcome = &o
			default:
			}
			if diff := cmp.Diff(tc.want, gotOutcome, cmp.AllowUnexported(outcome{}), cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("outcome mismatch (-want +got):\n%.2000s", diff)
			}
			// A second answer to the same invocation is refused by the state
			// machine (RIE internal/lambda/rapi/router_test.go:183-195).
			again := post(t, base+"invocation/"+id+"/response", strings.NewReader("1"), nil)
			if want := `{"errorMessage":"State transition from RuntimeResponseSentState to InvocationResponse failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}`; tc.want != nil && (again.status != 403 || again.body != want) {
				t.Errorf("second POST response = %d %s; want 403 %s", again.status, again.body, want)
			}
		})
	}
}

// notAllowed is the Runtime Interface Emulator's answer to a call its runtime
// state machine does not allow (internal/lambda/rapi/handler/constants.go:26,
// internal/lambda/rapi/rendering/render_error.go:15-24).
func notAllowed(from, to string) string {
	return `403 {"errorMessage":"State transition from ` + from + ` to ` + to +
		` failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}`
}

const (
	invalidRequestID = `400 {"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`
	accepted         = "202 {\"status\":\"OK\"}\n"
)

// TestOutOfOrderCalls drives the Runtime API by hand through calls a runtime
// should not make, and checks each answer against the Runtime Interface
// Emulator's: the request ID is checked first (400 InvalidRequestID unless it is
// the invocation last delivered, internal/lambda/rapi/router.go:37-46 and
// rapi/middleware/middleware.go:21-40), then the runtime state machine (403
// InvalidStateTransition, internal/lambda/core/states.go, whose tests
// states_test.go and rapi/router_test.go:148-237, rapi/security_test.go:52-142
// record the same answers).
func TestOutOfOrderCalls(t *testing.T) {
	const (
		id    = "8f0e6d8a-1c5b-4a8e-9d6f-2b7c1e0a9f31"
		other = "00000000-0000-4000-8000-000000000000"
	)
	type step struct {
		method, path, body string
		want               string // status and body
	}
	tests := []struct {
		name    string
		deliver bool // GET /next receives the invocation id first
		steps   []step
		// want is the invocation's outcome (nil: none).
		want *outcome
	}{
		{
			name: "response twice", deliver: true,
			steps: []step{
				{"POST", "invocation/" + id + "/response", `1`, accepted},
				{"POST", "invocation/" + id + "/response", `2`, notAllowed("RuntimeResponseSentState", "InvocationResponse")},
			},
			want: &outcome{payload: []byte(`1`)},
		},
		{
			name: "error after response", deliver: true,
			steps: []step{
				{"POST", "invocation/" + id + "/response", `1`, accepted},
				{"POST", "invocation/" + id + "/error", `{}`, notAllowed("RuntimeResponseSentState", "InvocationErrorResponse")},
			},
			want: &outcome{payload: []byte(`1`)},
		},
		{
			name: "response after error", deliver: true,
			steps: []step{
				{"POST", "invocation/" + id + "/error", `{"errorMessage":"m","errorType":"E"}`, accepted},
				{"POST", "invocation/" + id + "/response", `1`, notAllowed("RuntimeResponseSentState", "InvocationResponse")},
				{"POST", "invocation/" + id + "/error", `{}`, notAllowed("RuntimeResponseSentState", "InvocationErrorResponse")},
			},
			want: &outcome{err: &FunctionError{Type: "E", Message: "m", Body: []byte(`{"errorMessage":"m","errorType":"E"}`)}},
		},
		{
			// The ID is checked before the state machine moves, so the right
			// answer is still accepted afterwards.
			name: "unknown request ID, then the right one", deliver: true,
			steps: []step{
				{"POST", "invocation/" + other + "/response", `1`, invalidRequestID},
				{"POST", "invocation/" + other + "/error", `{}`, invalidRequestID},
				{"POST", "invocation/" + id + "/response", `2`, accepted},
			},
			want: &outcome{payload: []byte(`2`)},
		},
		{
			name: "answer before any invocation",
			steps: []step{
				{"POST", "invocation/" + id + "/response", `1`, invalidRequestID},
				{"POST", "invocation/" + id + "/error", `{}`, invalidRequestID},
			},
		},
		{
			// RuntimeRunningState.Ready allows /next and renders the event again
			// (states.go:358-360, states_test.go:164-167, router_test.go:148-157).
			name: "next while the invocation is outstanding", deliver: true,
			steps: []step{
				{"GET", "invocation/next", "", `200 {"k":1}`},
				{"POST", "invocation/" + id + "/response", `1`, accepted},
			},
			want: &outcome{payload: []byte(`1`)},
		},
		{
			name: "init error while the invocation is outstanding", deliver: true,
			steps: []step{
				{"POST", "init/error", `{}`, notAllowed("Running", "InitError")},
				{"POST", "invocation/" + id + "/response", `1`, accepted},
			},
			want: &outcome{payload: []byte(`1`)},
		},
		{
			name: "init error after the response", deliver: true,
			steps: []step{
				{"POST", "invocation/" + id + "/response", `1`, accepted},
				{"POST", "init/error", `{}`, notAllowed("RuntimeResponseSentState", "InitError")},
			},
			want: &outcome{payload: []byte(`1`)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb, base := newTestAPI(t)
			var inv *invocation
			if tc.deliver {
				inv, _ = deliver(t, sb, base)
			}
			for _, st := range tc.steps {
				req, err := http.NewRequest(st.method, base+st.path, strings.NewReader(st.body))
				if err != nil {
					t.Fatal(err)
				}
				a := do(t, req)
				if got := fmt.Sprintf("%d %s", a.status, a.body); got != st.want {
					t.Errorf("%s %s = %s; want %s", st.method, st.path, got, st.want)
				}
				if st.method == "GET" && a.header.Get(headerRequestID) != id {
					t.Errorf("GET /next again: request ID %q; want the outstanding invocation's %s", a.header.Get(headerRequestID), id)
				}
			}
			if inv == nil {
				return
			}
			var got *outcome
			select {
			case o := <-inv.done:
				got = &o
			default:
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(outcome{}), cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("outcome mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOutOfOrderCallsAroundNext covers the calls made while the runtime waits
// in GET /next, and after it has reported an init error.
func TestOutOfOrderCallsAroundNext(t *testing.T) {
	t.Run("old request ID once the runtime asked for the next event", func(t *testing.T) {
		// RIE rapi/security_test.go:90-94: the previous invocation's ID is no
		// longer the current one.
		sb, base := newTestAPI(t)
		inv, _ := deliver(t, sb, base)
		post(t, base+"invocation/"+inv.id+"/response", strings.NewReader("1"), nil)
		waiting := waitInNext(t, sb, base)
		if a := post(t, base+"invocation/"+inv.id+"/response", strings.NewReader("2"), nil); fmt.Sprintf("%d %s", a.status, a.body) != invalidRequestID {
			t.Errorf("POST response for the previous invocation = %d %s; want %s", a.status, a.body, invalidRequestID)
		}
		if a := post(t, base+"init/error", strings.NewReader("{}"), nil); fmt.Sprintf("%d %s", a.status, a.body) != notAllowed("Ready", "InitError") {
			t.Errorf("POST init/error while waiting for an event = %d %s; want %s", a.status, a.body, notAllowed("Ready", "InitError"))
		}
		_ = waiting // ends with the test's server
	})
	t.Run("next after an init error", func(t *testing.T) {
		sb, base := newTestAPI(t)
		if a := post(t, base+"init/error", strings.NewReader(`{"errorMessage":"m","errorType":"E"}`), nil); fmt.Sprintf("%d %s", a.status, a.body) != accepted {
			t.Fatalf("POST init/error = %d %s; want %s", a.status, a.body, accepted)
		}
		a := do(t, mustRequest(t, "GET", base+"invocation/next"))
		if want := notAllowed("InitError", "Ready"); fmt.Sprintf("%d %s", a.status, a.body) != want {
			t.Errorf("GET next after init/error = %d %s; want %s", a.status, a.body, want)
		}
		if a := post(t, base+"init/error", strings.NewReader(`{}`), nil); fmt.Sprintf("%d %s", a.status, a.body) != notAllowed("InitError", "InitError") {
			t.Errorf("second POST init/error = %d %s; want %s", a.status, a.body, notAllowed("InitError", "InitError"))
		}
		select {
		case <-sb.ready:
			t.Error("ready closed by a /next after an init error")
		default:
		}
	})
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// waitInNext starts a GET /next that waits for an event, and returns once the
// sandbox has it waiting; the channel is closed when the request ends.
func waitInNext(t *testing.T, sb *sandbox, base string) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(base + "invocation/next")
		if err == nil {
			io.Copy(io.Discard, resp.Body) //nolint:errcheck // only its end matters
			resp.Body.Close()
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		sb.mu.Lock()
		st := sb.state
		sb.mu.Unlock()
		if st == stateReady {
			return done
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /next not waiting after 10 s (state %s)", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestInitError(t *testing.T) {
	sb, base := newTestAPI(t)
	body := `{"errorMessage":"missing BUCKET","errorType":"Runtime.ConfigError"}`
	got := post(t, base+"init/error", strings.NewReader(body), nil)
	if want := `{"status":"OK"}` + "\n"; got.status != 202 || got.body != want {
		t.Errorf("POST /init/error = %d %s; want 202 %s", got.status, got.body, want)
	}
	want := &FunctionError{Type: "Runtime.ConfigError", Message: "missing BUCKET", Body: []byte(body)}
	select {
	case fe := <-sb.initErr:
		if diff := cmp.Diff(want, fe); diff != "" {
			t.Errorf("init error mismatch (-want +got):\n%s", diff)
		}
	default:
		t.Error("init error not recorded")
	}
}

func TestParseFunctionError(t *testing.T) {
	tests := []struct {
		body, header string
		want         FunctionError
	}{
		{`{"errorMessage":"m","errorType":"T"}`, "", FunctionError{Type: "T", Message: "m"}},
		{`{"errorMessage":"m","errorType":"T"}`, "Function.Other", FunctionError{Type: "T", Message: "m"}},
		{`{"errorMessage":"m"}`, "Function.Other", FunctionError{Type: "Function.Other", Message: "m"}},
		{`{"errorMessage":"m"}`, "Runtime.x", FunctionError{Type: "Runtime.Unknown", Message: "m"}},
		{`{"errorMessage":"m"}`, "", FunctionError{Type: "Runtime.Unknown", Message: "m"}},
		{`plain text`, "Runtime.Crashed", FunctionError{Type: "Runtime.Crashed", Message: "plain text"}},
		{``, "", FunctionError{Type: "Runtime.Unknown", Message: ""}},
		{`["not","an","object"]`, "", FunctionError{Type: "Runtime.Unknown", Message: `["not","an","object"]`}},
	}
	for _, tc := range tests {
		got := parseFunctionError([]byte(tc.body), tc.header)
		tc.want.Body = []byte(tc.body)
		if diff := cmp.Diff(&tc.want, got); diff != "" {
			t.Errorf("parseFunctionError(%q, %q) mismatch (-want +got):\n%s", tc.body, tc.header, diff)
		}
	}
}
