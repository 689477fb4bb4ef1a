//go:build unix

package lambdahost

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

// TestStartError: only a bootstrap the operating system refuses to run
// (missing, not executable, not a program for this machine) is the function's
// Runtime.InvalidEntrypoint; a start that fails for want of a process or a
// file descriptor (fork's EAGAIN, ENOMEM, a pipe's EMFILE) is the host's
// problem, which the next attempt may not have, and must not spend the
// batch's retries or send it to the on-failure destination.
func TestStartError(t *testing.T) {
	const binary = "/task/bootstrap"
	forkExec := func(errno syscall.Errno) error { return &fs.PathError{Op: "fork/exec", Path: binary, Err: errno} }
	for _, tc := range []struct {
		name       string
		err        error
		entrypoint bool
	}{
		{"missing", forkExec(syscall.ENOENT), true},
		{"not executable", forkExec(syscall.EACCES), true},
		{"no exec mount", forkExec(syscall.EPERM), true},
		{"not a program for this machine", forkExec(syscall.ENOEXEC), true},
		{"a file in the path", forkExec(syscall.ENOTDIR), true},
		{"no process left", forkExec(syscall.EAGAIN), false},
		{"no memory", forkExec(syscall.ENOMEM), false},
		{"binary busy being written", forkExec(syscall.ETXTBSY), false},
		{"no file descriptor for the pipes", os.NewSyscallError("pipe2", syscall.EMFILE), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := startError(binary, tc.err)
			var ee *execError
			if got := errors.As(err, &ee); got != tc.entrypoint {
				t.Errorf("startError(%v) = %v, an invalid entrypoint: %v; want %v", tc.err, err, got, tc.entrypoint)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("startError(%v) = %v; want it to wrap the start's error", tc.err, err)
			}
		})
	}
}
