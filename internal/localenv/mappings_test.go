package localenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

// loadTemplate writes a template with the given Resources and loads it.
func loadTemplate(t *testing.T, resources string) *samtemplate.Template {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.yaml")
	src := "Transform: AWS::Serverless-2016-10-31\nResources:\n" + resources
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := LoadTemplate(Options{TemplatePath: path})
	if err != nil {
		t.Fatalf("LoadTemplate() error = %v", err)
	}
	return tpl
}

const (
	stream     = "  S:\n    Type: AWS::Kinesis::Stream\n    Properties: {ShardCount: 1}\n"
	kinesisFn  = "  %s:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n      Handler: bootstrap\n      Runtime: provided.al2023\n      Events:\n%s"
	kinesisEv  = "        %s:\n          Type: Kinesis\n          Properties: {Stream: !GetAtt S.Arn, StartingPosition: TRIM_HORIZON%s}\n"
	queue      = "  Q:\n    Type: AWS::SQS::Queue\n"
	sqsEvent   = "        E:\n          Type: SQS\n          Properties: {Queue: !GetAtt Q.Arn%s}\n"
	noFunction = "  Q:\n    Type: AWS::SQS::Queue\n"
)

func fnWith(name string, events ...string) string {
	return strings.Replace(strings.Replace(kinesisFn, "%s", name, 1), "%s", strings.Join(events, ""), 1)
}

func ev(name, props string) string {
	return strings.Replace(strings.Replace(kinesisEv, "%s", name, 1), "%s", props, 1)
}

// kinesisMappingErr loads the template at path and returns what
// KinesisMappingConfig says of its one Kinesis event.
func kinesisMappingErr(t *testing.T, path string) error {
	t.Helper()
	tpl, err := LoadTemplate(Options{TemplatePath: path})
	if err != nil {
		t.Fatalf("LoadTemplate() error = %v", err)
	}
	fn, ev, err := KinesisFunction(tpl, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = (&Env{Template: tpl}).KinesisMappingConfig(context.Background(), fn, ev)
	return err
}

func TestKinesisFunction(t *testing.T) {
	for _, tc := range []struct {
		name, resources, logicalID, want, wantErr string
	}{
		{"the only one", stream + fnWith("A", ev("K", "")), "", "A", ""},
		{"by name", stream + fnWith("A", ev("K", "")) + fnWith("B", ev("K", "")), "B", "B", ""},
		{"none", noFunction, "", "", "no function with a Kinesis event"},
		{"named has none", stream + fnWith("A", ev("K", "")), "B", "", "function B has no Kinesis event"},
		{"several", stream + fnWith("A", ev("K", "")) + fnWith("B", ev("K", "")), "", "", "several functions have Kinesis events (A, B)"},
		{"two events", stream + fnWith("A", ev("K", ""), ev("L", "")), "", "", "function A has 2 Kinesis events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn, _, err := KinesisFunction(loadTemplate(t, tc.resources), tc.logicalID)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("KinesisFunction(%q) error = %v; want %q", tc.logicalID, err, tc.wantErr)
				}
				return
			}
			if err != nil || fn.LogicalID != tc.want {
				t.Errorf("KinesisFunction(%q) = %s, %v; want %s", tc.logicalID, fn.LogicalID, err, tc.want)
			}
		})
	}
}

