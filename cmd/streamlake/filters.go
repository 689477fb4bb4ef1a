package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamlake/streamlake/internal/filter"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

func init() {
	register(command{
		name:    "filters",
		summary: "run a function's FilterCriteria from template.yaml over Kinesis event files",
		run:     runFilters,
	})
}

const filtersDescription = `Reads the template (and the samconfig.toml beside it, if any), resolves the
FilterCriteria of a function's Kinesis event with the template's parameters, and
applies it to every record of the Kinesis event files, as the event source mapping
would before invoking the function. For each record it prints the eventID, PASS or
DROP, and the first filter that matched (index and pattern). Without FilterCriteria
every record passes.

Parameters come from the template defaults, then the config file's
[<env>.deploy.parameters] parameter_overrides, then --parameter-overrides.

--json prints one JSON object per record:
  {"file": F, "eventID": ID, "sequenceNumber": N, "result": "pass"|"drop", "filter": I|null}

--expect FILE compares the results with an expectations file, a JSON object
{"<event file>": {"<eventID>": "pass"|"drop"}} whose file names are relative to
the expectations file's directory, and lists every difference.

An invalid pattern is reported as
  streamlake filters: <template>: <Function> event <Event>: invalid FilterCriteria: filter <i>: <reason>
followed by the pattern.

Exit status: 0 when the filters ran (and matched --expect), 1 for an invalid
pattern, an unreadable template or event file, or a difference from --expect,
2 for a usage error.`

// filtersOptions are the parsed flags of `filters`.
type filtersOptions struct {
	template templateFlags
	function string
	event    string
	json     bool
	expect   string
	files    []string
}

// filterResult is the verdict for one record; it is also the --json line.
type filterResult struct {
	File           string `json:"file"`
	EventID        string `json:"eventID"`
	SequenceNumber string `json:"sequenceNumber"`
	Result         string `json:"result"`
	Filter         *int   `json:"filter"`
}

const (
	resultPass = "pass"
	resultDrop = "drop"
)

func runFilters(_ context.Context, e *env, args []string) int {
	o, done, code := parseFiltersFlags(e, args)
	if done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "streamlake filters: "+format+"\n", a...)
		return exitFailure
	}

	tpl, code, err := o.template.load()
	if err != nil {
		if code == exitUsage {
			return usageError(o.fs, "%v", err)
		}
		return fail("%v", err)
	}
	ev, code, err := pickKinesisEvent(tpl, o.function, o.event)
	if err != nil {
		if code == exitUsage {
			return usageError(o.fs, "%v", err)
		}
		return fail("%v", err)
	}
	patterns, err := ev.FilterPatterns()
	if err != nil {
		return fail("%s: %v", o.template.path, err)
	}
	criteria, err := filter.Compile(patterns)
	if err != nil {
		var ve *filter.ValidationError
		if errors.As(err, &ve) {
			return fail("%s: %s event %s: invalid FilterCriteria: %v\n  pattern: %s", o.template.path, ev.Function, ev.Name, ve, ve.Pattern)
		}
		return fail("%s: %s event %s: invalid FilterCriteria: %v", o.template.path, ev.Function, ev.Name, err)
	}

	files := make([]events.KinesisEvent, len(o.files))
	var readErrs []string
	for i, name := range o.files {
		kev, err := readKinesisEventFile(name)
		if err != nil {
			readErrs = append(readErrs, err.Error())
			continue
		}
		files[i] = kev
	}
	if len(readErrs) > 0 {
		for _, msg := range readErrs {
			fmt.Fprintf(e.stderr, "streamlake filters: %s\n", msg)
		}
		return exitFailure
	}

	var results []filterResult
	for i, kev := range files {
		for _, rec := range kev.Records {
			r := filterResult{File: o.files[i], EventID: rec.EventID, SequenceNumber: rec.Kinesis.SequenceNumber, Result: resultDrop}
			ok, idx := criteria.Match(rec.Kinesis.Data)
			if ok {
				r.Result = resultPass
				if idx >= 0 {
					r.Filter = &idx
				}
			}
			results = append(results, r)
		}
	}

	if o.json {
		err = writeFilterJSON(e.stdout, results)
	} else {
		err = writeFilterTable(e.stdout, o.template.path, ev, patterns, results)
	}
	if err != nil {
		return fail("write output: %v", err)
	}

	if o.expect != "" {
		diffs, err := compareExpectations(o.expect, results)
		if err != nil {
			return fail("%v", err)
		}
		if len(diffs) > 0 {
			fmt.Fprintf(e.stderr, "streamlake filters: %d difference(s) from %s:\n", len(diffs), o.expect)
			for _, d := range diffs {
				fmt.Fprintf(e.stderr, "  %s\n", d)
			}
			return exitFailure
		}
		fmt.Fprintf(e.stderr, "streamlake filters: all %d records match %s\n", len(results), o.expect)
	}
	return exitOK
}

