package pipeline

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/motoserver"
)

// TestKilledEmulatorFailsTheRun kills the run's Kinesis emulator (SIGKILL)
// while the mapping runs: the run must end at once with an error naming the
// emulator, not retry against its closed port until interrupted.
func TestKilledEmulatorFailsTheRun(t *testing.T) {
	if _, err := motoserver.Binary(); err != nil {
		if os.Getenv(motoserver.RequireEnv) != "" {
			t.Fatal(err)
		}
		t.Skipf("needs moto server (%v); run `make test`", err)
	}
	opts := options(t, "killedemulator", 2000)
	opts.Rate = 100
	opts.Getenv = detachedEnv
	t.Cleanup(func() { _, _ = StopEmulator(opts.WorkDir) })
	var once sync.Once
	opts.Progress = func(p Progress) {
		if p.Succeeded == 0 {
			return
		}
		once.Do(func() {
			st, err := loadState(opts.WorkDir)
			if err != nil || len(st.PIDs) != len(motoserver.Layout) {
				t.Errorf("run state %+v, %v; want a process per layout entry", st, err)
				return
			}
			_ = syscall.Kill(-st.PIDs[1], syscall.SIGKILL) // Layout[1] is kinesis
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, opts)
	var e *emulatorExitedError
	if !errors.As(err, &e) || e.process != "kinesis" || !strings.Contains(err.Error(), "the kinesis emulator") {
		t.Fatalf("Run() = %v, %v after %s; want the kinesis emulator's exit as the error", rep, err, time.Since(start).Round(time.Second))
	}
	if ctx.Err() != nil {
		t.Errorf("the run ended only at the test's deadline")
	}
}
