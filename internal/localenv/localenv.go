package localenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

// Options says which template to stand up and where.
type Options struct {
	// TemplatePath is the SAM template; "" means template.yaml.
	TemplatePath string
	// ConfigEnv is the samconfig.toml environment whose parameter_overrides apply
	// ("" = default). samconfig.toml is read from the template's directory if present.
	ConfigEnv string
	// Overrides are parameter values that win over samconfig.toml.
	Overrides map[string]string
	// StackName names the local stack (resource names derive from it); "" takes
	// stack_name from samconfig.toml.
	StackName string
	// WorkDir holds build outputs and local state; "" means .local beside the template.
	WorkDir string
	// Getenv reads the caller's environment; nil means os.Getenv.
	Getenv func(string) string
	// MotoLogDir receives the logs (moto-<process>.log) of the moto servers
	// started by Open; "" discards them.
	MotoLogDir string
}

// Env is a template stood up against an AWS API emulator. Close stops what Open
// started. An Env is not safe for concurrent Open/Close, but its fields may be read
// concurrently.
type Env struct {
	Template *samtemplate.Template
	// AWS is the SDK configuration for the emulator.
	AWS aws.Config
	// Endpoint is the emulator's base URL (AWS_ENDPOINT_URL): the user's, or the
	// S3/SQS process of the emulators Open started, which also answers any other
	// service a function might call.
	Endpoint string
	// Endpoints maps each service of motoserver.Layout to the URL that serves it
	// (AWS_ENDPOINT_URL_<SERVICE>).
	Endpoints map[string]string
	// StartedMoto is true when Open started moto servers (they are stopped by Close).
	StartedMoto bool
	// WorkDir is the directory for builds and state.
	WorkDir string

	moto *motoserver.Group
	// opts are the Options Open was given (SaveSession records how the template
	// was read).
	opts Options
}

// ServiceEndpoint returns the URL that serves service (an SDK service name in
// lower case, e.g. "kinesis"): its own endpoint, else the base one.
func (e *Env) ServiceEndpoint(service string) string {
	if u := e.Endpoints[service]; u != "" {
		return u
	}
	return e.Endpoint
}

// ResolveEndpoints returns the endpoint of each service of motoserver.Layout that
// getenv names: AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL; services
// without either are absent from the map.
func ResolveEndpoints(getenv func(string) string) map[string]string {
	out := map[string]string{}
	base := getenv("AWS_ENDPOINT_URL")
	for _, svc := range motoserver.Services() {
		if u := firstNonEmpty(getenv(motoserver.EndpointEnv(svc)), base); u != "" {
			out[svc] = u
		}
	}
	return out
}

