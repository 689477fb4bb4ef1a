package templatecheck

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

const repoSAMConfig = "../../samconfig.toml"

// samconfigProblems checks a samconfig.toml document for what this project needs
// of every environment: what `sam deploy --guided` writes (stack_name, resolve_s3,
// s3_prefix, region, capabilities, confirm_changeset, parameter_overrides), a region
// every command finds ([env.global.parameters] region; without it `sam list
// resources` fails with "No region information"), and builds that run make in the
// source tree without SAM's cache (build_in_source = true, cached = false: see
// samconfig.toml). It also wants one environment that deploys without a prompt.
func samconfigProblems(doc map[string]any) []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if v, _ := doc["version"].(float64); v != 0.1 {
		add("version = %v; want 0.1", doc["version"])
	}
	nonInteractive := false
	envs := 0
	for env, sec := range doc {
		if env == "version" {
			continue
		}
		envs++
		get := func(cmd, key string) (any, bool) { return samtemplate.Lookup(asMap(sec), cmd+".parameters."+key) }
		for _, key := range []string{"stack_name", "region"} {
			if v, ok := get("global", key); !ok || v == "" {
				add("[%s.global.parameters] has no %s", env, key)
			}
		}
		want := map[string]any{"resolve_s3": true}
		for key, w := range want {
			if v, _ := get("deploy", key); v != w {
				add("[%s.deploy.parameters] %s = %v; want %v (the packaged template is over CloudFormation's 51,200-byte inline limit)", env, key, v, w)
			}
		}
		for _, key := range []string{"stack_name", "s3_prefix", "region", "parameter_overrides"} {
			if v, ok := get("deploy", key); !ok || v == "" {
				add("[%s.deploy.parameters] has no %s", env, key)
			}
		}
		if v, _ := get("deploy", "capabilities"); !strings.Contains(fmt.Sprintf("%v", v), "CAPABILITY_IAM") {
			add("[%s.deploy.parameters] capabilities = %v; want CAPABILITY_IAM (the template creates IAM roles)", env, v)
		}
		switch v, _ := get("deploy", "confirm_changeset"); v {
		case false:
			nonInteractive = true
		case true:
		default:
			add("[%s.deploy.parameters] confirm_changeset = %v; want true or false", env, v)
		}
		if v, _ := get("build", "build_in_source"); v != true {
			add("[%s.build.parameters] build_in_source = %v; want true (CodeUri is the module root)", env, v)
		}
		if v, _ := get("build", "cached"); v != false {
			add("[%s.build.parameters] cached = %v; want false (SAM's cache would reuse stale binaries)", env, v)
		}
	}
	if envs == 0 {
		add("no environments")
	}
	if !nonInteractive {
		add("no environment with confirm_changeset = false: sam deploy would wait for a keyboard in CI")
	}
	return out
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func TestSAMConfig(t *testing.T) {
	src, err := os.ReadFile(repoSAMConfig)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	if p := samconfigProblems(doc); len(p) > 0 {
		t.Errorf("%s:\n%s", repoSAMConfig, strings.Join(p, "\n"))
	}
	if v, _ := samtemplate.Lookup(doc, "default.deploy.parameters.confirm_changeset"); v != true {
		t.Errorf("default environment confirm_changeset = %v; want true (a person deploys with it)", v)
	}
	// Every environment's parameter_overrides name parameters of the template with
	// values it allows.
	for env := range doc {
		if env == "version" {
			continue
		}
		if _, err := samtemplate.Load(repoTemplate, samtemplate.Options{ConfigFile: repoSAMConfig, ConfigEnv: env}); err != nil {
			t.Errorf("environment %s: %v", env, err)
		}
	}
}

func TestSAMConfigProblems(t *testing.T) {
	// The samconfig.toml this project had: no region, prompts in the default
	// environment only, SAM's cache on.
	old := `version = 0.1
[default.global.parameters]
stack_name = "streamlake"
[default.build.parameters]
cached = true
[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"
confirm_changeset = true
resolve_s3 = true
parameter_overrides = "ShardCount=2"
`
	var doc map[string]any
	if err := toml.Unmarshal([]byte(old), &doc); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(samconfigProblems(doc), "\n")
	for _, want := range []string{
		"[default.global.parameters] has no region",
		"[default.deploy.parameters] has no s3_prefix",
		"[default.deploy.parameters] has no region",
		"cached = true; want false",
		"build_in_source = <nil>; want true",
		"no environment with confirm_changeset = false",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("samconfigProblems(old) = \n%s\nwant it to contain %q", got, want)
		}
	}
}
