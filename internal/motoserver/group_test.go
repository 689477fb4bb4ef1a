package motoserver

import (
	"context"
	"fmt"
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

// TestProcState checks the /proc/<pid>/stat reader on the fields groupAlive
// needs, with a command name holding spaces and parentheses.
func TestProcState(t *testing.T) {
	for _, c := range []struct {
		line  string
		state byte
		pgrp  int
		ok    bool
	}{
		{"4242 (moto_server) S 1 4242 4242 0 -1", 'S', 4242, true},
		{"4243 (sleep) Z 4242 4242 4242 0 -1", 'Z', 4242, true},
		{"77 (a) b (c) R 1 70 70 0", 'R', 70, true},
		{"77 (no close paren S 1 70", 0, 0, false},
		{"77 (x) S 1", 0, 0, false},
		{"77 (x) S 1 seventy", 0, 0, false},
	} {
		state, pgrp, ok := procState([]byte(c.line))
		if state != c.state || pgrp != c.pgrp || ok != c.ok {
			t.Errorf("procState(%q) = %q, %d, %v; want %q, %d, %v", c.line, state, pgrp, ok, c.state, c.pgrp, c.ok)
		}
	}
}

// TestGroupAliveWhileAMemberRuns checks that a group is alive while a member
// runs, whether its leader has exited and is a zombie (not reaped yet) or has
// been reaped, and that Stop ends it.
func TestGroupAliveWhileAMemberRuns(t *testing.T) {
	cmd := exec.Command("sh", "-c", `sleep 30 >/dev/null 2>&1 & exit 0`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	// Wait for the leader to exit: not reaped, it is a zombie.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pgid))
		if err != nil {
			t.Fatal(err)
		}
		if state, _, ok := procState(b); ok && state == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the leader did not exit")
		}
	}
	if !groupAlive(pgid) {
		t.Error("groupAlive = false with a zombie leader while the group's sleep runs")
	}
	_ = cmd.Wait() // reap the leader
	if !groupAlive(pgid) {
		t.Error("groupAlive = false with the leader reaped while the group's sleep runs")
	}
	if err := Stop([]int{pgid}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if groupAlive(pgid) {
		t.Error("groupAlive = true after Stop")
	}
}

// TestStartOnATakenPort checks that a server whose port another emulator holds
// fails to start instead of handing out the other emulator's URL.
func TestStartOnATakenPort(t *testing.T) {
	bin, err := Binary()
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("moto server: %v", err)
		}
		t.Skipf("needs moto server (%v); run `make test`", err)
	}
	other, err := Start(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	MarkIntegration(t, other.URL)
	var port int
	if _, err := fmt.Sscanf(other.URL, "http://127.0.0.1:%d", &port); err != nil {
		t.Fatal(err)
	}
	s, err := start(context.Background(), bin, port, nil, false)
	if err == nil {
		s.Close()
		t.Fatalf("start on port %d, held by pid %d, succeeded with pid %d", port, other.PID(), s.PID())
	}
	t.Logf("start on a taken port: %v", err)
}
