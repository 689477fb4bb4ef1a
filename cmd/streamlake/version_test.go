package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// The version has one source of truth, kept in three places that must agree: the
// `version` constant, the template's AWS::ServerlessRepo::Application SemanticVersion
// (what `sam publish` publishes to the Serverless Application Repository) and the
// newest release in CHANGELOG.md. These tests fail when they drift apart.

const (
	templateFile  = "../../template.yaml"
	changelogFile = "../../CHANGELOG.md"
)

// semverRE is the Semantic Versioning 2.0.0 regular expression (https://semver.org/).
var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// releaseHeading is a Keep a Changelog release heading: "## [1.2.3] - 2025-07-12".
var releaseHeading = regexp.MustCompile(`^## \[([^\]]+)\](?: - (\S+))?\s*$`)

// release is one "## [version] - date" section of a changelog.
type release struct {
	version, date string
}

// changelogReleases returns the releases of a Keep a Changelog file, newest first,
// skipping [Unreleased]. It checks what a release needs: a semantic version, an ISO
// date, no duplicate, newest first, and a link reference for the newest.
func changelogReleases(text string) ([]release, error) {
	var out []release
	seen := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "## ") {
			continue
		}
		m := releaseHeading.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: %q is not a release heading (## [x.y.z] - YYYY-MM-DD)", i+1, line)
		}
		v, date := m[1], m[2]
		if v == "Unreleased" {
			if len(out) > 0 {
				return nil, fmt.Errorf("line %d: [Unreleased] must come before the releases", i+1)
			}
			continue
		}
		if !semverRE.MatchString(v) {
			return nil, fmt.Errorf("line %d: %q is not a semantic version", i+1, v)
		}
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return nil, fmt.Errorf("line %d: release %s: date %q is not YYYY-MM-DD", i+1, v, date)
		}
		if seen[v] {
			return nil, fmt.Errorf("line %d: release %s appears twice", i+1, v)
		}
		seen[v] = true
		if len(out) > 0 && compareSemver(out[len(out)-1].version, v) <= 0 {
			return nil, fmt.Errorf("line %d: release %s follows %s; newest release first", i+1, v, out[len(out)-1].version)
		}
		out = append(out, release{version: v, date: date})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no release heading (## [x.y.z] - YYYY-MM-DD)")
	}
	if !strings.Contains(text, "\n["+out[0].version+"]: ") {
		return nil, fmt.Errorf("no link reference [%s]: <url> for the newest release", out[0].version)
	}
	return out, nil
}

// compareSemver orders two valid semantic versions by precedence (build metadata
// ignored; pre-release identifiers compared as the specification says).
func compareSemver(a, b string) int {
	ma, mb := semverRE.FindStringSubmatch(a), semverRE.FindStringSubmatch(b)
	for i := 1; i <= 3; i++ {
		x, _ := strconv.Atoi(ma[i])
		y, _ := strconv.Atoi(mb[i])
		if x != y {
			return x - y
		}
	}
	pa, pb := ma[4], mb[4]
	switch {
	case pa == pb:
		return 0
	case pa == "":
		return 1
	case pb == "":
		return -1
	}
	ia, ib := strings.Split(pa, "."), strings.Split(pb, ".")
	for i := 0; i < len(ia) && i < len(ib); i++ {
		x, errx := strconv.Atoi(ia[i])
		y, erry := strconv.Atoi(ib[i])
		switch {
		case errx == nil && erry == nil && x != y:
			return x - y
		case errx == nil && erry != nil:
			return -1
		case errx != nil && erry == nil:
			return 1
		case errx != nil && erry != nil && ia[i] != ib[i]:
			return strings.Compare(ia[i], ib[i])
		}
	}
	return len(ia) - len(ib)
}

func TestVersionIsSemver(t *testing.T) {
	if !semverRE.MatchString(version) {
		t.Errorf("version = %q; want a semantic version (MAJOR.MINOR.PATCH)", version)
	}
}

func TestVersionCommand(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		code, stdout, _ := runCmd(t, false, arg)
		if want := "streamlake " + version + "\n"; code != exitOK || stdout != want {
			t.Errorf("streamlake %s = %d, %q; want %d, %q", arg, code, stdout, exitOK, want)
		}
	}
}

// TestVersionAndHelpArguments: version takes no arguments or flags (they were
// ignored, exit 0); help takes a command's name and prints its flags.
func TestVersionAndHelpArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"version", "extra"}, exitUsage, `streamlake version: unexpected argument "extra"`},
		{[]string{"version", "--bogus"}, exitUsage, `streamlake version: unexpected argument "--bogus"`},
		{[]string{"--version", "x"}, exitUsage, `streamlake --version: unexpected argument "x"`},
		{[]string{"help", "invoke"}, exitOK, "Usage: streamlake invoke"},
		{[]string{"--help", "cost"}, exitOK, "Usage: streamlake cost"},
		{[]string{"help", "bogus"}, exitUsage, `streamlake help: unknown command "bogus"`},
		{[]string{"help", "invoke", "cost"}, exitUsage, `streamlake help: unexpected argument "cost"`},
		{[]string{"help", "version"}, exitOK, "Usage: streamlake version"},
		{[]string{"version", "--help"}, exitOK, "Usage: streamlake version"},
		{[]string{"version", "-h"}, exitOK, "Usage: streamlake version"},
	} {
		code, stdout, stderr := runCmd(t, false, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || code != exitOK && stdout != "" {
			t.Errorf("streamlake %v = exit %d, stdout %.100q, stderr %.200q; want exit %d and %q", tc.args, code, stdout, stderr, tc.code, tc.want)
		}
	}
}

