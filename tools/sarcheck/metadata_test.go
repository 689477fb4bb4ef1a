package main

import (
	"testing"
)

// sarAuthorMatch is a direct reading of SAR's author pattern
// ^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$ with its look-ahead: the first character is
// a letter or digit; every later character is a letter or digit, or a hyphen not
// followed by a hyphen; the last character is a letter or digit.
func sarAuthorMatch(s string) bool {
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if s == "" || !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		switch {
		case alnum(s[i]):
		case s[i] == '-' && i+1 < len(s) && s[i+1] != '-':
		default:
			return false
		}
	}
	return true
}

// TestAuthorPatternMatchesSAR checks that authorPattern, written without look-ahead,
// accepts exactly what SAR's pattern accepts, on every string of up to 6 characters
// over an alphabet with each kind of character.
func TestAuthorPatternMatchesSAR(t *testing.T) {
	alphabet := []byte{'a', '7', '-', 'A', '_'}
	var s []byte
	checked := 0
	var walk func(n int)
	walk = func(n int) {
		str := string(s)
		if got, want := authorPattern.MatchString(str), sarAuthorMatch(str); got != want {
			t.Errorf("authorPattern.MatchString(%q) = %v; want %v", str, got, want)
		}
		checked++
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			s = append(s, c)
			walk(n - 1)
			s = s[:len(s)-1]
		}
	}
	walk(6)
	for _, tc := range []struct {
		in   string
		want bool
	}{{"streamlake", true}, {"a", true}, {"a-b-c", true}, {"a--b", false}, {"-a", false}, {"a-", false}, {"Streamlake", false}, {"", false}} {
		if got := authorPattern.MatchString(tc.in); got != tc.want {
			t.Errorf("authorPattern.MatchString(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
	t.Logf("compared %d strings", checked)
}

func TestSemverPattern(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0.1.0", true},
		{"1.2.3", true},
		{"10.20.30", true},
		{"1.0.0-alpha", true},
		{"1.0.0-rc.1+build.5", true},
		{"1.0.0+20130313144700", true},
		{"1.0.0-0.3.7", true},
		{"1.0", false},
		{"v1.0.0", false},
		{"01.0.0", false},
		{"1.0.0-01", false},
		{"1.0.0-", false},
		{"1.0.0+", false},
		{"", false},
		{" 1.0.0", false},
	}
	for _, tc := range tests {
		if got := semverPattern.MatchString(tc.in); got != tc.want {
			t.Errorf("semverPattern.MatchString(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

func TestLabelAndNamePatterns(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		label   bool
		appName bool
	}{
		{"plain", "kinesis", true, true},
		{"all label punctuation", "a+b-c_d:e/f@g", true, false},
		{"hyphen", "stream-lake", true, true},
		{"space", "stream lake", false, false},
		{"dot", "v1.0", false, false},
		{"non-ASCII", "données", false, false},
		{"upper case", "StreamLake", true, true},
	}
	for _, tc := range tests {
		if got := labelPattern.MatchString(tc.in); got != tc.label {
			t.Errorf("%s: labelPattern.MatchString(%q) = %v; want %v", tc.name, tc.in, got, tc.label)
		}
		if got := namePattern.MatchString(tc.in); got != tc.appName {
			t.Errorf("%s: namePattern.MatchString(%q) = %v; want %v", tc.name, tc.in, got, tc.appName)
		}
	}
}

func TestSPDX(t *testing.T) {
	tests := []struct {
		id                string
		known, deprecated bool
	}{
		{"Apache-2.0", true, false},
		{"MIT", true, false},
		{"0BSD", true, false},
		{"GPL-2.0", true, true},
		{"apache-2.0", false, false},
		{"Apache 2.0", false, false},
		{"", false, false},
	}
	for _, tc := range tests {
		deprecated, known := spdxIDs[tc.id]
		if known != tc.known || deprecated != tc.deprecated {
			t.Errorf("spdxIDs[%q] = %v, %v; want %v, %v", tc.id, deprecated, known, tc.deprecated, tc.known)
		}
	}
	if n := len(spdxIDs); n < 600 {
		t.Errorf("spdx.txt holds %d identifiers; want the whole SPDX list (over 600)", n)
	}
}
