package motoserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed" // launcher.py
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/renameio/v2"
)

// RequireEnv is the environment variable that turns a missing moto server from a
// skipped test into a failed one. `make test` sets it, so integration tests cannot
// silently skip there.
const RequireEnv = "STREAMLAKE_REQUIRE_MOTO"

// Server is a running moto server. Its zero value is not usable; use Start.
// Close is safe to call more than once.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL string

	cmd  *exec.Cmd
	once sync.Once
	done chan struct{}
}

// Binary returns the path of the moto_server executable, or an error saying how to
// install it.
func Binary() (string, error) {
	if p := os.Getenv("MOTO_SERVER"); p != "" {
		return p, nil
	}
	if root, err := moduleRoot(); err == nil {
		for _, venv := range []string{".venv-emulator", ".venv"} {
			p := filepath.Join(root, venv, "bin", "moto_server")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	return "", errors.New("moto_server not found: run `make venv-emulator` (or set MOTO_SERVER)")
}

// moduleRoot walks up from the working directory to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

// Start launches moto server on a free loopback port and waits until it answers.
// The server's output goes to logw (nil discards it). The server is stopped when
// Close is called; ctx only bounds the start-up.
func Start(ctx context.Context, logw *os.File) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := start(ctx, bin, port, logw, false)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// StartDetached is Start for a server that outlives this process: it runs in a
// session of its own and is not killed when its parent exits, so that a local
// pipeline that is interrupted can be resumed against the same emulator state.
// Stop it with Close, or later with Kill(pid).
func StartDetached(ctx context.Context, logw *os.File) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return start(ctx, bin, port, logw, true)
}

// PID returns the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Alive reports whether a moto server answers at url. It asks for moto's
// dashboard page (/moto-api/, a small static page), not /moto-api/data.json,
// which dumps every resource: after a run of 10,000 records that took 29 s and
// 13 MB, longer than the timeout, so a live server looked dead.
func Alive(url string) bool {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url + "/moto-api/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// StopGrace is how long Stop and Close wait after SIGTERM before they send SIGKILL.
const StopGrace = 5 * time.Second

// Kill stops a detached server by its process id (its whole process group), as
// Stop does.
func Kill(pid int) error { return Stop([]int{pid}, StopGrace) }

// Stop ends the process groups led by pids (detached servers, e.g. of an earlier
// run) and returns once every process of them has exited: SIGTERM, then SIGKILL
// to the groups still alive after grace. Groups that no longer exist are not an
// error.
func Stop(pids []int, grace time.Duration) error {
	var alive []int
	for _, pid := range pids {
		if pid <= 0 {
			return fmt.Errorf("invalid pid %d", pid)
		}
		if err := syscall.Kill(-pid, syscall.SIGTERM); err == nil {
			alive = append(alive, pid)
		} else if !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stop process group %d: %w", pid, err)
		}
	}
	gone := func(deadline time.Time) bool {
		for time.Now().Before(deadline) {
			still := alive[:0]
			for _, pid := range alive {
				if groupAlive(pid) {
					still = append(still, pid)
				}
			}
			alive = still
			if len(alive) == 0 {
				return true
			}
			time.Sleep(50 * time.Millisecond)
		}
		return false
	}
	if gone(time.Now().Add(grace)) {
		return nil
	}
	for _, pid := range alive {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	if gone(time.Now().Add(10 * time.Second)) {
		return nil
	}
	return fmt.Errorf("process groups %v still alive after SIGKILL", alive)
}

// Running reports whether a process of the group led by pid (a detached
// server's process id) is still running, as Stop judges it.
func Running(pid int) bool { return groupAlive(pid) }

// groupAlive reports whether a process of the group led by pid is alive: not a
// zombie waiting to be reaped. kill(2) answers for zombies too, so on Linux
// every process of the group is looked up in /proc: a killed leader can be a
// zombie, or already reaped, while another member is still running (or is a
// zombie itself). Without /proc, kill(2)'s answer stands.
func groupAlive(pid int) bool {
	if err := syscall.Kill(-pid, 0); err != nil {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited since ReadDir
		}
		if state, pgrp, ok := procState(b); ok && pgrp == pid && state != 'Z' {
			return true
		}
	}
	return false
}

// procState reads the state and the process group of a /proc/<pid>/stat line:
// "pid (comm) state ppid pgrp ...", where comm may hold spaces and parentheses.
func procState(stat []byte) (state byte, pgrp int, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pgrp, true
}

func start(ctx context.Context, bin string, port int, logw *os.File, detached bool) (*Server, error) {
	return startCmd(ctx, bin, port, logw, detached, false)
}

// startCmd starts moto server: through the launcher (launcher.py, with its fixes
// unless stock) when bin is a Python script, else bin itself.
func startCmd(ctx context.Context, bin string, port int, logw *os.File, detached, stock bool) (*Server, error) {
	args := []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	cmd := exec.Command(bin, args...)
	launched := false
	if python := interpreter(bin); python != "" {
		launched = true
		launcher, err := launcherPath()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(python, append([]string{launcher}, args...)...)
	}
	if stock {
		cmd.Env = append(os.Environ(), "STREAMLAKE_MOTO_STOCK=1")
	}
	cmd.Stdout, cmd.Stderr = logw, logw
	// Its own process group, so that Close also stops any worker it forks; killed
	// with its parent unless detached.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if err := s.answersItself(launched); err != nil {
					s.Close()
					return nil, err
				}
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("moto server exited during start-up (port %d)", port)
		case <-ctx.Done():
			s.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, fmt.Errorf("moto server on port %d did not answer within 60s", port)
		}
	}
}

