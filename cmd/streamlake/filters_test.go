package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	projectTemplate     = "../../template.yaml"
	projectExpectations = "../../events/filter-expectations.json"
	readingsEvent       = "testdata/filters/readings.json"
)

// filterVerdicts runs `filters --json` and returns eventID -> result per file.
func filterVerdicts(t *testing.T, args ...string) map[string]map[string]string {
	t.Helper()
	code, stdout, stderr := runCmd(t, false, append([]string{"filters", "--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("streamlake filters --json %v = %d; stderr:\n%s", args, code, stderr)
	}
	got := map[string]map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r filterResult
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("output line %q is not a result object: %v", line, err)
		}
		if (r.Result == resultPass) == (r.Result == resultDrop) {
			t.Fatalf("output line %q: result %q; want pass or drop", line, r.Result)
		}
		if r.Result == resultDrop && r.Filter != nil {
			t.Errorf("output line %q: a dropped record names filter %d", line, *r.Filter)
		}
		if !strings.HasSuffix(r.EventID, ":"+r.SequenceNumber) {
			t.Errorf("output line %q: eventID does not end with the sequence number", line)
		}
		if got[r.File] == nil {
			got[r.File] = map[string]string{}
		}
		got[r.File][r.EventID] = r.Result
	}
	return got
}

func readingsID(n int) string {
	return "shardId-000000000000:495903382714902566085596925383615710959215759891365800" + []string{"01", "02", "03", "04", "05", "06", "07", "08"}[n-1]
}