// TestMappingConfigErrors checks the refusals that come before any call to
// the emulator.
func TestMappingConfigErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, props, want string
	}{
		{"batch size", ", BatchSize: lots", `BatchSize "lots" is not an integer`},
		{"starting timestamp", ", StartingPositionTimestamp: yesterday", "StartingPositionTimestamp yesterday is not Unix seconds"},
		{"destination type", ", DestinationConfig: {OnFailure: {Type: SNS, Destination: arn:aws:sns:us-east-1:123456789012:t}}", "on-failure destination type SNS: only SQS is emulated"},
		{"filter", `, FilterCriteria: {Filters: [{Pattern: "{\"data\": 1}"}]}`, "FilterCriteria"},
		{"tumbling window", ", TumblingWindowInSeconds: 60", "TumblingWindowInSeconds 60: the local emulation does not support tumbling windows"},
		{"tumbling window as a string", `, TumblingWindowInSeconds: "900"`, "TumblingWindowInSeconds 900: the local emulation does not support tumbling windows"},
		{"tumbling window not a number", ", TumblingWindowInSeconds: soon", `TumblingWindowInSeconds "soon" is not an integer`},
		{"disabled", ", Enabled: false", "Enabled: false: the local emulation does not support a disabled Kinesis event"},
		{"disabled as a string", `, Enabled: "False"`, "Enabled: false: the local emulation does not support a disabled Kinesis event"},
		{"enabled not a boolean", ", Enabled: sometimes", `Enabled "sometimes" is not a boolean`},
		{"response types a string", ", FunctionResponseTypes: ReportBatchItemFailures", "FunctionResponseTypes ReportBatchItemFailures is string; want a list"},
		{"response types not strings", ", FunctionResponseTypes: [{a: 1}]", "FunctionResponseTypes holds"},
		{"batch size 0", ", BatchSize: 0", "BatchSize 0: the least value is 1"},
		{"parallelization 0", ", ParallelizationFactor: 0", "ParallelizationFactor 0: the least value is 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl := loadTemplate(t, stream+fnWith("A", ev("K", tc.props)))
			e := &Env{Template: tpl}
			fn, event, err := KinesisFunction(tpl, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.KinesisMappingConfig(ctx, fn, event); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("KinesisMappingConfig() error = %v; want %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, props, want string
	}{
		{"disabled", ", Enabled: false", "the SQS event is disabled"},
		{"filter", `, FilterCriteria: {Filters: [{Pattern: "{\"body\": [1]}"}]}`, "FilterCriteria on an SQS event is not emulated"},
		{"batch size", ", BatchSize: many", `BatchSize "many" is not an integer`},
		{"concurrency", ", ScalingConfig: {MaximumConcurrency: some}", "ScalingConfig"},
		{"batch size 0", ", BatchSize: 0", "BatchSize 0: the least value is 1"},
		{"response types a string", ", FunctionResponseTypes: ReportBatchItemFailures", "FunctionResponseTypes ReportBatchItemFailures is string; want a list"},
	} {
		t.Run("sqs "+tc.name, func(t *testing.T) {
			tpl := loadTemplate(t, queue+fnWith("A", strings.Replace(sqsEvent, "%s", tc.props, 1)))
			e := &Env{Template: tpl}
			events := SQSEvents(tpl)
			if len(events) != 1 {
				t.Fatalf("SQSEvents() = %v; want one", events)
			}
			fn, _ := tpl.Function("A")
			if _, err := e.SQSMappingConfig(ctx, fn, events[0]); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SQSMappingConfig() error = %v; want %q", err, tc.want)
			}
		})
	}
}

// TestSQSMappingTimeoutWithinVisibility checks that, as Lambda does, a local
// SQS mapping is refused when the function's timeout exceeds the queue's
// visibility timeout (read from the queue in the emulator).
func TestSQSMappingTimeoutWithinVisibility(t *testing.T) {
	motoserver.ForTest(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const visQueue = "  VisQ:\n    Type: AWS::SQS::Queue\n    Properties: {VisibilityTimeout: 30}\n"
	const fn = "  A:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n      Handler: bootstrap\n      Runtime: provided.al2023\n%s" +
		"      Events:\n        E:\n          Type: SQS\n          Properties: {Queue: !GetAtt VisQ.Arn}\n"
	for _, tc := range []struct {
		name, timeout, want string // want "" = accepted
	}{
		{"default timeout", "", ""},
		{"equal", "      Timeout: 30\n", ""},
		{"longer", "      Timeout: 31\n", "function A event E: the function's Timeout 31 s is longer than the VisibilityTimeout 30 s of queue arn:aws:sqs:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl := loadTemplate(t, visQueue+strings.Replace(fn, "%s", tc.timeout, 1))
			e := &Env{Template: tpl, AWS: cfg}
			if _, err := e.CreateResources(ctx); err != nil {
				t.Fatal(err)
			}
			f, _ := tpl.Function("A")
			c, err := e.SQSMappingConfig(ctx, f, SQSEvents(tpl)[0])
			switch {
			case tc.want == "" && (err != nil || c.QueueURL == ""):
				t.Errorf("SQSMappingConfig() = %+v, %v; want a config", c, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("SQSMappingConfig() error = %v; want %q", err, tc.want)
			}
		})
	}
}

// TestKinesisRequiredProperties: a Kinesis event without Stream or
// StartingPosition is refused by name before anything starts (it failed after the
// emulators had started, with "stream <nil>: ..." or "StartingPosition \"<nil>\"").
func TestKinesisRequiredProperties(t *testing.T) {
	for _, tc := range []struct{ name, props, want string }{
		{"no Stream", "{StartingPosition: LATEST}", "function A event K: Stream is required"},
		{"no StartingPosition", "{Stream: !GetAtt S.Arn}", "function A event K: StartingPosition is required"},
		{"no properties", "{}", "function A event K: Stream is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			event := "        K:\n          Type: Kinesis\n          Properties: " + tc.props + "\n"
			src := "Transform: AWS::Serverless-2016-10-31\nResources:\n" + stream + fnWith("A", event)
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := CheckKinesisEvent(Options{TemplatePath: path}, ""); err == nil || err.Error() != tc.want {
				t.Errorf("CheckKinesisEvent() error = %v; want %q", err, tc.want)
			}
			if err := kinesisMappingErr(t, path); err == nil || err.Error() != tc.want {
				t.Errorf("KinesisMappingConfig() error = %v; want %q", err, tc.want)
			}
		})
	}
}

// TestCheckKinesisEventCode: a function whose code local cannot build is refused
// before anything starts (a missing CodeUri failed at the build, after the
// emulators had started, as "CodeUri is not a local directory").
func TestCheckKinesisEventCode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "template.yaml")
	fn := strings.Replace(fnWith("A", ev("K", "")), "      CodeUri: .\n", "", 1)
	if err := os.WriteFile(path, []byte("Transform: AWS::Serverless-2016-10-31\nResources:\n"+stream+fn), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "function A: CodeUri is missing"
	if err := CheckKinesisEvent(Options{TemplatePath: path}, ""); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("CheckKinesisEvent() error = %v; want %q", err, want)
	}
}