// answersItself checks that the server answering at s.URL is s's process and
// not another one that held the port: the port is free when freePort picks it,
// but another process may bind it before moto server does (then this one exits
// at once, while the other answers). Through the launcher, the answer names its
// process id; a moto server run directly is only checked to be still running.
func (s *Server) answersItself(launched bool) error {
	if launched {
		st, err := ReadStatus(s.URL)
		if err != nil {
			return err
		}
		if st.PID != s.cmd.Process.Pid {
			return fmt.Errorf("%s is answered by another emulator (pid %d), not the one started (pid %d)", s.URL, st.PID, s.cmd.Process.Pid)
		}
		return nil
	}
	select {
	case <-s.done:
		return fmt.Errorf("moto server exited during start-up, while another server answers at %s", s.URL)
	default:
		return nil
	}
}

// Reset clears every emulated resource (moto's /moto-api/reset).
func (s *Server) Reset() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: status %d", resp.StatusCode)
	}
	return nil
}

// Close stops the server and waits for it to exit.
func (s *Server) Close() error {
	s.once.Do(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
	return nil
}

// interpreter returns the Python interpreter of the moto_server script bin (its
// #! line), or "" when bin is not a Python script.
func interpreter(bin string) string {
	f, err := os.Open(bin)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 512)
	n, _ := f.Read(buf)
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	if !strings.HasPrefix(line, "#!") {
		return ""
	}
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 || !strings.Contains(filepath.Base(fields[0]), "python") {
		return ""
	}
	if _, err := os.Stat(fields[0]); err != nil {
		return ""
	}
	return fields[0]
}

//go:embed launcher.py
var launcherSource []byte

var (
	launcherOnce sync.Once
	launcherFile string
	launcherErr  error
)

// launcherPath writes launcher.py into the user's cache directory (once per
// content) and returns its path.
func launcherPath() (string, error) {
	launcherOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		dir = filepath.Join(dir, "streamlake")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			launcherErr = fmt.Errorf("moto launcher: %w", err)
			return
		}
		sum := sha256.Sum256(launcherSource)
		launcherFile = filepath.Join(dir, fmt.Sprintf("moto_launcher_%x.py", sum[:6]))
		if b, err := os.ReadFile(launcherFile); err == nil && bytes.Equal(b, launcherSource) {
			return
		}
		// A temporary file renamed into place: concurrent test binaries never run a
		// half-written launcher.
		if err := renameio.WriteFile(launcherFile, launcherSource, 0o600); err != nil {
			launcherErr = fmt.Errorf("moto launcher: %w", err)
		}
	})
	return launcherFile, launcherErr
}

