package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/record"
)

// hotFunctions are functions on the processor's hot path that a profile of its
// handler must name. Their names come from the compiled code, so renaming one
// makes the committed profile stale and this list says so.
var hotFunctions = []any{
	(*ingest.Processor).Invoke,
	(*ingest.Processor).HandleJSON,
	(*record.PayloadScanner).Payload,
	(*record.LineFormat).Append,
	(*ndjson.Encoder).Write,
}

// missingFunctions returns the names of fns that the gzip-compressed pprof
// profile at path does not mention. A profile is a protocol buffer whose string
// table holds each function's full name as plain text, so looking for the name
// in the decompressed bytes is enough.
func missingFunctions(t *testing.T, path string, fns []any) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: not a gzip-compressed profile: %v", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var missing []string
	for _, fn := range fns {
		name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		if !bytes.Contains(raw, []byte(name)) {
			missing = append(missing, name)
		}
	}
	return missing
}

// TestProfileNamesTheHotPath checks default.pgo, the profile the go command builds
// this function with (-pgo=auto): a profile taken before a hot function was
// renamed or moved no longer applies to it, and the build is slower without any
// other sign. `make pgo` takes the profile again.
func TestProfileNamesTheHotPath(t *testing.T) {
	if missing := missingFunctions(t, "default.pgo", hotFunctions); len(missing) > 0 {
		t.Errorf("default.pgo does not name %q: take the profile again with `make pgo`", missing)
	}
}

// TestMissingFunctions checks that missingFunctions finds what a profile lacks:
// a profile of a process that ran none of the hot path names none of it.
func TestMissingFunctions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idle.pgo")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if missing := missingFunctions(t, path, hotFunctions); len(missing) != len(hotFunctions) {
		t.Errorf("missingFunctions(idle profile) = %q; want all %d hot functions", missing, len(hotFunctions))
	}
}
