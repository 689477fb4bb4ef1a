package pipeline

import (
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/localrun"
	"github.com/streamlake/streamlake/internal/motoserver"
)

// brokenBuildTemplate writes a template whose Kinesis function does not compile
// (a failure that only the build finds, after the emulators have started) and
// returns its path.
func brokenBuildTemplate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	code := filepath.Join(dir, "fn")
	if err := os.MkdirAll(code, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(code, "main.go"), []byte("package main\n\nfunc main() { undefined() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const tpl = `Transform: AWS::Serverless-2016-10-31
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: fn/
      Events:
        K:
          Type: Kinesis
          Properties: {Stream: !GetAtt Stream.Arn, StartingPosition: TRIM_HORIZON}
`
	path := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// keepEndpointEnv restores the endpoint variables after the test:
// localenv.Open sets them in the process to the run's emulators, which these
// tests stop.
func keepEndpointEnv(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", os.Getenv("AWS_ENDPOINT_URL"))
	for _, svc := range localenv.Services() {
		k := motoserver.EndpointEnv(svc)
		if v, ok := os.LookupEnv(k); ok {
			t.Setenv(k, v)
		} else {
			t.Setenv(k, "")
			t.Cleanup(func() { os.Unsetenv(k) })
		}
	}
}

// detachedEnv is the environment of a run that starts its own emulators: no
// AWS_ENDPOINT_URL (motoserver.ForTest sets it for the process).
func detachedEnv(k string) string {
	if strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
		return ""
	}
	return os.Getenv(k)
}

// TestFailedSetupStopsItsEmulators: a run whose setup fails before it produced a
// record stops the emulators it started and forgets the run, so that the next
// run starts afresh. It left three moto processes running without a word, and
// the next run, of any template, "resumed" it.
func TestFailedSetupStopsItsEmulators(t *testing.T) {
	motoserver.ForTest(t)
	keepEndpointEnv(t)
	work := t.TempDir()
	t.Cleanup(func() { _, _ = StopEmulator(work) })
	opts := Options{TemplatePath: brokenBuildTemplate(t), WorkDir: work, Count: 10, Getenv: detachedEnv}
	_, err := Run(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "build") {
		t.Fatalf("Run() error = %v; want the build failure", err)
	}
	st, lerr := loadState(work)
	if lerr != nil {
		t.Fatal(lerr)
	}
	if st.Status == statusRunning || len(st.pids()) != 0 {
		t.Errorf("state after the failed setup: status %q, pids %v; want the run not resumable and no emulator recorded", st.Status, st.pids())
	}
	if len(st.Endpoints) == 0 {
		t.Fatalf("state after the failed setup has no endpoints; want those of the emulators it started")
	}
	for svc, u := range st.Endpoints {
		if localenv.Alive(u) {
			t.Errorf("the %s emulator at %s still answers after the failed setup", svc, u)
		}
	}
	if _, err := os.Stat(localrun.Path(work)); !os.IsNotExist(err) {
		t.Errorf("session after the failed setup: %v; want none (the other commands would use stopped emulators)", err)
	}
}

// TestFailedSetupKeepsResumedEmulators: the emulators of an interrupted run hold
// its records: a resumed run whose setup fails keeps them and says so.
func TestFailedSetupKeepsResumedEmulators(t *testing.T) {
	motoserver.ForTest(t)
	keepEndpointEnv(t)
	work := t.TempDir()
	endpoints, pids, err := localenv.StartDetached(context.Background(), work)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = localenv.StopEmulators(pids) })
	tpl := brokenBuildTemplate(t)
	abs, _ := filepath.Abs(tpl)
	st := runState{RunEndpoints: RunEndpoints{Endpoint: endpoints["s3"], Endpoints: endpoints}, PIDs: pids, Status: statusRunning, Count: 10, Template: abs}
	if err := saveState(work, st); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Options{TemplatePath: tpl, WorkDir: work, Count: 10, Getenv: detachedEnv})
	want := "the emulators of the interrupted run in " + work + " are still running"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Run() error = %v; want %q", err, want)
	}
	for svc, u := range endpoints {
		if !localenv.Alive(u) {
			t.Errorf("the %s emulator of the interrupted run at %s was stopped", svc, u)
		}
	}
	if st, _ := loadState(work); st.Status != statusRunning || len(st.PIDs) != len(pids) {
		t.Errorf("state after the failed setup: %+v; want the interrupted run still resumable", st)
	}
}

// TestResumeRefusesAnotherTemplate: an interrupted run is resumed only by a run
// of its own template, read with its own --config-env and
// --parameter-overrides (its stack was created with them).
func TestResumeRefusesAnotherTemplate(t *testing.T) {
	abs, err := filepath.Abs(template)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, configEnv string
		overrides       map[string]string
		want            string
	}{
		{"template", "", nil, " is of /elsewhere/template.yaml, not " + abs},
		{"config env", "dev", nil, ` used --config-env "", not "dev"`},
		{"overrides", "", map[string]string{"ShardCount": "3", "BatchSize": "100"}, ` used --parameter-overrides "ShardCount=2", not "BatchSize=100 ShardCount=3"`},
		{"no overrides", "", nil, ` used --parameter-overrides "ShardCount=2", not ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			const endpoint = "http://127.0.0.1:1"
			getenv := func(k string) string {
				if k == "AWS_ENDPOINT_URL" {
					return endpoint
				}
				return ""
			}
			st := runState{RunEndpoints: RunEndpoints{Endpoint: endpoint, Endpoints: localenv.ResolveEndpoints(getenv)},
				Status: statusRunning, Count: 10, Template: abs, Overrides: map[string]string{"ShardCount": "2"}}
			if tc.name == "template" {
				st.Template, st.Overrides = "/elsewhere/template.yaml", nil
			}
			if err := saveState(work, st); err != nil {
				t.Fatal(err)
			}
			_, err := Run(context.Background(), Options{TemplatePath: template, ConfigEnv: tc.configEnv, Overrides: tc.overrides, WorkDir: work, Count: 10, Getenv: getenv})
			want := "the interrupted run in " + work + tc.want
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--fresh") {
				t.Errorf("Run() error = %v; want %q and --fresh", err, want)
			}
			if got, _ := loadState(work); !maps.Equal(got.Overrides, st.Overrides) || got.Template != st.Template {
				t.Errorf("state after the refusal: %+v; want the interrupted run's %+v", got, st)
			}
		})
	}
}

