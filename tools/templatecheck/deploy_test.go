package templatecheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSAM is a sam command for `make deploy`: `list stack-outputs` prints
// $FAKE_LIST_OUT to stderr and exits with $FAKE_LIST_RC; every call is appended to
// $FAKE_LOG.
const fakeSAM = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
if [ "$1 $2" = "list stack-outputs" ]; then
  echo "$FAKE_LIST_OUT" >&2
  exit "$FAKE_LIST_RC"
fi
exit 0
`

// TestMakeDeployGuidesAStackNotCreatedYet runs the Makefile's deploy target with a
// fake sam. The messages are the SAM CLI's (samcli/commands/list/exceptions.py):
// a stack that does not exist, and one without outputs, which is what a first
// deploy leaves when its change set is not executed (the stack stays in
// REVIEW_IN_PROGRESS, which sam deploy treats as no stack) or fails (ROLLBACK_COMPLETE,
// which sam deploy reports). Either goes to sam deploy; other errors stop make.
func TestMakeDeployGuidesAStackNotCreatedYet(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make: %v", err)
	}
	const (
		missing   = "Error: The input stack streamlake does not exist on Cloudformation in the region us-east-1"
		noOutputs = "Error: Outputs do not exist for the input stack streamlake on Cloudformation in the region us-east-1"
		noCreds   = "Error: Unable to locate credentials"
	)
	for _, c := range []struct {
		name, env, out, rc string
		wantDeploy         string // the deploy call; "" = none
		wantFail           bool
	}{
		{"exists", "default", "[]", "0", "deploy --config-env default", false},
		{"missing", "default", missing, "1", "deploy --guided --config-env default", false},
		{"change set not executed", "default", noOutputs, "1", "deploy --guided --config-env default", false},
		{"change set not executed, ci", "ci", noOutputs, "1", "deploy --config-env ci", false},
		{"missing, ci", "ci", missing, "1", "deploy --config-env ci", false},
		{"no credentials", "default", noCreds, "1", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			venv := filepath.Join(dir, "venv")
			if err := os.MkdirAll(filepath.Join(venv, "bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			sam := filepath.Join(venv, "bin", "sam")
			if err := os.WriteFile(sam, []byte(fakeSAM), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(venv, ".installed"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			log := filepath.Join(dir, "calls")
			cmd := exec.Command("make", "--no-print-directory", "-C", "../..", "deploy", "VENV="+venv, "SAM="+sam, "CONFIG_ENV="+c.env)
			cmd.Env = append(os.Environ(), "FAKE_LOG="+log, "FAKE_LIST_OUT="+c.out, "FAKE_LIST_RC="+c.rc)
			out, err := cmd.CombinedOutput()
			if (err != nil) != c.wantFail {
				t.Fatalf("make deploy: %v; want failure %v\n%s", err, c.wantFail, out)
			}
			calls, _ := os.ReadFile(log)
			var deploys []string
			for _, l := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
				if strings.HasPrefix(l, "deploy") {
					deploys = append(deploys, l)
				}
			}
			if got := strings.Join(deploys, "; "); got != c.wantDeploy {
				t.Errorf("sam calls %q; want deploy %q\nmake output:\n%s", calls, c.wantDeploy, out)
			}
		})
	}
}