// Open loads the template and connects to the emulator: each service's
// AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, when set; else the moto
// processes of motoserver.Layout, started on free loopback ports. It sets
// AWS_ENDPOINT_URL, the per-service variables, a region and (when unset) dummy
// credentials in this process's environment, because the function processes that
// lambdahost starts inherit them from here.
func Open(ctx context.Context, opts Options) (*Env, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	tpl, err := LoadTemplate(opts)
	if err != nil {
		return nil, err
	}
	path := tpl.Path
	e := &Env{Template: tpl, WorkDir: opts.WorkDir, opts: opts}
	if e.WorkDir == "" {
		e.WorkDir = filepath.Join(filepath.Dir(path), ".local")
	}
	e.Endpoint = getenv("AWS_ENDPOINT_URL")
	e.Endpoints = ResolveEndpoints(getenv)
	if len(e.Endpoints) < len(motoserver.Services()) {
		g, err := motoserver.StartGroup(ctx, opts.MotoLogDir, false)
		if err != nil {
			return nil, fmt.Errorf("start the AWS emulators: %w", err)
		}
		e.moto, e.StartedMoto = g, true
		for svc, u := range g.Endpoints {
			if e.Endpoints[svc] == "" {
				e.Endpoints[svc] = u
			}
		}
		if e.Endpoint == "" {
			e.Endpoint = g.Endpoints["s3"]
		}
	}
	setenvDefault := func(k, v string, force bool) {
		if force || getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	if e.Endpoint != "" {
		setenvDefault("AWS_ENDPOINT_URL", e.Endpoint, true)
	}
	for svc, u := range e.Endpoints {
		setenvDefault(motoserver.EndpointEnv(svc), u, true)
	}
	setenvDefault("AWS_REGION", tpl.Region, false)
	setenvDefault("AWS_ACCESS_KEY_ID", "testing", false)
	setenvDefault("AWS_SECRET_ACCESS_KEY", "testing", false)
	// The clients resolve each service's endpoint from AWS_ENDPOINT_URL_<SERVICE>,
	// else AWS_ENDPOINT_URL (both set above). Not config.WithBaseEndpoint: an
	// endpoint given in code wins over the per-service variables
	// (aws-sdk-go-v2 config v1.33: LoadOptions.GetServiceBaseEndpoint answers it
	// for every service).
	loadOpts := []func(*config.LoadOptions) error{config.WithRegion(tpl.Region)}
	e.AWS, err = awsconfig.Load(ctx, loadOpts...)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return e, nil
}

// LoadTemplate reads the template opts names, with the parameters of
// samconfig.toml (in the template's directory, if there is one) and
// opts.Overrides, as Open does, without connecting to anything.
func LoadTemplate(opts Options) (*samtemplate.Template, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	path := opts.TemplatePath
	if path == "" {
		path = "template.yaml"
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	cfgFile := filepath.Join(filepath.Dir(path), "samconfig.toml")
	if _, err := os.Stat(cfgFile); err != nil {
		if opts.ConfigEnv != "" {
			return nil, fmt.Errorf("--config-env %s: %s not found", opts.ConfigEnv, cfgFile)
		}
		cfgFile = ""
	}
	return samtemplate.Load(path, samtemplate.Options{
		ConfigFile: cfgFile,
		ConfigEnv:  opts.ConfigEnv,
		Overrides:  opts.Overrides,
		StackName:  opts.StackName,
		Region:     firstNonEmpty(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"), "us-east-1"),
		AccountID:  lambdahost.DefaultAccountID,
	})
}

// Close stops the moto servers Open started, if any. The emulators' state is lost
// with them.
func (e *Env) Close() error {
	if e.moto != nil {
		return e.moto.Close()
	}
	return nil
}

// Function returns the template's function logicalID, or an error listing the
// functions there are.
func (e *Env) Function(logicalID string) (samtemplate.Function, error) {
	if fn, ok := e.Template.Function(logicalID); ok {
		return fn, nil
	}
	var names []string
	for _, fn := range e.Template.Functions() {
		names = append(names, fn.LogicalID)
	}
	return samtemplate.Function{}, fmt.Errorf("function %q is not in %s (functions: %v)", logicalID, e.Template.Path, names)
}

// Build compiles fn for this machine into WorkDir/build/<LogicalID>/bootstrap and
// returns the binary's path. A function with BuildMethod go1.x (or none) is the Go
// main package in its CodeUri; one with BuildMethod makefile is built as sam build
// builds it, by `make build-<LogicalID>` with the Makefile in its CodeUri and
// ARTIFACTS_DIR set, plus LAMBDA_GOOS/LAMBDA_GOARCH naming this machine (the
// project's Makefile builds linux/arm64 otherwise). Other build methods are refused.
func (e *Env) Build(ctx context.Context, fn samtemplate.Function) (string, error) {
	if err := CheckLocalCode(fn); err != nil {
		return "", err
	}
	outDir := filepath.Join(e.WorkDir, "build", fn.LogicalID)
	switch bm, _ := fn.Metadata["BuildMethod"].(string); bm {
	case "", "go1.x":
		return lambdahost.Build(ctx, fn.CodeDir, outDir)
	case "makefile":
		return buildMake(ctx, fn, outDir)
	default:
		return "", fmt.Errorf("function %s: BuildMethod %q: only Go functions (go1.x or makefile) run locally", fn.LogicalID, bm)
	}
}

// CheckLocalCode refuses a function whose code is not a local directory that
// Build can build; callers use it to fail before they start an emulator. (Handler is not needed: a provided runtime runs the
// bootstrap binary, and lambdahost sets _HANDLER to "bootstrap" without one.)
func CheckLocalCode(fn samtemplate.Function) error {
	switch {
	case fn.CodeDir != "":
		return nil
	case fn.Properties["InlineCode"] != nil:
		return fmt.Errorf("function %s: InlineCode: only a CodeUri directory of Go code runs locally", fn.LogicalID)
	case fn.CodeURI == "":
		return fmt.Errorf("function %s: CodeUri is missing: local runs build the function's Go code from its CodeUri directory", fn.LogicalID)
	}
	return fmt.Errorf("function %s: CodeUri %s is not a local directory", fn.LogicalID, fn.CodeURI)
}

// buildMake runs fn's build-<LogicalID> Makefile target for this machine, the way
// SAM CLI's makefile builder runs it (it passes ARTIFACTS_DIR and runs make with the
// Makefile of the CodeUri directory).
func buildMake(ctx context.Context, fn samtemplate.Function, outDir string) (string, error) {
	out, err := filepath.Abs(outDir)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", fn.LogicalID, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", fn.LogicalID, err)
	}
	dir, err := filepath.Abs(fn.CodeDir)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", fn.LogicalID, err)
	}
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-f", filepath.Join(dir, "Makefile"),
		"build-"+fn.LogicalID, "ARTIFACTS_DIR="+out, "LAMBDA_GOOS="+runtime.GOOS, "LAMBDA_GOARCH="+runtime.GOARCH)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ARTIFACTS_DIR="+out)
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: make build-%s: %w\n%s", fn.LogicalID, fn.LogicalID, err, bytes.TrimSpace(output))
	}
	bin := filepath.Join(out, "bootstrap")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("build %s: make build-%s wrote no bootstrap: %w", fn.LogicalID, fn.LogicalID, err)
	}
	return bin, nil
}

