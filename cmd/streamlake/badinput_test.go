package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/pipeline"
)

// The bad-input matrix of the CLI, in one place: every command, bad flags, broken
// templates and samconfig files, broken event files. Each case must end with a
// clear message on stderr and exit code 1 or 2, never a panic, a hang or a
// half-written report. (Bad events for the processor itself are in
// internal/ingest/badinput_test.go; bad failure-queue messages in
// internal/redrive.)

// runWithEnv runs the CLI in-process with the environment vars (others unset).
func runWithEnv(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
	code := run(context.Background(), e, args)
	return code, stdout.String(), stderr.String()
}

func sortedCommands() []string {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestEveryCommandRejectsUnknownFlagsAndHelps(t *testing.T) {
	if len(commands) < 5 {
		t.Fatalf("only %d commands registered", len(commands))
	}
	for _, name := range sortedCommands() {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, name, "--no-such-flag")
			if code != exitUsage || !strings.Contains(stderr, "flag provided but not defined: -no-such-flag") || !strings.Contains(stderr, "Usage: streamlake "+name) || stdout != "" {
				t.Errorf("%s --no-such-flag = exit %d, stdout %q, stderr %.200q; want exit 2 with the usage", name, code, stdout, stderr)
			}
			for _, help := range []string{"--help", "-h"} {
				code, _, stderr = runCmd(t, false, name, help)
				if code != exitOK || !strings.Contains(stderr, "Usage: streamlake "+name) {
					t.Errorf("%s %s = exit %d, %.100q; want 0 and the usage", name, help, code, stderr)
				}
			}
			code, _, stderr = runCmd(t, false, name, "--json=maybe")
			if code != exitUsage || !strings.Contains(stderr, "invalid boolean value") && !strings.Contains(stderr, "flag provided but not defined") {
				t.Errorf("%s --json=maybe = exit %d, %.200q; want exit 2", name, code, stderr)
			}
		})
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "Usage: streamlake <command>"},
		{[]string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{[]string{"--bogus"}, exitUsage, `unknown command "--bogus"`},
	} {
		code, _, stderr := runCmd(t, false, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("streamlake %v = exit %d, %.100q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestCommandsRejectBadValues covers each command's own checks of flag values.
func TestCommandsRejectBadValues(t *testing.T) {
	ev := "../../events/kinesis-sensor-batch.json"
	tpl := "../../template.yaml"
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"filters", "--template", tpl}, exitUsage, "no event files given"},
		{[]string{"filters", "--template", tpl, "--function", "Nope", ev}, exitUsage, "has no AWS::Serverless::Function Nope"},
		{[]string{"filters", "--template", tpl, "--event", "Nope", ev}, exitUsage, "has no Kinesis event Nope"},
		{[]string{"filters", "--template", tpl, "--parameter-overrides", "bad", ev}, exitUsage, `"bad" is not Key=Value`},
		{[]string{"filters", "--template", tpl, "--parameter-overrides", "Nope=1", ev}, exitUsage, "parameter Nope (from overrides): no such parameter"},
		{[]string{"filters", "--template", tpl, "--parameter-overrides", "MinTemperature=9999", ev}, exitUsage, "above MaxValue 1000"},
		{[]string{"filters", "--template", tpl, "--config-env", "nope", ev}, exitUsage, `no such environment "nope"`},
		{[]string{"filters", "--template", tpl, "--expect", "/nonexistent/x.json", ev}, exitFailure, "read expectations"},
		{[]string{"invoke"}, exitUsage, "--function and --event are required"},
		{[]string{"invoke", "--function", "ProcessorFunction", "--event", ev, "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"invoke", "--function", "ProcessorFunction", "--event", ev, "--parameter-overrides", "bad"}, exitUsage, `"bad" is not Key=Value`},
		{[]string{"invoke", "--function", "ProcessorFunction", "--event", "/nonexistent.json"}, exitFailure, "read event"},
		{[]string{"local", "--count", "0"}, exitUsage, "--count, --devices, --poll-interval and --idle must be positive"},
		{[]string{"local", "--devices", "200000"}, exitUsage, "--devices must be between 1 and 100000, got 200000"},
		{[]string{"local", "--rate", "-1"}, exitUsage, "--rate -1: want records per second, 0 or more"},
		{[]string{"local", "--s3-failure-rate", "1.5"}, exitUsage, "--s3-failure-rate 1.5: want a fraction between 0 and 1"},
		{[]string{"local", "--crash-rate", "-0.1"}, exitUsage, "--crash-rate -0.1: want a fraction"},
		{[]string{"local", "--crash-rate", "NaN"}, exitUsage, "--crash-rate NaN: want a fraction between 0 and 1"},
		{[]string{"local", "--poison-rate", "NaN"}, exitUsage, "--poison-rate NaN: want a fraction"},
		{[]string{"local", "--heartbeat-rate", "NaN"}, exitUsage, "--heartbeat-rate NaN: want a fraction"},
		{[]string{"local", "--timeout-rate", "NaN"}, exitUsage, "--timeout-rate NaN: want a fraction"},
		{[]string{"local", "--s3-failure-rate", "-Inf"}, exitUsage, "--s3-failure-rate -Inf: want a fraction"},
		{[]string{"local", "--heartbeat-rate", "+Inf"}, exitUsage, "--heartbeat-rate +Inf: want a fraction"},
		{[]string{"local", "--rate", "NaN"}, exitUsage, "--rate NaN: want records per second, 0 or more"},
		{[]string{"local", "--rate", "Inf"}, exitUsage, "--rate +Inf: want records per second, 0 or more"},
		{[]string{"produce", "--stream", "s", "--rate", "NaN"}, exitUsage, "--rate must be a number >= 0, got NaN"},
		{[]string{"produce", "--stream", "s", "--rate", "Inf"}, exitUsage, "--rate must be a number >= 0, got +Inf"},
		{[]string{"local", "--poll-interval", "0s"}, exitUsage, "must be positive"},
		{[]string{"local", "--seed", "x"}, exitUsage, `invalid value "x" for flag -seed`},
		{[]string{"local", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"local", "--reshard-at", "10"}, exitUsage, "--reshard-at and --to-shards go together"},
		{[]string{"local", "--to-shards", "2"}, exitUsage, "--reshard-at and --to-shards go together"},
		{[]string{"local", "--reshard-at", "-1", "--to-shards", "2"}, exitUsage, "must not be negative"},
		{[]string{"local", "--count", "100", "--reshard-at", "100", "--to-shards", "2"}, exitUsage, "--reshard-at 100 must be below --count 100"},
		{[]string{"local", "--reshard-at", "10", "--to-shards", "2", "--no-produce"}, exitUsage, "cannot be used with --no-produce"},
		{[]string{"local", "--no-produce", "--count", "10"}, exitUsage, "--count does not apply with --no-produce (another producer puts the records)"},
		{[]string{"local", "--no-produce", "--shape", "recipe", "--poison-rate", "0.1"}, exitUsage, "--poison-rate, --shape do not apply with --no-produce"},
		{[]string{"local", "--idle", "1s"}, exitUsage, "--idle applies with --no-produce only"},
		{[]string{"produce", "--stream", "s", "--count", "0"}, exitUsage, "--count must be at least 1"},
		{[]string{"produce", "--stream", "s", "--scenario", "chaos"}, exitUsage, `unknown --scenario "chaos"`},
		{[]string{"produce"}, exitUsage, "--stream is required"},
		{[]string{"redrive"}, exitUsage, "--queue is required"},
		{[]string{"redrive", "--queue", testQueueURL}, exitUsage, "--to s3 needs --bucket"},
		{[]string{"redrive", "--queue", testQueueURL, "--to", "ftp"}, exitUsage, `--to "ftp": want s3 or stream`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runWithEnv(t, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_REGION": "us-east-1"}, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || code == exitUsage && stdout != "" {
				t.Errorf("%v = exit %d, stdout %.100q, stderr %.300q; want exit %d and %q", tc.args, code, stdout, stderr, tc.code, tc.want)
			}
		})
	}
}

// brokenTemplates are templates and samconfig files that cannot be used, with the
// message each must produce. Each is written into its own directory (the
// samconfig.toml beside the template is read).
var brokenTemplates = []struct {
	name, template, samconfig string
	args                      []string // extra flags
	want                      string
	kinesisOnly               bool // an error found only when looking for the Kinesis function
	buildOnly                 bool // an error found only by the commands that build the function
}{
	{name: "missing file", want: "no such file or directory"},
	{name: "empty", template: "", want: "empty template"},
	{name: "YAML syntax error", template: "Resources:\n  A: [\n", want: "template.yaml:2: parse YAML"},
	{name: "tab indentation", template: "Resources:\n\tA: 1\n", want: "parse YAML"},
	{name: "a list", template: "- a\n- b\n", want: "want a mapping"},
	{name: "no Resources", template: "AWSTemplateFormatVersion: \"2010-09-09\"\n", want: "no Resources section"},
	{name: "two documents", template: "Resources: {A: {Type: X}}\n---\nResources: {B: {Type: X}}\n", want: "2 YAML documents"},
	{name: "unterminated Sub", template: "Resources: {A: {Type: X, Properties: {P: !Sub '${'}}}\n", want: "unterminated ${"},
	{name: "unknown tag", template: "Resources: {A: {Type: X, Properties: {P: !Nope x}}}\n", want: "unknown YAML tag !Nope"},
	{name: "GetAtt of nothing", template: "Resources: {A: {Type: X, Properties: {P: !GetAtt Nope.Arn}}}\n", want: `no parameter or resource named "Nope"`},
	{name: "duplicate keys", template: "Resources:\n  A: {Type: X}\n  A: {Type: Y}\n", want: `"A" already defined`},
	{name: "alias bomb", template: aliasBomb, want: "template expands to more than"},
	{name: "nested 100k levels", template: "Resources:\n  A:\n    Type: X\n    Properties:\n      P: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n",
		want: "nested deeper than 1000 levels"},
	{name: "JSON nested 100k levels", template: `{"Resources":{"A":{"Type":"X","Properties":{"P":` + strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000) + "}}}}",
		want: "nested deeper than 1000 levels"},
	{name: "samconfig not TOML", template: kinesisTemplate, samconfig: "version = 0.1\n[default.deploy.parameters\n", want: "parse SAM config"},
	{name: "samconfig bad parameter", template: kinesisTemplate, samconfig: "version = 0.1\n[default.deploy.parameters]\nparameter_overrides = \"Threshold=hot\"\n",
		want: `value "hot" is not a number`},
	{name: "samconfig nested 100k levels", template: kinesisTemplate, samconfig: "version = 0.1\n[default.deploy.parameters]\nx = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n",
		want: "nested more than the maximum"},
	{name: "unknown config env", template: kinesisTemplate, samconfig: "version = 0.1\n[default.deploy.parameters]\nstack_name = \"s\"\n", args: []string{"--config-env", "nope"},
		want: `"nope"`},
	{name: "invalid filter pattern", template: strings.Replace(kinesisTemplate, `{"data": {"t": [{"numeric": [">=", ${Threshold}]}]}}`, `{"data": {"t": [{"wildcard": "x*"}]}}`, 1),
		want: "filter 0: unknown operator \"wildcard\"", kinesisOnly: true},
	{name: "filter pattern not JSON", template: strings.Replace(kinesisTemplate, `{"data": {"t": [{"numeric": [">=", ${Threshold}]}]}}`, `data = 1`, 1),
		want: "filter 0: pattern is not valid JSON", kinesisOnly: true},
	{name: "Kinesis event without Stream", template: strings.Replace(kinesisTemplate, "            Stream: !GetAtt Stream.Arn\n", "", 1),
		want: "function Fn event S: Stream is required", kinesisOnly: true},
	{name: "Kinesis event without StartingPosition", template: strings.Replace(kinesisTemplate, "            StartingPosition: LATEST\n", "", 1),
		want: "function Fn event S: StartingPosition is required", kinesisOnly: true},
	{name: "function without CodeUri", template: strings.Replace(kinesisTemplate, "      CodeUri: fn/\n", "", 1), want: "function Fn: CodeUri is missing", buildOnly: true},
	{name: "no Kinesis function", template: "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", want: "no function", kinesisOnly: true},
}

