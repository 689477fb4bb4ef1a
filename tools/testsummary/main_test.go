package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name, in, want string
		code           int
	}{
		{"all pass", `{"Action":"run","Package":"p","Test":"A"}
{"Action":"output","Package":"p","Test":"A","Output":"    x_test.go:1: integration test against moto server http://127.0.0.1:1\n"}
{"Action":"pass","Package":"p","Test":"A"}
{"Action":"pass","Package":"p","Test":"B"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}
{"Action":"pass","Package":"p"}
`, "2 tests passed, 0 failed, 0 skipped; 1 integration tests ran", 0},
		{"a skip fails the run", `{"Action":"skip","Package":"p","Test":"A"}
{"Action":"pass","Package":"p","Test":"B"}
`, "skipped: p A", 1},
		{"a failure shows its output", `{"Action":"output","Package":"p","Test":"A","Output":"boom\n"}
{"Action":"fail","Package":"p","Test":"A"}
{"Action":"fail","Package":"p"}
`, "--- FAIL: p A\nboom", 1},
		{"no tests", "", "0 passed, 0 failed", 1},
		{"build failure", `# p
x.go:1: syntax error
{"Action":"fail","Package":"p"}
`, "syntax error", 1},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		code := run(strings.NewReader(tc.in), &out)
		if code != tc.code || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%s: run = %d, output\n%s\nwant %d and %q", tc.name, code, out.String(), tc.code, tc.want)
		}
	}
}
