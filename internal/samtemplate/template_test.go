package samtemplate

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustLoad(t *testing.T, path string, opts Options) *Template {
	t.Helper()
	tpl, err := Load(path, opts)
	if err != nil {
		t.Fatalf("Load(%s) error: %v", path, err)
	}
	return tpl
}

func TestLoadIntrinsics(t *testing.T) {
	tpl := mustLoad(t, "testdata/intrinsics.yaml", Options{StackName: "demo", Region: "eu-west-1", AccountID: "111122223333"})
	probe, ok := tpl.Resources["Probe"]
	if !ok {
		t.Fatal("Resources has no Probe")
	}
	tests := []struct {
		property string
		want     any
	}{
		{"RefParam", "alpha"},
		{"RefNumber", "3"},
		{"RefList", []any{"a", "b", "c"}},
		{"RefLong", "alpha"},
		{"RefRegion", "eu-west-1"},
		{"RefAccount", "111122223333"},
		{"RefStack", "demo"},
		{"RefPartition", "aws"},
		{"RefURLSuffix", "amazonaws.com"},
		{"RefNotificationARNs", []any{}},
		{"RefQueue", "https://sqs.eu-west-1.amazonaws.com/111122223333/demo-Queue"},
		{"RefNamedQueue", "https://sqs.eu-west-1.amazonaws.com/111122223333/alpha-jobs"},
		{"RefFifoQueue", "https://sqs.eu-west-1.amazonaws.com/111122223333/demo-FifoQueue.fifo"},
		{"RefStream", "demo-Stream"},
		{"RefBucket", "demo-bucket"},
		{"RefTable", "demo-Table"},
		{"RefTopic", "arn:aws:sns:eu-west-1:111122223333:demo-Topic"},
		{"RefRole", "demo-Role"},
		{"RefFunction", "demo-Fn"},
		{"AttQueueArn", "arn:aws:sqs:eu-west-1:111122223333:demo-Queue"},
		{"AttQueueName", "alpha-jobs"},
		{"AttQueueURL", "https://sqs.eu-west-1.amazonaws.com/111122223333/demo-Queue"},
		{"AttStreamArn", "arn:aws:kinesis:eu-west-1:111122223333:stream/demo-Stream"},
		{"AttStreamLong", "arn:aws:kinesis:eu-west-1:111122223333:stream/demo-Stream"},
		{"AttBucketArn", "arn:aws:s3:::demo-bucket"},
		{"AttTableArn", "arn:aws:dynamodb:eu-west-1:111122223333:table/demo-Table"},
		{"AttTopicName", "demo-Topic"},
		{"AttRoleArn", "arn:aws:iam::111122223333:role/demo-Role"},
		{"AttFunctionArn", "arn:aws:lambda:eu-west-1:111122223333:function:demo-Fn"},
		{"AttImplicitRole", "arn:aws:iam::111122223333:role/demo-FnRole"},
		{"AttAttributeRef", "arn:aws:kinesis:eu-west-1:111122223333:stream/demo-Stream"},
		{"Sub", "alpha-3-eu-west-1"},
		{"SubAtt", "arn:aws:kinesis:eu-west-1:111122223333:stream/demo-Stream/consumer"},
		{"SubResource", "queue=https://sqs.eu-west-1.amazonaws.com/111122223333/demo-Queue"},
		{"SubLiteral", "${Literal}-alpha"},
		{"SubVars", "hello, alpha in eu-west-1"},
		{"SubLong", "aws:alpha"},
		{"SubBlock", "line alpha\n"},
		{"IfTrue", "dev-value"},
		{"IfFalse", "prod-value"},
		{"IfNoValueList", []any{"keep", "also"}},
		{"Join", "a-alpha-3"},
		{"JoinList", "a,b,c"},
		{"JoinEmpty", ""},
		{"Select", "b"},
		{"SelectString", "r"},
		{"Split", []any{"a", "b", "", "c"}},
		{"SelectSplit", "z"},
		{"FindInMap", 128},
		{"FindInMapList", []any{"x", "y"}},
		{"FindInMapDefault", 256},
		{"Base64", "aGk="},
		{"GetAZs", []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{"Nested", "alpha!"},
		{"Literals", map[string]any{"Int": 7, "Float": 2.5, "Bool": true, "Nothing": nil, "Quoted": "012", "Str": "12"}},
		{"Anchored", map[string]any{"k": "v"}},
		{"Aliased", map[string]any{"k": "v"}},
		{"Merged", map[string]any{"k": "v", "extra": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.property, func(t *testing.T) {
			got, ok := probe.Properties[tc.property]
			if !ok {
				t.Fatalf("Probe.Properties[%q] is missing", tc.property)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Probe.Properties[%q] mismatch (-want +got):\n%s", tc.property, diff)
			}
		})
	}
	if v, ok := probe.Properties["IfNoValueKey"]; ok {
		t.Errorf("Probe.Properties[IfNoValueKey] = %v; want the key removed by AWS::NoValue", v)
	}
	if got, want := tpl.Description, "Every intrinsic function, short and long form."; got != want {
		t.Errorf("Description = %q; want %q", got, want)
	}
}

func TestLoadConditionsAndOutputs(t *testing.T) {
	for _, tc := range []struct {
		env            string
		wantConditions map[string]bool
		wantOutputs    map[string]any
	}{
		{
			env:            "dev",
			wantConditions: map[string]bool{"IsProd": false, "IsDev": true, "LongIsDev": true, "Both": true, "Either": true, "NumberEquals": true},
			wantOutputs:    map[string]any{"QueueURL": "https://sqs.us-east-1.amazonaws.com/123456789012/sam-app-Queue"},
		},
		{
			env:            "prod",
			wantConditions: map[string]bool{"IsProd": true, "IsDev": false, "LongIsDev": false, "Both": false, "Either": true, "NumberEquals": true},
			wantOutputs:    map[string]any{"QueueURL": "https://sqs.us-east-1.amazonaws.com/123456789012/sam-app-Queue", "OnlyInProd": "prod"},
		},
	} {
		t.Run(tc.env, func(t *testing.T) {
			tpl := mustLoad(t, "testdata/intrinsics.yaml", Options{Overrides: map[string]string{"Env": tc.env}})
			if diff := cmp.Diff(tc.wantConditions, tpl.Conditions); diff != "" {
				t.Errorf("Conditions mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantOutputs, tpl.Outputs); diff != "" {
				t.Errorf("Outputs mismatch (-want +got):\n%s", diff)
			}
			probe := tpl.Resources["Probe"].Properties
			wantKey := tc.env == "prod"
			if _, got := probe["IfNoValueKey"]; got != wantKey {
				t.Errorf("IfNoValueKey present = %v; want %v", got, wantKey)
			}
		})
	}
}

func TestLoadLanguageExtensions(t *testing.T) {
	tpl := mustLoad(t, "testdata/intrinsics-langext.yaml", Options{})
	got := tpl.Resources["Probe"].Properties
	want := map[string]any{
		"JSON":   `{"data":{"temperature":[{"numeric":[">=","10"]}]}}`,
		"Length": 3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Probe properties mismatch (-want +got):\n%s", diff)
	}
}

func TestConditionalResources(t *testing.T) {
	tpl := mustLoad(t, "testdata/conditional.yaml", Options{})
	if _, ok := tpl.Resources["ProdOnly"]; ok {
		t.Errorf("Resources has ProdOnly; want it left out (its condition is false)")
	}
	if got, want := tpl.Resources["Always"].Properties["Dlq"], "none"; got != want {
		t.Errorf("Always.Dlq = %v; want %v", got, want)
	}
	tpl = mustLoad(t, "testdata/conditional.yaml", Options{Overrides: map[string]string{"Stage": "prod"}})
	if _, ok := tpl.Resources["ProdOnly"]; !ok {
		t.Errorf("Resources lacks ProdOnly with Stage=prod")
	}
	if got, want := tpl.Resources["Always"].Properties["Dlq"], "arn:aws:sqs:us-east-1:123456789012:sam-app-ProdOnly"; got != want {
		t.Errorf("Always.Dlq = %v; want %v", got, want)
	}
}

func TestGlobalsMerge(t *testing.T) {
	tpl := mustLoad(t, "testdata/globals.yaml", Options{})
	got := map[string]Function{}
	for _, f := range tpl.Functions() {
		got[f.LogicalID] = f
	}
	tests := []struct {
		id         string
		handler    string
		runtime    string
		arch       []string
		memory     int
		timeout    int
		env        map[string]string
		codeDir    string
		layers     any
		tags       any
		wantLayers bool
	}{
		{
			id: "Plain", handler: "bootstrap", runtime: "provided.al2023", arch: []string{"arm64"}, memory: 256, timeout: 30,
			env:     map[string]string{"LOG_LEVEL": "info", "SHARED": "from-globals"},
			codeDir: "testdata/functions/plain",
			layers:  []any{"arn:aws:lambda:us-east-1:123456789012:layer:global:1"},
			tags:    map[string]any{"team": "data"},
		},
		{
			// Scalars from the function win, maps merge key by key, lists concatenate
			// (global first), as the SAM translator does.
			id: "Custom", handler: "bootstrap", runtime: "provided.al2", arch: []string{"arm64"}, memory: 1024, timeout: 30,
			env:     map[string]string{"LOG_LEVEL": "info", "SHARED": "from-function", "ONLY_HERE": "1"},
			codeDir: "testdata/functions/custom",
			layers:  []any{"arn:aws:lambda:us-east-1:123456789012:layer:global:1", "arn:aws:lambda:us-east-1:123456789012:layer:local:3"},
			tags:    map[string]any{"team": "data", "owner": "me"},
		},
		{
			// An intrinsic function counts as a scalar: the function's value wins, even
			// when it resolves to AWS::NoValue (the property then falls to Lambda's default).
			id: "Intrinsic", handler: "bootstrap", runtime: "provided.al2023", arch: []string{"arm64"}, memory: 256, timeout: DefaultTimeout,
			env:     map[string]string{},
			codeDir: "testdata/functions/intrinsic",
			layers:  []any{"arn:aws:lambda:us-east-1:123456789012:layer:global:1"},
			tags:    map[string]any{"team": "data"},
		},
		{
			id: "Ignoring", handler: "bootstrap", runtime: "provided.al2023", arch: []string{"arm64"}, memory: DefaultMemorySize, timeout: 30,
			env:     map[string]string{},
			codeDir: "testdata/functions/ignoring",
			layers:  []any{"arn:aws:lambda:us-east-1:123456789012:layer:global:1"},
			tags:    map[string]any{"team": "data"},
		},
		{
			id: "IgnoringAll", handler: "main", runtime: "provided.al2023", arch: []string{DefaultArchitecture}, memory: DefaultMemorySize, timeout: DefaultTimeout,
			env: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			f, ok := got[tc.id]
			if !ok {
				t.Fatalf("Functions() has no %s", tc.id)
			}
			if f.Handler != tc.handler || f.Runtime != tc.runtime || f.MemorySize != tc.memory || f.Timeout != tc.timeout || f.CodeDir != tc.codeDir {
				t.Errorf("%s = handler %q runtime %q memory %d timeout %d codeDir %q; want %q %q %d %d %q",
					tc.id, f.Handler, f.Runtime, f.MemorySize, f.Timeout, f.CodeDir, tc.handler, tc.runtime, tc.memory, tc.timeout, tc.codeDir)
			}
			if diff := cmp.Diff(tc.arch, f.Architectures); diff != "" {
				t.Errorf("%s Architectures mismatch (-want +got):\n%s", tc.id, diff)
			}
			if diff := cmp.Diff(tc.env, f.Environment); diff != "" {
				t.Errorf("%s Environment mismatch (-want +got):\n%s", tc.id, diff)
			}
			if diff := cmp.Diff(tc.layers, f.Properties["Layers"]); diff != "" {
				t.Errorf("%s Layers mismatch (-want +got):\n%s", tc.id, diff)
			}
			if diff := cmp.Diff(tc.tags, f.Properties["Tags"]); diff != "" {
				t.Errorf("%s Tags mismatch (-want +got):\n%s", tc.id, diff)
			}
		})
	}
	if f, _ := tpl.Function("IgnoringAll"); f.CodeURI != "s3://bucket/key.zip" || f.CodeDir != "" {
		t.Errorf("IgnoringAll CodeURI, CodeDir = %q, %q; want s3://bucket/key.zip, \"\"", f.CodeURI, f.CodeDir)
	}
	if _, ok := tpl.Function("Nope"); ok {
		t.Errorf("Function(Nope) found a function")
	}
}

func TestParameterSources(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		want       map[string]string
		wantStack  string
		wantRegion string
	}{
		{
			name:       "defaults",
			opts:       Options{},
			want:       map[string]string{"Mode": "PROVISIONED", "Shards": "2", "Label": "none", "Prefix": "processed"},
			wantStack:  DefaultStackName,
			wantRegion: DefaultRegion,
		},
		{
			name:       "samconfig string form",
			opts:       Options{ConfigFile: "testdata/samconfig.toml"},
			want:       map[string]string{"Mode": "ON_DEMAND", "Shards": "4", "Label": "two words", "Prefix": "processed"},
			wantStack:  "from-deploy",
			wantRegion: "eu-west-1",
		},
		{
			name:      "samconfig list form",
			opts:      Options{ConfigFile: "testdata/samconfig.toml", ConfigEnv: "listform"},
			want:      map[string]string{"Mode": "ON_DEMAND", "Shards": "5", "Label": "single quoted", "Prefix": "raw"},
			wantStack: DefaultStackName, wantRegion: DefaultRegion,
		},
		{
			name:      "samconfig ParameterKey form",
			opts:      Options{ConfigFile: "testdata/samconfig.toml", ConfigEnv: "legacy"},
			want:      map[string]string{"Mode": "PROVISIONED", "Shards": "6", "Label": "a b"},
			wantStack: DefaultStackName, wantRegion: DefaultRegion,
		},
		{
			name:      "deploy section wins over global",
			opts:      Options{ConfigFile: "testdata/samconfig.toml", ConfigEnv: "globalonly"},
			want:      map[string]string{"Shards": "8", "Label": "deploy-wins"},
			wantStack: DefaultStackName, wantRegion: DefaultRegion,
		},
		{
			name:      "samconfig.yaml",
			opts:      Options{ConfigFile: "testdata/samconfig.yaml"},
			want:      map[string]string{"Shards": "3", "Label": "from-yaml"},
			wantStack: DefaultStackName, wantRegion: DefaultRegion,
		},
		{
			name: "overrides win over samconfig and defaults",
			opts: Options{ConfigFile: "testdata/samconfig.toml", Overrides: map[string]string{"Shards": "9", "Prefix": "custom"},
				StackName: "explicit", Region: "ap-southeast-2"},
			want:       map[string]string{"Mode": "ON_DEMAND", "Shards": "9", "Label": "two words", "Prefix": "custom"},
			wantStack:  "explicit",
			wantRegion: "ap-southeast-2",
		},
		{
			name:      "numeric AllowedValues compare as numbers",
			opts:      Options{Overrides: map[string]string{"Retention": "30.0"}},
			want:      map[string]string{"Retention": "30.0"},
			wantStack: DefaultStackName, wantRegion: DefaultRegion,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl := mustLoad(t, "testdata/params.yaml", tc.opts)
			for k, want := range tc.want {
				if got := tpl.Parameters[k]; got != want {
					t.Errorf("Parameters[%s] = %q; want %q", k, got, want)
				}
			}
			if tpl.StackName != tc.wantStack || tpl.Region != tc.wantRegion {
				t.Errorf("StackName, Region = %q, %q; want %q, %q", tpl.StackName, tpl.Region, tc.wantStack, tc.wantRegion)
			}
		})
	}
}

func TestParameterErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		wantName   string
		wantSource string
		wantReason string
	}{
		{"unknown override", Options{Overrides: map[string]string{"Shard": "1"}}, "Shard", "overrides", "no such parameter in the template (parameters: Label, Mode, Prefix, Retention, Secret, Shards)"},
		{"unknown in samconfig", Options{ConfigFile: "testdata/samconfig.toml", ConfigEnv: "unknown"}, "Nope", "samconfig.toml [unknown.deploy.parameters]", "no such parameter"},
		{"not allowed", Options{Overrides: map[string]string{"Mode": "provisioned"}}, "Mode", "overrides", `value "provisioned" is not one of the AllowedValues [PROVISIONED, ON_DEMAND]`},
		{"above max", Options{Overrides: map[string]string{"Shards": "11"}}, "Shards", "overrides", `value "11" is above MaxValue 10: between 1 and 10 shards`},
		{"below min", Options{Overrides: map[string]string{"Shards": "0"}}, "Shards", "overrides", `value "0" is below MinValue 1`},
		{"out of range from samconfig", Options{ConfigFile: "testdata/samconfig.toml", ConfigEnv: "badvalue"}, "Shards", "samconfig.toml [badvalue.deploy.parameters]", `value "99" is above MaxValue 10`},
		{"not a number", Options{Overrides: map[string]string{"Shards": "two"}}, "Shards", "overrides", `value "two" is not a number`},
		{"NaN", Options{Overrides: map[string]string{"Shards": "NaN"}}, "Shards", "overrides", `value "NaN" is not a number`},
		{"Inf", Options{Overrides: map[string]string{"Shards": "+Inf"}}, "Shards", "overrides", `value "+Inf" is not a number`},
		{"underscores", Options{Overrides: map[string]string{"Shards": "1_0"}}, "Shards", "overrides", `value "1_0" is not a number`},
		{"hexadecimal", Options{Overrides: map[string]string{"Shards": "0x1p1"}}, "Shards", "overrides", `value "0x1p1" is not a number`},
		{"pattern", Options{Overrides: map[string]string{"Prefix": "Bad-1"}}, "Prefix", "overrides", `value "Bad-1" does not match AllowedPattern [a-z]+`},
		{"max length", Options{Overrides: map[string]string{"Prefix": "abcdefghijklm"}}, "Prefix", "overrides", "is longer than MaxLength 12"},
		{"numeric allowed values", Options{Overrides: map[string]string{"Retention": "2"}}, "Retention", "overrides", "is not one of the AllowedValues [1, 7, 30]"},
		{"no echo hides the value", Options{Overrides: map[string]string{"Secret": "abc"}}, "Secret", "overrides", "value (hidden: NoEcho) is shorter than MinLength 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("testdata/params.yaml", tc.opts)
			var pe *ParameterError
			if !errors.As(err, &pe) {
				t.Fatalf("Load() error = %v; want a *ParameterError", err)
			}
			if pe.Name != tc.wantName || pe.Source != tc.wantSource || !strings.Contains(pe.Reason, tc.wantReason) {
				t.Errorf("Load() error = {Name %q, Source %q, Reason %q}; want {%q, %q, containing %q}", pe.Name, pe.Source, pe.Reason, tc.wantName, tc.wantSource, tc.wantReason)
			}
			if strings.Contains(err.Error(), "abc") && tc.wantName == "Secret" {
				t.Errorf("error %q shows a NoEcho value", err)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"missing env", Options{ConfigFile: "testdata/samconfig.toml", ConfigEnv: "staging"}, `SAM config testdata/samconfig.toml: no such environment "staging" (environments: badvalue, default, globalonly, legacy, listform, malformed, unknown)`},
		{"malformed overrides", Options{ConfigFile: "testdata/samconfig.toml", ConfigEnv: "malformed"}, `samconfig.toml [malformed.deploy.parameters]: parameter overrides: "Shards" is not Key=Value`},
		{"missing file", Options{ConfigFile: "testdata/nope.toml"}, "read SAM config"},
		{"env without file", Options{ConfigEnv: "dev"}, `config environment "dev" given without a config file`},
		{"bad stack name", Options{StackName: "1stack"}, `stack name "1stack"`},
		{"bad region", Options{Region: "mars"}, `region "mars"`},
		{"bad account", Options{AccountID: "12"}, `account ID "12"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("testdata/params.yaml", tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load() error = %v; want it to contain %q", err, tc.want)
			}
			if got, want := errors.Is(err, ErrUnknownConfigEnv), tc.name == "missing env"; got != want {
				t.Errorf("errors.Is(%v, ErrUnknownConfigEnv) = %v; want %v", err, got, want)
			}
			var e *Error
			if errors.As(err, &e) {
				t.Errorf("Load() error = %#v; want a plain error: the problem is not in the template", e)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file        string
		section     string
		logicalID   string
		path        string
		line        int
		contains    string
		unsupported bool
	}{
		{"importvalue.yaml", "Resources", "Consumer", "Properties.Source.Stream.Fn::ImportValue", 7, "cannot resolve Fn::ImportValue", true},
		{"fn-transform.yaml", "Resources", "Api", "Properties.Body.Fn::Transform", 6, "macros run only in CloudFormation", true},
		{"unknown-tag.yaml", "Resources", "Queue", "Properties.QueueName", 5, "unknown YAML tag !Lowercase", false},
		{"getatt-unknown-attr.yaml", "Resources", "Alarm", "Properties.Dimensions[0].Value.Fn::GetAtt", 9, `attribute "Nope" of AWS::SQS::Queue`, true},
		{"getatt-unknown-type.yaml", "Resources", "Record", "Properties.Target.Fn::GetAtt", 7, `attribute "PublicIp" of AWS::EC2::Instance`, true},
		{"ref-unknown.yaml", "Resources", "Queue", "Properties.RedrivePolicy.deadLetterTargetArn.Ref", 6, `no parameter or resource named "Missing"`, false},
		{"ref-disabled.yaml", "Resources", "Queue", "Properties.RedrivePolicy.deadLetterTargetArn.Fn::GetAtt", 11, "resource Dlq is not created: its condition Never is false", false},
		{"unknown-condition.yaml", "Resources", "Queue", "Properties.DelaySeconds.Fn::If[0]", 5, `unknown condition "Nope"`, false},
		{"condition-cycle.yaml", "Conditions", "B", "Fn::Not[0].Condition", 3, "condition A depends on itself", false},
		{"sub-list.yaml", "Resources", "Queue", "Properties.QueueName.Fn::Sub", 9, "${Zones} is a list; Fn::Sub needs a string", false},
		{"duplicate-key.yaml", "", "", "", 6, `parse YAML: mapping key "DelaySeconds" already defined at [5:7]`, false},
		{"flow-fn-key.yaml", "", "", "", 7, `(line 7: this reader cannot take an unquoted key with "::" in a flow mapping, such as {Fn::If: …}; quote it`, false},
		{"select-range.yaml", "Resources", "Queue", "Properties.QueueName.Fn::Select[0]", 5, "index 3 is out of range for a list of 2", false},
		{"select-index.yaml", "Resources", "Queue", "Properties.QueueName.Fn::Select[0]", 5, `index "first" is not an integer`, false},
		{"macro.yaml", "Transform", "", "", 1, `transform "MyMacro"`, true},
		{"ssm-param.yaml", "Parameters", "Ami", "Type", 3, "reads AWS Systems Manager Parameter Store", true},
		{"globals-events.yaml", "Globals", "", "Function.Events", 4, "Events is not allowed in Globals.Function", false},
		{"cidr.yaml", "Resources", "Subnet", "Properties.CidrBlock.Fn::Select[1].Fn::Cidr", 5, "cannot resolve Fn::Cidr", true},
		{"unknown-fn.yaml", "Resources", "Queue", "Properties.QueueName.Fn::Upper", 6, "unknown intrinsic function Fn::Upper", false},
		{"tojson-no-ext.yaml", "Resources", "Queue", "Properties.QueueName.Fn::ToJsonString", 5, `needs "Transform: AWS::LanguageExtensions"`, false},
		{"resource-cycle.yaml", "Resources", "First", "Properties.QueueName", 5, "circular reference", false},
		{"unknown-section.yaml", "Resource", "", "", 1, `unknown top-level section "Resource"`, false},
		{"output-importvalue.yaml", "Outputs", "Shared", "Value.Fn::ImportValue", 6, "cannot resolve Fn::ImportValue", true},
		{"mixed-intrinsic.yaml", "Resources", "Queue", "Properties.QueueName", 5, "Ref must be the only key of its mapping; this one also has Extra", false},
		{"getatt-parameter.yaml", "Resources", "Queue", "Properties.QueueName.Fn::GetAtt", 7, `"Name" is a parameter`, false},
		{"bad-memory.yaml", "Resources", "Fn", "Properties.MemorySize", 9, `"lots" is not an integer`, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := "testdata/errors/" + tc.file
			_, err := Load(path, Options{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Load(%s) error = %v; want an *Error", tc.file, err)
			}
			if e.File != path || e.Section != tc.section || e.LogicalID != tc.logicalID || e.Path != tc.path || e.Line != tc.line {
				t.Errorf("Load(%s) error at {File %q, Section %q, LogicalID %q, Path %q, Line %d}; want {%q, %q, %q, %q, %d}",
					tc.file, e.File, e.Section, e.LogicalID, e.Path, e.Line, path, tc.section, tc.logicalID, tc.path, tc.line)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("Load(%s) error = %q; want it to contain %q", tc.file, err, tc.contains)
			}
			if got := errors.Is(err, ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(Load(%s) error, ErrUnsupported) = %v; want %v", tc.file, got, tc.unsupported)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Load("testdata/errors/importvalue.yaml", Options{})
	want := "testdata/errors/importvalue.yaml:7: resource Consumer: Properties.Source.Stream.Fn::ImportValue: cannot resolve Fn::ImportValue: exports of other stacks exist only in a deployed account: not supported locally"
	if err == nil || err.Error() != want {
		t.Errorf("Load() error = %v\nwant %s", err, want)
	}
}

func TestLoadBadFiles(t *testing.T) {
	for _, tc := range []struct {
		path string
		want string
	}{
		{"testdata/does-not-exist.yaml", "read template"},
		{"testdata/samconfig.toml", "template is a string; want a mapping"},
		{"testdata/errors/malformed.yaml", "testdata/errors/malformed.yaml:3: parse YAML: "},
		{"testdata/errors/empty.yaml", "empty template"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			_, err := Load(tc.path, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load(%s) error = %v; want it to contain %q", tc.path, err, tc.want)
			}
		})
	}
}
