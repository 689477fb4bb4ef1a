package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const moduleDir = "../.."

func repoPackage(logicalID string) (string, error) { return makePackage(moduleDir, logicalID) }

// TestScan: calls are found through a consumer's interface, in a method only
// lambda.Start's code calls, and per transaction item; unreachable calls are not.
func TestScan(t *testing.T) {
	calls, err := scan(moduleDir, "./tools/iamcheck/testdata/fn")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for c := range calls {
		got = append(got, c.String())
	}
	sort.Strings(got)
	want := []string{"dynamodb:TransactWriteItem.ConditionCheck", "dynamodb:TransactWriteItems", "s3:DeleteObject"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("scan(testdata/fn) = %v; want %v", got, want)
	}
}

func TestScanErrors(t *testing.T) {
	if _, err := scan(moduleDir, "./tools/iamcheck/testdata/nosuch"); err == nil {
		t.Error("scan(missing package) = nil error; want one")
	}
	if _, err := scan(moduleDir, "./internal/s3store"); err == nil || !strings.Contains(err.Error(), "want one main package") {
		t.Errorf("scan(library package) error = %v; want 'want one main package'", err)
	}
}

// TestRepository is the check make test runs (make iam-check), as a test.
func TestRepository(t *testing.T) {
	reports, err := checkTemplate(filepath.Join(moduleDir, "template.yaml"), moduleDir, nil, repoPackage)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 {
		t.Fatalf("%d functions checked; want 2", len(reports))
	}
	for _, r := range reports {
		var buf bytes.Buffer
		r.write(&buf, true)
		if len(r.Problems) > 0 {
			t.Errorf("%s:\n%s", r.Function, &buf)
		}
		if len(r.Calls) == 0 {
			t.Errorf("%s: no AWS calls found; the scan is broken:\n%s", r.Function, &buf)
		}
	}
}

// mutated writes the repository's template with each old string replaced by the new
// one after it (oldNew holds pairs) to a temporary directory and checks it.
func mutated(t *testing.T, oldNew ...string) string {
	t.Helper()
	return mutatedWith(t, nil, oldNew...)
}

// mutatedWith is mutated with template parameter overrides.
func mutatedWith(t *testing.T, overrides map[string]string, oldNew ...string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(moduleDir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !bytes.Contains(src, []byte(oldNew[i])) {
			t.Fatalf("template.yaml no longer contains %q", oldNew[i])
		}
		src = bytes.Replace(src, []byte(oldNew[i]), []byte(oldNew[i+1]), 1)
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	reports, err := checkTemplate(path, moduleDir, overrides, repoPackage)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, r := range reports {
		r.write(&buf, false)
	}
	return buf.String()
}

func TestFindsWrongGrants(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{
			// The defect this check was written for: a missing key read as 403.
			"no s3:ListBucket for the aggregator",
			"                Action: s3:ListBucket\n", "                Action: s3:GetBucketLocation\n",
			"AggregatorFunction: needs s3:ListBucket on {{GetAtt:OutputBucket.Arn}} (code calls s3:GetObject; code calls s3:HeadObject); role AggregatorRole does not grant it",
		},
		{
			"an action nothing needs",
			"                  - dynamodb:GetItem\n", "                  - dynamodb:GetItem\n                  - dynamodb:Scan\n",
			"AggregatorFunction: role AggregatorRole grants dynamodb:Scan on {{GetAtt:SummaryTable.Arn}}, which nothing the function does needs",
		},
		{
			"a wider resource, extra",
			`                  - !Sub "${OutputBucket.Arn}/${QuarantinePrefix}/*"`, `                  - !Sub "${OutputBucket.Arn}/*"`,
			"ProcessorFunction: role ProcessorRole grants s3:PutObject on {{GetAtt:OutputBucket.Arn}}/*, which nothing the function does needs",
		},
		{
			"the failure destination grant on another queue",
			"                Action: sqs:SendMessage\n                Resource: !GetAtt FailureQueue.Arn\n",
			"                Action: sqs:SendMessage\n                Resource: !GetAtt AggregatorDeadLetterQueue.Arn\n",
			"ProcessorFunction: needs sqs:SendMessage on {{GetAtt:FailureQueue.Arn}} (event source mapping Stream on-failure destination); role ProcessorRole does not grant it",
		},
		{
			"a managed policy",
			"      Policies:\n        - PolicyName: aggregator\n", "      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n      Policies:\n        - PolicyName: aggregator\n",
			"has ManagedPolicyArns",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := mutated(t, tc.old, tc.new)
			if !strings.Contains(out, tc.want) {
				t.Errorf("check of the mutated template:\n%s\nwant it to contain %q", out, tc.want)
			}
		})
	}
}

func TestRunExitStatus(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if got := run([]string{"-template", filepath.Join(moduleDir, "template.yaml")}, &stdout, &stderr); got != 0 {
		t.Errorf("run(repository) = %d; want 0\n%s%s", got, &stdout, &stderr)
	}
	if got := run([]string{"extra"}, &stdout, &stderr); got != 2 {
		t.Errorf("run(extra argument) = %d; want 2", got)
	}
	if got := run([]string{"-template", filepath.Join(t.TempDir(), "none.yaml")}, &stdout, &stderr); got != 1 {
		t.Errorf("run(missing template) = %d; want 1", got)
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"s3:*", "s3:getobject", true},
		{"s3:Get*", "s3:GetObject", true},
		{"arn:aws:s3:::b/p/*", "arn:aws:s3:::b/p/*", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/p/*", true},
		{"arn:aws:s3:::b/p/*", "arn:aws:s3:::b/*", false},
		{"s3:GetObjec?", "s3:GetObject", true},
		{"a.b", "aXb", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v; want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// TestEnhancedFanOut: with StreamConsumer=efo the mapping reads through the
// stream consumer and needs SubscribeToShard and DescribeStreamConsumer on it,
// besides the stream reads; the template's conditional statement grants them.
func TestEnhancedFanOut(t *testing.T) {
	efo := map[string]string{"StreamConsumer": "efo"}
	out := mutatedWith(t, efo)
	if !strings.Contains(out, "iamcheck: ProcessorFunction (./functions/processor, role ProcessorRole): ") || strings.Contains(out, "ProcessorFunction: ") {
		t.Errorf("check with StreamConsumer=efo:\n%s\nwant ProcessorFunction to pass", out)
	}
	out = mutatedWith(t, efo, "                    - kinesis:SubscribeToShard\n", "")
	want := "ProcessorFunction: needs kinesis:SubscribeToShard on {{GetAtt:ProcessorConsumer.ConsumerARN}} (event source mapping Stream (enhanced fan-out)); role ProcessorRole does not grant it"
	if !strings.Contains(out, want) {
		t.Errorf("check without SubscribeToShard:\n%s\nwant it to contain %q", out, want)
	}
	// Without the consumer, the statement is gone and so is the need.
	if out := mutatedWith(t, nil); strings.Contains(out, "ProcessorFunction: ") {
		t.Errorf("check with the defaults:\n%s\nwant ProcessorFunction to pass", out)
	}
}
