package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCompileMatch compiles an arbitrary pattern and matches arbitrary data. It
// must never panic, every compile error must be a *ValidationError, and Match
// must agree with a slow reference evaluator built on encoding/json. Seeds live
// in testdata/fuzz/FuzzCompileMatch and run under plain `go test`.
func FuzzCompileMatch(f *testing.F) {
	f.Add(`{"data":{"device_id":[{"prefix":"sensor-"}]}}`, []byte(sensor))
	f.Fuzz(func(t *testing.T, pattern string, data []byte) {
		c, err := Compile([]string{pattern})
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Filter != 0 || !strings.HasPrefix(err.Error(), "filter 0: ") {
				t.Fatalf("Compile(%q) error = %#v; want *ValidationError for filter 0", pattern, err)
			}
			return
		}
		ok, filter := c.Match(data)
		want := refMatch(c.filters[0], data)
		wantFilter := -1
		if want {
			wantFilter = 0
		}
		if ok != want || filter != wantFilter {
			t.Fatalf("Match(%q) with pattern %s = (%v, %d); reference says (%v, %d)", data, pattern, ok, filter, want, wantFilter)
		}
	})
}

// refMatch is a reference implementation of one filter over data decoded by
// encoding/json into any (UseNumber keeps number text; maps make the last
// duplicate key win).
func refMatch(fp *filterPattern, data []byte) bool {
	if fp.data == nil {
		return true
	}
	if !utf8.Valid(data) || !json.Valid(data) || nesting(data) > maxDepth {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		return false
	}
	return refObj(fp.data, v, true)
}

// nesting returns the deepest container nesting of valid JSON.
func nesting(data []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func refObj(p *objPattern, v any, present bool) bool {
	if !present {
		return p.emptyOK
	}
	switch x := v.(type) {
	case map[string]any:
		for i := range p.fields {
			f := &p.fields[i]
			val, ok := x[f.name]
			if !refField(f, val, ok) {
				return false
			}
		}
		return true
	case []any:
		if len(x) == 0 {
			return p.emptyOK
		}
		for _, e := range x {
			if refObj(p, e, true) {
				return true
			}
		}
		return false
	default:
		return p.emptyOK
	}
}

func refField(f *fieldPattern, v any, present bool) bool {
	if f.obj != nil {
		return refObj(f.obj, v, present)
	}
	if !present {
		return f.leaf.absentOK
	}
	leaves := refLeaves(nil, v)
	if len(leaves) == 0 {
		return f.leaf.absentOK
	}
	for _, l := range leaves {
		for i := range f.leaf.matchers {
			if refTest(&f.leaf.matchers[i], l) {
				return true
			}
		}
	}
	return false
}

func refLeaves(dst []any, v any) []any {
	switch x := v.(type) {
	case map[string]any:
		return dst
	case []any:
		for _, e := range x {
			dst = refLeaves(dst, e)
		}
		return dst
	default:
		return append(dst, v)
	}
}

func refFloat(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return f, err == nil
}

func refTest(m *matcher, v any) bool {
	s, isString := v.(string)
	switch m.kind {
	case opExactString:
		return isString && s == m.s
	case opExactNumber:
		n, ok := v.(json.Number)
		return ok && string(n) == m.s
	case opTrue:
		return v == true
	case opFalse:
		return v == false
	case opNull:
		return v == nil
	case opPrefix:
		return isString && strings.HasPrefix(s, m.s)
	case opSuffix:
		return isString && strings.HasSuffix(s, m.s)
	case opEqualFold:
		return isString && strings.EqualFold(s, m.s)
	case opPrefixFold:
		r, p := []rune(s), []rune(m.s)
		return isString && len(r) >= len(p) && strings.EqualFold(string(r[:len(p)]), m.s)
	case opSuffixFold:
		r, p := []rune(s), []rune(m.s)
		return isString && len(r) >= len(p) && strings.EqualFold(string(r[len(r)-len(p):]), m.s)
	case opNumeric:
		// The bounds are checked here, not with m.inRange: the reference must
		// not share the code it checks.
		f, ok := refFloat(v)
		if !ok {
			return false
		}
		switch {
		case m.loOp == boundExcl && !(f > m.lo), m.loOp == boundIncl && !(f >= m.lo):
			return false
		case m.hiOp == boundExcl && !(f < m.hi), m.hiOp == boundIncl && !(f <= m.hi):
			return false
		}
		return true
	case opExists:
		return true
	case opNotStrings:
		return !isString || !slices.Contains(m.strs, s)
	case opNotNumbers:
		f, ok := refFloat(v)
		return !ok || !slices.Contains(m.nums, f)
	case opNotPrefix:
		return !isString || !slices.ContainsFunc(m.strs, func(p string) bool { return strings.HasPrefix(s, p) })
	case opNotSuffix:
		return !isString || !slices.ContainsFunc(m.strs, func(p string) bool { return strings.HasSuffix(s, p) })
	case opNotEqualFold:
		if !isString {
			return true
		}
		for _, x := range m.strs {
			if strings.EqualFold(s, x) {
				return false
			}
		}
		return true
	}
	panic("refTest: unknown matcher kind " + strconv.Itoa(int(m.kind)))
}

// TestReferenceAgreesOnConformance keeps the fuzz reference honest: it must
// give the same answers as the conformance table.
func TestReferenceAgreesOnConformance(t *testing.T) {
	for _, tc := range conformance {
		c, err := Compile([]string{tc.pattern})
		if err != nil {
			t.Fatalf("Compile(%s) = %v", tc.pattern, err)
		}
		if got := refMatch(c.filters[0], []byte(tc.data)); got != tc.want {
			t.Errorf("refMatch(%q) with pattern %s = %v; want %v", tc.data, tc.pattern, got, tc.want)
		}
	}
}