// Patched reports whether the emulator at url runs moto through this package's
// launcher with its fixes applied (and so answers DynamoDB transactions in
// isolation).
func Patched(url string) bool {
	st, err := ReadStatus(url)
	return err == nil && st.Patched
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// ForTest returns a moto server shared by all tests of the test binary, and sets
// AWS_ENDPOINT_URL, AWS_REGION and dummy credentials for the test. Without a moto
// binary, or with one of another moto version than the launcher's fixes are
// written for (another moto_server on the PATH: the launcher then runs it
// unpatched, and tests that rely on the fixes can wait forever), the test is
// skipped with a message saying how to run it, unless STREAMLAKE_REQUIRE_MOTO is
// set (as `make test` does), in which case it fails.
//
// The shared server lives until the test binary exits (it is killed with its
// parent). Tests must use resource names of their own, as they share state.
func ForTest(tb testing.TB) *Server {
	tb.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = Start(context.Background(), nil)
		if sharedErr == nil {
			sharedErr = patchedForTests(shared)
		}
	})
	if sharedErr != nil {
		if os.Getenv(RequireEnv) != "" {
			tb.Fatalf("moto server: %v", sharedErr)
		}
		tb.Skipf("integration test needs moto server (%v); run `make test`", sharedErr)
	}
	MarkIntegration(tb, shared.URL)
	tb.Setenv("AWS_ENDPOINT_URL", shared.URL)
	tb.Setenv("AWS_REGION", "us-east-1")
	tb.Setenv("AWS_ACCESS_KEY_ID", "testing")
	tb.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	tb.Setenv("AWS_SESSION_TOKEN", "")
	return shared
}

// patchedForTests returns an error, and stops s, when s runs moto unpatched.
func patchedForTests(s *Server) error {
	st, err := ReadStatus(s.URL)
	if err == nil && st.Patched {
		return nil
	}
	_ = s.Close()
	bin, _ := Binary()
	if err != nil {
		return fmt.Errorf("%s does not run through the streamlake launcher (%w): run `make test`, or set MOTO_SERVER to the moto_server of `make venv-emulator`", bin, err)
	}
	return fmt.Errorf("%s runs moto %s, which the launcher's fixes are not written for (tools/requirements-emulator.txt pins the version): run `make test`, or set MOTO_SERVER to the moto_server of `make venv-emulator`", bin, st.Moto)
}

// IntegrationAttr is the test attribute (testing.TB.Attr; an "attr" event in
// `go test -json` output) that marks a test run against moto server; its value
// is the server's URL. tools/testsummary counts the tests that carry it.
const IntegrationAttr = "streamlake.moto"

// MarkIntegration marks tb as an integration test against the moto server at
// url: the attribute IntegrationAttr, and a log line for the reader of the
// test's output. ForTest calls it; tests that start a server of their own call
// it too.
func MarkIntegration(tb testing.TB, url string) {
	tb.Helper()
	tb.Attr(IntegrationAttr, url)
	tb.Logf("integration test against moto server %s", url)
}

// Status is what an emulator started through the launcher says about itself.
type Status struct {
	// Moto is moto's version.
	Moto string `json:"moto"`
	// Patched is true when the launcher's fixes are applied.
	Patched bool `json:"patched"`
	// PID is the server's process id.
	PID int `json:"pid"`
	// Requests counts the requests answered; ServerErrors those answered with a
	// 5xx status.
	Requests     int64 `json:"requests"`
	ServerErrors int64 `json:"server_errors"`
}

// ReadStatus asks the emulator at url for its Status; it fails for an emulator
// not started through the launcher.
func ReadStatus(url string) (Status, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url + "/__streamlake/launcher")
	if err != nil {
		return Status{}, fmt.Errorf("emulator status: %w", err)
	}
	defer resp.Body.Close()
	var st Status
	if resp.StatusCode != http.StatusOK {
		return Status{}, fmt.Errorf("emulator status: %s answered %d (not started through the streamlake launcher)", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return Status{}, fmt.Errorf("emulator status: %w", err)
	}
	return st, nil
}
