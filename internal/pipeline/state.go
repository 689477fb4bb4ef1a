package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/renameio/v2"

	"github.com/streamlake/streamlake/internal/localenv"
)

// runState is WorkDir/run.json: which emulators a run uses and whether it
// finished.
type runState struct {
	RunEndpoints
	// PIDs are the process ids of the detached emulator processes the run
	// started (each leads its process group); empty when the emulators are the
	// user's.
	PIDs []int `json:"pids,omitempty"`
	// PID is the single detached moto server of a state file written before
	// the emulators were split by service; read so that it can still be stopped.
	PID int `json:"pid,omitempty"`
	// Status is "running" until the run completes, then "completed"; "failed"
	// when its setup failed (abandonSetup).
	Status string `json:"status"`
	// Count is the number of records the run produces in all.
	Count int `json:"count"`
	// Template is the absolute path of the run's template: only a run of the
	// same template resumes it. Empty in a state file written before it was
	// recorded.
	Template string `json:"template,omitempty"`
	// ConfigEnv and Overrides are the run's --config-env and
	// --parameter-overrides: only a run with the same ones resumes it (its stack
	// was created with them).
	ConfigEnv string            `json:"configEnv,omitempty"`
	Overrides map[string]string `json:"overrides,omitempty"`
}

// settingsDiffer returns, when a run with opts would read the template other
// than the interrupted run st did, an error that says how, else nil.
func (s runState) settingsDiffer(opts *Options, template string) error {
	var what string
	switch {
	case s.Template != template:
		what = fmt.Sprintf("is of %s, not %s", s.Template, template)
	case cmp.Or(s.ConfigEnv, "default") != cmp.Or(opts.ConfigEnv, "default"): // samconfig.toml's default environment
		what = fmt.Sprintf("used --config-env %q, not %q", s.ConfigEnv, opts.ConfigEnv)
	case !maps.Equal(s.Overrides, opts.Overrides):
		what = fmt.Sprintf("used --parameter-overrides %q, not %q", formatOverrides(s.Overrides), formatOverrides(opts.Overrides))
	default:
		return nil
	}
	return fmt.Errorf("the interrupted run in %s %s: run with its settings to resume it, with --fresh to discard it (and stop its emulators), or give another --work-dir",
		opts.WorkDir, what)
}

// formatOverrides writes overrides as --parameter-overrides takes them, sorted.
func formatOverrides(o map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(o)) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", k, o[k])
	}
	return b.String()
}

// pids returns every emulator process id the state records.
func (s runState) pids() []int {
	out := append([]int(nil), s.PIDs...)
	if s.PID > 0 {
		out = append(out, s.PID)
	}
	return out
}

// RunEndpoints are the endpoints of the emulators a run uses.
type RunEndpoints struct {
	// Endpoint is the base endpoint (AWS_ENDPOINT_URL): the user's, or the S3/SQS
	// emulator process, which answers any service.
	Endpoint string `json:"endpoint"`
	// Endpoints maps each service of motoserver.Layout ("kinesis", "dynamodb",
	// "s3", "sqs") to its endpoint URL.
	Endpoints map[string]string `json:"endpoints,omitempty"`
}

// endpoint returns the URL of service, else the base endpoint.
func (s RunEndpoints) endpoint(service string) string {
	if u := s.Endpoints[service]; u != "" {
		return u
	}
	return s.Endpoint
}

const (
	statusRunning   = "running"
	statusCompleted = "completed"
	// statusFailed is a run whose setup failed before it produced a record:
	// there is nothing to resume.
	statusFailed = "failed"
)

func loadState(dir string) (runState, error) {
	var s runState
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return runState{}, &unreadableStateError{path: filepath.Join(dir, "run.json"), err: err}
	}
	return s, nil
}

// unreadableStateError is a run.json that does not decode (truncated, edited).
type unreadableStateError struct {
	path string
	err  error
}

func (e *unreadableStateError) Error() string {
	return fmt.Sprintf("%s: %v: not a run's state (remove it, after stopping any emulator it names, or start afresh with --fresh)", e.path, e.err)
}

func (e *unreadableStateError) Unwrap() error { return e.err }

// previousState is the state of the last run in opts.WorkDir. An unreadable state
// file stops a run, except with --fresh, which starts over without it (and says
// that the emulators it named, if any, may still run).
func previousState(opts *Options, logw io.Writer) (runState, error) {
	prev, err := loadState(opts.WorkDir)
	var bad *unreadableStateError
	if opts.Fresh && errors.As(err, &bad) {
		fmt.Fprintf(logw, "starting afresh without the last run's state: %s: %v; emulators it started, if any, may still run\n", bad.path, bad.err)
		return runState{}, nil
	}
	return prev, err
}

func saveState(dir string, s runState) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "run.json"), s)
}

// writeJSON writes v, indented, to path through a temporary file (renameio), so
// that a run killed meanwhile leaves the old file or the new one.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := renameio.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// serviceEndpoints returns the URL of every service the run uses (keys as in
// motoserver.Services), for the session file and its export line.
func (s RunEndpoints) serviceEndpoints() map[string]string {
	out := map[string]string{}
	for _, svc := range localenv.Services() {
		if u := s.endpoint(svc); u != "" {
			out[svc] = u
		}
	}
	return out
}

