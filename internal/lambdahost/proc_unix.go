//go:build unix

package lambdahost

import (
	"errors"
	"os/exec"
	"syscall"
)

// setProcessGroup puts the process in its own process group so that a kill reaches
// anything it spawned.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup sends SIGKILL to the process group, as Lambda does on timeout.
func killProcessGroup(cmd *exec.Cmd) {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		cmd.Process.Kill() //nolint:errcheck // already gone
	}
}

// bootstrapRefused reports whether exec's error errno, besides a missing file
// and a permission, says that the bootstrap is not something to run: not a
// program for this machine (ENOEXEC), a file where the path needs a directory
// (ENOTDIR), a symbolic link loop (ELOOP), a path too long (ENAMETOOLONG).
func bootstrapRefused(errno error) bool {
	for _, e := range []syscall.Errno{syscall.ENOEXEC, syscall.ENOTDIR, syscall.ELOOP, syscall.ENAMETOOLONG} {
		if errors.Is(errno, e) {
			return true
		}
	}
	return false
}
