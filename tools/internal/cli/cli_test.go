package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		done     bool
		v        bool
		rest     []string
		inStderr string
	}{
		{"flags and arguments", []string{"-v", "a", "b"}, 0, false, true, []string{"a", "b"}, ""},
		{"no flags", nil, 0, false, false, nil, ""},
		{"help", []string{"-h"}, 0, true, false, nil, "Usage of tool"},
		{"bad flag", []string{"-x"}, 2, true, false, nil, "flag provided but not defined: -x"},
		{"bad value", []string{"-v=maybe"}, 2, true, false, nil, "invalid boolean value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			fs := NewFlagSet("tool", &stderr)
			v := fs.Bool("v", false, "verbose")
			code, done := Parse(fs, tc.args)
			if code != tc.code || done != tc.done {
				t.Errorf("Parse(%q) = %d, %v; want %d, %v", tc.args, code, done, tc.code, tc.done)
			}
			if !done && (*v != tc.v || strings.Join(fs.Args(), " ") != strings.Join(tc.rest, " ")) {
				t.Errorf("Parse(%q): -v %v, arguments %q; want %v, %q", tc.args, *v, fs.Args(), tc.v, tc.rest)
			}
			if !strings.Contains(stderr.String(), tc.inStderr) || tc.inStderr == "" && stderr.Len() > 0 {
				t.Errorf("Parse(%q) printed %q; want %q", tc.args, stderr.String(), tc.inStderr)
			}
		})
	}
}
