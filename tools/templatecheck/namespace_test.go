package templatecheck

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/metrics"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

// functionsAccept reports whether the functions accept ns as their metrics namespace:
// internal/metrics validates every EMF line's Namespace, and the functions validate
// their configuration the same way at start-up.
func functionsAccept(ns string) bool {
	b, _ := json.Marshal(ns)
	line := fmt.Sprintf(`{"_aws":{"Timestamp":0,"CloudWatchMetrics":[{"Namespace":%s,"Dimensions":[[]],"Metrics":[{"Name":"m"}]}]},"m":1}`, b)
	_, err := metrics.Validate([]byte(line), time.Time{})
	return err == nil
}

// parameterPattern returns the compiled AllowedPattern of the template's parameter.
func parameterPattern(t *testing.T, path, name string) *regexp.Regexp {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := samtemplate.ParseDocument(src)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := samtemplate.Lookup(doc, "Parameters."+name+".AllowedPattern")
	if !ok {
		t.Fatalf("%s: Parameters.%s has no AllowedPattern", path, name)
	}
	re, err := regexp.Compile(p.(string))
	if err != nil {
		t.Fatalf("%s: Parameters.%s.AllowedPattern does not compile as RE2: %v", path, name, err)
	}
	return re
}

// namespaceCandidates is every string of up to 5 characters over an alphabet with
// the letters of the reserved prefix AWS/, its lower case, two allowed symbols (':'
// only after the first character) and a refused one, plus long names around the
// limits.
func namespaceCandidates() []string {
	alphabet := []string{"A", "W", "S", "/", "a", "w", "#", ":", "!"}
	out := []string{""}
	level := []string{""}
	for n := 1; n <= 5; n++ {
		var next []string
		for _, p := range level {
			for _, c := range alphabet {
				next = append(next, p+c)
			}
		}
		out = append(out, next...)
		level = next
	}
	for _, n := range []int{250, 251, 252, 254, 255, 256, 257} {
		for _, prefix := range []string{"", "AWS/", "AWS", "aws/", "AW/", "AWSx"} {
			if n >= len(prefix) {
				out = append(out, prefix+strings.Repeat("n", n-len(prefix)))
			}
		}
	}
	return append(out, "streamlake", "acme/iot", "AWS/Lambda", "AWS/", "AWS", "AWSx/y", "x AWS", "é", "a b")
}

// TestMetricsNamespacePattern: every namespace the MetricsNamespace parameter admits
// is one the functions accept (else the stack deploys and every invocation fails),
// and it refuses only what they refuse, except 256-character names: the functions
// accept them (EMF allows 256) but CloudWatch alarms and PutMetricData take at most
// 255, and the template's alarms use the namespace.
func TestMetricsNamespacePattern(t *testing.T) {
	re := parameterPattern(t, repoTemplate, "MetricsNamespace")
	for _, ns := range namespaceCandidates() {
		admitted, accepted := re.MatchString(ns), functionsAccept(ns)
		switch {
		case admitted && !accepted:
			t.Errorf("MetricsNamespace AllowedPattern admits %q, which the functions refuse", ns)
		case !admitted && accepted && len(ns) != 256:
			t.Errorf("MetricsNamespace AllowedPattern refuses %q, which the functions accept", ns)
		}
	}
}

// TestNamespaceCheckCatchesAWSPrefix: the comparison above fails on the pattern the
// template had before it refused AWS/.
func TestNamespaceCheckCatchesAWSPrefix(t *testing.T) {
	old := regexp.MustCompile(`^[a-zA-Z0-9._#:/-]{1,255}$`)
	var bad []string
	for _, ns := range namespaceCandidates() {
		if old.MatchString(ns) && !functionsAccept(ns) {
			bad = append(bad, ns)
		}
	}
	if len(bad) == 0 || !contains(bad, "AWS/Lambda") {
		t.Errorf("the old pattern admits %q among the refused names; want AWS/Lambda among them", bad)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
