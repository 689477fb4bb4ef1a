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
{"Action":"attr","Package":"p","Test":"A","Key":"streamlake.moto","Value":"http://127.0.0.1:1"}
{"Action":"output","Package":"p","Test":"A","Output":"    x_test.go:1: integration test against moto server http://127.0.0.1:1\n"}
{"Action":"pass","Package":"p","Test":"A"}
{"Action":"pass","Package":"p","Test":"B"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}
{"Action":"pass","Package":"p","Elapsed":0.1}
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
		// What the tests are counted by is the attribute, not the log line.
		{"a log line alone is no integration test", `{"Action":"output","Package":"p","Test":"A","Output":"    x_test.go:1: integration test against moto server http://127.0.0.1:1\n"}
{"Action":"pass","Package":"p","Test":"A"}
{"Action":"pass","Package":"p"}
`, "1 tests passed, 0 failed, 0 skipped; 0 integration tests ran", 0},
		{"another attribute is no integration test", `{"Action":"attr","Package":"p","Test":"A","Key":"other","Value":"x"}
{"Action":"pass","Package":"p","Test":"A"}
`, "0 integration tests ran", 0},
		{"build failure as events (Go 1.24 and later)", `{"ImportPath":"p [p.test]","Action":"build-output","Output":"# p [p.test]\n"}
{"ImportPath":"p [p.test]","Action":"build-output","Output":"x.go:1:12: undefined: x\n"}
{"ImportPath":"p [p.test]","Action":"build-fail"}
{"Action":"output","Package":"p","Output":"FAIL\tp [build failed]\n","OutputType":"frame"}
{"Action":"fail","Package":"p","FailedBuild":"p [p.test]"}
{"Action":"pass","Package":"q","Test":"A"}
{"Action":"pass","Package":"q","Elapsed":0.25}
`, "x.go:1:12: undefined: x\nFAIL\tp [build failed]\nok  \tq\t0.250s\n", 1},
		{"a package failing outside its tests", `{"Action":"pass","Package":"p","Test":"A"}
{"Action":"output","Package":"p","Output":"panic: test timed out after 30m0s\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t1800.001s\n","OutputType":"frame"}
{"Action":"fail","Package":"p","Elapsed":1800.001}
`, "panic: test timed out after 30m0s\nFAIL\tp\t1800.001s\n", 1},
		{"a package without tests", `{"Action":"output","Package":"p","Output":"?   \tp\t[no test files]\n"}
{"Action":"skip","Package":"p"}
{"Action":"pass","Package":"q","Test":"A"}
`, "?   \tp\t[no test files]\n", 0},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		code := run(strings.NewReader(tc.in), &out)
		if code != tc.code || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%s: run = %d, output\n%s\nwant %d and %q", tc.name, code, out.String(), tc.code, tc.want)
		}
	}
}