// TestFiltersReadings checks each verdict of a hand-made event against the project's
// pattern {"data": {"device_id": [{"exists": true}], "temperature": [{"numeric": [">=", MinTemperature]}]}}.
func TestFiltersReadings(t *testing.T) {
	tests := []struct {
		name      string
		overrides []string
		pass      []int // 1-based record numbers that pass
	}{
		// 1: 22.5, 2: -127 (probe fault), 3: no device_id, 4: not JSON, 5: 35,
		// 6: temperature is a string, 7: binary, 8: exactly -50.
		{"defaults", nil, []int{1, 5, 8}},
		{"higher threshold", []string{"--parameter-overrides", "MinTemperature=30"}, []int{5}},
		{"threshold and another pair in one value", []string{"--parameter-overrides", "MinTemperature=22.5 Compression=zstd"}, []int{1, 5}},
		{"filtering disabled", []string{"--parameter-overrides", "FilterEnabled=false"}, []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{"repeated flag, last wins", []string{"--parameter-overrides", "MinTemperature=30", "--parameter-overrides", "MinTemperature=-127"}, []int{1, 2, 5, 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--template", projectTemplate}, tc.overrides...)
			got := filterVerdicts(t, append(args, readingsEvent)...)
			want := map[string]string{}
			for n := 1; n <= 8; n++ {
				want[readingsID(n)] = resultDrop
			}
			for _, n := range tc.pass {
				want[readingsID(n)] = resultPass
			}
			if diff := cmp.Diff(map[string]map[string]string{readingsEvent: want}, got); diff != "" {
				t.Errorf("verdicts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFiltersHumanOutput(t *testing.T) {
	code, stdout, stderr := runCmd(t, false, "filters", "--template", projectTemplate, readingsEvent)
	if code != exitOK {
		t.Fatalf("filters = %d; stderr:\n%s", code, stderr)
	}
	pattern := `{"data": {"device_id": [{"exists": true}], "temperature": [{"numeric": [">=", -50]}]}}`
	for _, want := range []string{
		"../../template.yaml: ProcessorFunction event Stream, 1 filter(s):\n  [0] " + pattern + "\n",
		"\n" + readingsEvent + "\n  EVENT ID ",
		readingsID(1) + "  PASS    [0] " + pattern + "\n",
		readingsID(2) + "  DROP    -\n",
		"\n8 record(s): 3 pass, 5 drop\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("filters output lacks %q; output:\n%s", want, stdout)
		}
	}

	code, stdout, _ = runCmd(t, false, "filters", "--template", projectTemplate, "--parameter-overrides", "FilterEnabled=false", readingsEvent)
	if want := "ProcessorFunction event Stream has no FilterCriteria: every record is delivered"; code != exitOK || !strings.Contains(stdout, want) {
		t.Errorf("filters with FilterEnabled=false = %d, output:\n%s\nwant 0 and %q", code, stdout, want)
	}
}

// TestFiltersSampleEvents runs the filters over every events/kinesis-*.json with the
// default parameters and fails on any difference from events/filter-expectations.json.
func TestFiltersSampleEvents(t *testing.T) {
	files, err := filepath.Glob("../../events/kinesis-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no events/kinesis-*.json; run `make events`")
	}
	data, err := os.ReadFile(projectExpectations)
	if err != nil {
		t.Fatalf("read expectations: %v", err)
	}
	var expect map[string]map[string]string
	if err := json.Unmarshal(data, &expect); err != nil {
		t.Fatalf("parse %s: %v", projectExpectations, err)
	}
	var listed, present []string
	want := map[string]map[string]string{}
	for name, recs := range expect {
		listed = append(listed, name)
		want[filepath.Join("..", "..", "events", name)] = recs
	}
	for _, f := range files {
		present = append(present, filepath.Base(f))
	}
	sort.Strings(listed)
	if diff := cmp.Diff(present, listed); diff != "" {
		t.Errorf("%s does not list exactly the events/kinesis-*.json files (-files +listed):\n%s", projectExpectations, diff)
	}

	got := filterVerdicts(t, append([]string{"--template", projectTemplate}, files...)...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("filter verdicts differ from %s (-want +got):\n%s", projectExpectations, diff)
	}

	// The same comparison through --expect, as `make` and users run it.
	args := append([]string{"filters", "--json", "--template", projectTemplate, "--expect", projectExpectations}, files...)
	if code, _, stderr := runCmd(t, false, args...); code != exitOK || !strings.Contains(stderr, "records match") {
		t.Errorf("filters --expect = %d; want 0; stderr:\n%s", code, stderr)
	}
}

// TestFiltersThresholdChangesSampleVerdicts: a higher MinTemperature drops records
// that pass by default, and never lets through a record the default drops.
func TestFiltersThresholdChangesSampleVerdicts(t *testing.T) {
	files, err := filepath.Glob("../../events/kinesis-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/kinesis-*.json (%v); run `make events`", err)
	}
	base := filterVerdicts(t, append([]string{"--template", projectTemplate}, files...)...)
	higher := filterVerdicts(t, append([]string{"--template", projectTemplate, "--parameter-overrides", "MinTemperature=20"}, files...)...)
	flipped := 0
	for file, recs := range base {
		for id, v := range recs {
			h := higher[file][id]
			switch {
			case v == resultDrop && h == resultPass:
				t.Errorf("%s %s: dropped by default but passes with MinTemperature=20", file, id)
			case v == resultPass && h == resultDrop:
				flipped++
			}
		}
	}
	if flipped == 0 {
		t.Errorf("MinTemperature=20 dropped no record that passes by default; want some (the samples hold readings below 20)")
	}
}

func TestFiltersExpectDifferences(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "readings.json")
	copyFile(t, readingsEvent, events)
	expect := map[string]map[string]string{
		"readings.json": {
			readingsID(1): resultDrop, // really pass
			readingsID(2): resultDrop,
			readingsID(3): resultDrop,
			readingsID(4): resultDrop,
			readingsID(5): resultPass,
			readingsID(6): resultDrop,
			// 7 missing
			readingsID(8):            resultPass,
			"shardId-000000000000:1": resultPass, // not in the file
		},
	}
	expectFile := filepath.Join(dir, "expect.json")
	writeJSON(t, expectFile, expect)
	other := filepath.Join(dir, "other.json")
	copyFile(t, readingsEvent, other)

	code, _, stderr := runCmd(t, false, "filters", "--template", projectTemplate, "--expect", expectFile, events, other)
	if code != exitFailure {
		t.Errorf("filters --expect with differences = %d; want %d", code, exitFailure)
	}
	for _, want := range []string{
		"4 difference(s) from " + expectFile,
		events + ": " + readingsID(1) + ": got pass, want drop",
		events + ": " + readingsID(7) + ": got drop, not in the expectations",
		events + ": shardId-000000000000:1: expected pass, but the event file has no such record",
		other + ": file not in the expectations",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q; stderr:\n%s", want, stderr)
		}
	}

	writeJSON(t, expectFile, map[string]map[string]string{"readings.json": {readingsID(1): "maybe"}})
	if code, _, stderr := runCmd(t, false, "filters", "--template", projectTemplate, "--expect", expectFile, events); code != exitFailure || !strings.Contains(stderr, `verdict "maybe"; want "pass" or "drop"`) {
		t.Errorf("filters with a bad expectations file = %d, %q; want 1 and the bad verdict named", code, stderr)
	}
}

// TestFiltersInvalidPattern breaks the pattern in a copy of the project template.
func TestFiltersInvalidPattern(t *testing.T) {
	src, err := os.ReadFile(projectTemplate)
	if err != nil {
		t.Fatal(err)
	}
	const good = `{"exists": true}`
	if !strings.Contains(string(src), good) {
		t.Fatalf("%s no longer contains %s; update this test", projectTemplate, good)
	}
	tpl := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(tpl, []byte(strings.Replace(string(src), good, `{"exists": "yes"}`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, false, "filters", "--template", tpl, readingsEvent)
	if code != exitFailure {
		t.Errorf("filters with an invalid pattern = %d; want %d", code, exitFailure)
	}
	wantPrefix := "streamlake filters: " + tpl + ": ProcessorFunction event Stream: invalid FilterCriteria: filter 0: "
	if !strings.HasPrefix(stderr, wantPrefix) || !strings.Contains(stderr, "\n  pattern: {\"data\": {\"device_id\": [{\"exists\": \"yes\"}]") {
		t.Errorf("stderr = %q; want %q, the reason and the pattern", stderr, wantPrefix)
	}
	if stdout != "" {
		t.Errorf("stdout = %q; want nothing when the pattern is invalid", stdout)
	}
}

func TestFiltersBadEventFiles(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"testdata/filters/malformed.json", "testdata/filters/malformed.json: invalid JSON at line 3, column 1"},
		{"testdata/filters/sqs-event.json", `testdata/filters/sqs-event.json: record 0: not a Kinesis event: eventSource is "aws:sqs", want "aws:kinesis"`},
		{"testdata/filters/no-records.json", "testdata/filters/no-records.json: not a Kinesis event: no Records"},
		{"testdata/filters/bad-base64.json", "testdata/filters/bad-base64.json: record 0: not a Kinesis event: kinesis.data is not standard base64"},
		{"testdata/filters/missing.json", "read event file: open testdata/filters/missing.json"},
		{projectTemplate, "../../template.yaml: invalid JSON at line 1"},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, "filters", "--template", projectTemplate, readingsEvent, tc.file)
			if code != exitFailure || !strings.Contains(stderr, tc.want) {
				t.Errorf("filters %s = %d, stderr %q; want %d and %q", tc.file, code, stderr, exitFailure, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q; want no results when an event file is bad", stdout)
			}
		})
	}
}

func TestFiltersUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no event files", []string{"--template", projectTemplate}, "no event files given"},
		{"unknown flag", []string{"--bogus", readingsEvent}, "flag provided but not defined: -bogus"},
		{"malformed override", []string{"--template", projectTemplate, "--parameter-overrides", "MinTemperature", readingsEvent}, `"MinTemperature" is not Key=Value`},
		{"unknown parameter", []string{"--template", projectTemplate, "--parameter-overrides", "MaxTemperature=3", readingsEvent}, "parameter MaxTemperature (from overrides): no such parameter in the template"},
		{"value out of range", []string{"--template", projectTemplate, "--parameter-overrides", "MinTemperature=-300", readingsEvent}, `value "-300" is below MinValue -273`},
		{"unknown function", []string{"--template", projectTemplate, "--function", "Nope", readingsEvent}, "--function Nope: ../../template.yaml has no AWS::Serverless::Function Nope (functions with Kinesis events: ProcessorFunction)"},
		{"unknown event", []string{"--template", projectTemplate, "--event", "Other", readingsEvent}, "--event Other: function ProcessorFunction has no Kinesis event Other (Kinesis events: Stream)"},
		{"ambiguous function", []string{"--template", "testdata/filters/two-functions.yaml", readingsEvent}, "several functions with Kinesis events; choose one with --function: First, Second"},
		{"ambiguous event", []string{"--template", "testdata/filters/two-functions.yaml", "--function", "Second", readingsEvent}, "function Second has several Kinesis events; choose one with --event: East, West"},
		{"function without Kinesis", []string{"--template", "testdata/filters/two-functions.yaml", "--function", "Third", readingsEvent}, "--function Third: the function has no Kinesis event (functions with Kinesis events: First, Second)"},
		{"unknown config env", []string{"--template", projectTemplate, "--config-env", "nope", readingsEvent}, `--config-env: SAM config ../../samconfig.toml: no such environment "nope"`},
		{"env without config file", []string{"--template", "<lonely>", "--config-env", "prod", readingsEvent}, "--config-env prod: no --config-file given and no samconfig.toml beside"},
	}
	lonely := filepath.Join(t.TempDir(), "template.yaml")
	copyFile(t, "testdata/filters/two-functions.yaml", lonely)
	for _, tc := range tests {
		for i, a := range tc.args {
			if a == "<lonely>" {
				tc.args[i] = lonely
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, append([]string{"filters"}, tc.args...)...)
			if code != exitUsage {
				t.Errorf("filters %v = %d; want %d", tc.args, code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "Usage: streamlake filters") {
				t.Errorf("filters %v stderr = %q; want %q and the usage", tc.args, stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q; want nothing", stdout)
			}
		})
	}
}

