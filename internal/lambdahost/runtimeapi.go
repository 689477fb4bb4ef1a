package lambdahost

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// Runtime API header names (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
	headerErrorBody   = "Lambda-Runtime-Function-Error-Body" // trailer, base64
)

// errorTypePattern is what Lambda keeps of a Lambda-Runtime-Function-Error-Type
// header; anything else counts as Runtime.Unknown (RIE fatalerror.go).
var errorTypePattern = regexp.MustCompile(`^(Runtime|Function)\.[A-Z][a-zA-Z]+$`)

// drainLimit bounds how much of an oversized body is read and discarded so that the
// runtime receives the 413 instead of a broken pipe.
const drainLimit = 256 << 20

// routes is the Runtime API of one sandbox. Paths not listed (e.g. the Extensions
// API) get 404, which aws-lambda-go tolerates.
func (sb *sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", sb.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", sb.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", sb.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", sb.handleInitError)
	return mux
}

// handleNext is the long poll for the next event. The first call ends the init
// phase. As in the Runtime Interface Emulator, a call while the event it
// delivered is unanswered gets that event again (RuntimeRunningState.Ready
// allows it: internal/lambda/core/states.go, rapi/router_test.go
// TestInvokeNextTwice), and a call after /init/error or during a /response or
// /error is refused.
func (sb *sandbox) handleNext(w http.ResponseWriter, r *http.Request) {
	sb.mu.Lock()
	switch from := sb.state; from {
	case stateRunning:
		inv := sb.current
		sb.mu.Unlock()
		renderEvent(w, inv, sb.functionARN)
		return
	case stateInitError, stateResponse, stateErrorResponse:
		sb.mu.Unlock()
		renderNotAllowed(w, from, stateReady)
		return
	}
	sb.state, sb.current = stateReady, nil
	sb.mu.Unlock()
	sb.readyOnce.Do(func() {
		sb.readyAt = time.Now()
		close(sb.ready)
	})
	var inv *invocation
	select {
	case inv = <-sb.next:
	case <-r.Context().Done():
		return
	case <-sb.done:
		return
	}
	sb.mu.Lock()
	sb.state, sb.current = stateRunning, inv
	sb.mu.Unlock()
	renderEvent(w, inv, sb.functionARN)
}

// renderEvent answers /next with inv.
func renderEvent(w http.ResponseWriter, inv *invocation, functionARN string) {
	h := w.Header()
	h.Set(headerRequestID, inv.id)
	h.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(headerFunctionARN, functionARN)
	h.Set(headerTraceID, inv.traceID)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload) //nolint:errcheck // a dead runtime is noticed by its exit
}

// handleResponse is the function's successful response.
func (sb *sandbox) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv, body, ok := sb.receive(w, r, stateResponse)
	if !ok {
		return
	}
	if errType := r.Trailer.Get(headerErrorType); errType != "" {
		// aws-lambda-go reports an error while reading a streamed response in trailers.
		errBody, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(headerErrorBody))
		inv.done <- outcome{err: parseFunctionError(errBody, errType)}
	} else {
		inv.done <- outcome{payload: body}
	}
	renderAccepted(w)
}

// handleError is an error the function reports for an invocation.
func (sb *sandbox) handleError(w http.ResponseWriter, r *http.Request) {
	inv, body, ok := sb.receive(w, r, stateErrorResponse)
	if !ok {
		return
	}
	inv.done <- outcome{err: parseFunctionError(body, r.Header.Get(headerErrorType))}
	renderAccepted(w)
}

