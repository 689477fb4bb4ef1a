package samtemplate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEventCheckKinesis(t *testing.T) {
	const arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
	tests := []struct {
		name    string
		props   map[string]any
		wantErr string
	}{
		{"both", map[string]any{"Stream": arn, "StartingPosition": "LATEST"}, ""},
		{"no Stream", map[string]any{"StartingPosition": "LATEST"}, "function Fn event K: Stream is required"},
		{"null Stream", map[string]any{"Stream": nil, "StartingPosition": "LATEST"}, "function Fn event K: Stream is required"},
		{"empty Stream", map[string]any{"Stream": "", "StartingPosition": "LATEST"}, "function Fn event K: Stream is required"},
		{"no StartingPosition", map[string]any{"Stream": arn}, "function Fn event K: StartingPosition is required"},
		{"no properties", nil, "function Fn event K: Stream is required"},
		{"Stream a mapping", map[string]any{"Stream": map[string]any{"a": 1}, "StartingPosition": "LATEST"}, "function Fn event K: Stream is a mapping; want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Event{Name: "K", Type: "Kinesis", Function: "Fn", Properties: tc.props}.CheckKinesis()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Errorf("CheckKinesis() = %v; want %q", err, tc.wantErr)
			}
		})
	}
}

func TestFilterPatterns(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]any
		want    []string
		wantErr string
	}{
		{"no FilterCriteria", map[string]any{}, nil, ""},
		{"null FilterCriteria", map[string]any{"FilterCriteria": nil}, nil, ""},
		{"no Filters", map[string]any{"FilterCriteria": map[string]any{}}, nil, ""},
		{"empty Filters", map[string]any{"FilterCriteria": map[string]any{"Filters": []any{}}}, []string{}, ""},
		{"two patterns", map[string]any{"FilterCriteria": map[string]any{"Filters": []any{
			map[string]any{"Pattern": `{"data": {"a": [1]}}`},
			map[string]any{"Pattern": `{"data": {"b": ["x"]}}`},
		}}}, []string{`{"data": {"a": [1]}}`, `{"data": {"b": ["x"]}}`}, ""},
		{"not a mapping", map[string]any{"FilterCriteria": "x"}, nil, `function Fn event Stream: FilterCriteria is "x"; want a mapping with Filters`},
		{"unknown key", map[string]any{"FilterCriteria": map[string]any{"Filter": []any{}}}, nil, `unknown key "Filter"; SAM accepts only Filters`},
		{"Filters not a list", map[string]any{"FilterCriteria": map[string]any{"Filters": "x"}}, nil, `FilterCriteria.Filters is "x"; want a list`},
		{"filter not a mapping", map[string]any{"FilterCriteria": map[string]any{"Filters": []any{"x"}}}, nil, `FilterCriteria.Filters[0] is "x"; want {Pattern: ...}`},
		{"no Pattern", map[string]any{"FilterCriteria": map[string]any{"Filters": []any{map[string]any{}}}}, nil, "FilterCriteria.Filters[0] has no Pattern"},
		{"extra key", map[string]any{"FilterCriteria": map[string]any{"Filters": []any{map[string]any{"Pattern": "{}", "Name": "x"}}}}, nil, `Filters[0]: unknown key "Name"`},
		{"pattern as YAML mapping", map[string]any{"FilterCriteria": map[string]any{"Filters": []any{map[string]any{"Pattern": map[string]any{"data": 1}}}}}, nil, "FilterCriteria.Filters[0].Pattern is a mapping; want a string holding a JSON pattern"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := Event{Name: "Stream", Type: "Kinesis", Function: "Fn", Properties: tc.props}
			got, err := ev.FilterPatterns()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("FilterPatterns() error = %v; want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FilterPatterns() error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("FilterPatterns() mismatch (-want +got):\n%s", diff)
			}
			if (got == nil) != (tc.want == nil) {
				t.Errorf("FilterPatterns() = %#v; want %#v (nil means no filtering)", got, tc.want)
			}
		})
	}
}

