package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// objPattern is a compiled pattern object: every field must match (AND).
type objPattern struct {
	fields []fieldPattern
	// emptyOK: the object is satisfied by an empty object (every field is
	// satisfiable by absence), used where the event has no object to test.
	emptyOK bool
}

// fieldPattern is one named field: either a nested object or a list of leaf
// matchers (OR).
type fieldPattern struct {
	name string
	node int32 // trie node of this field's path
	obj  *objPattern
	leaf *leafPattern
}

// leafPattern is the value list of a field.
type leafPattern struct {
	matchers []matcher // positive tests; any may match
	absentOK bool      // the list contains {"exists": false}
}

// jkind is the JSON type of a pattern node.
type jkind uint8

const (
	jString jkind = iota
	jNumber
	jBool
	jNull
	jObject
	jArray
)

func (k jkind) String() string {
	switch k {
	case jString:
		return "string"
	case jNumber:
		return "number"
	case jBool:
		return "boolean"
	case jNull:
		return "null"
	case jObject:
		return "object"
	default:
		return "array"
	}
}

// jnode is a decoded pattern value that keeps member order and number text.
type jnode struct {
	kind    jkind
	str     string // string value, or number text
	b       bool
	members []jmember
	elems   []*jnode
}

type jmember struct {
	key string
	val *jnode
}

// decodePattern decodes one JSON value; duplicate object keys: the last one wins.
func decodePattern(p string) (*jnode, error) {
	dec := json.NewDecoder(strings.NewReader(p))
	dec.UseNumber()
	n, err := decodeValue(dec)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return nil, errors.New("unexpected data after the pattern object")
		}
		return nil, err
	}
	return n, nil
}

func decodeValue(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &jnode{kind: jObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				replaced := false
				for i := range n.members {
					if n.members[i].key == key {
						n.members[i].val = v
						replaced = true
						break
					}
				}
				if !replaced {
					n.members = append(n.members, jmember{key: key, val: v})
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return n, nil
		case '[':
			n := &jnode{kind: jArray}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		}
		return nil, fmt.Errorf("unexpected %q", rune(t))
	case string:
		return &jnode{kind: jString, str: t}, nil
	case json.Number:
		return &jnode{kind: jNumber, str: string(t)}, nil
	case bool:
		return &jnode{kind: jBool, b: t}, nil
	case nil:
		return &jnode{kind: jNull}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// Operators that EventBridge knows but Lambda event source mappings do not take.
var unsupportedOps = map[string]string{
	"wildcard": "wildcard matching",
	"$or":      "$or",
	"cidr":     "IP address (cidr) matching",
}

// compilePattern compiles one pattern, registering its paths in t. A non-empty
// reason means the pattern is invalid.
func compilePattern(p string, t *trie) (*filterPattern, string) {
	if n := patternLength(p); n > MaxPatternLength {
		return nil, fmt.Sprintf("pattern is %d characters long; the maximum is %d", n, MaxPatternLength)
	}
	if !utf8.ValidString(p) {
		return nil, "pattern is not valid UTF-8"
	}
	root, err := decodePattern(p)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, "pattern is not valid JSON: unexpected end of input"
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Sprintf("pattern is not valid JSON: %v (at byte offset %d)", se, se.Offset)
		}
		return nil, "pattern is not valid JSON: " + err.Error()
	}
	if root.kind != jObject {
		return nil, fmt.Sprintf("pattern must be a JSON object, got %s", root.kind)
	}
	fp := &filterPattern{}
	for _, m := range root.members {
		switch m.key {
		case "data":
			if m.val.kind != jObject {
				return nil, fmt.Sprintf(`"data" must be a JSON object of field patterns (Kinesis record data is filtered as JSON), got %s`, m.val.kind)
			}
			obj, reason := compileObject(m.val, "data", 0, t)
			if reason != "" {
				return nil, reason
			}
			fp.data = obj
		case "$or":
			return nil, `"$or" is not supported by Lambda event source mapping filters`
		default:
			return nil, fmt.Sprintf(`top-level key %q is not supported: Kinesis event source mappings only support filtering on the "data" key`, m.key)
		}
	}
	return fp, ""
}

func compileObject(n *jnode, path string, node int32, t *trie) (*objPattern, string) {
	if len(n.members) == 0 {
		return nil, fmt.Sprintf("empty object at %s: a pattern object must name at least one field", path)
	}
	obj := &objPattern{emptyOK: true}
	for _, m := range n.members {
		fpath := path + "." + m.key
		if m.key == "$or" {
			return nil, fmt.Sprintf(`"$or" at %s is not supported by Lambda event source mapping filters`, path)
		}
		f := fieldPattern{name: m.key, node: t.child(node, m.key)}
		switch m.val.kind {
		case jObject:
			sub, reason := compileObject(m.val, fpath, f.node, t)
			if reason != "" {
				return nil, reason
			}
			f.obj = sub
			obj.emptyOK = obj.emptyOK && sub.emptyOK
		case jArray:
			leaf, reason := compileLeaf(m.val, fpath)
			if reason != "" {
				return nil, reason
			}
			f.leaf = leaf
			obj.emptyOK = obj.emptyOK && leaf.absentOK
		default:
			return nil, fmt.Sprintf("value at %s must be an array of match values or a nested object, got %s", fpath, m.val.kind)
		}
		obj.fields = append(obj.fields, f)
	}
	return obj, ""
}

