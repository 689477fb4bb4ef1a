//go:build !unix

package lambdahost

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func killProcessGroup(cmd *exec.Cmd) {
	cmd.Process.Kill() //nolint:errcheck // already gone
}

// bootstrapRefused: only a missing file and a permission are told apart here.
func bootstrapRefused(error) bool { return false }
