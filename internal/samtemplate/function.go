package samtemplate

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Lambda's defaults for properties a function leaves out.
const (
	DefaultMemorySize   = 128
	DefaultTimeout      = 3
	DefaultArchitecture = "x86_64"
)

// Function is an AWS::Serverless::Function with Globals merged and properties
// resolved. Load fills the Lambda defaults for MemorySize, Timeout and Architectures.
// It is plain data shared with the Template: read it from any goroutine, do not
// modify its maps.
type Function struct {
	LogicalID string
	// CodeURI is the CodeUri property: a path relative to the template directory, or
	// "s3://bucket/key" for the {Bucket, Key} form; "" for InlineCode or images.
	CodeURI string
	// CodeDir is CodeURI joined to the template's directory; "" when the code is not
	// a local path.
	CodeDir       string
	Handler       string
	Runtime       string
	Architectures []string
	// MemorySize is in MB; Timeout in seconds.
	MemorySize int
	Timeout    int
	// Environment holds Environment.Variables, values in string form.
	Environment map[string]string
	// Events holds the function's event sources by name.
	Events map[string]Event
	// Properties and Metadata are the function's resolved properties and Metadata
	// attribute (Metadata.BuildMethod, ...), for what the fields above do not cover.
	Properties map[string]any
	Metadata   map[string]any
}

// Event is one entry of a function's Events property (plain data, like Function).
type Event struct {
	// Name is the event's key in Events.
	Name string
	// Type is the event source type: "Kinesis", "SQS", "S3", ...
	Type string
	// Function is the logical ID of the function the event belongs to.
	Function string
	// Properties are the event's resolved properties.
	Properties map[string]any
}

// KinesisEvents returns the function's events of type Kinesis, sorted by name.
func (f Function) KinesisEvents() []Event {
	var out []Event
	for _, name := range slices.Sorted(maps.Keys(f.Events)) {
		if f.Events[name].Type == "Kinesis" {
			out = append(out, f.Events[name])
		}
	}
	return out
}

// CheckKinesis reports a Kinesis event without the properties SAM requires of one
// (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-kinesis.html):
// Stream, the stream's or a consumer's ARN, and StartingPosition, which Lambda
// requires of a Kinesis event source mapping. Their values are checked where
// they are used.
func (e Event) CheckKinesis() error {
	for _, name := range []string{"Stream", "StartingPosition"} {
		v, ok := e.Properties[name]
		if s, isString := v.(string); !ok || v == nil || isString && s == "" {
			return fmt.Errorf("function %s event %s: %s is required", e.Function, e.Name, name)
		} else if !isString {
			return fmt.Errorf("function %s event %s: %s is %s; want a string", e.Function, e.Name, name, describe(v))
		}
	}
	return nil
}

// FilterPatterns returns the Pattern strings of the event's FilterCriteria.Filters, in
// order. It returns nil when the event has no FilterCriteria (or it resolved to
// AWS::NoValue): Lambda then delivers every record. A FilterCriteria that is not
// {Filters: [{Pattern: "<JSON>"}, ...]} is an error; the patterns themselves are not
// checked here.
func (e Event) FilterPatterns() ([]string, error) {
	fc, ok := e.Properties["FilterCriteria"]
	if !ok || fc == nil {
		return nil, nil
	}
	where := fmt.Sprintf("function %s event %s: FilterCriteria", e.Function, e.Name)
	m, ok := fc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is %s; want a mapping with Filters", where, describe(fc))
	}
	for k := range m {
		if k != "Filters" {
			return nil, fmt.Errorf("%s: unknown key %q; SAM accepts only Filters", where, k)
		}
	}
	raw, ok := m["Filters"]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s.Filters is %s; want a list of {Pattern: ...}", where, describe(raw))
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		at := fmt.Sprintf("%s.Filters[%d]", where, i)
		fm, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is %s; want {Pattern: ...}", at, describe(item))
		}
		for k := range fm {
			if k != "Pattern" {
				return nil, fmt.Errorf("%s: unknown key %q; a filter has only Pattern", at, k)
			}
		}
		p, ok := fm["Pattern"]
		if !ok {
			return nil, fmt.Errorf("%s has no Pattern", at)
		}
		s, ok := p.(string)
		if !ok {
			return nil, fmt.Errorf("%s.Pattern is %s; want a string holding a JSON pattern (quote it in YAML)", at, describe(p))
		}
		out = append(out, s)
	}
	return out, nil
}

