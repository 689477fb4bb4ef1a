package localenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/internal/motoserver"
)

// Services returns the services of the emulators (motoserver.Layout): "kinesis",
// "dynamodb", "s3", "sqs".
func Services() []string { return motoserver.Services() }

// Layout describes the emulator processes, e.g. "s3+sqs, kinesis, dynamodb".
func Layout() string {
	var parts []string
	for _, p := range motoserver.Layout {
		parts = append(parts, strings.Join(p.Services, "+"))
	}
	return strings.Join(parts, ", ")
}

// StartDetached starts the emulator processes of motoserver.Layout, detached so
// that they outlive this process, with their logs in logDir. It returns each
// service's endpoint and the processes' ids (for StopEmulators).
func StartDetached(ctx context.Context, logDir string) (endpoints map[string]string, pids []int, err error) {
	g, err := motoserver.StartGroup(ctx, logDir, true)
	if err != nil {
		return nil, nil, fmt.Errorf("start the AWS emulators: %w", err)
	}
	return maps.Clone(g.Endpoints), g.PIDs(), nil
}

// StopEmulators stops the emulator processes pids (each leads its process
// group) and returns once they have exited: SIGTERM, then SIGKILL after
// motoserver.StopGrace.
func StopEmulators(pids []int) error { return motoserver.Stop(pids, motoserver.StopGrace) }

// Running reports whether the detached emulator process pid (of StartDetached)
// is still running.
func Running(pid int) bool { return motoserver.Running(pid) }

// Alive reports whether the emulator at url answers.
func Alive(url string) bool { return motoserver.Alive(url) }

// Faithful reports whether the emulator at url runs through motoserver's
// launcher, which makes moto reshard as Kinesis does and isolate DynamoDB
// transactions (motoserver.Patched).
func Faithful(url string) bool { return motoserver.Patched(url) }

// Getenv returns getenv with the emulator endpoints in place of the caller's:
// AWS_ENDPOINT_URL is base, and AWS_ENDPOINT_URL_<SERVICE> the service's
// endpoint in endpoints, else base.
func Getenv(base string, endpoints map[string]string, getenv func(string) string) func(string) string {
	return func(k string) string {
		if k == "AWS_ENDPOINT_URL" {
			return base
		}
		for _, svc := range motoserver.Services() {
			if k == motoserver.EndpointEnv(svc) {
				return firstNonEmpty(endpoints[svc], base)
			}
		}
		return getenv(k)
	}
}

// EmulatorProcess describes one emulator process that runs through
// motoserver's launcher.
type EmulatorProcess struct {
	// Services are the services the run sent to it.
	Services []string `json:"services"`
	URL      string   `json:"url"`
	PID      int      `json:"pid"`
	// Requests and ServerErrors are what it answered in its life (a resumed
	// run's emulator counts the interrupted run's too).
	Requests     int64 `json:"requests"`
	ServerErrors int64 `json:"server_errors"`
	// PeakRSSMB is the process's peak resident memory (VmHWM), RSSMB its
	// resident memory now, CPUSeconds its user and system time: in its life;
	// zero when the process is not on this machine.
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	RSSMB      float64 `json:"rss_mb"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// DescribeEmulators describes the emulator processes that serve endpoints (by
// service) and run through motoserver's launcher, and sums their 5xx answers;
// other endpoints are left out.
func DescribeEmulators(endpoints map[string]string) (procs []EmulatorProcess, serverErrors int64) {
	byURL := map[string][]string{}
	for svc, u := range endpoints {
		byURL[u] = append(byURL[u], svc)
	}
	urls := make([]string, 0, len(byURL))
	for u := range byURL {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, u := range urls {
		st, err := motoserver.ReadStatus(u)
		if err != nil {
			continue // not ours: nothing to say about it
		}
		svcs := byURL[u]
		sort.Strings(svcs)
		e := EmulatorProcess{Services: svcs, URL: u, PID: st.PID, Requests: st.Requests, ServerErrors: st.ServerErrors}
		e.PeakRSSMB, e.RSSMB, e.CPUSeconds = processUsage(st.PID)
		procs = append(procs, e)
		serverErrors += st.ServerErrors
	}
	return procs, serverErrors
}

// processUsage reads a process's peak and current resident memory (MB) and CPU
// time (s) from /proc; zeros when it cannot.
func processUsage(pid int) (peakMB, rssMB, cpu float64) {
	if pid <= 0 {
		return 0, 0, 0
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			f := strings.Fields(v)
			if len(f) == 0 {
				continue
			}
			kb, _ := strconv.ParseFloat(f[0], 64)
			switch k {
			case "VmHWM":
				peakMB = kb / 1024
			case "VmRSS":
				rssMB = kb / 1024
			}
		}
	}
	cpu = processCPUSeconds(pid)
	return peakMB, rssMB, cpu
}

// processCPUSeconds reads utime+stime of /proc/<pid>/stat (clock ticks of 1/100
// s, the value Linux exports to user space on every architecture Go supports).
func processCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// After the command: state is field 3; utime and stime are fields 14, 15.
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}
