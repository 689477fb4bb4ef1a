package samtemplate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// loader holds the state of one Load call. It is used from one goroutine.
type loader struct {
	file  string
	raw   map[string]any
	lines Lines

	stack, region, account, partition string
	langExt                           bool

	params      map[string]*param
	paramValues map[string]string
	mappings    map[string]any

	condDefs   map[string]any
	condValues map[string]bool
	condBusy   map[string]bool

	resources  map[string]*rawResource
	propValues map[string]propResult
	propBusy   map[string]bool

	resolver Resolver

	// resolved counts values resolved, to stop YAML alias bombs.
	resolved int
}

// maxResolvedValues bounds the values Load resolves. CloudFormation templates are at
// most 1 MB, far below this; only YAML aliases nested into each other reach it.
const maxResolvedValues = 2_000_000

// absent is what AWS::NoValue resolves to: the enclosing key or list element is
// removed.
type absent struct{}

// intrinsic reports whether m is an intrinsic function call: a mapping whose only key
// is "Ref" or starts with "Fn::".
func intrinsic(m map[string]any) (string, any, bool, error) {
	var fn string
	for k := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			fn = k
			break
		}
	}
	if fn == "" {
		return "", nil, false, nil
	}
	if len(m) != 1 {
		return "", nil, false, fmt.Errorf("%s must be the only key of its mapping; this one also has %s", fn, strings.Join(otherKeys(m, fn), ", "))
	}
	return fn, m[fn], true, nil
}

func otherKeys(m map[string]any, except string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != except {
			out = append(out, k)
		}
	}
	return out
}