const kinesisTemplate = `Transform: AWS::Serverless-2016-10-31
Parameters:
  Threshold: {Type: Number, Default: 0}
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: fn/
      Events:
        S:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: LATEST
            FilterCriteria:
              Filters:
                - Pattern: !Sub '{"data": {"t": [{"numeric": [">=", ${Threshold}]}]}}'
`

const aliasBomb = `Metadata:
  a: &a [x, x, x, x, x, x, x, x, x, x]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
Resources:
  Q: {Type: AWS::SQS::Queue}
`

// TestBrokenTemplates runs filters, invoke and local on every broken template. No
// emulator may be started for a template that cannot be read (local used to start
// a detached moto server before reading the template, and leave it running).
func TestBrokenTemplates(t *testing.T) {
	event, err := filepath.Abs("../../events/kinesis-sensor-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range brokenTemplates {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tpl := filepath.Join(dir, "template.yaml")
			if tc.name != "missing file" {
				if err := os.WriteFile(tpl, []byte(tc.template), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.samconfig != "" {
				if err := os.WriteFile(filepath.Join(dir, "samconfig.toml"), []byte(tc.samconfig), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			work := filepath.Join(dir, "work")
			t.Cleanup(func() { _, _ = pipeline.StopEmulator(work) })
			runs := map[string][]string{
				"filters": append([]string{"filters", "--template", tpl}, append(tc.args, event)...),
				"local":   append([]string{"local", "--template", tpl, "--work-dir", work, "--count", "10"}, tc.args...),
			}
			if !tc.kinesisOnly {
				runs["invoke"] = append([]string{"invoke", "--template", tpl, "--function", "Fn", "--event", event}, tc.args...)
			}
			if tc.buildOnly {
				delete(runs, "filters")
			}
			for cmd, args := range runs {
				// No AWS_ENDPOINT_URL: a command that got as far as the emulator
				// would start one.
				code, stdout, stderr := runWithEnv(t, map[string]string{"AWS_REGION": "us-east-1"}, args...)
				if code != exitFailure && code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stdout, "Accounting") {
					t.Errorf("%s = exit %d, stdout %.100q, stderr %.300q; want exit 1 or 2 and %q", cmd, code, stdout, stderr, tc.want)
				}
				if len(stderr) > 4000 {
					t.Errorf("%s: %d bytes of diagnostics; want a short, clear message", cmd, len(stderr))
				}
			}
			if _, err := os.Stat(filepath.Join(work, "run.json")); err == nil {
				t.Errorf("local started an emulator for a template it cannot read")
			}
		})
	}
}

// TestBrokenEventFiles gives filters and invoke event files that are not Kinesis
// events.
func TestBrokenEventFiles(t *testing.T) {
	dir := t.TempDir()
	files := []struct{ name, content, want string }{
		{"empty.json", "", "unexpected end of JSON input"},
		{"truncated.json", `{"Records": [{"eventSource": "aws:kinesis",`, "unexpected end of JSON input"},
		{"not-json.json", "Records: []", "invalid"},
		{"nested.json", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), "exceeded max depth"},
		{"sqs.json", `{"Records":[{"messageId":"1","body":"x","eventSource":"aws:sqs"}]}`, `eventSource is "aws:sqs"`},
		{"s3.json", `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"}}}]}`, `eventSource is "aws:s3"`},
		{"dynamodb.json", `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{}}]}`, `eventSource is "aws:dynamodb"`},
		// Type errors in the user's terms, not Go's (map[string]jsontext.Value, []uint8).
		{"array.json", `[1, 2]`, "not a Kinesis event: the event is an array; want a Kinesis event object with a Records array"},
		{"string.json", `"x"`, "not a Kinesis event: the event is a string; want a Kinesis event object with a Records array"},
		{"record-string.json", `{"Records":["x"]}`, "record 0: not a Kinesis event: the record is a string; want an object"},
		{"data-number.json", `{"Records":[{"eventSource":"aws:kinesis","eventID":"a","kinesis":{"data":5}}]}`, "record 0: not a Kinesis event: kinesis.data is a number; want a base64 string"},
		{"kinesis-string.json", `{"Records":[{"eventSource":"aws:kinesis","eventID":"a","kinesis":"x"}]}`, "record 0: not a Kinesis event: kinesis is a string; want an object"},
		{"sequence-number.json", `{"Records":[{"eventSource":"aws:kinesis","eventID":"a","kinesis":{"data":"eA==","sequenceNumber":5}}]}`, "record 0: not a Kinesis event: kinesis.sequenceNumber is a number; want a string"},
		{"arrival-string.json", `{"Records":[{"eventSource":"aws:kinesis","eventID":"a","kinesis":{"data":"eA==","approximateArrivalTimestamp":"x"}}]}`, "record 0: not a Kinesis event: a value of the record is a string; want a number"},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(dir, f.name)
			code, _, stderr := runCmd(t, false, "filters", "--template", "../../template.yaml", path)
			if code != exitFailure || !strings.Contains(stderr, f.want) {
				t.Errorf("filters %s = exit %d, %.300q; want exit 1 and %q", f.name, code, stderr, f.want)
			}
			if !json.Valid([]byte(f.content)) {
				// invoke checks the event is JSON before building anything.
				code, _, stderr = runWithEnv(t, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
					"invoke", "--template", "../../template.yaml", "--function", "ProcessorFunction", "--event", path)
				if code != exitFailure || !strings.Contains(stderr, "is not valid JSON") {
					t.Errorf("invoke --event %s = exit %d, %.300q; want exit 1 and \"is not valid JSON\"", f.name, code, stderr)
				}
			}
		})
	}
}
