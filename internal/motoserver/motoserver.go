package motoserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
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
		p := filepath.Join(root, ".venv", "bin", "moto_server")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	return "", errors.New("moto_server not found: run `make venv` (or set MOTO_SERVER)")
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

// Kill stops a detached server by its process id (its whole process group).
func Kill(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("invalid pid %d", pid)
	}
	return syscall.Kill(-pid, syscall.SIGTERM)
}

func start(ctx context.Context, bin string, port int, logw *os.File, detached bool) (*Server, error) {
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
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
// binary the test is skipped with a message saying how to run it, unless
// STREAMLAKE_REQUIRE_MOTO is set (as `make test` does), in which case it fails.
//
// The shared server lives until the test binary exits (it is killed with its
// parent). Tests must use resource names of their own, as they share state.
func ForTest(tb testing.TB) *Server {
	tb.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = Start(context.Background(), nil)
	})
	if sharedErr != nil {
		if os.Getenv(RequireEnv) != "" {
			tb.Fatalf("moto server: %v", sharedErr)
		}
		tb.Skipf("integration test needs moto server (%v); run `make test`", sharedErr)
	}
	// tools/testsummary counts the tests that log this line.
	tb.Logf("integration test against moto server %s", shared.URL)
	tb.Setenv("AWS_ENDPOINT_URL", shared.URL)
	tb.Setenv("AWS_REGION", "us-east-1")
	tb.Setenv("AWS_ACCESS_KEY_ID", "testing")
	tb.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	tb.Setenv("AWS_SESSION_TOKEN", "")
	return shared
}

// StartDetachedBinary is StartDetached with the moto server executable bin
// instead of Binary() (for example a launcher that patches moto, see
// internal/kinesisreshard).
func StartDetachedBinary(ctx context.Context, bin string, logw *os.File) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return start(ctx, bin, port, logw, true)
}