// buildFunctions extracts the typed view of every AWS::Serverless::Function.
func buildFunctions(t *Template) ([]Function, error) {
	var out []Function
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		if r.Type != serverlessFunction {
			continue
		}
		f, err := buildFunction(t.Dir(), r)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func buildFunction(dir string, r Resource) (Function, error) {
	base := joinKey(joinKey("Resources", r.LogicalID), "Properties")
	p := r.Properties
	f := Function{
		LogicalID:     r.LogicalID,
		MemorySize:    DefaultMemorySize,
		Timeout:       DefaultTimeout,
		Architectures: []string{DefaultArchitecture},
		Environment:   map[string]string{},
		Events:        map[string]Event{},
		Properties:    p,
		Metadata:      r.Metadata,
	}
	str := func(name string) (string, error) {
		v, ok := p[name]
		if !ok {
			return "", nil
		}
		if !isScalar(v) {
			return "", errorfAt(joinKey(base, name), "is %s; want a string", describe(v))
		}
		return scalarString(v), nil
	}
	var err error
	if f.Handler, err = str("Handler"); err != nil {
		return Function{}, err
	}
	if f.Runtime, err = str("Runtime"); err != nil {
		return Function{}, err
	}
	switch c := p["CodeUri"].(type) {
	case nil:
	case string:
		f.CodeURI = c
		if !strings.HasPrefix(c, "s3://") {
			f.CodeDir = c
			if !filepath.IsAbs(c) {
				f.CodeDir = filepath.Join(dir, c)
			}
		}
	case map[string]any:
		b, _ := c["Bucket"].(string)
		k, _ := c["Key"].(string)
		if b == "" || k == "" {
			return Function{}, errorfAt(joinKey(base, "CodeUri"), "want a path or {Bucket, Key}")
		}
		f.CodeURI = "s3://" + b + "/" + k
	default:
		return Function{}, errorfAt(joinKey(base, "CodeUri"), "is %s; want a path or {Bucket, Key}", describe(c))
	}
	for _, num := range []struct {
		name string
		dst  *int
	}{{"MemorySize", &f.MemorySize}, {"Timeout", &f.Timeout}} {
		if v, ok := p[num.name]; ok {
			n, err := intValue(v)
			if err != nil {
				return Function{}, errAt(joinKey(base, num.name), err)
			}
			*num.dst = n
		}
	}
	if v, ok := p["Architectures"]; ok {
		archs, err := stringList(v)
		if err != nil {
			return Function{}, errAt(joinKey(base, "Architectures"), err)
		}
		if len(archs) != 1 {
			return Function{}, errorfAt(joinKey(base, "Architectures"), "want exactly one architecture, got %d", len(archs))
		}
		f.Architectures = archs
	}
	if env, ok := p["Environment"]; ok {
		em, ok := env.(map[string]any)
		if !ok {
			return Function{}, errorfAt(joinKey(base, "Environment"), "is %s; want {Variables: {...}}", describe(env))
		}
		if vars, ok := em["Variables"]; ok {
			vm, ok := vars.(map[string]any)
			if !ok {
				return Function{}, errorfAt(joinKey(base, "Environment.Variables"), "is %s; want a mapping", describe(vars))
			}
			for _, k := range slices.Sorted(maps.Keys(vm)) {
				if !isScalar(vm[k]) {
					return Function{}, errorfAt(joinKey(base, "Environment.Variables."+k), "is %s; want a string", describe(vm[k]))
				}
				f.Environment[k] = scalarString(vm[k])
			}
		}
	}
	if evs, ok := p["Events"]; ok {
		em, ok := evs.(map[string]any)
		if !ok {
			return Function{}, errorfAt(joinKey(base, "Events"), "is %s; want a mapping of events", describe(evs))
		}
		for _, name := range slices.Sorted(maps.Keys(em)) {
			ep := joinKey(joinKey(base, "Events"), name)
			ev, ok := em[name].(map[string]any)
			if !ok {
				return Function{}, errorfAt(ep, "is %s; want {Type, Properties}", describe(em[name]))
			}
			typ, ok := ev["Type"].(string)
			if !ok || typ == "" {
				return Function{}, errorfAt(joinKey(ep, "Type"), "missing or not a string")
			}
			props := map[string]any{}
			if pv, ok := ev["Properties"]; ok && pv != nil {
				pm, ok := pv.(map[string]any)
				if !ok {
					return Function{}, errorfAt(joinKey(ep, "Properties"), "is %s; want a mapping", describe(pv))
				}
				props = pm
			}
			f.Events[name] = Event{Name: name, Type: typ, Function: r.LogicalID, Properties: props}
		}
	}
	return f, nil
}
