package samtemplate

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// param is one entry of the Parameters section.
type param struct {
	name          string
	typ           string
	def           *string
	allowed       []string
	pattern       *regexp.Regexp
	patternText   string
	minLen        *int
	maxLen        *int
	minValue      *float64
	maxValue      *float64
	noEcho        bool
	constraintMsg string
}

// isList reports whether Ref of the parameter yields a list.
func (p *param) isList() bool {
	return p.typ == "CommaDelimitedList" || strings.HasPrefix(p.typ, "List<")
}

func (p *param) isNumber() bool { return p.typ == "Number" || p.typ == "List<Number>" }

// parseParams reads the Parameters section.
func parseParams(raw any) (map[string]*param, error) {
	out := map[string]*param{}
	if raw == nil {
		return out, nil
	}
	sec, ok := raw.(map[string]any)
	if !ok {
		return nil, errorfAt("Parameters", "is a %s; want a mapping", kindOf(raw))
	}
	for _, name := range slices.Sorted(maps.Keys(sec)) {
		path := joinKey("Parameters", name)
		if !isAlnum(name) {
			return nil, errorfAt(path, "parameter names are letters and digits only")
		}
		def, ok := sec[name].(map[string]any)
		if !ok {
			return nil, errorfAt(path, "is a %s; want a mapping with Type", kindOf(sec[name]))
		}
		p := &param{name: name}
		typ, ok := def["Type"].(string)
		if !ok {
			return nil, errorfAt(joinKey(path, "Type"), "missing or not a string")
		}
		p.typ = typ
		switch {
		case typ == "String", typ == "Number", typ == "List<Number>", typ == "CommaDelimitedList":
		case strings.HasPrefix(typ, "AWS::SSM::Parameter::"):
			return nil, &pathError{path: joinKey(path, "Type"), err: fmt.Errorf("type %s reads AWS Systems Manager Parameter Store: %w", typ, ErrUnsupported)}
		case strings.HasPrefix(typ, "AWS::"), strings.HasPrefix(typ, "List<AWS::"):
			// AWS-specific types (AWS::EC2::VPC::Id, ...) are strings whose existence
			// only a real account can check.
		default:
			return nil, errorfAt(joinKey(path, "Type"), "unknown parameter type %q", typ)
		}
		for _, k := range slices.Sorted(maps.Keys(def)) {
			v := def[k]
			kp := joinKey(path, k)
			switch k {
			case "Type", "Description":
			case "Default":
				s, err := paramString(v, p.isList())
				if err != nil {
					return nil, errAt(kp, err)
				}
				p.def = &s
			case "AllowedValues":
				l, ok := v.([]any)
				if !ok {
					return nil, errorfAt(kp, "is a %s; want a list", kindOf(v))
				}
				for i, e := range l {
					if !isScalar(e) {
						return nil, errorfAt(joinIndex(kp, i), "is a %s; want a scalar", kindOf(e))
					}
					p.allowed = append(p.allowed, scalarString(e))
				}
			case "AllowedPattern":
				s, ok := v.(string)
				if !ok {
					return nil, errorfAt(kp, "is a %s; want a string", kindOf(v))
				}
				re, err := regexp.Compile(`^(?:` + s + `)$`)
				if err != nil {
					return nil, errorfAt(kp, "invalid regular expression: %v", err)
				}
				p.pattern, p.patternText = re, s
			case "MinLength", "MaxLength":
				n, err := intValue(v)
				if err != nil {
					return nil, errAt(kp, err)
				}
				if k == "MinLength" {
					p.minLen = &n
				} else {
					p.maxLen = &n
				}
			case "MinValue", "MaxValue":
				f, err := floatValue(v)
				if err != nil {
					return nil, errAt(kp, err)
				}
				if k == "MinValue" {
					p.minValue = &f
				} else {
					p.maxValue = &f
				}
			case "NoEcho":
				b, err := boolValue(v)
				if err != nil {
					return nil, errAt(kp, err)
				}
				p.noEcho = b
			case "ConstraintDescription":
				s, ok := v.(string)
				if !ok {
					return nil, errorfAt(kp, "is a %s; want a string", kindOf(v))
				}
				p.constraintMsg = s
			default:
				return nil, errorfAt(kp, "unknown parameter attribute %q", k)
			}
		}
		out[name] = p
	}
	return out, nil
}

