package lambdahost

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Values Lambda gives every function (configuration-envvars.html).
const (
	lambdaPATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
	lambdaLANG = "en_US.UTF-8"
	lambdaTZ   = ":UTC"
	// lambdaRuntimeDir is LAMBDA_RUNTIME_DIR, the runtime's directory: the value
	// Lambda documents and its base container images set. A custom runtime's
	// bootstrap is in LAMBDA_TASK_ROOT instead; locally the directory need not
	// exist.
	lambdaRuntimeDir = "/var/runtime"
	// maxEnvBytes is Lambda's limit on the function's own variables.
	maxEnvBytes = 4096
)

// reservedEnv are the keys Lambda refuses in a function's Environment ("reserved
// keys that are currently not supported for modification").
var reservedEnv = map[string]bool{
	"_HANDLER":                        true,
	"_X_AMZN_TRACE_ID":                true,
	"AWS_DEFAULT_REGION":              true,
	"AWS_REGION":                      true,
	"AWS_EXECUTION_ENV":               true,
	"AWS_LAMBDA_FUNCTION_NAME":        true,
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION":     true,
	"AWS_LAMBDA_INITIALIZATION_TYPE":  true,
	"AWS_LAMBDA_LOG_GROUP_NAME":       true,
	"AWS_LAMBDA_LOG_STREAM_NAME":      true,
	"AWS_ACCESS_KEY":                  true,
	"AWS_ACCESS_KEY_ID":               true,
	"AWS_SECRET_ACCESS_KEY":           true,
	"AWS_SESSION_TOKEN":               true,
	"AWS_LAMBDA_RUNTIME_API":          true,
	"LAMBDA_TASK_ROOT":                true,
	"LAMBDA_RUNTIME_DIR":              true,
}

// envKeyPattern is Lambda's pattern for environment variable keys.
var envKeyPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)

// validateEnv checks a function's own variables as Lambda's CreateFunction does.
func validateEnv(env map[string]string) error {
	size := 0
	for _, k := range sortedKeys(env) {
		v := env[k]
		switch {
		case !envKeyPattern.MatchString(k):
			return fmt.Errorf("environment variable %q: key must match [a-zA-Z][a-zA-Z0-9_]+", k)
		case reservedEnv[k]:
			return fmt.Errorf("environment variable %s is reserved by Lambda", k)
		case strings.IndexByte(v, 0) >= 0:
			return fmt.Errorf("environment variable %s: value contains a NUL byte", k)
		}
		size += len(k) + len(v)
	}
	if size > maxEnvBytes {
		return fmt.Errorf("environment variables total %d bytes, over Lambda's limit of %d", size, maxEnvBytes)
	}
	return nil
}

// passThrough reports whether a host variable is handed to the function: the
// credentials (Lambda gives the execution role's) and the endpoint overrides that
// point SDK clients at a local emulator.
func passThrough(key string) bool {
	switch key {
	case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL":
		return true
	}
	return strings.HasPrefix(key, "AWS_ENDPOINT_URL_")
}

// resolveRegion returns region, else the host's AWS_REGION, AWS_DEFAULT_REGION,
// else DefaultRegion.
func resolveRegion(region string, getenv func(string) string) string {
	for _, r := range []string{region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")} {
		if r != "" {
			return r
		}
	}
	return DefaultRegion
}

// envParams are the per-process values of the environment.
type envParams struct {
	runtimeAPI string // host:port
	taskRoot   string
	region     string
	logStream  string
}

// environ builds the process environment (sorted KEY=value) from cfg (with
// defaults applied), p and the host environment hostEnv (KEY=value entries).
// Nothing else from the host leaks in, as in Lambda.
func environ(cfg Config, p envParams, hostEnv []string) []string {
	env := map[string]string{
		"PATH": lambdaPATH,
		"LANG": lambdaLANG,
		"TZ":   lambdaTZ,
	}
	for _, kv := range hostEnv {
		if k, v, ok := strings.Cut(kv, "="); ok && passThrough(k) {
			env[k] = v
		}
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	for k, v := range map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          p.runtimeAPI,
		"_HANDLER":                        cfg.Handler,
		"AWS_LAMBDA_FUNCTION_NAME":        cfg.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(cfg.MemoryMB),
		"AWS_REGION":                      p.region,
		"AWS_DEFAULT_REGION":              p.region,
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + cfg.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME":      p.logStream,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"LAMBDA_TASK_ROOT":                p.taskRoot,
		"LAMBDA_RUNTIME_DIR":              lambdaRuntimeDir,
	} {
		env[k] = v
	}
	if cfg.LogFormat == "JSON" {
		env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
		if cfg.LogLevel != "" {
			env["AWS_LAMBDA_LOG_LEVEL"] = cfg.LogLevel
		}
	}
	out := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