// parsedFiltersOptions carries the flag set for usage errors found after parsing.
type parsedFiltersOptions struct {
	filtersOptions
	fs *flag.FlagSet
}

func parseFiltersFlags(e *env, args []string) (*parsedFiltersOptions, bool, int) {
	fs := newFlagSet(e, "filters", "EVENT.json...", filtersDescription)
	o := &parsedFiltersOptions{fs: fs}
	o.template.register(fs, "template.yaml", templateUsage{
		template:  "SAM template `file`",
		configEnv: "config file `environment` (default \"default\")",
		overrides: "template parameter `Key=Value`; repeatable, and one value may hold several space-separated pairs",
	})
	o.template.registerConfigFile(fs, "SAM CLI config `file` (default: samconfig.toml beside the template, if present)")
	fs.StringVar(&o.function, "function", "", "`LogicalId` of the function (default: the only function with a Kinesis event)")
	fs.StringVar(&o.event, "event", "", "`name` of the Kinesis event in the function's Events (default: its only Kinesis event)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per record (JSON Lines)")
	fs.StringVar(&o.expect, "expect", "", "compare the results with an expectations `file` and fail on any difference")

	// Flags may come before, between or after the event files.
	rest := args
	for {
		if done, code := parseFlags(fs, rest); done {
			return nil, true, code
		}
		rest = fs.Args()
		i := 0
		for i < len(rest) && (!strings.HasPrefix(rest[i], "-") || rest[i] == "-") {
			i++
		}
		o.files = append(o.files, rest[:i]...)
		rest = rest[i:]
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			o.files = append(o.files, rest[1:]...)
			break
		}
	}

	if len(o.files) == 0 {
		return nil, true, usageError(fs, "no event files given")
	}
	return o, false, exitOK
}

// pickKinesisEvent selects the Kinesis event whose filters apply. The code says
// whether an error is a usage error (a flag names something that does not exist, or
// the choice is ambiguous) or a template problem.
func pickKinesisEvent(tpl *samtemplate.Template, function, event string) (samtemplate.Event, int, error) {
	var candidates []string
	for _, f := range tpl.Functions() {
		if len(f.KinesisEvents()) > 0 {
			candidates = append(candidates, f.LogicalID)
		}
	}
	var fn samtemplate.Function
	switch {
	case function != "":
		f, ok := tpl.Function(function)
		if !ok {
			return samtemplate.Event{}, exitUsage, fmt.Errorf("--function %s: %s has no AWS::Serverless::Function %s (functions with Kinesis events: %s)",
				function, tpl.Path, function, listOrNone(candidates))
		}
		fn = f
	case len(candidates) == 0:
		return samtemplate.Event{}, exitFailure, fmt.Errorf("%s: no function has a Kinesis event", tpl.Path)
	case len(candidates) > 1:
		return samtemplate.Event{}, exitUsage, fmt.Errorf("%s has several functions with Kinesis events; choose one with --function: %s",
			tpl.Path, strings.Join(candidates, ", "))
	default:
		fn, _ = tpl.Function(candidates[0])
	}
	kinesis := fn.KinesisEvents()
	names := make([]string, len(kinesis))
	for i, ev := range kinesis {
		names[i] = ev.Name
	}
	switch {
	case event != "":
		for _, ev := range kinesis {
			if ev.Name == event {
				return checkedKinesisEvent(ev)
			}
		}
		return samtemplate.Event{}, exitUsage, fmt.Errorf("--event %s: function %s has no Kinesis event %s (Kinesis events: %s)", event, fn.LogicalID, event, listOrNone(names))
	case len(kinesis) == 0:
		return samtemplate.Event{}, exitUsage, fmt.Errorf("--function %s: the function has no Kinesis event (functions with Kinesis events: %s)", fn.LogicalID, listOrNone(candidates))
	case len(kinesis) > 1:
		return samtemplate.Event{}, exitUsage, fmt.Errorf("function %s has several Kinesis events; choose one with --event: %s", fn.LogicalID, strings.Join(names, ", "))
	}
	return checkedKinesisEvent(kinesis[0])
}