// TestNothingToResumeStartsAfresh: an interrupted run whose emulators are gone
// cannot be resumed, so a run of another template (or other settings) starts
// afresh instead of being refused.
func TestNothingToResumeStartsAfresh(t *testing.T) {
	motoserver.ForTest(t)
	keepEndpointEnv(t)
	work := t.TempDir()
	prev := runState{RunEndpoints: RunEndpoints{Endpoint: "http://127.0.0.1:1", Endpoints: map[string]string{"kinesis": "http://127.0.0.1:1"}},
		Status: statusRunning, Count: 10, Template: "/elsewhere/template.yaml", Overrides: map[string]string{"ShardCount": "3"}}
	if err := saveState(work, prev); err != nil {
		t.Fatal(err)
	}
	opts := Options{TemplatePath: template, WorkDir: work, Count: 10, Getenv: detachedEnv}
	rep := &Report{}
	st, err := prepareEmulator(context.Background(), &opts, io.Discard, rep)
	t.Cleanup(func() { _ = localenv.StopEmulators(st.PIDs) })
	if err != nil {
		t.Fatalf("prepareEmulator() = %v; want a fresh start (the interrupted run's emulators are gone)", err)
	}
	if rep.Resumed || len(st.PIDs) == 0 || st.Overrides != nil {
		t.Errorf("state %+v, resumed %v; want new emulators with this run's settings", st, rep.Resumed)
	}
}

// TestUnreadableRunState: a run.json that is not a run's state (truncated, edited)
// stops a run with an error that says how to go on; --fresh starts over without it
// and says so.
func TestUnreadableRunState(t *testing.T) {
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "run.json"), []byte(`{"endpoint": "http://127.0.0.1:1", "pids": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	_, err := previousState(&Options{WorkDir: work}, &log)
	if err == nil || !strings.Contains(err.Error(), "run.json") || !strings.Contains(err.Error(), "--fresh") {
		t.Errorf("previousState(truncated run.json) error = %v; want one naming the file and --fresh", err)
	}
	st, err := previousState(&Options{WorkDir: work, Fresh: true}, &log)
	if err != nil || len(st.pids()) != 0 {
		t.Errorf("previousState(truncated run.json, --fresh) = %+v, %v; want an empty state", st, err)
	}
	if !strings.Contains(log.String(), "starting afresh without the last run's state") {
		t.Errorf("log %q; want the start afresh said", log.String())
	}
}

// TestSecondRunInTheSameWorkDirFails: while one run holds the work directory, a
// second fails at once with an error that says so, before it starts anything.
func TestSecondRunInTheSameWorkDirFails(t *testing.T) {
	work := t.TempDir()
	unlock, err := lockWorkDir(work)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(t.Context(), Options{WorkDir: work, TemplatePath: filepath.Join(work, "no-template.yaml"), Count: 1})
	if err == nil || !strings.Contains(err.Error(), "another `streamlake local` is running in "+work) {
		t.Errorf("Run while the work directory is held = %v; want the other run named", err)
	}
	unlock()
	if _, err := lockWorkDir(work); err != nil {
		t.Errorf("lockWorkDir after unlock = %v", err)
	}
}
