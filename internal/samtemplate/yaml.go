package samtemplate

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// shortForms maps the CloudFormation YAML short-form tags onto the long-form keys.
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

// decoder turns a goccy/go-yaml AST into plain values: nil, bool, int, float64,
// string, []any and map[string]any. Short-form tags become their long-form
// single-key mappings ({"Fn::Sub": ...}), so the resolver sees one representation.
// It records the line of every node by path for error messages.
type decoder struct {
	lines   Lines
	anchors map[string]any
	// depth is the current nesting; nodes counts the values decoded so far, an
	// alias counting as the values of its anchor (sizes).
	depth int
	nodes int
	sizes map[string]int
}

// lineError is an error at a known line but no known path (a YAML syntax error).
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return e.err.Error() }
func (e *lineError) Unwrap() error { return e.err }

// Limits that keep a hostile or broken template from exhausting memory or time:
// the YAML parser needs gigabytes for a few hundred kilobytes of nested brackets,
// and aliases can expand a small document exponentially ("billion laughs").
// CloudFormation templates are nowhere near either limit.
const (
	// maxYAMLDepth is the deepest nesting of mappings and sequences accepted.
	maxYAMLDepth = 1000
	// maxYAMLNodes is the most values a template may expand to, aliases included
	// (the resolver's limit, applied already while decoding, to every section).
	maxYAMLNodes = maxResolvedValues
)

// checkFlowDepth rejects flow collections ([…], {…}) nested deeper than
// maxYAMLDepth before the parser sees them. It skips quoted scalars and comments;
// brackets in block scalars are counted, which can only over-count.
func checkFlowDepth(src []byte) error {
	depth, line := 0, 1
	atTokenStart := true
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			line++
			atTokenStart = true
			continue
		case c == '#' && atTokenStart:
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
			continue
		case (c == '"' || c == '\'') && atTokenStart:
			for i++; i < len(src); i++ {
				if src[i] == '\n' {
					line++
				}
				if c == '"' && src[i] == '\\' {
					i++
					continue
				}
				if src[i] == c {
					if c == '\'' && i+1 < len(src) && src[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case c == '[' || c == '{':
			depth++
			if depth > maxYAMLDepth {
				return &lineError{line: line, err: fmt.Errorf("parse YAML: collections nested deeper than %d levels", maxYAMLDepth)}
			}
		case c == ']' || c == '}':
			depth = max(depth-1, 0)
		}
		atTokenStart = c == ' ' || c == '\t' || c == '[' || c == '{' || c == ',' || c == ':' || c == '-' || c == '\r'
	}
	return nil
}

// ParseDocument decodes a one-document YAML (or JSON) template as written, without
// resolving anything: plain values (nil, bool, int, float64, string, []any,
// map[string]any) with intrinsic functions in long form ({"Fn::Sub": …}), and the
// line of every value by path ("Resources.Fn.Properties", "Metadata.X[0]"). It
// applies the same nesting and size limits as Load. Tools that check a template as
// written (tools/sarcheck) use it instead of decoding YAML themselves.
func ParseDocument(src []byte) (map[string]any, Lines, error) {
	root, lines, err := parseYAML(src)
	var le *lineError
	if errors.As(err, &le) {
		return nil, nil, fmt.Errorf("parse YAML: line %d: %s", le.line, strings.TrimPrefix(le.err.Error(), "parse YAML: "))
	}
	return root, lines, err
}

// flowIntrinsicKey finds an unquoted key with "::" in a flow mapping, such as
// {Fn::If: [C, a, b]}.
var flowIntrinsicKey = regexp.MustCompile(`[{,]\s*[A-Za-z]+::[A-Za-z]+\s*:`)

// flowKeyHint explains a syntax error on line (or the line before it) that holds
// a flow mapping whose key is an unquoted intrinsic function name: valid YAML,
// which the YAML library refuses (goccy/go-yaml#832). "" otherwise.
func flowKeyHint(src []byte, line int) string {
	lines := bytes.Split(src, []byte("\n"))
	for _, l := range []int{line, line - 1} {
		if l >= 1 && l <= len(lines) && flowIntrinsicKey.Match(lines[l-1]) {
			return fmt.Sprintf(` (line %d: this reader cannot take an unquoted key with "::" in a flow mapping, such as {Fn::If: …}; quote it, {"Fn::If": …}, or write the short form !If or block style)`, l)
		}
	}
	return ""
}

// parseYAML parses a template document.
func parseYAML(src []byte) (map[string]any, Lines, error) {
	if err := checkFlowDepth(src); err != nil {
		return nil, nil, err
	}
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		var syn interface {
			GetMessage() string
			GetToken() *token.Token
		}
		if errors.As(err, &syn) && syn.GetToken() != nil && syn.GetToken().Position != nil {
			line := syn.GetToken().Position.Line
			return nil, nil, &lineError{line: line, err: fmt.Errorf("parse YAML: %s%s", syn.GetMessage(), flowKeyHint(src, line))}
		}
		return nil, nil, fmt.Errorf("parse YAML: %w", err)
	}
	var docs []ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d.Body)
		}
	}
	switch len(docs) {
	case 0:
		return nil, nil, errors.New("empty template")
	case 1:
	default:
		return nil, nil, fmt.Errorf("template has %d YAML documents; want one", len(docs))
	}
	d := &decoder{lines: Lines{}, anchors: map[string]any{}, sizes: map[string]int{}}
	v, err := d.node(docs[0], "")
	if err != nil {
		return nil, d.lines, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("template is a %s; want a mapping", kindOf(v))
	}
	return m, d.lines, nil
}