// checkedKinesisEvent returns ev, or a template problem when it lacks a
// property SAM requires (Stream, StartingPosition).
func checkedKinesisEvent(ev samtemplate.Event) (samtemplate.Event, int, error) {
	if err := ev.CheckKinesis(); err != nil {
		return samtemplate.Event{}, exitFailure, err
	}
	return ev, exitOK, nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// readKinesisEventFile decodes a Lambda Kinesis event file and checks that it is one:
// a Records list whose every entry comes from aws:kinesis.
func readKinesisEventFile(name string) (events.KinesisEvent, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return events.KinesisEvent{}, fmt.Errorf("read event file: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return events.KinesisEvent{}, fmt.Errorf("%s: %s", name, describeJSONError(data, err, "the event"))
	}
	// Keys are matched exactly, as Lambda does (encoding/json alone would also take
	// "records").
	rawRecords, ok := top["Records"]
	if !ok {
		return events.KinesisEvent{}, fmt.Errorf("%s: not a Kinesis event: no Records", name)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(rawRecords, &records); err != nil || records == nil {
		return events.KinesisEvent{}, fmt.Errorf("%s: not a Kinesis event: Records is not a list", name)
	}
	if len(records) == 0 {
		return events.KinesisEvent{}, fmt.Errorf("%s: not a Kinesis event: Records is empty", name)
	}
	var kev events.KinesisEvent
	for i, raw := range records {
		var rec events.KinesisEventRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return events.KinesisEvent{}, fmt.Errorf("%s: record %d: %s", name, i, describeJSONError(raw, err, "the record"))
		}
		if rec.EventSource != "aws:kinesis" {
			return events.KinesisEvent{}, fmt.Errorf("%s: record %d: not a Kinesis event: eventSource is %q, want \"aws:kinesis\"", name, i, rec.EventSource)
		}
		if rec.EventID == "" {
			return events.KinesisEvent{}, fmt.Errorf("%s: record %d: no eventID", name, i)
		}
		kev.Records = append(kev.Records, rec)
	}
	return kev, nil
}

// describeJSONError adds the line and column to a JSON syntax error, and says
// what a value of the wrong type is in JSON's terms. whole names what data is:
// "the event" or "the record" (of a Kinesis event file), or "the file".
func describeJSONError(data []byte, err error, whole string) string {
	notKinesis := "not a Kinesis event: "
	if whole != "the event" && whole != "the record" {
		notKinesis = ""
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line := 1 + bytes.Count(data[:syn.Offset], []byte("\n"))
		col := int(syn.Offset) - bytes.LastIndexByte(data[:syn.Offset], '\n') - 1
		return fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err)
	}
	var b64 base64.CorruptInputError
	if errors.As(err, &b64) {
		return fmt.Sprintf("%skinesis.data is not standard base64 (bad input at byte %d)", notKinesis, int64(b64))
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		field, want := typ.Field, jsonKindOf(typ.Type)
		switch {
		case field != "":
		case whole == "the event" && typ.Type.Kind() == reflect.Map:
			field, want = whole, "a Kinesis event object with a Records array"
		case typ.Type.Kind() == reflect.Struct || typ.Type.Kind() == reflect.Map:
			field = whole
		default:
			// A field decoded by its own UnmarshalJSON, which does not name it
			// (approximateArrivalTimestamp).
			field = "a value of " + whole
		}
		return fmt.Sprintf("%s%s is %s; want %s", notKinesis, field, jsonValueName(typ.Value), want)
	}
	return notKinesis + err.Error()
}

