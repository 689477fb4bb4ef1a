package templatecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

const repoTemplate = "../../template.yaml"

func loadLongest(t *testing.T, path string) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.Load(path, samtemplate.Options{StackName: longestStackName, Region: "ap-southeast-2", AccountID: "123456789012"})
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return tpl
}

// TestNamesFitForTheLongestStackName: every name the template builds from the stack
// name fits its service's limit for a 128-character stack name (an explicit
// FunctionName of <stack>-processor fails past 54 characters).
func TestNamesFitForTheLongestStackName(t *testing.T) {
	tpl := loadLongest(t, repoTemplate)
	if p := nameProblems(tpl); len(p) > 0 {
		t.Errorf("%s with a %d-character stack name:\n%s", repoTemplate, len(longestStackName), strings.Join(p, "\n"))
	}
	checked := 0
	for _, r := range tpl.Resources {
		for _, l := range nameLimits {
			if _, ok := samtemplate.Lookup(r.Properties, l.path); ok && r.Type == l.resourceType {
				checked++
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d name properties checked; the limits table no longer matches the template", checked)
	}
}

// TestEnhancedFanOutConsumerNameLimit: with StreamConsumer efo the consumer is
// named <stack>-processor, which Kinesis takes up to 128 characters, so such a stack's
// name may have at most 118 (README, StreamConsumer). The name is kept rather than
// shortened: renaming the consumer of a deployed stack replaces its event source
// mapping, which starts again at StartingPosition.
func TestEnhancedFanOutConsumerNameLimit(t *testing.T) {
	for _, c := range []struct {
		stack    string
		problems int
	}{
		{longestStackName[:118], 0},
		{longestStackName[:119], 1},
	} {
		tpl, err := samtemplate.Load(repoTemplate, samtemplate.Options{StackName: c.stack, Region: "ap-southeast-2",
			AccountID: "123456789012", Overrides: map[string]string{"StreamConsumer": "efo"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := tpl.Resources["ProcessorConsumer"]; !ok {
			t.Fatal("no ProcessorConsumer with StreamConsumer=efo")
		}
		p := nameProblems(tpl)
		if len(p) != c.problems || (len(p) == 1 && !strings.Contains(p[0], "ProcessorConsumer (AWS::Kinesis::StreamConsumer) ConsumerName is 129 characters")) {
			t.Errorf("stack name of %d characters, efo: problems %q; want %d about the consumer name", len(c.stack), p, c.problems)
		}
	}
}

func TestNameProblemsFindsLongNames(t *testing.T) {
	dir := t.TempDir()
	src := `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-processor"
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: fn/
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "${AWS::StackName} alarms"
  Query:
    Type: AWS::Athena::NamedQuery
    Properties:
      Name: short
      Database: db
      QueryString: SELECT 1
`
	path := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := nameProblems(loadLongest(t, path))
	want := []string{"Fn (AWS::Serverless::Function) FunctionName is 138 characters", "Topic (AWS::SNS::Topic) DisplayName is 135 characters"}
	if len(got) != len(want) {
		t.Fatalf("nameProblems = %q; want %d problems", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("nameProblems[%d] = %q; want prefix %q", i, got[i], want[i])
		}
	}
}
