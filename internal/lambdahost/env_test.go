package lambdahost

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEnviron(t *testing.T) {
	p := envParams{runtimeAPI: "127.0.0.1:9001", taskRoot: "/var/task", region: "eu-west-1", logStream: "2026/01/02/[$LATEST]0123"}
	host := []string{
		"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=S", "AWS_SESSION_TOKEN=T",
		"AWS_ENDPOINT_URL=http://127.0.0.1:5000", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000",
		"HOME=/home/dev", "AWS_PROFILE=dev", "AWS_REGION=us-west-2", "PATH=/home/dev/bin", "malformed",
	}
	base := []string{
		"AWS_ACCESS_KEY_ID=AKID",
		"AWS_DEFAULT_REGION=eu-west-1",
		"AWS_ENDPOINT_URL=http://127.0.0.1:5000",
		"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_NAME=fn",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/fn",
		"AWS_LAMBDA_LOG_STREAM_NAME=2026/01/02/[$LATEST]0123",
		"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001",
		"AWS_REGION=eu-west-1",
		"AWS_SECRET_ACCESS_KEY=S",
		"AWS_SESSION_TOKEN=T",
		"LAMBDA_RUNTIME_DIR=/var/runtime",
		"LAMBDA_TASK_ROOT=/var/task",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"TZ=:UTC",
		"_HANDLER=bootstrap",
	}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"defaults", Config{FunctionName: "fn"}, base},
		{
			"text log format sets nothing", Config{FunctionName: "fn", LogFormat: "Text"}, base,
		},
		{
			"JSON logs and own variables",
			Config{FunctionName: "fn", LogFormat: "JSON", LogLevel: "WARN", Env: map[string]string{"TZ": "Europe/Paris", "AWS_ENDPOINT_URL": "http://override", "TABLE": "t"}},
			[]string{
				"AWS_ACCESS_KEY_ID=AKID",
				"AWS_DEFAULT_REGION=eu-west-1",
				"AWS_ENDPOINT_URL=http://override",
				"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
				"AWS_LAMBDA_FUNCTION_NAME=fn",
				"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
				"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
				"AWS_LAMBDA_LOG_FORMAT=JSON",
				"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/fn",
				"AWS_LAMBDA_LOG_LEVEL=WARN",
				"AWS_LAMBDA_LOG_STREAM_NAME=2026/01/02/[$LATEST]0123",
				"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001",
				"AWS_REGION=eu-west-1",
				"AWS_SECRET_ACCESS_KEY=S",
				"AWS_SESSION_TOKEN=T",
				"LAMBDA_RUNTIME_DIR=/var/runtime",
				"LAMBDA_TASK_ROOT=/var/task",
				"LANG=en_US.UTF-8",
				"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
				"TABLE=t",
				"TZ=Europe/Paris",
				"_HANDLER=bootstrap",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := environ(tc.cfg.withDefaults(), p, host)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("environ() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveRegion(t *testing.T) {
	tests := []struct {
		region string
		env    map[string]string
		want   string
	}{
		{"eu-west-1", map[string]string{"AWS_REGION": "us-west-2"}, "eu-west-1"},
		{"", map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-east-1"}, "us-west-2"},
		{"", map[string]string{"AWS_DEFAULT_REGION": "ap-east-1"}, "ap-east-1"},
		{"", nil, "us-east-1"},
	}
	for _, tc := range tests {
		getenv := func(k string) string { return tc.env[k] }
		if got := resolveRegion(tc.region, getenv); got != tc.want {
			t.Errorf("resolveRegion(%q, %v) = %q; want %q", tc.region, tc.env, got, tc.want)
		}
	}
}

func TestIDs(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name string
		got  string
		want *regexp.Regexp
	}{
		{"request ID", newRequestID(), regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)},
		{"trace ID", newTraceID(now), regexp.MustCompile(`^Root=1-69a7bdbf-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)},
		{"log stream", newLogStreamName(now), regexp.MustCompile(`^2026/03/04/\[\$LATEST\][0-9a-f]{32}$`)},
	}
	for _, tc := range tests {
		if !tc.want.MatchString(tc.got) {
			t.Errorf("%s = %q; want match for %s", tc.name, tc.got, tc.want)
		}
	}
	if a, b := newRequestID(), newRequestID(); a == b {
		t.Errorf("newRequestID() twice = %q, %q; want distinct", a, b)
	}
}
