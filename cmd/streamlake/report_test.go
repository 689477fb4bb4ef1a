package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/htmlreport"
	"github.com/streamlake/streamlake/internal/pipeline"
)

func TestWriteHTMLReport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.html")
	rep := &pipeline.Report{Sent: 3, Written: 3, Shards: []pipeline.ShardReport{{ShardID: "shardId-000000000000", Records: 3}}}
	if err := writeHTMLReport(path, rep); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := htmlreport.Inspect(page)
	if err != nil || len(out.Charts) != 5 {
		t.Errorf("Inspect(written report) = %+v, %v; want a self-contained page with 5 charts", out, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d files; want only the report (no temporary file left)", len(entries))
	}
	err = writeHTMLReport(filepath.Join(dir, "missing", "run.html"), rep)
	if err == nil || !strings.Contains(err.Error(), "HTML report") {
		t.Errorf("writeHTMLReport(into a missing directory) = %v; want an HTML report error", err)
	}
}

// TestReportVerdictOnKeyOrder: the verdict claims per-key order across a reshard
// only when some key was read from a parent and a child shard (a resumed run whose
// parents were done before the interruption has none).
func TestReportVerdictOnKeyOrder(t *testing.T) {
	for _, c := range []struct {
		across int
		want   string
	}{
		{3, "per-key order held across the reshard"},
		{0, "per-key order across the reshard not checked (no key read from a parent and a child shard)"},
	} {
		rep := &pipeline.Report{Sent: 3, Written: 3, Shards: []pipeline.ShardReport{{ShardID: "shardId-000000000000", Records: 3}},
			KeyOrder: &pipeline.KeyOrderReport{Reshard: "1 -> 2 open shards after 2 records", Keys: 2, Records: 3, AcrossShards: c.across}}
		var b strings.Builder
		printReport(&b, rep)
		out := b.String()
		if !strings.Contains(out, "OK: ") || !strings.Contains(out, c.want) {
			t.Errorf("report with %d keys across shards:\n%s\nwant an OK verdict with %q", c.across, out, c.want)
		}
		if c.across == 0 && strings.Contains(out, "order held") {
			t.Errorf("report with no key across shards claims order held:\n%s", out)
		}
	}
}

// TestLocalReportPathCheckedFirst: a --report that cannot be written is refused
// before the run starts (it used to be found only after the whole run, which
// then printed no accounting at all).
func TestLocalReportPathCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing", "run.html"), "no such file or directory"},
		{filepath.Join(file, "run.html"), "not a directory"},
		{dir, "is a directory"},
	} {
		code, stdout, stderr := runWithEnv(t, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_REGION": "us-east-1"},
			"local", "--template", "../../template.yaml", "--work-dir", t.TempDir(), "--report", c.path)
		if code != exitFailure || !strings.Contains(stderr, "streamlake local: --report "+c.path+": ") || !strings.Contains(stderr, c.want) ||
			strings.Contains(stderr, "starting") || stdout != "" {
			t.Errorf("local --report %s = exit %d, stdout %.100q, stderr %.300q; want exit 1 before the run, naming --report and %q", c.path, code, stdout, stderr, c.want)
		}
	}
}

// TestLocalReportInWorkDir: a --report inside the work directory, which the
// run creates (os.MkdirAll), is not refused because that directory does not
// exist yet (a first run, or one after make clean, with --report
// .local/run.html), and the check creates nothing.
func TestLocalReportInWorkDir(t *testing.T) {
	for _, sub := range []string{"wd", filepath.Join("a", "wd")} {
		dir := t.TempDir()
		wd := filepath.Join(dir, sub)
		for _, report := range []string{filepath.Join(wd, "run.html"), filepath.Join(filepath.Dir(wd), "run.html")} {
			if err := checkReportPath(report, wd); err != nil {
				t.Errorf("checkReportPath(%s) with work dir %s = %v; want nil: the run creates the directory", report, wd, err)
			}
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Errorf("after the check %s holds %v (%v); want nothing", dir, entries, err)
		}
	}
	// A directory the run does not create must exist.
	wd := filepath.Join(t.TempDir(), "wd")
	if err := checkReportPath(filepath.Join(wd, "other", "run.html"), wd); err == nil {
		t.Errorf("checkReportPath(inside a directory the run does not create) = nil; want an error")
	}
	if err := checkReportPath(filepath.Join(filepath.Dir(wd), "wdx", "run.html"), wd); err == nil {
		t.Errorf("checkReportPath(a sibling of the work dir) = nil; want an error")
	}
}

// TestLocalReportWriteFailureKeepsAccounting: an HTML report that cannot be
// written at the end of a run (its directory removed during the run, a full
// disk: what the check before the run cannot foresee) fails the run, but the
// accounting is printed all the same, as text or JSON.
func TestLocalReportWriteFailureKeepsAccounting(t *testing.T) {
	rep := &pipeline.Report{Sent: 3, Written: 3, Shards: []pipeline.ShardReport{{ShardID: "shardId-000000000000", Records: 3}}}
	missing := filepath.Join(t.TempDir(), "removed", "run.html")
	for _, asJSON := range []bool{false, true} {
		var stdout, stderr bytes.Buffer
		e := &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
		code := finishLocal(e, rep, missing, asJSON, t.TempDir())
		if code != exitFailure || !strings.Contains(stderr.String(), "HTML report") || !strings.Contains(stdout.String(), "shardId-000000000000") {
			t.Errorf("finishLocal(json %v, unwritable report) = exit %d, stdout %.200q, stderr %.200q; want exit 1, the HTML report's error and the accounting",
				asJSON, code, stdout.String(), stderr.String())
		}
	}
}