func compileLeaf(n *jnode, path string) (*leafPattern, string) {
	if len(n.elems) == 0 {
		return nil, fmt.Sprintf("empty array at %s: give at least one match value", path)
	}
	leaf := &leafPattern{}
	for _, e := range n.elems {
		switch e.kind {
		case jString:
			leaf.matchers = append(leaf.matchers, matcher{kind: opExactString, s: e.str})
		case jNumber:
			leaf.matchers = append(leaf.matchers, matcher{kind: opExactNumber, s: e.str})
		case jBool:
			k := opFalse
			if e.b {
				k = opTrue
			}
			leaf.matchers = append(leaf.matchers, matcher{kind: k})
		case jNull:
			leaf.matchers = append(leaf.matchers, matcher{kind: opNull})
		case jArray:
			return nil, fmt.Sprintf("nested array at %s: match values must be strings, numbers, booleans, null or operator objects", path)
		case jObject:
			m, absent, reason := compileOperator(e, path)
			if reason != "" {
				return nil, reason
			}
			if absent {
				leaf.absentOK = true
			} else {
				leaf.matchers = append(leaf.matchers, m)
			}
		}
	}
	return leaf, ""
}

// compileOperator compiles a match expression such as {"prefix": "x"}. absent
// reports {"exists": false}, which is not a test on a value.
func compileOperator(n *jnode, path string) (m matcher, absent bool, reason string) {
	switch len(n.members) {
	case 0:
		return m, false, fmt.Sprintf("empty match expression at %s: give one operator such as prefix, numeric or exists", path)
	case 1:
	default:
		keys := make([]string, len(n.members))
		for i, mem := range n.members {
			keys[i] = strconv.Quote(mem.key)
		}
		return m, false, fmt.Sprintf("match expression at %s has %d operators (%s); give exactly one per object", path, len(n.members), strings.Join(keys, ", "))
	}
	op, v := n.members[0].key, n.members[0].val
	if what, ok := unsupportedOps[op]; ok {
		return m, false, fmt.Sprintf("unknown operator %q at %s: %s is not supported by Lambda event source mapping filters", op, path, what)
	}
	switch op {
	case "prefix", "suffix":
		kind, foldKind := opPrefix, opPrefixFold
		if op == "suffix" {
			kind, foldKind = opSuffix, opSuffixFold
		}
		switch v.kind {
		case jString:
			return matcher{kind: kind, s: v.str}, false, ""
		case jObject:
			if len(v.members) == 1 && v.members[0].key == "equals-ignore-case" && v.members[0].val.kind == jString {
				return matcher{kind: foldKind, s: v.members[0].val.str}, false, ""
			}
		}
		return m, false, fmt.Sprintf(`value of %q at %s must be a string or {"equals-ignore-case": string}, got %s`, op, path, describe(v))
	case "equals-ignore-case":
		if v.kind != jString {
			return m, false, fmt.Sprintf(`value of "equals-ignore-case" at %s must be a string, got %s`, path, v.kind)
		}
		return matcher{kind: opEqualFold, s: v.str}, false, ""
	case "exists":
		if v.kind != jBool {
			return m, false, fmt.Sprintf(`value of "exists" at %s must be true or false, got %s`, path, v.kind)
		}
		if !v.b {
			return m, true, ""
		}
		return matcher{kind: opExists}, false, ""
	case "numeric":
		m, reason = compileNumeric(v, path)
		return m, false, reason
	case "anything-but":
		m, reason = compileAnythingBut(v, path)
		return m, false, reason
	}
	return m, false, fmt.Sprintf("unknown operator %q at %s", op, path)
}

func describe(v *jnode) string {
	if v.kind == jObject && len(v.members) > 0 {
		return fmt.Sprintf("object with key %q", v.members[0].key)
	}
	return v.kind.String()
}

// patternFloat parses a pattern number for numeric comparison.
func patternFloat(v *jnode, path string) (float64, string) {
	f, err := strconv.ParseFloat(v.str, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Sprintf("number %s at %s is out of range", v.str, path)
	}
	return f, ""
}

