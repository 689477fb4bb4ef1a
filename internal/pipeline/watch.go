package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/motoserver"
)

// emulatorExitedError is the cause of a run cancelled because one of its
// emulator processes exited (killed, or crashed): moto keeps everything in
// memory, so the run's records in it are gone, and neither this run nor a
// resumed one can account for them.
type emulatorExitedError struct {
	pid     int
	process string // "kinesis", "s3-sqs", …; "" when unknown
	workDir string
}

func (e *emulatorExitedError) Error() string {
	name, log := "an emulator process", ""
	if e.process != "" {
		name = "the " + e.process + " emulator"
		log = ", log " + filepath.Join(e.workDir, "moto-"+e.process+".log")
	}
	return fmt.Sprintf("%s (pid %d%s) exited during the run: the records it held are gone, so the run cannot be completed or resumed; "+
		"run `streamlake local --stop` to stop the other emulators, then `streamlake local` starts afresh", name, e.pid, log)
}

// emulatorWatchInterval is how often watchEmulators looks at the processes.
const emulatorWatchInterval = time.Second

// watchEmulators returns a context derived from ctx that is cancelled, with an
// *emulatorExitedError as its cause, when one of the emulator processes st
// started (st.PIDs, in motoserver.Layout order) is no longer running. Without
// it, a killed emulator left the mappings and the producer retrying against a
// closed port forever. stop ends the watch.
func watchEmulators(ctx context.Context, st runState, workDir string, every time.Duration) (wctx context.Context, stop func()) {
	wctx, cancel := context.WithCancelCause(ctx)
	pids := st.pids()
	if len(pids) == 0 { // the user's emulators: not ours to watch
		return wctx, func() { cancel(nil) }
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-wctx.Done():
				return
			case <-t.C:
			}
			for i, pid := range pids {
				if localenv.Running(pid) {
					continue
				}
				e := &emulatorExitedError{pid: pid, workDir: workDir}
				if len(st.PIDs) == len(motoserver.Layout) && i < len(st.PIDs) {
					e.process = motoserver.Layout[i].Name
				}
				cancel(e)
				return
			}
		}
	}()
	return wctx, func() { close(done); cancel(nil) }
}

// emulatorExited returns, when wctx (of watchEmulators) was cancelled because
// an emulator exited, that reason in place of err (the errors of the calls the
// cancellation cut short, and advice to resume, would only mislead), else err.
func emulatorExited(wctx context.Context, err error) error {
	var e *emulatorExitedError
	if err == nil || !errors.As(context.Cause(wctx), &e) {
		return err
	}
	return e
}