// TestKinesisUnsupportedProperties checks that a tumbling window and a disabled
// event are refused, not ignored, also when their values come from parameters
// (strings), both by CheckKinesisEvent and by KinesisMappingConfig, and that the
// values that ask for neither are accepted.
func TestKinesisUnsupportedProperties(t *testing.T) {
	const params = "Parameters:\n  Window: {Type: Number, Default: 0}\n  On: {Type: String, Default: 'true'}\n"
	for _, tc := range []struct {
		name, params, props, want string // want "" = accepted
	}{
		{"enabled", "", ", Enabled: true", ""},
		{"enabled as a string", "", `, Enabled: "true"`, ""},
		{"no window", "", ", TumblingWindowInSeconds: 0", ""},
		{"no window as a string", "", `, TumblingWindowInSeconds: "0"`, ""},
		{"null window", "", ", TumblingWindowInSeconds: null", ""},
		{"parameters that ask for neither", params, ", TumblingWindowInSeconds: !Ref Window, Enabled: !Ref On", ""},
		{"window from a parameter", strings.Replace(params, "Default: 0", "Default: 120", 1), ", TumblingWindowInSeconds: !Ref Window",
			"TumblingWindowInSeconds 120: the local emulation does not support tumbling windows"},
		{"disabled by a parameter", strings.Replace(params, "'true'", "'false'", 1), ", Enabled: !Ref On",
			"Enabled: false: the local emulation does not support a disabled Kinesis event"},
		// A Number parameter takes 1.5; the mapping's settings are integers.
		{"batch size from a Number parameter", strings.Replace(params, "Default: 0", "Default: 1.5", 1), ", BatchSize: !Ref Window",
			`BatchSize "1.5" is not an integer`},
		{"retries written as a fraction", "", ", MaximumRetryAttempts: 2.5", "MaximumRetryAttempts 2.5 is not an integer"},
		{"age written as a whole float", "", ", MaximumRecordAgeInSeconds: 3600.0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			src := "Transform: AWS::Serverless-2016-10-31\n" + tc.params + "Resources:\n" + stream + fnWith("A", ev("K", tc.props))
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			checkErr := CheckKinesisEvent(Options{TemplatePath: path}, "")
			configErr := kinesisMappingErr(t, path)
			for _, got := range []struct {
				fn  string
				err error
			}{{"CheckKinesisEvent", checkErr}, {"KinesisMappingConfig", configErr}} {
				switch {
				case tc.want == "" && got.err != nil:
					t.Errorf("%s() error = %v; want none", got.fn, got.err)
				case tc.want != "" && (got.err == nil || !strings.Contains(got.err.Error(), tc.want)):
					t.Errorf("%s() error = %v; want %q", got.fn, got.err, tc.want)
				}
			}
		})
	}
}
