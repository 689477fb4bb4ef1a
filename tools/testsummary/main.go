// Command testsummary reads `go test -json` output on stdin and prints what plain
// `go test` prints (one line per package, and the output of failed tests), then a
// summary: tests passed, failed and skipped, and how many ran against moto server
// (integration tests log IntegrationMarker through motoserver.ForTest).
//
// It exits 1 if any test failed or was skipped, or if the stream has a build
// failure: under `make test` no test may skip.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// integrationMarker is what motoserver.ForTest logs for every test that uses it.
const integrationMarker = "integration test against moto server"

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

func run(in io.Reader, out io.Writer) int {
	var passed, failed, skipped int
	integration := map[string]bool{}
	outputs := map[string][]string{} // "pkg test" -> output lines
	var skippedNames []string
	pkgFailed := false
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // build errors and other plain text
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			if e.Test != "" {
				outputs[key] = append(outputs[key], e.Output)
				if strings.Contains(e.Output, integrationMarker) {
					integration[key] = true
				}
			} else if strings.HasPrefix(e.Output, "ok ") || strings.HasPrefix(e.Output, "FAIL") || strings.HasPrefix(e.Output, "?") ||
				strings.HasPrefix(e.Output, "panic") || strings.Contains(e.Output, "[build failed]") || strings.HasPrefix(e.Output, "#") {
				fmt.Fprint(out, e.Output)
			}
		case "pass":
			if e.Test != "" {
				passed++
				delete(outputs, key)
			}
		case "skip":
			if e.Test != "" {
				skipped++
				skippedNames = append(skippedNames, key)
				delete(outputs, key)
			}
		case "fail":
			if e.Test != "" {
				failed++
				fmt.Fprintf(out, "--- FAIL: %s\n%s", key, strings.Join(outputs[key], ""))
			} else {
				pkgFailed = true
			}
		}
	}
	sort.Strings(skippedNames)
	for _, s := range skippedNames {
		fmt.Fprintf(out, "skipped: %s\n", s)
	}
	fmt.Fprintf(out, "\ngo test: %d tests passed, %d failed, %d skipped; %d integration tests ran against moto server\n",
		passed, failed, skipped, len(integration))
	fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
	if failed > 0 || pkgFailed || skipped > 0 || passed == 0 {
		if skipped > 0 {
			fmt.Fprintln(out, "tests may not skip under make test")
		}
		return 1
	}
	return 0
}