// prepareEmulator decides which emulators the run uses: the user's (every
// service's endpoint set through AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_<SERVICE>),
// the ones an interrupted run left (resume), or new detached moto processes
// (motoserver.Layout), with the user's per-service endpoints, if any, in place of
// theirs.
func prepareEmulator(ctx context.Context, opts *Options, logw io.Writer, rep *Report) (runState, error) {
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return runState{}, err
	}
	prev, err := previousState(opts, logw)
	if err != nil {
		return runState{}, err
	}
	template, err := filepath.Abs(opts.TemplatePath)
	if err != nil {
		return runState{}, err
	}
	// A run resumes an interrupted one only with its settings; when there is
	// nothing to resume (its emulators are gone), it starts afresh with its own.
	sameSettings := func() error {
		if prev.Template == "" { // a state file from before settings were recorded
			return nil
		}
		return prev.settingsDiffer(opts, template)
	}
	ckpt := filepath.Join(opts.WorkDir, "checkpoints")
	user := localenv.ResolveEndpoints(opts.Getenv)
	if len(user) == len(localenv.Services()) {
		base := opts.Getenv("AWS_ENDPOINT_URL")
		resume := !opts.Fresh && prev.Status == statusRunning && len(prev.pids()) == 0 && prev.Endpoint == base && maps.Equal(prev.Endpoints, user)
		if resume {
			if err := sameSettings(); err != nil {
				return runState{}, err
			}
		} else {
			_ = os.RemoveAll(ckpt)
		}
		rep.Resumed = resume
		st := runState{RunEndpoints: RunEndpoints{Endpoint: base, Endpoints: user}, Status: statusRunning, Count: opts.Count, Template: template, ConfigEnv: opts.ConfigEnv, Overrides: opts.Overrides}
		return st, saveState(opts.WorkDir, st)
	}
	if !opts.Fresh && prev.Status == statusRunning && len(prev.PIDs) > 0 && emulatorsAlive(prev, user) {
		if err := sameSettings(); err != nil {
			return runState{}, err
		}
		fmt.Fprintf(logw, "resuming the interrupted run on %s\n", prev.Endpoint)
		rep.Resumed = true
		prev.Count, prev.Template, prev.ConfigEnv, prev.Overrides = opts.Count, template, opts.ConfigEnv, opts.Overrides
		return prev, saveState(opts.WorkDir, prev)
	}
	if pids := prev.pids(); len(pids) > 0 {
		// The emulators of an earlier run.
		if err := localenv.StopEmulators(pids); err != nil {
			return runState{}, fmt.Errorf("stop the emulators of the previous run: %w", err)
		}
	}
	_ = os.RemoveAll(ckpt)
	fmt.Fprintf(logw, "starting the emulators (moto: %s)\n", localenv.Layout())
	endpoints, pids, err := localenv.StartDetached(ctx, opts.WorkDir)
	if err != nil {
		return runState{}, err
	}
	st := runState{RunEndpoints: RunEndpoints{Endpoint: endpoints["s3"], Endpoints: endpoints}, PIDs: pids, Status: statusRunning, Count: opts.Count, Template: template, ConfigEnv: opts.ConfigEnv, Overrides: opts.Overrides}
	for svc, u := range user {
		st.Endpoints[svc] = u
	}
	return st, saveState(opts.WorkDir, st)
}

// emulatorsAlive reports whether every endpoint of st answers and the user's
// per-service endpoints are still those st uses.
func emulatorsAlive(st runState, user map[string]string) bool {
	for svc, u := range user {
		if st.Endpoints[svc] != u {
			return false
		}
	}
	for _, svc := range localenv.Services() {
		if u := st.endpoint(svc); u == "" || !localenv.Alive(u) {
			return false
		}
	}
	return true
}

// StopEmulator stops the detached emulator processes a run in workDir left
// running, if any, and returns once they have exited (localenv.StopEmulators).
// It returns the base endpoint they served.
func StopEmulator(workDir string) (string, error) {
	st, err := loadState(workDir)
	if err != nil {
		return "", err
	}
	pids := st.pids()
	if len(pids) == 0 {
		return "", nil
	}
	if err := localenv.StopEmulators(pids); err != nil {
		return "", err
	}
	st.PIDs, st.PID, st.Status = nil, 0, statusCompleted
	return st.Endpoint, saveState(workDir, st)
}

// StartedEmulators reports whether the last run in workDir started emulator
// processes of its own, which StopEmulator stops; false when it used only the
// user's (AWS_ENDPOINT_URL), which keep running after StopEmulator.
func StartedEmulators(workDir string) bool {
	st, err := loadState(workDir)
	return err == nil && len(st.pids()) > 0
}

// EmulatorEndpoint returns the base endpoint (AWS_ENDPOINT_URL) of the emulators
// the last run in workDir used, if it still answers.
func EmulatorEndpoint(workDir string) string {
	st, err := loadState(workDir)
	if err != nil || st.Endpoint == "" || !localenv.Alive(st.Endpoint) {
		return ""
	}
	return st.Endpoint
}

// EmulatorEndpoints returns, for the emulators the last run in workDir used,
// each service's endpoint URL (keys "kinesis", "dynamodb", "s3", "sqs"; the
// variables are motoserver.EndpointEnv(service)), or nil when they no longer
// answer.
func EmulatorEndpoints(workDir string) map[string]string {
	st, err := loadState(workDir)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, svc := range localenv.Services() {
		u := st.endpoint(svc)
		if u == "" || !localenv.Alive(u) {
			return nil
		}
		out[svc] = u
	}
	return out
}
