package pipeline

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/internal/motoserver"
)

// EmulatorReport describes one emulator process at the end of a run.
type EmulatorReport struct {
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

// EmulatorSummary is the one-line summary of the emulators, "" without any.
func (r *Report) EmulatorSummary() string {
	if len(r.Emulators) == 0 {
		return ""
	}
	var parts []string
	var peak, cpu float64
	for _, e := range r.Emulators {
		parts = append(parts, fmt.Sprintf("%s %.0f MB peak, %.1f s CPU, %d requests",
			strings.Join(e.Services, "+"), e.PeakRSSMB, e.CPUSeconds, e.Requests))
		peak += e.PeakRSSMB
		cpu += e.CPUSeconds
	}
	return fmt.Sprintf("Emulators: %d errors (5xx); %s; together %.0f MB peak, %.1f s CPU",
		r.EmulatorErrors, strings.Join(parts, "; "), peak, cpu)
}

// readEmulators fills rep.Emulators and rep.EmulatorErrors from the emulators
// of endpoints that run through motoserver's launcher.
func readEmulators(endpoints map[string]string, rep *Report) {
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
		e := EmulatorReport{Services: svcs, URL: u, PID: st.PID, Requests: st.Requests, ServerErrors: st.ServerErrors}
		e.PeakRSSMB, e.RSSMB, e.CPUSeconds = processUsage(st.PID)
		rep.Emulators = append(rep.Emulators, e)
		rep.EmulatorErrors += st.ServerErrors
	}
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
