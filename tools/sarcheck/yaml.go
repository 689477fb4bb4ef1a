package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// document is a template as written: plain values (nil, bool, int, float64, string,
// []any, map[string]any) with intrinsic functions in long form ({"Fn::Sub": …}),
// and the line of every value by path, for messages.
type document struct {
	root  map[string]any
	lines map[string]int
}

// line returns the line of the value at path, or of its nearest ancestor that has one.
func (d *document) line(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// parseTemplate decodes a one-document YAML (or JSON) template as written, with the
// project's template reader (the same decoder, limits and intrinsic long forms).
func parseTemplate(src []byte) (*document, error) {
	root, lines, err := samtemplate.ParseDocument(src)
	if err != nil {
		return nil, err
	}
	return &document{root: root, lines: lines}, nil
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, int, float64:
		return true
	}
	return false
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// describe names a value's kind for messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "empty"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		if fn, ok := intrinsicName(v); ok {
			return "the intrinsic function " + fn
		}
		return "a mapping"
	}
	return fmt.Sprintf("a %T", v)
}

// intrinsicName reports whether m is an intrinsic function call: a one-key mapping
// whose key is Ref, Condition or Fn::*.
func intrinsicName(m map[string]any) (string, bool) {
	if len(m) != 1 {
		return "", false
	}
	for k := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, true
		}
	}
	return "", false
}

// findIntrinsics returns the paths under path of every intrinsic function call in v.
func findIntrinsics(v any, path string) []string {
	var out []string
	// samtemplate.ParseDocument bounds the nesting, so the recursion is bounded too.
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			if fn, ok := intrinsicName(v); ok {
				out = append(out, joinKey(path, fn))
				return
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k], joinKey(path, k))
			}
		case []any:
			for i, e := range v {
				walk(e, joinIndex(path, i))
			}
		}
	}
	walk(v, path)
	return out
}