// resolve evaluates every intrinsic function in v. It returns absent{} when v is
// AWS::NoValue.
func (l *loader) resolve(v any, path string) (any, error) {
	l.resolved++
	if l.resolved > maxResolvedValues {
		return nil, errorfAt(path, "template expands to more than %d values (YAML aliases nested into each other?)", maxResolvedValues)
	}
	switch v := v.(type) {
	case map[string]any:
		fn, arg, ok, err := intrinsic(v)
		if err != nil {
			return nil, errAt(path, err)
		}
		if ok {
			return l.call(fn, arg, joinKey(path, fn))
		}
		out := make(map[string]any, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			r, err := l.resolve(v[k], joinKey(path, k))
			if err != nil {
				return nil, err
			}
			if _, gone := r.(absent); gone {
				continue
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, e := range v {
			r, err := l.resolve(e, joinIndex(path, i))
			if err != nil {
				return nil, err
			}
			if _, gone := r.(absent); gone {
				continue
			}
			out = append(out, r)
		}
		return out, nil
	}
	return v, nil
}

// call evaluates one intrinsic function; path ends with the function name.
func (l *loader) call(fn string, arg any, path string) (any, error) {
	switch fn {
	case "Ref":
		name, err := l.stringArg(arg, path, "a logical ID or parameter name")
		if err != nil {
			return nil, err
		}
		return l.ref(name, path)
	case "Fn::GetAtt":
		return l.getAttCall(arg, path)
	case "Fn::Sub":
		return l.sub(arg, path)
	case "Fn::If":
		return l.ifCall(arg, path)
	case "Fn::Equals":
		args, err := fixedArgs(arg, path, 2, "[value1, value2]")
		if err != nil {
			return nil, err
		}
		a, err := l.resolve(args[0], joinIndex(path, 0))
		if err != nil {
			return nil, err
		}
		b, err := l.resolve(args[1], joinIndex(path, 1))
		if err != nil {
			return nil, err
		}
		return equalValues(a, b), nil
	case "Fn::Not":
		args, err := fixedArgs(arg, path, 1, "[condition]")
		if err != nil {
			return nil, err
		}
		b, err := l.condArg(args[0], joinIndex(path, 0))
		return !b, err
	case "Fn::And", "Fn::Or":
		args, ok := arg.([]any)
		if !ok || len(args) < 2 || len(args) > 10 {
			return nil, errorfAt(path, "want a list of 2 to 10 conditions")
		}
		isAnd := fn == "Fn::And"
		result := isAnd
		// Every operand is evaluated (no short circuit) so that a broken condition
		// is reported whatever the other operands say.
		for i, a := range args {
			b, err := l.condArg(a, joinIndex(path, i))
			if err != nil {
				return nil, err
			}
			if isAnd {
				result = result && b
			} else {
				result = result || b
			}
		}
		return result, nil
	case "Fn::Join":
		return l.join(arg, path)
	case "Fn::Select":
		return l.selectCall(arg, path)
	case "Fn::Split":
		args, err := fixedArgs(arg, path, 2, "[delimiter, string]")
		if err != nil {
			return nil, err
		}
		delim, err := l.stringArg(args[0], joinIndex(path, 0), "a delimiter string")
		if err != nil {
			return nil, err
		}
		if delim == "" {
			return nil, errorfAt(joinIndex(path, 0), "the delimiter must not be empty")
		}
		s, err := l.stringArg(args[1], joinIndex(path, 1), "a string")
		if err != nil {
			return nil, err
		}
		parts := strings.Split(s, delim)
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "Fn::FindInMap":
		return l.findInMap(arg, path)
	case "Fn::Base64":
		s, err := l.stringArg(arg, path, "a string")
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::GetAZs":
		region, err := l.stringArg(arg, path, "a region name or an empty string")
		if err != nil {
			return nil, err
		}
		if region == "" {
			region = l.region
		}
		return []any{region + "a", region + "b", region + "c"}, nil
	case "Fn::ToJsonString", "Fn::Length":
		if !l.langExt {
			return nil, errorfAt(path, "%s needs \"Transform: %s\" in the template", fn, languageExtensions)
		}
		v, err := l.resolve(arg, path)
		if err != nil {
			return nil, err
		}
		if fn == "Fn::Length" {
			list, ok := v.([]any)
			if !ok {
				return nil, errorfAt(path, "want a list, got %s", describe(v))
			}
			return len(list), nil
		}
		if _, gone := v.(absent); gone {
			return nil, errorfAt(path, "cannot encode AWS::NoValue as JSON")
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, errorfAt(path, "encode JSON: %v", err)
		}
		return strings.TrimSuffix(buf.String(), "\n"), nil
	case "Fn::ImportValue":
		return nil, &pathError{path: path, err: fmt.Errorf("cannot resolve Fn::ImportValue: exports of other stacks exist only in a deployed account: %w", ErrUnsupported)}
	case "Fn::Transform":
		return nil, &pathError{path: path, err: fmt.Errorf("cannot run Fn::Transform: macros run only in CloudFormation: %w", ErrUnsupported)}
	case "Fn::Cidr":
		return nil, &pathError{path: path, err: fmt.Errorf("cannot resolve Fn::Cidr: %w", ErrUnsupported)}
	}
	if strings.HasPrefix(fn, "Fn::ForEach::") {
		return nil, &pathError{path: path, err: fmt.Errorf("cannot expand Fn::ForEach: %w", ErrUnsupported)}
	}
	return nil, errorfAt(path, "unknown intrinsic function %s", fn)
}

// fixedArgs checks that arg is a list of exactly n elements.
func fixedArgs(arg any, path string, n int, shape string) ([]any, error) {
	args, ok := arg.([]any)
	if !ok || len(args) != n {
		return nil, errorfAt(path, "want a list %s, got %s", shape, describeArg(arg))
	}
	return args, nil
}

func describeArg(v any) string {
	if l, ok := v.([]any); ok {
		return fmt.Sprintf("a list of %d", len(l))
	}
	return describe(v)
}

// stringArg resolves v and requires a scalar, returned in string form.
func (l *loader) stringArg(v any, path, what string) (string, error) {
	r, err := l.resolve(v, path)
	if err != nil {
		return "", err
	}
	if _, gone := r.(absent); gone {
		return "", errorfAt(path, "want %s, got AWS::NoValue", what)
	}
	if !isScalar(r) {
		return "", errorfAt(path, "want %s, got %s", what, describe(r))
	}
	return scalarString(r), nil
}

var pseudoParams = map[string]bool{
	"AWS::AccountId": true, "AWS::Region": true, "AWS::StackName": true, "AWS::StackId": true,
	"AWS::Partition": true, "AWS::URLSuffix": true, "AWS::NotificationARNs": true, "AWS::NoValue": true,
}

// ref resolves Ref of a pseudo parameter, parameter or resource.
func (l *loader) ref(name, path string) (any, error) {
	if strings.HasPrefix(name, "AWS::") {
		switch name {
		case "AWS::AccountId":
			return l.account, nil
		case "AWS::Region":
			return l.region, nil
		case "AWS::StackName":
			return l.stack, nil
		case "AWS::StackId":
			return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/%s", l.partition, l.region, l.account, l.stack, stableUUID("stack/"+l.stack)), nil
		case "AWS::Partition":
			return l.partition, nil
		case "AWS::URLSuffix":
			return urlSuffix(l.region), nil
		case "AWS::NotificationARNs":
			return []any{}, nil
		case "AWS::NoValue":
			return absent{}, nil
		}
		return nil, errorfAt(path, "unknown pseudo parameter %s", name)
	}
	if p, ok := l.params[name]; ok {
		return p.refValue(l.paramValues[name]), nil
	}
	r, err := l.resourceRef(name, path)
	if err != nil {
		return nil, err
	}
	v, err := l.resolver.Ref(r)
	if err != nil {
		return nil, errAt(path, err)
	}
	return v, nil
}

// resourceRef looks up a resource for Ref/GetAtt; it must exist in the stack.
func (l *loader) resourceRef(id, path string) (ResourceRef, error) {
	rr, ok := l.resources[id]
	if !ok {
		if _, isCond := l.condDefs[id]; isCond {
			return ResourceRef{}, errorfAt(path, "%q is a condition; Ref takes a parameter or resource", id)
		}
		return ResourceRef{}, errorfAt(path, "no parameter or resource named %q", id)
	}
	on, err := l.active(rr)
	if err != nil {
		return ResourceRef{}, err
	}
	if !on {
		return ResourceRef{}, errorfAt(path, "resource %s is not created: its condition %s is false (guard the reference with Fn::If)", id, rr.condition)
	}
	ref := ResourceRef{LogicalID: id, Type: rr.typ}
	if !rr.implicit {
		ref.prop = func(name string) (any, bool, error) {
			r, err := l.property(rr, name)
			return r.value, r.set, err
		}
	}
	return ref, nil
}

func (l *loader) getAttCall(arg any, path string) (any, error) {
	var id, attr string
	switch a := arg.(type) {
	case string:
		var ok bool
		id, attr, ok = strings.Cut(a, ".")
		if !ok || id == "" || attr == "" {
			return nil, errorfAt(path, "want LogicalID.Attribute, got %q", a)
		}
	case []any:
		if len(a) != 2 {
			return nil, errorfAt(path, "want [LogicalID, Attribute], got %s", describeArg(a))
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, errorfAt(joinIndex(path, 0), "want a logical ID string, got %s", describe(a[0]))
		}
		id = s
		var err error
		if attr, err = l.stringArg(a[1], joinIndex(path, 1), "an attribute name"); err != nil {
			return nil, err
		}
	default:
		return nil, errorfAt(path, "want LogicalID.Attribute or [LogicalID, Attribute], got %s", describe(arg))
	}
	return l.getAtt(id, attr, path)
}

func (l *loader) getAtt(id, attr, path string) (any, error) {
	if _, isParam := l.params[id]; isParam {
		return nil, errorfAt(path, "%q is a parameter; Fn::GetAtt takes a resource", id)
	}
	r, err := l.resourceRef(id, path)
	if err != nil {
		return nil, err
	}
	v, err := l.resolver.GetAtt(r, attr)
	if err != nil {
		return nil, errAt(path, err)
	}
	return v, nil
}

// sub implements Fn::Sub: "${Name}" is a variable, parameter, pseudo parameter or
// resource (Ref), "${Resource.Attribute}" is Fn::GetAtt, "${!Literal}" is "${Literal}".
func (l *loader) sub(arg any, path string) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, errorfAt(path, "want a string or [string, {variables}], got %s", describeArg(a))
		}
		s, err := l.stringArg(a[0], joinIndex(path, 0), "a template string")
		if err != nil {
			return nil, err
		}
		tmpl = s
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, errorfAt(joinIndex(path, 1), "want a mapping of variables, got %s", describe(a[1]))
		}
		if _, _, isFn, _ := intrinsic(m); isFn {
			return nil, errorfAt(joinIndex(path, 1), "want a mapping of variables, got an intrinsic function")
		}
		vp := joinIndex(path, 1)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			v, err := l.resolve(m[k], joinKey(vp, k))
			if err != nil {
				return nil, err
			}
			vars[k] = v
		}
	default:
		return nil, errorfAt(path, "want a string or [string, {variables}], got %s", describe(arg))
	}
	var b strings.Builder
	rest := tmpl
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		rest = rest[i:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return nil, errorfAt(path, "unterminated ${ in %q", tmpl)
		}
		name := rest[2:end]
		rest = rest[end+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, errorfAt(path, "empty ${} in %q", tmpl)
		}
		var v any
		var err error
		if val, ok := vars[name]; ok {
			v = val
		} else if id, attr, isAtt := strings.Cut(name, "."); isAtt && !pseudoParams[name] {
			v, err = l.getAtt(id, attr, path)
		} else {
			v, err = l.ref(name, path)
		}
		if err != nil {
			return nil, err
		}
		if _, gone := v.(absent); gone {
			return nil, errorfAt(path, "${%s} is AWS::NoValue; Fn::Sub needs a string", name)
		}
		if !isScalar(v) {
			return nil, errorfAt(path, "${%s} is %s; Fn::Sub needs a string (use Fn::Join for lists)", name, describe(v))
		}
		b.WriteString(scalarString(v))
	}
	return b.String(), nil
}

