package samtemplate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseParameterOverrides(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"   ", map[string]string{}},
		{"A=1", map[string]string{"A": "1"}},
		{"A=1 B=two", map[string]string{"A": "1", "B": "two"}},
		{"  A=1   B=2  ", map[string]string{"A": "1", "B": "2"}},
		{`A="with spaces" B='single q'`, map[string]string{"A": "with spaces", "B": "single q"}},
		{`A=with\ escaped\ spaces`, map[string]string{"A": "with escaped spaces"}},
		{`A="say \"hi\""`, map[string]string{"A": `say "hi"`}},
		{`A=x=y`, map[string]string{"A": "x=y"}},
		{`A=C:\path`, map[string]string{"A": `C:\path`}},
		{`A="" B=`, map[string]string{"A": "", "B": ""}},
		{`A=1 A=2`, map[string]string{"A": "2"}},
		{`"A"=1`, map[string]string{"A": "1"}},
		{`ParameterKey=A,ParameterValue=1 ParameterKey=B,ParameterValue="x y"`, map[string]string{"A": "1", "B": "x y"}},
		{`ParameterKey=A,ParameterValue=1 C=3`, map[string]string{"A": "1", "C": "3"}},
		{`Threshold=-5`, map[string]string{"Threshold": "-5"}},
	}
	for _, tc := range tests {
		got, err := ParseParameterOverrides(tc.in)
		if err != nil {
			t.Errorf("ParseParameterOverrides(%q) error: %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseParameterOverrides(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseParameterOverridesErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"A", `"A" is not Key=Value`},
		{"A=1 B", `"B" is not Key=Value`},
		{"=1", "parameter names are letters and digits only"},
		{"A-b=1", "parameter names are letters and digits only"},
		{`A="unterminated`, `A: unterminated " quote`},
		{`A="x"y`, `A: unexpected "y" after the value`},
		{"ParameterKey=A", "want ParameterKey=Name,ParameterValue=Value"},
	}
	for _, tc := range tests {
		_, err := ParseParameterOverrides(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseParameterOverrides(%q) error = %v; want it to contain %q", tc.in, err, tc.want)
		}
	}
}
