package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/s3store"
)

func init() {
	register(command{name: "invoke", summary: "invoke a function locally with an event file (no Docker)", run: runInvoke})
}

// invokeOutput is the --json document of invoke.
type invokeOutput struct {
	Function       string          `json:"function"`
	FunctionName   string          `json:"functionName"`
	Response       json.RawMessage `json:"response,omitempty"`
	Error          *invokeError    `json:"error"`
	ColdStart      bool            `json:"coldStart"`
	InitDurationMS float64         `json:"initDurationMs"`
	DurationMS     float64         `json:"durationMs"`
	Objects        []objectInfo    `json:"objects"`
}

type invokeError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

type objectInfo struct {
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	Size    int64  `json:"size"`
	Records int    `json:"records"`
	version objectVersion
}

// objectVersion tells one write of an object from another: its ETag (the
// content) and its last-modified time, so that rewriting the same content in a
// later second counts as a write too.
type objectVersion struct {
	etag     string
	modified time.Time
}

// listVersions adds the version of every current object of bucket to versions,
// keyed by "<bucket>/<key>".
func listVersions(ctx context.Context, client *s3.Client, bucket string, versions map[string]objectVersion) error {
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			versions[bucket+"/"+aws.ToString(o.Key)] = versionOf(o)
		}
	}
	return nil
}

func versionOf(o types.Object) objectVersion {
	return objectVersion{etag: aws.ToString(o.ETag), modified: aws.ToTime(o.LastModified)}
}

func runInvoke(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "invoke", "", "Invokes a function of template.yaml once, the Docker-less twin of `sam local invoke -e`:\n"+
		"builds its bootstrap for this machine, starts moto server unless AWS_ENDPOINT_URL is set,\n"+
		"creates the template's buckets, streams, queues and tables, runs the binary behind a local\n"+
		"Lambda Runtime API, and prints the response and the S3 objects the invocation wrote.")
	function := fs.String("function", "", "logical ID of the function (required)")
	eventPath := fs.String("event", "", "event JSON file (required; - reads stdin)")
	var tf templateFlags
	tf.register(fs, "template.yaml", templateUsage{})
	envVars := fs.String("env-vars", "", "JSON file of environment overrides, as for sam local invoke --env-vars")
	asJSON := fs.Bool("json", false, "print one JSON document instead of text")
	var seeds stringList
	fs.Var(&seeds, "seed", "Kinesis event `file` to run through the template's Kinesis function first, so that the objects it writes exist (repeatable; e.g. before an S3 notification event)")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	if *function == "" || *eventPath == "" {
		return usageError(fs, "--function and --event are required")
	}
	event, err := readEvent(*eventPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake invoke: %v\n", err)
		return exitFailure
	}
	var seedEvents []seedEvent
	for _, path := range seeds {
		b, err := readEvent(path)
		if err != nil {
			fmt.Fprintf(e.stderr, "streamlake invoke: --seed: %v\n", err)
			return exitFailure
		}
		seedEvents = append(seedEvents, seedEvent{path: path, event: b})
	}
	out, err := invokeOnce(ctx, e, invokeRequest{
		function: *function, event: event, template: tf.path, configEnv: tf.configEnv,
		envVarsFile: *envVars, overrides: tf.overrides.values, seeds: seedEvents,
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake invoke: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		if code := printJSON(e, "invoke", out); code != exitOK {
			return code
		}
	} else {
		printInvoke(e.stdout, out)
	}
	if out.Error != nil {
		return exitFailure
	}
	return exitOK
}

func readEvent(path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("event %s is not valid JSON", path)
	}
	return b, nil
}

type invokeRequest struct {
	function, template, configEnv, envVarsFile string
	event                                      []byte
	overrides                                  map[string]string
	seeds                                      []seedEvent
}

// seedEvent is a Kinesis event (--seed) run before the invocation.
type seedEvent struct {
	path  string
	event []byte
}

// stringList collects a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