func (l *loader) ifCall(arg any, path string) (any, error) {
	args, err := fixedArgs(arg, path, 3, "[condition name, value if true, value if false]")
	if err != nil {
		return nil, err
	}
	name, ok := args[0].(string)
	if !ok {
		return nil, errorfAt(joinIndex(path, 0), "want a condition name, got %s", describe(args[0]))
	}
	on, err := l.condition(name, joinIndex(path, 0))
	if err != nil {
		return nil, err
	}
	if on {
		return l.resolve(args[1], joinIndex(path, 1))
	}
	return l.resolve(args[2], joinIndex(path, 2))
}

// condition evaluates a named condition, memoised, with cycle detection.
func (l *loader) condition(name, path string) (bool, error) {
	if v, ok := l.condValues[name]; ok {
		return v, nil
	}
	def, ok := l.condDefs[name]
	if !ok {
		return false, errorfAt(path, "unknown condition %q", name)
	}
	if l.condBusy[name] {
		return false, errorfAt(path, "condition %s depends on itself", name)
	}
	l.condBusy[name] = true
	v, err := l.condArg(def, joinKey("Conditions", name))
	delete(l.condBusy, name)
	if err != nil {
		return false, err
	}
	l.condValues[name] = v
	return v, nil
}

// condArg evaluates an operand of a condition function: {"Condition": name} or a
// condition function that yields a boolean.
func (l *loader) condArg(v any, path string) (bool, error) {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if c, ok := m["Condition"]; ok {
			name, ok := c.(string)
			if !ok {
				return false, errorfAt(joinKey(path, "Condition"), "want a condition name, got %s", describe(c))
			}
			return l.condition(name, joinKey(path, "Condition"))
		}
	}
	r, err := l.resolve(v, path)
	if err != nil {
		return false, err
	}
	switch r := r.(type) {
	case bool:
		return r, nil
	case string:
		switch strings.ToLower(r) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, errorfAt(path, "want a condition (Fn::Equals, Fn::And, Fn::Or, Fn::Not or !Condition), got %s", describe(r))
}