// jsonValueName names a JSON value kind as encoding/json reports it in an
// UnmarshalTypeError ("array", "number", ...), with its article.
func jsonValueName(v string) string {
	switch v {
	case "array", "object":
		return "an " + v
	case "bool":
		return "true or false"
	}
	return "a " + v
}

// jsonKindOf says which JSON value decodes into t, in the user's terms rather
// than Go's (map[string]jsontext.Value, []uint8).
func jsonKindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.String()
}

func writeFilterJSON(w io.Writer, results []filterResult) error {
	for _, r := range results {
		if err := encodeJSON(w, r, false); err != nil {
			return err
		}
	}
	return nil
}

func writeFilterTable(w io.Writer, template string, ev samtemplate.Event, patterns []string, results []filterResult) error {
	var b bytes.Buffer
	switch len(patterns) {
	case 0:
		fmt.Fprintf(&b, "%s: %s event %s has no FilterCriteria: every record is delivered\n", template, ev.Function, ev.Name)
	default:
		fmt.Fprintf(&b, "%s: %s event %s, %d filter(s):\n", template, ev.Function, ev.Name, len(patterns))
		for i, p := range patterns {
			fmt.Fprintf(&b, "  [%d] %s\n", i, p)
		}
	}
	pass := 0
	file := ""
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range results {
		if r.File != file {
			if err := tw.Flush(); err != nil {
				return err
			}
			file = r.File
			fmt.Fprintf(&b, "\n%s\n", file)
			fmt.Fprintf(tw, "  EVENT ID\tRESULT\tFILTER\n")
		}
		match := "-"
		if r.Result == resultPass {
			pass++
			if r.Filter != nil {
				match = fmt.Sprintf("[%d] %s", *r.Filter, patterns[*r.Filter])
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.EventID, strings.ToUpper(r.Result), match)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\n%d record(s): %d pass, %d drop\n", len(results), pass, len(results)-pass)
	_, err := w.Write(b.Bytes())
	return err
}

// compareExpectations lists every difference between results and the expectations
// file: a changed verdict, a record or file the expectations do not list, and a
// listed record missing from its event file. Files not given on the command line are
// not compared.
func compareExpectations(path string, results []filterResult) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read expectations: %w", err)
	}
	var raw map[string]map[string]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: want {\"<event file>\": {\"<eventID>\": \"pass\"|\"drop\"}}: %s", path, describeJSONError(data, err, "the file"))
	}
	base := filepath.Dir(path)
	want := map[string]map[string]string{} // cleaned file path -> eventID -> verdict
	for file, recs := range raw {
		for id, v := range recs {
			if v != resultPass && v != resultDrop {
				return nil, fmt.Errorf("%s: %s: %s: verdict %q; want \"pass\" or \"drop\"", path, file, id, v)
			}
		}
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		want[filepath.Clean(p)] = recs
	}
	var diffs []string
	seen := map[string]map[string]bool{}
	for _, r := range results {
		key := filepath.Clean(r.File)
		recs, ok := want[key]
		if !ok {
			if seen[key] == nil {
				diffs = append(diffs, fmt.Sprintf("%s: file not in the expectations", r.File))
				seen[key] = map[string]bool{}
			}
			continue
		}
		if seen[key] == nil {
			seen[key] = map[string]bool{}
		}
		seen[key][r.EventID] = true
		exp, ok := recs[r.EventID]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: %s: got %s, not in the expectations", r.File, r.EventID, r.Result))
		case exp != r.Result:
			diffs = append(diffs, fmt.Sprintf("%s: %s: got %s, want %s", r.File, r.EventID, r.Result, exp))
		}
	}
	for _, file := range sortedStringKeys(want) {
		got, compared := seen[file]
		if !compared {
			continue
		}
		for _, id := range sortedStringKeys(want[file]) {
			if !got[id] {
				diffs = append(diffs, fmt.Sprintf("%s: %s: expected %s, but the event file has no such record", file, id, want[file][id]))
			}
		}
	}
	return diffs, nil
}

func sortedStringKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
