package localenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGetenv(t *testing.T) {
	user := map[string]string{"AWS_ENDPOINT_URL": "http://user", "AWS_ENDPOINT_URL_KINESIS": "http://user-k", "AWS_REGION": "eu-west-1"}
	get := Getenv("http://base", map[string]string{"kinesis": "http://k", "dynamodb": ""}, func(k string) string { return user[k] })
	for k, want := range map[string]string{
		"AWS_ENDPOINT_URL":          "http://base",
		"AWS_ENDPOINT_URL_KINESIS":  "http://k",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://base",
		"AWS_ENDPOINT_URL_S3":       "http://base",
		"AWS_REGION":                "eu-west-1",
		"HOME":                      "",
	} {
		if got := get(k); got != want {
			t.Errorf("Getenv(...)(%s) = %q; want %q", k, got, want)
		}
	}
}

func TestLayout(t *testing.T) {
	got := Layout()
	for _, svc := range Services() {
		if !strings.Contains(got, svc) {
			t.Errorf("Layout() = %q; want every service, %s missing", got, svc)
		}
	}
}

// TestDescribeEmulatorsLeavesOthersOut: an endpoint that does not run through
// the launcher (here nothing answers) is not described.
func TestDescribeEmulatorsLeavesOthersOut(t *testing.T) {
	procs, errs := DescribeEmulators(map[string]string{"s3": "http://127.0.0.1:9"})
	if len(procs) != 0 || errs != 0 {
		t.Errorf("DescribeEmulators(nothing listening) = %+v, %d; want none", procs, errs)
	}
	if Alive("http://127.0.0.1:9") || Faithful("http://127.0.0.1:9") {
		t.Errorf("Alive/Faithful(nothing listening) = true; want false")
	}
}

func TestLoadTemplateErrors(t *testing.T) {
	dir := t.TempDir()
	tpl := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(tpl, []byte("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no template", Options{TemplatePath: filepath.Join(dir, "missing.yaml")}, "template:"},
		{"config env without samconfig.toml", Options{TemplatePath: tpl, ConfigEnv: "prod"}, "--config-env prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadTemplate(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadTemplate() error = %v; want %q", err, tc.want)
			}
		})
	}
	got, err := LoadTemplate(Options{TemplatePath: tpl, Getenv: func(k string) string { return map[string]string{"AWS_REGION": "eu-west-1"}[k] }})
	if err != nil || got.Region != "eu-west-1" || got.Path != tpl {
		t.Errorf("LoadTemplate() = %+v, %v; want region eu-west-1 from the environment", got, err)
	}
}
