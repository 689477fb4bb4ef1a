package lambdahost

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Build compiles the Go main package in pkgDir into outDir/bootstrap for this
// machine (GOOS/GOARCH of the running program), the way the function is built for
// Lambda: CGO_ENABLED=0, -tags lambda.norpc, -trimpath, -ldflags=-s -w, and the
// go command's default -pgo=auto (a default.pgo in pkgDir makes it a profile-guided
// build, as the processor's is). It creates
// outDir if needed and returns the binary's absolute path. A failed build's error
// includes the compiler output. It runs the `go` command found in PATH.
func Build(ctx context.Context, pkgDir, outDir string) (string, error) {
	out, err := filepath.Abs(filepath.Join(outDir, "bootstrap"))
	if err != nil {
		return "", fmt.Errorf("build %s: %w", pkgDir, err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", pkgDir, err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	output, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", pkgDir, err, bytes.TrimSpace(output))
	}
	return out, nil
}
