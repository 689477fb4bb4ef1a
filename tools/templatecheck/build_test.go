package templatecheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// buildProblems checks that every function of the raw template doc is built by the
// Makefile: BuildMethod makefile, CodeUri the module root, arm64, and a
// build-<LogicalId> target whose commands (dryRun returns `make -n`'s output for a
// target) build a Go main package with the Lambda flags for that architecture.
func buildProblems(doc map[string]any, dryRun func(target string) (string, error)) []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	arch, _ := samtemplate.Lookup(doc, "Globals.Function.Architectures")
	resources, _ := doc["Resources"].(map[string]any)
	n := 0
	for id, r := range resources {
		if t, _ := samtemplate.Lookup(asMap(r), "Type"); t != "AWS::Serverless::Function" {
			continue
		}
		n++
		if bm, _ := samtemplate.Lookup(asMap(r), "Metadata.BuildMethod"); bm != "makefile" {
			add("%s: Metadata.BuildMethod = %v; want makefile (sam build must run the Makefile's build-%s)", id, bm, id)
		}
		if cu, _ := samtemplate.Lookup(asMap(r), "Properties.CodeUri"); cu != "." {
			add("%s: CodeUri = %v; want . (the module root: go.mod and internal/ are needed, and sam sync --watch watches CodeUri)", id, cu)
		}
		a := arch
		if v, ok := samtemplate.Lookup(asMap(r), "Properties.Architectures"); ok {
			a = v
		}
		if fmt.Sprint(a) != "[arm64]" {
			add("%s: Architectures = %v; want [arm64] (the Makefile builds arm64)", id, a)
		}
		cmds, err := dryRun("build-" + id)
		if err != nil {
			add("%s: make -n build-%s: %v", id, id, err)
			continue
		}
		for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "-tags lambda.norpc", "-trimpath", "-ldflags='-s -w'", "-o /artifacts/bootstrap"} {
			if !strings.Contains(cmds, want) {
				add("%s: build-%s does not pass %s:\n%s", id, id, want, cmds)
			}
		}
		pkg := regexp.MustCompile(`\./functions/[a-z0-9]+`).FindString(cmds)
		if pkg == "" {
			add("%s: build-%s builds no ./functions/<name> package:\n%s", id, id, cmds)
		}
	}
	if n == 0 {
		add("no AWS::Serverless::Function")
	}
	return out
}

// makeDryRun runs `make -n <target>` with the repository's Makefile, as sam build
// would run the target (ARTIFACTS_DIR set).
func makeDryRun(target string) (string, error) {
	cmd := exec.Command("make", "-n", "--no-print-directory", "-C", "../..", target, "ARTIFACTS_DIR=/artifacts")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w\n%s", err, b)
	}
	return string(b), nil
}

func loadDoc(t *testing.T, path string) map[string]any {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := samtemplate.ParseDocument(src)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSAMBuildRunsTheMakefile: sam build and make build are one build.
func TestSAMBuildRunsTheMakefile(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is needed (sam build runs it): %v", err)
	}
	if p := buildProblems(loadDoc(t, repoTemplate), makeDryRun); len(p) > 0 {
		t.Errorf("%s:\n%s", repoTemplate, strings.Join(p, "\n"))
	}
	// Each target's package is a main package in the repository.
	for _, fn := range []string{"ProcessorFunction", "AggregatorFunction"} {
		cmds, err := makeDryRun("build-" + fn)
		if err != nil {
			t.Fatal(err)
		}
		pkg := regexp.MustCompile(`\./functions/[a-z0-9]+`).FindString(cmds)
		b, err := os.ReadFile(filepath.Join("../..", pkg, "main.go"))
		if err != nil || !strings.Contains(string(b), "package main") {
			t.Errorf("build-%s builds %q, which has no main.go of package main (%v)", fn, pkg, err)
		}
	}
}

func TestBuildProblemsFindsGoBuilder(t *testing.T) {
	// The template as it was: SAM's go1.x builder, which ignores the Makefile's flags.
	doc := map[string]any{
		"Globals": map[string]any{"Function": map[string]any{"Architectures": []any{"arm64"}}},
		"Resources": map[string]any{
			"ProcessorFunction": map[string]any{
				"Type":       "AWS::Serverless::Function",
				"Metadata":   map[string]any{"BuildMethod": "go1.x"},
				"Properties": map[string]any{"CodeUri": "functions/processor/"},
			},
		},
	}
	noTarget := func(target string) (string, error) {
		return "", fmt.Errorf("make: *** No rule to make target '%s'.  Stop.", target)
	}
	got := strings.Join(buildProblems(doc, noTarget), "\n")
	for _, want := range []string{"BuildMethod = go1.x; want makefile", "CodeUri = functions/processor/; want .", "No rule to make target 'build-ProcessorFunction'"} {
		if !strings.Contains(got, want) {
			t.Errorf("buildProblems = \n%s\nwant it to contain %q", got, want)
		}
	}
	unstripped := func(string) (string, error) {
		return "CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -o /artifacts/bootstrap ./functions/processor", nil
	}
	if got := strings.Join(buildProblems(doc, unstripped), "\n"); !strings.Contains(got, "does not pass -ldflags='-s -w'") {
		t.Errorf("buildProblems(no -ldflags) = \n%s\nwant it to report -ldflags", got)
	}
}