func invokeOnce(ctx context.Context, e *env, req invokeRequest) (*invokeOutput, error) {
	lopts := localenv.Options{TemplatePath: req.template, ConfigEnv: req.configEnv, Overrides: req.overrides, Getenv: e.getenv}
	// A function local cannot build is refused before Open starts an emulator.
	if tpl, err := localenv.LoadTemplate(lopts); err == nil {
		if fn, ok := tpl.Function(req.function); ok {
			if err := localenv.CheckLocalCode(fn); err != nil {
				return nil, err
			}
		}
	}
	lenv, err := localenv.Open(ctx, lopts)
	if err != nil {
		return nil, err
	}
	defer lenv.Close()
	fn, err := lenv.Function(req.function)
	if err != nil {
		return nil, err
	}
	extraEnv, err := readEnvVars(req.envVarsFile, fn.LogicalID)
	if err != nil {
		return nil, err
	}
	res, err := lenv.CreateResources(ctx)
	if err != nil {
		return nil, err
	}
	for _, sd := range req.seeds {
		if err := seed(ctx, e, lenv, sd); err != nil {
			return nil, err
		}
	}
	// Emulators serve buckets by path, not by host name.
	client := s3store.NewClient(lenv.AWS, func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	warnMissingObjects(ctx, e, client, lenv, req.event)
	binary, err := lenv.Build(ctx, fn)
	if err != nil {
		return nil, err
	}
	cfg := lenv.HostConfig(fn, binary, extraEnv, e.stderr)
	host := lambdahost.New(cfg)
	start := time.Now().Add(-time.Second)
	// What was there before (a seed's objects, or an earlier invocation's
	// against the same AWS_ENDPOINT_URL) is not the invocation's: S3 dates
	// objects to the second, so start alone cannot tell them apart.
	before := map[string]objectVersion{}
	for _, b := range res.Buckets {
		if err := listVersions(ctx, client, b, before); err != nil {
			return nil, err
		}
	}
	result, err := host.Invoke(ctx, req.event)
	host.Close()
	if err != nil {
		return nil, err
	}
	out := &invokeOutput{
		Function: fn.LogicalID, FunctionName: cfg.FunctionName, ColdStart: result.ColdStart,
		InitDurationMS: ms(result.InitDuration), DurationMS: ms(result.Duration), Objects: []objectInfo{},
	}
	if result.Err != nil {
		out.Error = &invokeError{Type: result.Err.Type, Message: result.Err.Message}
	} else if json.Valid(result.Payload) {
		out.Response = result.Payload
	} else {
		out.Response, _ = json.Marshal(string(result.Payload))
	}
	buckets := make([]string, 0, len(res.Buckets))
	for _, b := range res.Buckets {
		buckets = append(buckets, b)
	}
	sort.Strings(buckets)
	for _, b := range buckets {
		objs, err := objectsSince(ctx, client, b, start)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if v, ok := before[b+"/"+o.Key]; ok && v == o.version {
				continue
			}
			out.Objects = append(out.Objects, o)
		}
	}
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// readEnvVars reads a `sam local invoke --env-vars` file: {"Parameters": {...}} for
// every function and {"<LogicalId>": {...}} for one.
func readEnvVars(path, logicalID string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("env vars: %w", err)
	}
	var doc map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("env vars %s: want {\"<FunctionLogicalId>\": {\"NAME\": \"value\"}}: %w", path, err)
	}
	out := map[string]string{}
	for _, section := range []string{"Parameters", logicalID} {
		for k, raw := range doc[section] {
			out[k] = envVarValue(raw)
		}
	}
	return out, nil
}

// envVarValue is the environment variable value of an env-vars file's JSON
// value, as SAM CLI makes it (samcli/local/lambdafn/env_vars.py,
// EnvironmentVariables._stringify_value, in github.com/aws/aws-sam-cli): an
// object, a list or null is "" (usually an intrinsic function left unresolved),
// a boolean "true" or "false", a number its text, a string itself.
func envVarValue(raw json.RawMessage) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return "" // object, list, null
}

// objectsSince lists the current objects of bucket modified at or after since, with
// their record (line) counts.
func objectsSince(ctx context.Context, client *s3.Client, bucket string, since time.Time) ([]objectInfo, error) {
	var out []objectInfo
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			if o.LastModified != nil && o.LastModified.Before(since) {
				continue
			}
			n, err := countLines(ctx, client, bucket, aws.ToString(o.Key))
			if err != nil {
				return nil, err
			}
			out = append(out, objectInfo{Bucket: bucket, Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), Records: n, version: versionOf(o)})
		}
	}
	return out, nil
}

// countLines counts the lines of an object the functions wrote, decompressed
// as its key's extension says (package ndjson); an object of another extension
// is counted as it is stored.
func countLines(ctx context.Context, client *s3.Client, bucket, key string) (int, error) {
	obj, err := s3store.NewReader(client).GetObject(ctx, bucket, key)
	if err != nil {
		return 0, err
	}
	var body io.Reader = bytes.NewReader(obj.Body)
	if _, ok := ndjson.CompressionOf(key); ok {
		if body, err = ndjson.NewReader(key, obj.Body); err != nil {
			return 0, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
		}
	}
	sc := ndjson.NewScanner(body)
	n := 0
	for sc.Scan() {
		n++
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return n, nil
}

func printInvoke(w io.Writer, out *invokeOutput) {
	start := "warm start"
	if out.ColdStart {
		start = fmt.Sprintf("cold start, init %.1f ms", out.InitDurationMS)
	}
	fmt.Fprintf(w, "%s (%s): %s, duration %.1f ms\n", out.Function, out.FunctionName, start, out.DurationMS)
	if out.Error != nil {
		fmt.Fprintf(w, "Function error: %s: %s\n", out.Error.Type, out.Error.Message)
	} else {
		var pretty bytes.Buffer
		if json.Indent(&pretty, out.Response, "", "  ") != nil {
			pretty.Write(out.Response)
		}
		fmt.Fprintf(w, "Response:\n%s\n", pretty.String())
	}
	fmt.Fprintf(w, "Objects written: %d\n", len(out.Objects))
	for _, o := range out.Objects {
		fmt.Fprintf(w, "  s3://%s/%s  %d bytes, %d records\n", o.Bucket, o.Key, o.Size, o.Records)
	}
}
