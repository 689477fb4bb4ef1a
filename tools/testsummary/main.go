// Command testsummary reads `go test -json` output on stdin and prints what plain
// `go test` prints (one line per package, the output of failed tests and
// packages, build errors), then a summary: tests passed, failed and skipped, and
// how many ran against moto server.
//
// It goes by the events' actions and fields, never by the text of an output
// line: an integration test is one that carries the test attribute
// motoserver.IntegrationAttr (an "attr" event, which motoserver.ForTest and
// motoserver.MarkIntegration emit through testing.TB.Attr).
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

	"github.com/streamlake/streamlake/internal/motoserver"
)

// event is a test2json event (`go doc test2json`); build-output and build-fail
// events carry the package in ImportPath instead.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
	// Key is the attribute of an "attr" event.
	Key string
}

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

func run(in io.Reader, out io.Writer) int {
	var passed, failed, skipped int
	integration := map[string]bool{}
	outputs := map[string][]string{} // "pkg test" ("pkg " for the package) -> output
	var skippedNames []string
	runFailed := false
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // build errors of go vet, and other plain text
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "build-fail":
			runFailed = true
		case "output":
			outputs[key] = append(outputs[key], e.Output)
		case "attr":
			if e.Test != "" && e.Key == motoserver.IntegrationAttr {
				integration[key] = true
			}
		case "pass", "skip", "fail":
			if e.Test == "" {
				runFailed = endPackage(out, e, outputs[key]) || runFailed
				delete(outputs, key)
				continue
			}
			switch e.Action {
			case "pass":
				passed++
			case "skip":
				skipped++
				skippedNames = append(skippedNames, key)
			case "fail":
				failed++
				fmt.Fprintf(out, "--- FAIL: %s\n%s", key, strings.Join(outputs[key], ""))
			}
			delete(outputs, key)
		}
	}
	sort.Strings(skippedNames)
	for _, s := range skippedNames {
		fmt.Fprintf(out, "skipped: %s\n", s)
	}
	fmt.Fprintf(out, "\ngo test: %d tests passed, %d failed, %d skipped; %d integration tests ran against moto server\n",
		passed, failed, skipped, len(integration))
	fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
	if failed > 0 || runFailed || skipped > 0 || passed == 0 {
		if skipped > 0 {
			fmt.Fprintln(out, "tests may not skip under make test")
		}
		return 1
	}
	return 0
}

// endPackage prints the line `go test` prints for a package that ended with event
// e, and the package's own output when it failed (a panic outside a test, a
// timeout, a build failure). It reports whether the package failed.
func endPackage(out io.Writer, e event, output []string) bool {
	switch e.Action {
	case "pass":
		fmt.Fprintf(out, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
	case "skip":
		fmt.Fprintf(out, "?   \t%s\t[no test files]\n", e.Package)
	case "fail":
		if len(output) == 0 {
			fmt.Fprintf(out, "FAIL\t%s\n", e.Package)
		}
		fmt.Fprint(out, strings.Join(output, ""))
		return true
	}
	return false
}
