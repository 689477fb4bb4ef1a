package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// runState is WorkDir/run.json: which emulator a run uses and whether it finished.
type runState struct {
	Endpoint string `json:"endpoint"`
	// PID is the detached moto server's process id; 0 when the emulator is the
	// user's (AWS_ENDPOINT_URL).
	PID int `json:"pid"`
	// Status is "running" until the run completes, then "completed".
	Status string `json:"status"`
	// Count is the number of records the run produces in all.
	Count int `json:"count"`
}

const (
	statusRunning   = "running"
	statusCompleted = "completed"
)

func loadState(dir string) (runState, error) {
	var s runState
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return runState{}, fmt.Errorf("%s: %w", filepath.Join(dir, "run.json"), err)
	}
	return s, nil
}

func saveState(dir string, s runState) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	tmp := filepath.Join(dir, "run.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "run.json"))
}

func listenLoopback() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	return l, nil
}
