package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
)

// buildHello compiles a tiny main package with the go command running this test and
// returns the binary's path.
func buildHello(t *testing.T, env []string, args ...string) string {
	t.Helper()
	return buildHelloIn(t, t.TempDir(), env, args...)
}

// buildHelloWithProfile is buildHello with a CPU profile as default.pgo beside the
// main package, which the go command then builds with (-pgo=auto).
func buildHelloWithProfile(t *testing.T, env []string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "default.pgo"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return buildHelloIn(t, dir, env, args...)
}

func buildHelloIn(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", append(append([]string{"build", "-o", out}, args...), ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"GOFLAGS=", "GOOS=linux"}, env...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, b)
	}
	return out
}

var lambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries; run without -short")
	}
	goVer := runtime.Version()
	good := buildHello(t, []string{"CGO_ENABLED=0", "GOARCH=arm64"}, lambdaFlags...)
	unstripped := buildHello(t, []string{"CGO_ENABLED=0", "GOARCH=arm64"}, "-tags", "lambda.norpc", "-trimpath")
	noTags := buildHello(t, []string{"CGO_ENABLED=0", "GOARCH=arm64"}, "-trimpath", "-ldflags=-s -w")
	noTrim := buildHello(t, []string{"CGO_ENABLED=0", "GOARCH=arm64"}, "-tags", "lambda.norpc", "-ldflags=-s -w")
	amd64 := buildHello(t, []string{"CGO_ENABLED=0", "GOARCH=amd64"}, lambdaFlags...)
	guided := buildHelloWithProfile(t, []string{"CGO_ENABLED=0", "GOARCH=arm64"}, lambdaFlags...)
	guidedOff := buildHelloWithProfile(t, []string{"CGO_ENABLED=0", "GOARCH=arm64"}, append([]string{"-pgo=off"}, lambdaFlags...)...)
	pie := buildHello(t, []string{"CGO_ENABLED=0", "GOARCH=arm64"}, append([]string{"-buildmode=pie"}, lambdaFlags...)...)
	notELF := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     []string
		status   int
		wantErrs []string // substrings of stderr
	}{
		{"lambda build", []string{"-go", goVer, good}, 0, nil},
		{"size bound", []string{"-go", goVer, "-max-bytes", "1000", good}, 1, []string{"want at most 1000"}},
		{"not stripped", []string{"-go", goVer, unstripped}, 1, []string{".symtab", "DWARF"}},
		{"no lambda.norpc", []string{"-go", goVer, noTags}, 1, []string{"want lambda.norpc"}},
		{"no trimpath", []string{"-go", goVer, noTrim}, 1, []string{"-trimpath"}},
		{"wrong architecture", []string{"-go", goVer, amd64}, 1, []string{"want EM_AARCH64", `GOARCH="amd64"`}},
		{"amd64 asked for", []string{"-go", goVer, "-arch", "amd64", amd64}, 0, nil},
		{"position independent", []string{"-go", goVer, pie}, 1, []string{"want ET_EXEC"}},
		{"profile-guided", []string{"-go", goVer, "-pgo", guided}, 0, nil},
		{"profile-guided not asked for", []string{"-go", goVer, guided}, 0, nil},
		{"no profile", []string{"-go", goVer, "-pgo", good}, 1, []string{"no profile-guided build"}},
		{"profile turned off", []string{"-go", goVer, "-pgo", guidedOff}, 1, []string{"no profile-guided build"}},
		{"other Go release", []string{"-go", "go1.0", good}, 1, []string{"want go1.0"}},
		{"not ELF", []string{"-go", goVer, notELF}, 1, []string{"not an ELF file"}},
		{"missing", []string{"-go", goVer, filepath.Join(t.TempDir(), "none")}, 1, []string{"stat"}},
		{"one bad of two", []string{"-go", goVer, good, noTags}, 1, []string{"want lambda.norpc"}},
		{"no files", []string{"-go", goVer}, 2, []string{"want one or more"}},
		{"unknown arch", []string{"-arch", "386", good}, 2, []string{"want arm64 or amd64"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tc.args, &stdout, &stderr); got != tc.status {
				t.Fatalf("run(%v) = %d; want %d\nstdout: %s\nstderr: %s", tc.args, got, tc.status, &stdout, &stderr)
			}
			for _, w := range tc.wantErrs {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("run(%v) stderr = %q; want it to contain %q", tc.args, &stderr, w)
				}
			}
			if tc.status == 0 && !strings.Contains(stdout.String(), ": ok: ") {
				t.Errorf("run(%v) stdout = %q; want an ok line", tc.args, &stdout)
			}
		})
	}
}

func TestToolchainLine(t *testing.T) {
	dir := t.TempDir()
	with := filepath.Join(dir, "with.mod")
	without := filepath.Join(dir, "without.mod")
	os.WriteFile(with, []byte("module m\n\ngo 1.26.8\n\ntoolchain go1.27.3\n"), 0o644)
	os.WriteFile(without, []byte("module m\n\ngo 1.26.8\n"), 0o644)
	if got, err := toolchainLine(with); err != nil || got != "go1.27.3" {
		t.Errorf("toolchainLine(with) = %q, %v; want go1.27.3, nil", got, err)
	}
	if got, err := toolchainLine(without); err == nil {
		t.Errorf("toolchainLine(without) = %q, nil; want an error", got)
	}
}
