package main

import (
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
