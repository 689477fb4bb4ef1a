package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
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
// one that names only the first hot function lacks the others.
func TestMissingFunctions(t *testing.T) {
	names := make([]string, len(hotFunctions))
	for i, fn := range hotFunctions {
		names[i] = runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte("\x00" + names[0] + "\x00")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "partial.pgo")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := missingFunctions(t, path, hotFunctions), names[1:]; !slices.Equal(got, want) {
		t.Errorf("missingFunctions(partial profile) = %q; want %q", got, want)
	}
}