func line(n ast.Node) int {
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

func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func (d *decoder) node(n ast.Node, path string) (any, error) {
	d.depth++
	defer func() { d.depth-- }()
	d.nodes++
	switch {
	case d.depth > maxYAMLDepth:
		return nil, &lineError{line: line(n), err: fmt.Errorf("YAML nested deeper than %d levels", maxYAMLDepth)}
	case d.nodes > maxYAMLNodes:
		return nil, &lineError{line: line(n), err: fmt.Errorf("template expands to more than %d values (YAML aliases nested into each other?)", maxYAMLNodes)}
	}
	if _, seen := d.lines[path]; !seen {
		d.lines[path] = line(n)
	}
	switch n := n.(type) {
	case nil:
		return nil, nil
	case *ast.NullNode:
		return nil, nil
	case *ast.BoolNode:
		return n.Value, nil
	case *ast.IntegerNode:
		switch v := n.Value.(type) {
		case int64:
			if v < math.MinInt || v > math.MaxInt {
				return float64(v), nil
			}
			return int(v), nil
		case uint64:
			if v > math.MaxInt {
				return float64(v), nil
			}
			return int(v), nil
		}
		return nil, errorfAt(path, "unexpected integer %v", n.Value)
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
		return d.tag(n, path)
	case *ast.AnchorNode:
		before := d.nodes
		v, err := d.node(n.Value, path)
		if err != nil {
			return nil, err
		}
		d.anchors[n.Name.String()] = v
		d.sizes[n.Name.String()] = d.nodes - before
		return v, nil
	case *ast.AliasNode:
		name := n.Value.String()
		v, ok := d.anchors[name]
		if !ok {
			return nil, errorfAt(path, "YAML alias *%s refers to no anchor defined before it", name)
		}
		// Later stages walk the value once per alias: count it so.
		if d.nodes += d.sizes[name]; d.nodes > maxYAMLNodes {
			return nil, &lineError{line: line(n), err: fmt.Errorf("template expands to more than %d values (YAML aliases nested into each other?)", maxYAMLNodes)}
		}
		return v, nil
	case *ast.SequenceNode:
		out := make([]any, 0, len(n.Values))
		for i, e := range n.Values {
			v, err := d.node(e, joinIndex(path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *ast.MappingValueNode:
		return d.mapping([]*ast.MappingValueNode{n}, path)
	case *ast.MappingNode:
		return d.mapping(n.Values, path)
	case *ast.DocumentNode:
		return d.node(n.Body, path)
	}
	return nil, errorfAt(path, "unsupported YAML node %s", n.Type())
}

func (d *decoder) mapping(values []*ast.MappingValueNode, path string) (any, error) {
	out := make(map[string]any, len(values))
	var merges []any
	for _, mv := range values {
		if mv.Key.IsMergeKey() {
			v, err := d.node(mv.Value, path)
			if err != nil {
				return nil, err
			}
			merges = append(merges, v)
			continue
		}
		key, err := d.key(mv.Key, path)
		if err != nil {
			return nil, err
		}
		if _, dup := out[key]; dup {
			return nil, &pathError{path: joinKey(path, key), err: fmt.Errorf("duplicate key %q (line %d)", key, line(mv.Key))}
		}
		kp := joinKey(path, key)
		d.lines[kp] = line(mv.Key)
		v, err := d.node(mv.Value, kp)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	// YAML merge keys: explicit keys win, earlier merged maps win over later ones.
	for _, m := range merges {
		var srcs []any
		if l, ok := m.([]any); ok {
			srcs = l
		} else {
			srcs = []any{m}
		}
		for _, s := range srcs {
			sm, ok := s.(map[string]any)
			if !ok {
				return nil, errorfAt(path, "YAML merge key << needs a mapping, got a %s", kindOf(s))
			}
			for k, v := range sm {
				if _, exists := out[k]; !exists {
					out[k] = v
				}
			}
		}
	}
	return out, nil
}

func (d *decoder) key(k ast.MapKeyNode, path string) (string, error) {
	var n ast.Node = k
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		n = mk.Value
	}
	v, err := d.node(n, joinKey(path, "<key>"))
	delete(d.lines, joinKey(path, "<key>"))
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case int, float64, bool:
		return scalarString(v), nil
	case nil:
		return "", errorfAt(path, "empty mapping key (line %d)", line(n))
	}
	return "", errorfAt(path, "mapping key must be a scalar, got a %s (line %d)", kindOf(v), line(n))
}

func (d *decoder) tag(n *ast.TagNode, path string) (any, error) {
	name := n.Start.Value
	if fn, ok := shortForms[name]; ok {
		fp := joinKey(path, fn)
		d.lines[fp] = line(n)
		var arg any = ""
		if n.Value != nil {
			var err error
			if arg, err = d.node(n.Value, fp); err != nil {
				return nil, err
			}
		}
		if arg == nil {
			arg = ""
		}
		return map[string]any{fn: arg}, nil
	}
	v, err := d.node(n.Value, path)
	if err != nil {
		return nil, err
	}
	switch name {
	case "!!str":
		if v == nil {
			return "", nil
		}
		if s, ok := v.(string); ok {
			return s, nil
		}
		if isScalar(v) {
			// The scalar was already typed by the parser; its source text is what !!str means.
			return strings.TrimSpace(n.Value.String()), nil
		}
	case "!!int":
		switch v := v.(type) {
		case int:
			return v, nil
		case string:
			if i, err := strconv.Atoi(v); err == nil {
				return i, nil
			}
		}
	case "!!float":
		switch v := v.(type) {
		case float64:
			return v, nil
		case int:
			return float64(v), nil
		case string:
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f, nil
			}
		}
	case "!!bool":
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case "!!null":
		return nil, nil
	case "!!map":
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	case "!!seq":
		if l, ok := v.([]any); ok {
			return l, nil
		}
	default:
		return nil, errorfAt(path, "unknown YAML tag %s (line %d)", name, line(n))
	}
	return nil, errorfAt(path, "YAML tag %s does not fit a %s value (line %d)", name, kindOf(v), line(n))
}

// kindOf names the kind of a decoded or resolved value for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int64, float64:
		return "number"
	case []any, []string:
		return "list"
	case map[string]any:
		return "mapping"
	}
	return fmt.Sprintf("%T", v)
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, int, int64, float64:
		return true
	}
	return false
}

// scalarString renders a scalar the way CloudFormation turns it into a string.
func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}