func TestFiltersTemplateAndConfig(t *testing.T) {
	// Flags after the event files, a chosen function and event, and a config env.
	got := filterVerdicts(t, "--template", "testdata/filters/two-functions.yaml", readingsEvent, "--function", "Second", "--event", "West",
		"--config-file", "testdata/filters/samconfig.toml", "--config-env", "warm")
	want := map[string]string{}
	for n := 1; n <= 8; n++ {
		want[readingsID(n)] = resultDrop
	}
	// West filters on temperature >= WestMin only; [warm.deploy.parameters] sets 30.
	want[readingsID(3)] = resultPass // 40
	want[readingsID(5)] = resultPass // 35
	if diff := cmp.Diff(map[string]map[string]string{readingsEvent: want}, got); diff != "" {
		t.Errorf("verdicts mismatch (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--template", "testdata/filters/missing.yaml"}, "read template: open testdata/filters/missing.yaml"},
	} {
		code, _, stderr := runCmd(t, false, append(append([]string{"filters"}, tc.args...), readingsEvent)...)
		if code != exitFailure || !strings.Contains(stderr, tc.want) {
			t.Errorf("filters %v = %d, %q; want %d and %q", tc.args, code, stderr, exitFailure, tc.want)
		}
	}
}

func TestFiltersHelp(t *testing.T) {
	code, _, stderr := runCmd(t, false, "filters", "--help")
	if code != exitOK || !strings.Contains(stderr, "-parameter-overrides Key=Value") || !strings.Contains(stderr, "--expect FILE") {
		t.Errorf("filters --help = %d, %q; want 0 and the flags", code, stderr)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