// TestUsageListsVersion: the command list names every command, version included.
func TestUsageListsVersion(t *testing.T) {
	code, stdout, _ := runCmd(t, false, "help")
	if code != exitOK || !strings.Contains(stdout, "\n  version ") {
		t.Errorf("streamlake help = exit %d, stdout %q; want exit 0 and a line for version", code, stdout)
	}
}

func TestVersionMatchesTemplate(t *testing.T) {
	tpl, err := samtemplate.Load(templateFile, samtemplate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app, ok := tpl.Metadata["AWS::ServerlessRepo::Application"].(map[string]any)
	if !ok {
		t.Fatalf("%s: Metadata has no AWS::ServerlessRepo::Application mapping", templateFile)
	}
	got, ok := app["SemanticVersion"].(string)
	if !ok {
		t.Fatalf("%s: SemanticVersion = %#v; want the string %q (no intrinsic functions)", templateFile, app["SemanticVersion"], version)
	}
	if got != version {
		t.Errorf("%s: SemanticVersion = %q; want %q, the version constant in version.go", templateFile, got, version)
	}
}

func TestVersionMatchesChangelog(t *testing.T) {
	text, err := os.ReadFile(changelogFile)
	if err != nil {
		t.Fatal(err)
	}
	releases, err := changelogReleases(string(text))
	if err != nil {
		t.Fatalf("%s: %v", changelogFile, err)
	}
	if got := releases[0].version; got != version {
		t.Errorf("%s: newest release = %s; want %s, the version constant in version.go", changelogFile, got, version)
	}
}

func TestChangelogReleases(t *testing.T) {
	const links = "\n[1.1.0]: https://example.com/1.1.0\n[1.0.0]: https://example.com/1.0.0\n"
	tests := []struct {
		name, text string
		want       string // newest version; "" when an error is expected
		wantErr    string
	}{
		{"newest first", "# Changelog\n\n## [Unreleased]\n\n## [1.1.0] - 2025-02-01\n\n## [1.0.0] - 2025-01-01\n" + links, "1.1.0", ""},
		{"pre-release before release", "## [1.0.0] - 2025-02-01\n## [1.0.0-rc.2] - 2025-01-02\n## [1.0.0-rc.1] - 2025-01-01\n\n[1.0.0]: x\n", "1.0.0", ""},
		{"oldest first", "## [1.0.0] - 2025-01-01\n## [1.1.0] - 2025-02-01\n" + links, "", "release 1.1.0 follows 1.0.0"},
		{"duplicate", "## [1.0.0] - 2025-01-01\n## [1.0.0] - 2025-01-01\n" + links, "", "appears twice"},
		{"no date", "## [1.0.0]\n" + links, "", `date "" is not YYYY-MM-DD`},
		{"bad date", "## [1.0.0] - 12/01/2025\n" + links, "", `date "12/01/2025"`},
		{"not semver", "## [v1.0] - 2025-01-01\n" + links, "", `"v1.0" is not a semantic version`},
		{"not a heading", "## 1.0.0 - 2025-01-01\n" + links, "", "is not a release heading"},
		{"unreleased after a release", "## [1.0.0] - 2025-01-01\n## [Unreleased]\n" + links, "", "[Unreleased] must come before"},
		{"no release", "# Changelog\n\n## [Unreleased]\n", "", "no release heading"},
		{"no link", "## [1.0.0] - 2025-01-01\n", "", "no link reference [1.0.0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := changelogReleases(tc.text)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("changelogReleases = %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("changelogReleases: %v", err)
			case got[0].version != tc.want:
				t.Errorf("changelogReleases newest = %s; want %s", got[0].version, tc.want)
			}
		})
	}
}

func TestCompareSemver(t *testing.T) {
	// Ascending precedence, from the Semantic Versioning specification, item 11.
	order := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0"}
	for i := range order {
		for j := range order {
			got := compareSemver(order[i], order[j])
			if (got < 0) != (i < j) || (got == 0) != (i == j) {
				t.Errorf("compareSemver(%s, %s) = %d; want the sign of %d", order[i], order[j], got, i-j)
			}
		}
	}
	if got := compareSemver("1.0.0+build.1", "1.0.0+build.2"); got != 0 {
		t.Errorf("compareSemver(1.0.0+build.1, 1.0.0+build.2) = %d; want 0 (build metadata is ignored)", got)
	}
}
