package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/streamlake/streamlake/internal/motoserver"
)

// runState is WorkDir/run.json: which emulators a run uses and whether it
// finished.
type runState struct {
	// Endpoint is the base endpoint (AWS_ENDPOINT_URL): the user's, or the S3/SQS
	// emulator process, which answers any service.
	Endpoint string `json:"endpoint"`
	// Endpoints maps each service of motoserver.Layout ("kinesis", "dynamodb",
	// "s3", "sqs") to its endpoint URL.
	Endpoints map[string]string `json:"endpoints,omitempty"`
	// PIDs are the process ids of the detached emulator processes the run
	// started (each leads its process group); empty when the emulators are the
	// user's.
	PIDs []int `json:"pids,omitempty"`
	// PID is the single detached moto server of a state file written before
	// the emulators were split by service; read so that it can still be stopped.
	PID int `json:"pid,omitempty"`
	// Status is "running" until the run completes, then "completed".
	Status string `json:"status"`
	// Count is the number of records the run produces in all.
	Count int `json:"count"`
}

// pids returns every emulator process id the state records.
func (s runState) pids() []int {
	out := append([]int(nil), s.PIDs...)
	if s.PID > 0 {
		out = append(out, s.PID)
	}
	return out
}

// endpoint returns the URL of service, else the base endpoint.
func (s runState) endpoint(service string) string {
	if u := s.Endpoints[service]; u != "" {
		return u
	}
	return s.Endpoint
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

// serviceEndpoints returns the URL of every service the run uses (keys as in
// motoserver.Services), for the session file and its export line.
func (s runState) serviceEndpoints() map[string]string {
	out := map[string]string{}
	for _, svc := range motoserver.Services() {
		if u := s.endpoint(svc); u != "" {
			out[svc] = u
		}
	}
	return out
}