func compileNumeric(v *jnode, path string) (matcher, string) {
	bad := func(detail string) (matcher, string) {
		return matcher{}, fmt.Sprintf(`malformed "numeric" at %s: %s; use ["=", n], [">", n], [">=", n], ["<", n], ["<=", n] or a lower bound then an upper bound such as [">", 0, "<=", 5]`, path, detail)
	}
	if v.kind != jArray {
		return bad("value must be an array, got " + v.kind.String())
	}
	e := v.elems
	if len(e) != 2 && len(e) != 4 {
		return bad(fmt.Sprintf("got %d elements", len(e)))
	}
	m := matcher{kind: opNumeric}
	for i := 0; i < len(e); i += 2 {
		if e[i].kind != jString {
			return bad(fmt.Sprintf("element %d must be an operator string, got %s", i, e[i].kind))
		}
		if e[i+1].kind != jNumber {
			return bad(fmt.Sprintf("value of %q must be a number, got %s", e[i].str, e[i+1].kind))
		}
		f, reason := patternFloat(e[i+1], path)
		if reason != "" {
			return matcher{}, reason
		}
		op := e[i].str
		switch {
		case op == "=" && len(e) == 2:
			m.lo, m.hi, m.loOp, m.hiOp = f, f, boundIncl, boundIncl
		case op == "=":
			return bad(`"=" cannot be combined with another comparison`)
		case (op == ">" || op == ">=") && i == 0:
			m.lo, m.loOp = f, boundExcl
			if op == ">=" {
				m.loOp = boundIncl
			}
		case (op == "<" || op == "<=") && (i == 2 || len(e) == 2):
			m.hi, m.hiOp = f, boundExcl
			if op == "<=" {
				m.hiOp = boundIncl
			}
		case op == ">" || op == ">=" || op == "<" || op == "<=":
			return bad("a range must give the lower bound (> or >=) first and then the upper bound (< or <=)")
		default:
			return bad(fmt.Sprintf("unknown comparison %q", op))
		}
	}
	if len(e) == 4 && !(m.lo < m.hi) {
		return bad(fmt.Sprintf("lower bound %v must be less than upper bound %v", m.lo, m.hi))
	}
	return m, ""
}

func compileAnythingBut(v *jnode, path string) (matcher, string) {
	bad := func(detail string) (matcher, string) {
		return matcher{}, fmt.Sprintf(`malformed "anything-but" at %s: %s`, path, detail)
	}
	switch v.kind {
	case jString:
		return matcher{kind: opNotStrings, strs: []string{v.str}}, ""
	case jNumber:
		f, reason := patternFloat(v, path)
		if reason != "" {
			return matcher{}, reason
		}
		return matcher{kind: opNotNumbers, nums: []float64{f}}, ""
	case jArray:
		if len(v.elems) == 0 {
			return bad("the list is empty")
		}
		var m matcher
		for _, e := range v.elems {
			switch e.kind {
			case jString:
				m.strs = append(m.strs, e.str)
			case jNumber:
				f, reason := patternFloat(e, path)
				if reason != "" {
					return matcher{}, reason
				}
				m.nums = append(m.nums, f)
			default:
				return bad("list elements must be strings or numbers, got " + e.kind.String())
			}
		}
		if len(m.strs) > 0 && len(m.nums) > 0 {
			return bad("the list must contain only strings or only numbers, not both")
		}
		m.kind = opNotStrings
		if len(m.nums) > 0 {
			m.kind = opNotNumbers
		}
		return m, ""
	case jObject:
		if len(v.members) != 1 {
			return bad(fmt.Sprintf(`the object must have exactly one key (prefix, suffix or equals-ignore-case), got %d`, len(v.members)))
		}
		op, iv := v.members[0].key, v.members[0].val
		switch op {
		case "prefix", "suffix":
			// One string, or a list of strings (EventBridge's recorded
			// anything-but prefix and suffix lists: a value matches when it
			// starts, or ends, with none of them).
			m := matcher{kind: opNotSuffix}
			if op == "prefix" {
				m.kind = opNotPrefix
			}
			elems := []*jnode{iv}
			if iv.kind == jArray {
				if len(iv.elems) == 0 {
					return bad(fmt.Sprintf("the %s list is empty", op))
				}
				elems = iv.elems
			}
			for _, e := range elems {
				if e.kind != jString {
					return bad(fmt.Sprintf("value of %q must be a string or a list of strings, got %s", op, e.kind))
				}
				if e.str == "" {
					return bad(fmt.Sprintf("empty %s is not allowed", op))
				}
				m.strs = append(m.strs, e.str)
			}
			return m, ""
		case "equals-ignore-case":
			m := matcher{kind: opNotEqualFold}
			switch iv.kind {
			case jString:
				m.strs = []string{iv.str}
			case jArray:
				if len(iv.elems) == 0 {
					return bad("the equals-ignore-case list is empty")
				}
				for _, e := range iv.elems {
					if e.kind != jString {
						return bad("equals-ignore-case list elements must be strings, got " + e.kind.String())
					}
					m.strs = append(m.strs, e.str)
				}
			default:
				return bad("value of \"equals-ignore-case\" must be a string or a list of strings, got " + iv.kind.String())
			}
			return m, ""
		}
		if what, ok := unsupportedOps[op]; ok {
			return matcher{}, fmt.Sprintf(`unknown operator %q inside "anything-but" at %s: %s is not supported by Lambda event source mapping filters`, op, path, what)
		}
		return bad(fmt.Sprintf("unknown operator %q inside anything-but (use prefix, suffix or equals-ignore-case)", op))
	}
	return bad("value must be a string, a number, a list of strings or numbers, or an object, got " + v.kind.String())
}