// paramString renders a Default value as the string CloudFormation would receive.
func paramString(v any, list bool) (string, error) {
	if isScalar(v) {
		return scalarString(v), nil
	}
	if l, ok := v.([]any); ok && list {
		parts := make([]string, len(l))
		for i, e := range l {
			if !isScalar(e) {
				return "", fmt.Errorf("list element %d is a %s; want a scalar", i, kindOf(e))
			}
			parts[i] = scalarString(e)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("is a %s; want a scalar", kindOf(v))
}

// validate checks value against the parameter's constraints.
func (p *param) validate(value string) error {
	shown := strconv.Quote(value)
	if p.noEcho {
		shown = "(hidden: NoEcho)"
	}
	fail := func(format string, a ...any) error {
		msg := fmt.Sprintf("value %s ", shown) + fmt.Sprintf(format, a...)
		if p.constraintMsg != "" {
			msg += ": " + p.constraintMsg
		}
		return fmt.Errorf("%s", msg)
	}
	elems := []string{value}
	if p.isList() {
		elems = splitList(value)
	}
	for _, e := range elems {
		if p.isNumber() {
			f, err := strconv.ParseFloat(strings.TrimSpace(e), 64)
			if err != nil || !decimalNumber.MatchString(strings.TrimSpace(e)) {
				return fail("is not a number")
			}
			if p.minValue != nil && f < *p.minValue {
				return fail("is below MinValue %s", scalarString(*p.minValue))
			}
			if p.maxValue != nil && f > *p.maxValue {
				return fail("is above MaxValue %s", scalarString(*p.maxValue))
			}
		}
		if len(p.allowed) > 0 && !p.isAllowed(e) {
			return fail("is not one of the AllowedValues [%s]", strings.Join(p.allowed, ", "))
		}
		if p.pattern != nil && !p.pattern.MatchString(e) {
			return fail("does not match AllowedPattern %s", p.patternText)
		}
	}
	n := utf8.RuneCountInString(value)
	if p.minLen != nil && n < *p.minLen {
		return fail("is shorter than MinLength %d", *p.minLen)
	}
	if p.maxLen != nil && n > *p.maxLen {
		return fail("is longer than MaxLength %d", *p.maxLen)
	}
	return nil
}

// decimalNumber is the text of a Number parameter's value: an integer or a
// decimal fraction, with an optional sign and exponent. strconv.ParseFloat also
// takes NaN, Inf, hexadecimal and digits with underscores, which are no number a
// template means (NaN also passes every MinValue and MaxValue comparison) and
// would reach a filter pattern or a property as that text.
var decimalNumber = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

func (p *param) isAllowed(v string) bool {
	for _, a := range p.allowed {
		if a == v {
			return true
		}
		if p.isNumber() {
			fa, errA := strconv.ParseFloat(a, 64)
			fv, errV := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if errA == nil && errV == nil && fa == fv {
				return true
			}
		}
	}
	return false
}

// refValue is what Ref of the parameter returns: a string, or a list of strings for
// list types (members space-trimmed, as CloudFormation does).
func (p *param) refValue(value string) any {
	if !p.isList() {
		return value
	}
	parts := splitList(value)
	out := make([]any, len(parts))
	for i, s := range parts {
		out[i] = s
	}
	return out
}

func splitList(value string) []string {
	if value == "" {
		return nil
	}
	parts := strings.Split(value, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// resolveParams computes every parameter's value from its Default, the config file
// overrides and the caller's overrides, in that order, and validates them.
func resolveParams(params map[string]*param, cfg *samConfig, overrides map[string]string) (map[string]string, error) {
	values := map[string]string{}
	sources := map[string]string{}
	for name, p := range params {
		if p.def != nil {
			values[name] = *p.def
			sources[name] = "Default"
		}
	}
	apply := func(ov map[string]string, source func(string) string) error {
		for _, k := range slices.Sorted(maps.Keys(ov)) {
			if _, ok := params[k]; !ok {
				return &ParameterError{Name: k, Source: source(k), Reason: "no such parameter in the template (parameters: " + strings.Join(slices.Sorted(maps.Keys(params)), ", ") + ")"}
			}
			values[k] = ov[k]
			sources[k] = source(k)
		}
		return nil
	}
	if cfg != nil {
		if err := apply(cfg.overrides, func(k string) string { return cfg.sources[k] }); err != nil {
			return nil, err
		}
	}
	if err := apply(overrides, func(string) string { return "overrides" }); err != nil {
		return nil, err
	}
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(params)) {
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		if err := params[name].validate(v); err != nil {
			return nil, &ParameterError{Name: name, Source: sources[name], Reason: err.Error()}
		}
	}
	if len(missing) > 0 {
		return nil, &ParameterError{Name: strings.Join(missing, ", "), Reason: "no value: the template gives no Default; pass one as an override (Name=Value)"}
	}
	return values, nil
}

func intValue(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case float64:
		if v == float64(int(v)) {
			return int(v), nil
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s is not an integer", describe(v))
}

func floatValue(v any) (float64, error) {
	switch v := v.(type) {
	case int:
		return float64(v), nil
	case float64:
		return v, nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%s is not a number", describe(v))
}

func boolValue(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("%s is not a boolean", describe(v))
}

// describe renders a value for an error message.
func describe(v any) string {
	if isScalar(v) {
		if s, ok := v.(string); ok {
			return strconv.Quote(s)
		}
		return scalarString(v)
	}
	return "a " + kindOf(v)
}
