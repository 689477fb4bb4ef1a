package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParameterOverridesSet(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    map[string]string
		wantErr string
	}{
		{"empty sets nothing, as sam deploy", []string{""}, nil, ""},
		{"blank sets nothing", []string{"   "}, nil, ""},
		{"several pairs in one value", []string{"A=1 B=2"}, map[string]string{"A": "1", "B": "2"}, ""},
		{"CloudFormation form", []string{"ParameterKey=A,ParameterValue=1"}, map[string]string{"A": "1"}, ""},
		{"repeated, last wins", []string{"A=1 B=2", "", "A=3"}, map[string]string{"A": "3", "B": "2"}, ""},
		{"not a pair", []string{"bad"}, nil, `"bad" is not Key=Value`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p parameterOverrides
			var err error
			for _, v := range tc.values {
				if err = p.Set(v); err != nil {
					break
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Set(%q) = %v; want an error with %q", tc.values, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%q) = %v; want no error", tc.values, err)
			}
			if len(tc.want) == 0 && len(p.values) == 0 {
				return
			}
			if diff := cmp.Diff(tc.want, p.values); diff != "" {
				t.Errorf("Set(%q) values (-want +got):\n%s", tc.values, diff)
			}
		})
	}
}

// Every command that reads the template takes --parameter-overrides the same
// way: an empty value is accepted and changes nothing, a malformed one is a
// usage error with the parser's message.
func TestEveryCommandTreatsOverridesAlike(t *testing.T) {
	ev := "../../events/kinesis-sensor-batch.json"
	tpl := "../../template.yaml"
	prefixes := map[string][]string{
		"cost":    {"cost", "--template", tpl, "--json"},
		"filters": {"filters", "--template", tpl, "--json", ev},
		"invoke":  {"invoke", "--template", tpl, "--function", "ProcessorFunction", "--event", ev},
		"local":   {"local", "--template", tpl, "--count", "10"},
		"redrive": {"redrive", "--template", tpl, "--queue", testQueueURL, "--bucket", "b"},
	}
	for name, args := range prefixes {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, append(args, "--parameter-overrides", "MinTemperature")...)
			if code != exitUsage || !strings.Contains(stderr, `"MinTemperature" is not Key=Value`) || !strings.Contains(stderr, "Usage: streamlake "+name) || stdout != "" {
				t.Errorf("%s --parameter-overrides MinTemperature = exit %d, stdout %q, stderr %.300q; want exit 2 with the parser's message and the usage", name, code, stdout, stderr)
			}
		})
	}
	// An empty value changes nothing: the same output as without the flag.
	for _, name := range []string{"cost", "filters"} {
		t.Run(name+" empty", func(t *testing.T) {
			code, without, stderr := runCmd(t, false, prefixes[name]...)
			if code != exitOK {
				t.Fatalf("%s = exit %d, %s", name, code, stderr)
			}
			code, with, stderr := runCmd(t, false, append(prefixes[name], "--parameter-overrides", "")...)
			if code != exitOK || with != without {
				t.Errorf("%s --parameter-overrides \"\" = exit %d, stdout %q, stderr %q; want exit 0 and the output without the flag, %q", name, code, with, stderr, without)
			}
		})
	}
}

func TestTemplateFlagsConfigEnvWithoutConfigFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		tf   templateFlags
		want string
	}{
		{"beside the template", templateFlags{path: dir + "/template.yaml", configEnv: "prod"}, "--config-env prod: " + dir + "/samconfig.toml not found"},
		{"with --config-file", templateFlags{path: dir + "/template.yaml", configEnv: "prod", hasConfigFile: true}, "--config-env prod: no --config-file given and no samconfig.toml beside " + dir + "/template.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, code, err := tc.tf.load()
			if code != exitUsage || err == nil || err.Error() != tc.want {
				t.Errorf("load() = %d, %v; want %d, %q", code, err, exitUsage, tc.want)
			}
		})
	}
}
