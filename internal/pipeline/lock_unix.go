//go:build unix

package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockWorkDir takes an exclusive lock on dir/lock for the life of a run, so that a
// second `streamlake local` in the same work directory fails at once instead of
// starting emulators that the first run's state file does not name (and that
// `local --stop` then cannot stop). The kernel releases the lock when the
// process ends, however it ends, so a killed run leaves nothing to clean up.
func lockWorkDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another `streamlake local` is running in %s: wait for it to end or interrupt it, or give this one another --work-dir", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}