// equalValues compares like Fn::Equals: scalars by their string form.
func equalValues(a, b any) bool {
	if isScalar(a) && isScalar(b) {
		return scalarString(a) == scalarString(b)
	}
	la, okA := a.([]any)
	lb, okB := b.([]any)
	if okA && okB {
		if len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !equalValues(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func (l *loader) join(arg any, path string) (any, error) {
	delim, list, err := l.scalarAndList(arg, path, "[delimiter, [values]]", "a delimiter string", "a list of values", nil)
	if err != nil {
		return nil, err
	}
	parts := make([]string, 0, len(list))
	for i, e := range list {
		if !isScalar(e) {
			return nil, errorfAt(joinIndex(joinIndex(path, 1), i), "want a string, got %s", describe(e))
		}
		parts = append(parts, scalarString(e))
	}
	return strings.Join(parts, delim), nil
}

func (l *loader) selectCall(arg any, path string) (any, error) {
	var idx int
	_, list, err := l.scalarAndList(arg, path, "[index, [values]]", "an index", "a list", func(is string) error {
		var err error
		if idx, err = strconv.Atoi(is); err != nil {
			return fmt.Errorf("index %q is not an integer", is)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if idx < 0 || idx >= len(list) {
		return nil, errorfAt(joinIndex(path, 0), "index %d is out of range for a list of %d", idx, len(list))
	}
	return list[idx], nil
}

// scalarAndList resolves the arguments of Fn::Join and Fn::Select, a list shaped
// [scalar, [values]]: the first resolves to a scalar (what names it in errors),
// returned in string form and passed to check (if not nil) before the second is
// resolved, the second to a list (listWhat).
func (l *loader) scalarAndList(arg any, path, shape, what, listWhat string, check func(string) error) (string, []any, error) {
	args, err := fixedArgs(arg, path, 2, shape)
	if err != nil {
		return "", nil, err
	}
	s, err := l.stringArg(args[0], joinIndex(path, 0), what)
	if err != nil {
		return "", nil, err
	}
	if check != nil {
		if err := check(s); err != nil {
			return "", nil, errAt(joinIndex(path, 0), err)
		}
	}
	v, err := l.resolve(args[1], joinIndex(path, 1))
	if err != nil {
		return "", nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return "", nil, errorfAt(joinIndex(path, 1), "want %s, got %s", listWhat, describe(v))
	}
	return s, list, nil
}

func (l *loader) findInMap(arg any, path string) (any, error) {
	args, ok := arg.([]any)
	if !ok || len(args) < 3 || len(args) > 4 {
		return nil, errorfAt(path, "want [MapName, TopLevelKey, SecondLevelKey] (and optionally {DefaultValue: v}), got %s", describeArg(arg))
	}
	var keys [3]string
	for i := range keys {
		s, err := l.stringArg(args[i], joinIndex(path, i), "a key string")
		if err != nil {
			return nil, err
		}
		keys[i] = s
	}
	var def any
	hasDefault := false
	if len(args) == 4 {
		m, ok := args[3].(map[string]any)
		if !ok || len(m) != 1 {
			return nil, errorfAt(joinIndex(path, 3), "want {DefaultValue: value}, got %s", describe(args[3]))
		}
		def, hasDefault = m["DefaultValue"]
		if !hasDefault {
			return nil, errorfAt(joinIndex(path, 3), "want {DefaultValue: value}")
		}
	}
	miss := func(format string, a ...any) (any, error) {
		if hasDefault {
			return l.resolve(def, joinKey(joinIndex(path, 3), "DefaultValue"))
		}
		return nil, errorfAt(path, format, a...)
	}
	top, ok := l.mappings[keys[0]].(map[string]any)
	if !ok {
		return miss("no mapping %q", keys[0])
	}
	second, ok := top[keys[1]].(map[string]any)
	if !ok {
		return miss("mapping %s has no key %q", keys[0], keys[1])
	}
	v, ok := second[keys[2]]
	if !ok {
		return miss("mapping %s.%s has no key %q", keys[0], keys[1], keys[2])
	}
	// Mapping values are literals, but resolving keeps nested structures uniform.
	return l.resolve(v, joinKey(joinKey(joinKey("Mappings", keys[0]), keys[1]), keys[2]))
}