// receive takes the answer (to: stateResponse or stateErrorResponse) to the
// invocation a /response or /error request names, and reads the request's body.
// As the Runtime Interface Emulator does, it checks the request ID first (400
// unless it is the invocation last delivered: internal/lambda/rapi/router.go,
// rapi/middleware/middleware.go AwsRequestIDValidator), then the state (403
// unless that invocation is unanswered), so a wrong ID leaves the invocation
// open for the right one. When the request is refused, or the body is truncated
// or too large, it answers the request (and, for an accepted answer, completes
// the invocation with the platform's error) and reports false.
func (sb *sandbox) receive(w http.ResponseWriter, r *http.Request, to runtimeState) (*invocation, []byte, bool) {
	id := r.PathValue("id")
	sb.mu.Lock()
	inv, from := sb.current, sb.state
	switch {
	case inv == nil || inv.id != id:
		sb.mu.Unlock()
		renderError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return nil, nil, false
	case from != stateRunning:
		sb.mu.Unlock()
		renderNotAllowed(w, from, to)
		return nil, nil, false
	}
	sb.state = to
	sb.mu.Unlock()
	body, tooLarge, err := readBody(r.Body)
	sb.mu.Lock()
	sb.state = stateResponseSent
	sb.mu.Unlock()
	what := "response"
	if to == stateErrorResponse {
		what = "error"
	}
	switch {
	case err != nil:
		inv.done <- outcome{err: platformError(ErrorTypeTruncated,
			fmt.Sprintf("RequestId: %s Error: the %s body could not be read: %v", inv.id, what, err))}
		renderError(w, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		return nil, nil, false
	case tooLarge:
		inv.done <- outcome{err: responseTooLargeError()}
		renderError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes))
		return nil, nil, false
	}
	return inv, body, true
}

// handleInitError is a runtime reporting that its initialization failed. It is
// allowed only before the first /next, once.
func (sb *sandbox) handleInitError(w http.ResponseWriter, r *http.Request) {
	if from := sb.getState(); from != stateStarted {
		renderNotAllowed(w, from, stateInitError)
		return
	}
	body, tooLarge, err := readBody(r.Body)
	if err != nil {
		renderError(w, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		return
	}
	if tooLarge {
		renderError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes))
		return
	}
	sb.mu.Lock()
	from := sb.state
	if from == stateStarted {
		sb.state = stateInitError
	}
	sb.mu.Unlock()
	if from != stateStarted { // a /next or another report came first
		renderNotAllowed(w, from, stateInitError)
		return
	}
	sb.initErr <- parseFunctionError(body, r.Header.Get(headerErrorType)) // buffered; reached once
	renderAccepted(w)
}

// getState returns the runtime's state.
func (sb *sandbox) getState() runtimeState {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.state
}

// readBody reads at most MaxResponseBytes. A larger body is drained (up to
// drainLimit) and reported as tooLarge.
func readBody(r io.Reader) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, MaxResponseBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > MaxResponseBytes {
		io.Copy(io.Discard, io.LimitReader(r, drainLimit)) //nolint:errcheck // best effort
		return nil, true, nil
	}
	return body, false, nil
}

// parseFunctionError reads an error document posted by a runtime. The errorType in
// the body wins; else a well-formed error-type header; else Runtime.Unknown. A body
// that is not a JSON error document is passed through and becomes the message.
func parseFunctionError(body []byte, headerType string) *FunctionError {
	var doc errorDocument
	fe := &FunctionError{Body: body}
	if err := json.Unmarshal(body, &doc); err == nil {
		fe.Type, fe.Message = doc.ErrorType, doc.ErrorMessage
	} else {
		fe.Message = string(body)
	}
	if fe.Type == "" {
		fe.Type = ErrorTypeUnknown
		if errorTypePattern.MatchString(headerType) {
			fe.Type = headerType
		}
	}
	return fe
}

func renderAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`+"\n") //nolint:errcheck // nothing to do about a dead runtime
}

// renderNotAllowed refuses a call out of order as the Runtime Interface Emulator
// does (internal/lambda/rapi/handler/constants.go
// StateTransitionFailedForRuntimeMessageFormat with core.ErrNotAllowed, rendered
// by rapi/rendering/render_error.go RenderForbiddenWithTypeMsg).
func renderNotAllowed(w http.ResponseWriter, from, to runtimeState) {
	renderError(w, http.StatusForbidden, "InvalidStateTransition",
		fmt.Sprintf("State transition from %s to %s failed for runtime. Error: State transition is not allowed", from, to))
}

func renderError(w http.ResponseWriter, status int, typ, msg string) {
	body, _ := json.Marshal(errorDocument{ErrorMessage: msg, ErrorType: typ}) // cannot fail for two strings
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // nothing to do about a dead runtime
}
