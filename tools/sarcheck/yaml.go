package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// shortForms maps CloudFormation's YAML short-form tags onto their long-form keys,
// so that a check sees one representation of an intrinsic function
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
var shortForms = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!FindInMap":    "Fn::FindInMap",
	"!GetAtt":       "Fn::GetAtt",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Join":         "Fn::Join",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!Sub":          "Fn::Sub",
	"!Transform":    "Fn::Transform",
	"!And":          "Fn::And",
	"!Equals":       "Fn::Equals",
	"!If":           "Fn::If",
	"!Not":          "Fn::Not",
	"!Or":           "Fn::Or",
	"!ToJsonString": "Fn::ToJsonString",
	"!Length":       "Fn::Length",
}

// maxDepth bounds nesting so that a broken template cannot exhaust the stack.
const maxDepth = 200

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

// parseTemplate decodes a one-document YAML (or JSON) template.
func parseTemplate(src []byte) (*document, error) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		var syn interface {
			GetMessage() string
			GetToken() *token.Token
		}
		if errors.As(err, &syn) && syn.GetToken() != nil && syn.GetToken().Position != nil {
			return nil, fmt.Errorf("parse YAML: line %d: %s", syn.GetToken().Position.Line, syn.GetMessage())
		}
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	var bodies []ast.Node
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			bodies = append(bodies, doc.Body)
		}
	}
	if len(bodies) != 1 {
		return nil, fmt.Errorf("parse YAML: %d documents; want one template", len(bodies))
	}
	d := &decoder{lines: map[string]int{}, anchors: map[string]any{}}
	v, err := d.node(bodies[0], "", 0)
	if err != nil {
		return nil, err
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is %s; want a mapping", describe(v))
	}
	return &document{root: root, lines: d.lines}, nil
}

type decoder struct {
	lines   map[string]int
	anchors map[string]any
}

func nodeLine(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func (d *decoder) node(n ast.Node, path string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: YAML nested deeper than %d levels", nodeLine(n), maxDepth)
	}
	if _, seen := d.lines[path]; !seen && n != nil {
		d.lines[path] = nodeLine(n)
	}
	switch n := n.(type) {
	case nil, *ast.NullNode:
		return nil, nil
	case *ast.BoolNode:
		return n.Value, nil
	case *ast.IntegerNode:
		switch v := n.Value.(type) {
		case int64:
			if v >= math.MinInt && v <= math.MaxInt {
				return int(v), nil
			}
			return float64(v), nil
		case uint64:
			if v <= math.MaxInt {
				return int(v), nil
			}
			return float64(v), nil
		}
		return nil, fmt.Errorf("line %d: unexpected integer %v", nodeLine(n), n.Value)
	case *ast.FloatNode:
		return n.Value, nil
	case *ast.InfinityNode:
		return n.Value, nil
	case *ast.NanNode:
		return math.NaN(), nil
	case *ast.StringNode:
		return n.Value, nil
	case *ast.LiteralNode:
		if n.Value == nil {
			return "", nil
		}
		return n.Value.Value, nil
	case *ast.TagNode:
		return d.tag(n, path, depth)
	case *ast.AnchorNode:
		v, err := d.node(n.Value, path, depth+1)
		if err != nil {
			return nil, err
		}
		d.anchors[n.Name.String()] = v
		return v, nil
	case *ast.AliasNode:
		v, ok := d.anchors[n.Value.String()]
		if !ok {
			return nil, fmt.Errorf("line %d: YAML alias *%s refers to no anchor before it", nodeLine(n), n.Value.String())
		}
		return v, nil
	case *ast.SequenceNode:
		out := make([]any, 0, len(n.Values))
		for i, e := range n.Values {
			v, err := d.node(e, joinIndex(path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *ast.MappingValueNode:
		return d.mapping([]*ast.MappingValueNode{n}, path, depth)
	case *ast.MappingNode:
		return d.mapping(n.Values, path, depth)
	case *ast.DocumentNode:
		return d.node(n.Body, path, depth+1)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node %s", nodeLine(n), n.Type())
}

func (d *decoder) mapping(values []*ast.MappingValueNode, path string, depth int) (any, error) {
	out := make(map[string]any, len(values))
	for _, mv := range values {
		if mv.Key.IsMergeKey() {
			return nil, fmt.Errorf("line %d: YAML merge keys (<<) are not supported in CloudFormation templates", nodeLine(mv.Key))
		}
		var kn ast.Node = mv.Key
		if mk, ok := mv.Key.(*ast.MappingKeyNode); ok {
			kn = mk.Value
		}
		k, err := d.node(kn, joinKey(path, "<key>"), depth+1)
		delete(d.lines, joinKey(path, "<key>"))
		if err != nil {
			return nil, err
		}
		if k == nil || !isScalar(k) {
			return nil, fmt.Errorf("line %d: mapping key is %s; want a scalar", nodeLine(kn), describe(k))
		}
		key := scalarString(k)
		kp := joinKey(path, key)
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("line %d: %s: duplicate key %q", nodeLine(kn), path, key)
		}
		d.lines[kp] = nodeLine(kn)
		v, err := d.node(mv.Value, kp, depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}

func (d *decoder) tag(n *ast.TagNode, path string, depth int) (any, error) {
	name := n.Start.Value
	if fn, ok := shortForms[name]; ok {
		fp := joinKey(path, fn)
		d.lines[fp] = nodeLine(n)
		var arg any = ""
		if n.Value != nil {
			var err error
			if arg, err = d.node(n.Value, fp, depth+1); err != nil {
				return nil, err
			}
		}
		return map[string]any{fn: arg}, nil
	}
	v, err := d.node(n.Value, path, depth+1)
	if err != nil {
		return nil, err
	}
	switch name {
	case "!!str":
		if v == nil {
			return "", nil
		}
		if isScalar(v) {
			return strings.TrimSpace(n.Value.String()), nil
		}
	case "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq":
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unknown YAML tag %s", nodeLine(n), name)
}

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
	var walk func(v any, path string, depth int)
	walk = func(v any, path string, depth int) {
		if depth > maxDepth {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			if fn, ok := intrinsicName(v); ok {
				out = append(out, joinKey(path, fn))
				return
			}
			for _, k := range sortedKeys(v) {
				walk(v[k], joinKey(path, k), depth+1)
			}
		case []any:
			for i, e := range v {
				walk(e, joinIndex(path, i), depth+1)
			}
		}
	}
	walk(v, path, 0)
	return out
}