// HostConfig describes fn, built at binary, for lambdahost, with the function's
// template environment overlaid by env (e.g. from env.json). Function output goes to
// logs.
func (e *Env) HostConfig(fn samtemplate.Function, binary string, env map[string]string, logs io.Writer) lambdahost.Config {
	vars := map[string]string{}
	for k, v := range fn.Environment {
		vars[k] = v
	}
	for k, v := range env {
		vars[k] = v
	}
	c := lambdahost.Config{
		Binary:       binary,
		FunctionName: e.functionName(fn),
		MemoryMB:     fn.MemorySize,
		Timeout:      durationSeconds(fn.Timeout),
		Region:       e.Template.Region,
		AccountID:    e.Template.AccountID,
		Partition:    e.Template.Partition,
		Env:          vars,
		Stdout:       logs,
		Stderr:       logs,
	}
	if lc, ok := fn.Properties["LoggingConfig"].(map[string]any); ok {
		c.LogFormat, _ = lc["LogFormat"].(string)
		if c.LogFormat == "JSON" {
			c.LogLevel, _ = lc["ApplicationLogLevel"].(string)
		}
	}
	return c
}

// functionName is fn's FunctionName, else the name CloudFormation gives it
// (stack name and logical ID, at most 64 characters).
func (e *Env) functionName(fn samtemplate.Function) string {
	name, _ := fn.Properties["FunctionName"].(string)
	if name == "" {
		name = e.Template.StackName + "-" + fn.LogicalID
		if len(name) > 64 {
			name = name[:64]
		}
	}
	return name
}

// FunctionARN returns the ARN fn gets in the emulator's account.
func (e *Env) FunctionARN(fn samtemplate.Function) string {
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", e.Template.Partition, e.Template.Region, e.Template.AccountID, e.functionName(fn))
}

// RoleARN returns the execution role ARN of fn as the template resolves it.
func (e *Env) RoleARN(fn samtemplate.Function) string {
	if r, ok := fn.Properties["Role"].(string); ok && r != "" {
		return r
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s-%sRole", e.Template.Partition, e.Template.AccountID, e.Template.StackName, fn.LogicalID)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// IntProperty reads the integer property name of a resolved template value, which
// the template may give as a number or a numeric string (parameters are strings);
// def is returned when it is absent.
func IntProperty(props map[string]any, name string, def int) (int, error) {
	v, ok := props[name]
	if !ok || v == nil {
		return def, nil
	}
	switch n := v.(type) {
	case int:
		return n, nil
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, fmt.Errorf("%s %v is not an integer", name, n)
		}
		return int(n), nil
	case string:
		i, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("%s %q is not an integer", name, n)
		}
		return i, nil
	}
	return 0, fmt.Errorf("%s is %T, want an integer", name, v)
}