// The project's own template: the processor's Kinesis event filters on a threshold
// parameter and can be switched off.
func TestProjectTemplate(t *testing.T) {
	const path = "../../template.yaml"
	tests := []struct {
		name         string
		overrides    map[string]string
		wantPatterns []string
	}{
		{
			name:         "defaults",
			wantPatterns: []string{`{"data": {"device_id": [{"exists": true}], "temperature": [{"numeric": [">=", -50]}]}}`},
		},
		{
			name:         "higher threshold",
			overrides:    map[string]string{"MinTemperature": "21.5"},
			wantPatterns: []string{`{"data": {"device_id": [{"exists": true}], "temperature": [{"numeric": [">=", 21.5]}]}}`},
		},
		{
			name:         "filtering disabled",
			overrides:    map[string]string{"FilterEnabled": "false"},
			wantPatterns: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl := mustLoad(t, path, Options{ConfigFile: "../../samconfig.toml", Overrides: tc.overrides})
			fn, ok := tpl.Function("ProcessorFunction")
			if !ok {
				t.Fatalf("template has no ProcessorFunction")
			}
			if fn.Handler != "bootstrap" || fn.Runtime != "provided.al2023" || !cmp.Equal(fn.Architectures, []string{"arm64"}) {
				t.Errorf("ProcessorFunction handler/runtime/arch = %q %q %v; want bootstrap provided.al2023 [arm64] from Globals", fn.Handler, fn.Runtime, fn.Architectures)
			}
			events := fn.KinesisEvents()
			if len(events) != 1 {
				t.Fatalf("ProcessorFunction has %d Kinesis events; want 1", len(events))
			}
			ev := events[0]
			stream, _ := ev.Properties["Stream"].(string)
			if !strings.HasPrefix(stream, "arn:aws:kinesis:us-east-1:123456789012:stream/") {
				t.Errorf("Kinesis event Stream = %q; want a Kinesis stream ARN", stream)
			}
			if got := ev.Properties["MaximumRetryAttempts"]; got == nil || got == "-1" {
				t.Errorf("Kinesis event MaximumRetryAttempts = %v; want an explicit finite value", got)
			}
			patterns, err := ev.FilterPatterns()
			if err != nil {
				t.Fatalf("FilterPatterns() error: %v", err)
			}
			if diff := cmp.Diff(tc.wantPatterns, patterns); diff != "" {
				t.Errorf("FilterPatterns() mismatch (-want +got):\n%s", diff)
			}
			for i, p := range patterns {
				if !json.Valid([]byte(p)) {
					t.Errorf("pattern %d is not valid JSON: %s", i, p)
				}
			}
		})
	}
}

func ExampleLoad() {
	tpl, err := Load("testdata/example.yaml", Options{
		StackName: "demo",
		Overrides: map[string]string{"MinTemperature": "10"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, fn := range tpl.Functions() {
		fmt.Println(fn.LogicalID, fn.Runtime, fn.Architectures, fn.MemorySize, fn.Environment["BUCKET"])
		for _, ev := range fn.KinesisEvents() {
			patterns, err := ev.FilterPatterns()
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(ev.Name, ev.Properties["Stream"])
			for _, p := range patterns {
				fmt.Println(p)
			}
		}
	}
	// Output:
	// Writer provided.al2023 [arm64] 256 demo-outbucket
	// FromStream arn:aws:kinesis:us-east-1:123456789012:stream/demo-Stream
	// {"data": {"temperature": [{"numeric": [">=", 10]}]}}
}

// TestProjectTemplateStreamConsumer: with StreamConsumer efo the processor's
// Kinesis event reads through the enhanced fan-out consumer (its Stream is the
// consumer ARN, <stream ARN>/consumer/<name>:<timestamp>), the consumer
// resource exists and the role may subscribe to it; with none, the stream ARN
// and no consumer.
func TestProjectTemplateStreamConsumer(t *testing.T) {
	for _, mode := range []string{"none", "efo"} {
		t.Run(mode, func(t *testing.T) {
			tpl := mustLoad(t, "../../template.yaml", Options{ConfigFile: "../../samconfig.toml", Overrides: map[string]string{"StreamConsumer": mode}})
			fn, ok := tpl.Function("ProcessorFunction")
			if !ok {
				t.Fatal("template has no ProcessorFunction")
			}
			stream, _ := fn.KinesisEvents()[0].Properties["Stream"].(string)
			_, hasConsumer := tpl.Resources["ProcessorConsumer"]
			isConsumer := strings.Contains(stream, "/consumer/")
			if hasConsumer != (mode == "efo") || isConsumer != (mode == "efo") {
				t.Errorf("StreamConsumer=%s: consumer resource %v, event Stream %q; want both only with efo", mode, hasConsumer, stream)
			}
			if mode == "efo" {
				name, _ := tpl.Resources["ProcessorConsumer"].Properties["ConsumerName"].(string)
				if !strings.HasPrefix(stream, "arn:aws:kinesis:us-east-1:123456789012:stream/") || !strings.Contains(stream, "/consumer/"+name+":") {
					t.Errorf("event Stream = %q; want the consumer %s's ARN", stream, name)
				}
				policy := fmt.Sprint(tpl.Resources["ProcessorRole"].Properties["Policies"])
				for _, action := range []string{"kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer", stream} {
					if !strings.Contains(policy, action) {
						t.Errorf("ProcessorRole policy lacks %s: %s", action, policy)
					}
				}
			}
		})
	}
}
