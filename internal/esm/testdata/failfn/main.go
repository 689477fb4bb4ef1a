// Command failfn is a Kinesis-triggered aws-lambda-go function for the esm
// conformance tests that run a real function binary. Each record's data is a JSON
// object {"key":"k1","n":7,"cmd":"ok"} whose cmd says what the invocation does:
//
//   - "ok" (or no cmd): nothing; the record succeeds;
//   - "error": the invocation returns an error (a function error, errorType
//     "errorString");
//   - "crash": the process exits with status 1 (Runtime.ExitError);
//   - "timeout": the invocation sleeps past its deadline (Sandbox.Timedout);
//   - "partial": the record's sequence number is reported in batchItemFailures.
//
// A cmd with the suffix "-once" ("error-once", "crash-once", "timeout-once",
// "partial-once") acts only the first time it is acted upon; later deliveries of
// the record succeed. The first error, crash or timeout of the batch (in batch
// order) decides the invocation, and the records after it do not act (their
// "-once" stays unused); "partial" records act only when no error, crash or
// timeout did. The "-once" state is kept in files under
// FAILFN_STATE_DIR, so it survives the crashes and timeouts that restart the
// process.
//
// Every invocation appends one JSON line to the file FAILFN_LOG (see logLine):
// the process id, the request id, when it started and ended, the records (in
// delivery order) and the outcome. The line is written before a crash or a
// timeout, so failed deliveries are logged too. Lines are written with one
// O_APPEND write each, so the processes of a pool can share the file.
// FAILFN_SLEEP_MS, if set, makes every invocation sleep that long first (to make
// concurrent invocations overlap).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Environment variables the function reads.
const (
	envLog      = "FAILFN_LOG"
	envStateDir = "FAILFN_STATE_DIR"
	envSleepMs  = "FAILFN_SLEEP_MS"
)

// data is a record's data blob.
type data struct {
	Key string `json:"key"`
	N   int    `json:"n"`
	Cmd string `json:"cmd"`
}

// loggedRecord is one record of a logLine.
type loggedRecord struct {
	Seq          string `json:"seq"`
	PartitionKey string `json:"partitionKey"`
	Key          string `json:"key"`
	N            int    `json:"n"`
	Cmd          string `json:"cmd"`
}

// logLine is the line appended to FAILFN_LOG for each invocation.
type logLine struct {
	PID       int            `json:"pid"`
	RequestID string         `json:"requestId"`
	Start     time.Time      `json:"start"`
	End       time.Time      `json:"end"`
	Records   []loggedRecord `json:"records"`
	// Outcome is "ok", "partial", "error", "crash" or "timeout".
	Outcome string `json:"outcome"`
	// Failures lists the reported sequence numbers of a partial outcome.
	Failures []string `json:"failures,omitempty"`
}

func main() {
	lambda.Start(handle)
}

func handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	line := logLine{PID: os.Getpid(), Start: time.Now().UTC(), Outcome: "ok"}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		line.RequestID = lc.AwsRequestID
	}
	if ms := os.Getenv(envSleepMs); ms != "" {
		d, err := strconv.Atoi(ms)
		if err != nil || d < 0 {
			return events.KinesisEventResponse{}, fmt.Errorf("%s=%q is not a number of milliseconds", envSleepMs, ms)
		}
		time.Sleep(time.Duration(d) * time.Millisecond)
	}

	cmds := make([]string, len(ev.Records))
	for i, r := range ev.Records {
		var d data
		if err := json.Unmarshal(r.Kinesis.Data, &d); err != nil {
			return events.KinesisEventResponse{}, fmt.Errorf("record %s: data is not a JSON command: %w", r.Kinesis.SequenceNumber, err)
		}
		line.Records = append(line.Records, loggedRecord{
			Seq: r.Kinesis.SequenceNumber, PartitionKey: r.Kinesis.PartitionKey, Key: d.Key, N: d.N, Cmd: d.Cmd,
		})
		cmds[i] = d.Cmd
	}

	var resp events.KinesisEventResponse
	// Errors, crashes and timeouts first, in batch order; partial failures only
	// if none of them acted.
	for _, partial := range []bool{false, true} {
		for i, r := range ev.Records {
			seq := r.Kinesis.SequenceNumber
			base, _ := strings.CutSuffix(cmds[i], "-once")
			switch base {
			case "", "ok":
				continue
			case "error", "crash", "timeout", "partial":
			default:
				return resp, fmt.Errorf("record %s: unknown cmd %q", seq, cmds[i])
			}
			if (base == "partial") != partial {
				continue
			}
			action, err := act(cmds[i], seq)
			if err != nil {
				return resp, err
			}
			switch action {
			case "partial":
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: seq})
				line.Failures = append(line.Failures, seq)
			case "error":
				line.Outcome = "error"
				if err := appendLog(line); err != nil {
					return resp, err
				}
				return resp, errors.New("record " + seq + " failed")
			case "crash":
				line.Outcome = "crash"
				if err := appendLog(line); err != nil {
					return resp, err
				}
				os.Exit(1)
			case "timeout":
				line.Outcome = "timeout"
				if err := appendLog(line); err != nil {
					return resp, err
				}
				wait := time.Hour
				if dl, ok := ctx.Deadline(); ok {
					wait = time.Until(dl) + 10*time.Second
				}
				time.Sleep(wait) // the host kills the process at the deadline
				return resp, errors.New("invocation outlived its deadline")
			}
		}
	}
	if len(resp.BatchItemFailures) > 0 {
		line.Outcome = "partial"
	}
	if err := appendLog(line); err != nil {
		return resp, err
	}
	return resp, nil
}

// act returns what cmd does for the record seq now: cmd itself, or for a
// "-once" cmd its action the first time and "ok" afterwards.
func act(cmd, seq string) (string, error) {
	action, once := strings.CutSuffix(cmd, "-once")
	if !once {
		return cmd, nil
	}
	dir := os.Getenv(envStateDir)
	if dir == "" {
		return "", fmt.Errorf("cmd %q needs %s", cmd, envStateDir)
	}
	f, err := os.OpenFile(filepath.Join(dir, "once-"+action+"-"+seq), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	switch {
	case errors.Is(err, os.ErrExist):
		return "ok", nil
	case err != nil:
		return "", fmt.Errorf("record %s: %w", seq, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("record %s: %w", seq, err)
	}
	return action, nil
}

// appendLog appends line to FAILFN_LOG (if set) with a single write.
func appendLog(line logLine) error {
	path := os.Getenv(envLog)
	if path == "" {
		return nil
	}
	line.End = time.Now().UTC()
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode log line: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write log: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close log: %w", err)
	}
	return nil
}
