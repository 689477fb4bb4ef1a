package templatecheck

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

const repoREADME = "../../README.md"

// retainedProblems returns the resources of the raw template doc that outlive the
// stack (DeletionPolicy Retain) and that the README's "Deleting the stack" section
// does not name in bold (**LogicalID**), with the way to delete them.
func retainedProblems(doc map[string]any, readme string) []string {
	section, ok := markdownSection(readme, "### Deleting the stack")
	if !ok {
		return []string{`README has no "### Deleting the stack" section`}
	}
	resources, _ := doc["Resources"].(map[string]any)
	var out []string
	for id, r := range resources {
		if p, _ := samtemplate.Lookup(asMap(r), "DeletionPolicy"); p == "Retain" && !strings.Contains(section, "**"+id+"**") {
			out = append(out, fmt.Sprintf("%s has DeletionPolicy Retain but the README's \"Deleting the stack\" does not name it (**%s**)", id, id))
		}
	}
	sort.Strings(out)
	return out
}

// markdownSection returns the text under heading (## or ###) up to the next heading
// of the same or a higher level. Level-1 headings are not looked for: a shell comment
// in a code block looks like one.
func markdownSection(md, heading string) (string, bool) {
	i := strings.Index(md, "\n"+heading+"\n")
	if i < 0 {
		return "", false
	}
	rest := md[i+len(heading)+2:]
	level := strings.Count(strings.Fields(heading)[0], "#")
	for _, prefix := range []string{"\n## ", "\n### "}[:level-1] {
		if j := strings.Index(rest, prefix); j >= 0 {
			rest = rest[:j]
		}
	}
	return rest, true
}

// TestREADMENamesRetainedResources: sam delete keeps every Retain resource, and the
// README must say which and how to delete them (it once named the bucket only).
func TestREADMENamesRetainedResources(t *testing.T) {
	readme, err := os.ReadFile(repoREADME)
	if err != nil {
		t.Fatal(err)
	}
	doc := loadDoc(t, repoTemplate)
	if p := retainedProblems(doc, string(readme)); len(p) > 0 {
		t.Errorf("%s", strings.Join(p, "\n"))
	}
	section, _ := markdownSection(string(readme), "### Deleting the stack")
	for _, want := range []string{"aws dynamodb delete-table", "aws s3api delete-bucket", "put-bucket-notification-configuration"} {
		if !strings.Contains(section, want) {
			t.Errorf(`README "Deleting the stack" does not show %q`, want)
		}
	}
}

func TestRetainedProblems(t *testing.T) {
	doc := map[string]any{"Resources": map[string]any{
		"OutputBucket": map[string]any{"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
		"SummaryTable": map[string]any{"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
		"Queue":        map[string]any{"Type": "AWS::SQS::Queue"},
	}}
	readme := "# x\n## Deploy\n### Deleting the stack\n- **OutputBucket** stays.\n### Next\n- **SummaryTable** is mentioned elsewhere.\n"
	got := retainedProblems(doc, readme)
	if len(got) != 1 || !strings.HasPrefix(got[0], "SummaryTable has DeletionPolicy Retain") {
		t.Errorf("retainedProblems = %q; want one problem, for SummaryTable", got)
	}
	if got := retainedProblems(doc, "# no such section\n"); len(got) != 1 || !strings.Contains(got[0], "no \"### Deleting the stack\" section") {
		t.Errorf("retainedProblems(no section) = %q", got)
	}
}

// TestREADMEQueriesAreTheTemplates: the README shows the template's saved Athena
// queries as they are (compared with whitespace collapsed), and an hourly query truncates its times in UTC: Trino's
// date_trunc cuts a timestamp in its own zone, so an event time with a
// half-hour offset (+05:30) would fall into an hour that is no UTC hour and not
// the hour of the summaries.
func TestREADMEQueriesAreTheTemplates(t *testing.T) {
	readme, err := os.ReadFile(repoREADME)
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]bool{}
	for _, part := range strings.Split(string(readme), "```sql\n")[1:] {
		sql, _, _ := strings.Cut(part, "```")
		blocks[strings.Join(strings.Fields(sql), " ")] = true
	}
	doc := loadDoc(t, repoTemplate)
	resources, _ := doc["Resources"].(map[string]any)
	queries := 0
	for id, r := range resources {
		if asMap(r)["Type"] != "AWS::Athena::NamedQuery" {
			continue
		}
		q, _ := samtemplate.Lookup(asMap(r), "Properties.QueryString")
		sql, _ := q.(string)
		queries++
		if !blocks[strings.Join(strings.Fields(sql), " ")] {
			t.Errorf("%s's QueryString is not one of the README's sql blocks:\n%s", id, sql)
		}
		if strings.Contains(sql, "date_trunc('hour'") && !strings.Contains(sql, "AT TIME ZONE 'UTC')") {
			t.Errorf("%s truncates to the hour without AT TIME ZONE 'UTC':\n%s", id, sql)
		}
	}
	if queries == 0 {
		t.Error("the template has no AWS::Athena::NamedQuery")
	}
}

// TestAthenaDatabaseOutput: the AthenaDatabase output, as a local run resolves
// it (and as Ref of a Glue database does on AWS), is the database's name: the
// stack name with '-' turned into '_', as the README says.
func TestAthenaDatabaseOutput(t *testing.T) {
	tpl, err := samtemplate.Load(repoTemplate, samtemplate.Options{StackName: "my-stream-lake", Region: "us-east-1", AccountID: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	if got := tpl.Outputs["AthenaDatabase"]; got != "my_stream_lake" {
		t.Errorf("output AthenaDatabase = %v; want my_stream_lake", got)
	}
}
