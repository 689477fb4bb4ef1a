package motoserver

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestGroupStopWaitsForExit starts the emulator layout detached, as a local run
// does, and checks that Stop returns only once every process has exited.
func TestGroupStopWaitsForExit(t *testing.T) {
	if _, err := Binary(); err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("moto server: %v", err)
		}
		t.Skipf("needs moto server (%v); run `make test`", err)
	}
	g, err := StartGroup(context.Background(), t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	if len(g.Servers) != len(Layout) || len(g.Endpoints) != len(Services()) {
		t.Fatalf("group %+v; want %d processes serving %v", g, len(Layout), Services())
	}
	if g.Endpoints["s3"] != g.Endpoints["sqs"] || g.Endpoints["kinesis"] == g.Endpoints["dynamodb"] || g.Endpoints["s3"] == g.Endpoints["kinesis"] {
		t.Errorf("endpoints %v; want S3 and SQS together, Kinesis and DynamoDB apart", g.Endpoints)
	}
	for svc, u := range g.Endpoints {
		if !Patched(u) {
			t.Errorf("%s at %s does not run through the launcher", svc, u)
		}
	}
	if err := Stop(g.PIDs(), StopGrace); err != nil {
		t.Fatal(err)
	}
	for _, pid := range g.PIDs() {
		if groupAlive(pid) {
			t.Errorf("process group %d still alive after Stop returned", pid)
		}
	}
	for svc, u := range g.Endpoints {
		if Alive(u) {
			t.Errorf("%s at %s still answers after Stop returned", svc, u)
		}
	}
}

// TestStopKillsAfterGrace checks that a process group ignoring SIGTERM is
// killed once the grace period has passed, and that Stop waits for it.
func TestStopKillsAfterGrace(t *testing.T) {
	cmd := exec.Command("sh", "-c", `trap "" TERM; while :; do sleep 1; done`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-done })
	time.Sleep(100 * time.Millisecond) // let the shell install its trap
	start := time.Now()
	if err := Stop([]int{cmd.Process.Pid}, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("Stop returned after %v, before the grace period", d)
	}
	if groupAlive(cmd.Process.Pid) {
		t.Error("the group survived SIGKILL")
	}
	// A group that no longer exists is not an error.
	<-done
	if err := Stop([]int{cmd.Process.Pid}, time.Second); err != nil {
		t.Errorf("Stop of a finished group: %v", err)
	}
	if err := Stop([]int{0}, time.Second); err == nil {
		t.Error("Stop(0) succeeded; want an error")
	}
}
