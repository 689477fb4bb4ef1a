//go:build unix

package lambdahost

import (
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
