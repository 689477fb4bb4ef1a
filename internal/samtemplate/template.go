package samtemplate

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Defaults Load uses for the zero values of [Options].
const (
	DefaultConfigEnv     = "default"
	DefaultConfigCommand = "deploy"
	DefaultStackName     = "sam-app"
	DefaultRegion        = "us-east-1"
	// DefaultAccountID is the account moto server and the SAM documentation use.
	DefaultAccountID = "123456789012"
)

// Options controls how Load resolves a template. The zero value resolves with the
// template's parameter defaults, stack "sam-app" in us-east-1, account 123456789012,
// and the [DefaultResolver]. Load neither keeps nor modifies it.
type Options struct {
	// ConfigFile is a SAM CLI configuration file (samconfig.toml, or .yaml/.yml) whose
	// parameters are read; "" reads none.
	ConfigFile string
	// ConfigEnv is the configuration environment; "" means "default". A named
	// environment missing from ConfigFile is an error; a missing "default" is not.
	ConfigEnv string
	// ConfigCommand is the command section read besides "global"; "" means "deploy"
	// ([env.deploy.parameters]), the values a deployed stack gets.
	ConfigCommand string
	// Overrides are parameter values that win over the config file and the defaults
	// (see ParseParameterOverrides for the SAM CLI's text form).
	Overrides map[string]string
	// StackName, Region and AccountID feed the pseudo parameters and the default
	// resolver. "" takes stack_name / region from the config file, else the defaults.
	StackName string
	Region    string
	AccountID string
	// Resolver resolves Ref and Fn::GetAtt of resources; nil uses a DefaultResolver
	// for StackName, Region and AccountID.
	Resolver Resolver
}

// Template is a resolved template. Every value in it is plain data: nil, bool, int,
// float64, string, []any or map[string]any; intrinsic functions are gone. Load builds
// it and nothing changes it afterwards, so it is safe for concurrent reads; callers
// must not modify the maps they get.
type Template struct {
	// Path is the template file as given to Load.
	Path        string
	Description string
	// StackName, Region, AccountID and Partition are the values the pseudo
	// parameters resolved to.
	StackName string
	Region    string
	AccountID string
	Partition string
	// Parameters holds every parameter's final value as a string (list parameters
	// comma-joined as given).
	Parameters map[string]string
	// Conditions holds every condition's value.
	Conditions map[string]bool
	// Resources holds the resources whose Condition (if any) is true, with Globals
	// merged into the AWS::Serverless::* resources and all properties resolved.
	Resources map[string]Resource
	// Outputs maps each output whose Condition is true to its resolved Value.
	Outputs map[string]any
	// Mappings and Metadata are the sections as written (not resolved).
	Mappings map[string]any
	Metadata map[string]any

	functions []Function
}

// Resource is one resolved resource.
type Resource struct {
	LogicalID string
	Type      string
	// Properties are resolved; properties set to AWS::NoValue are absent.
	Properties map[string]any
	// Metadata is the resource's resolved Metadata attribute (nil if none).
	Metadata map[string]any
	// Condition is the name of the resource's condition ("" if none); it is true for
	// every resource in Template.Resources.
	Condition string
	DependsOn []string
}

var (
	logicalIDPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	stackNamePattern = regexp.MustCompile(`^[A-Za-z][-A-Za-z0-9]{0,127}$`)
	regionPattern    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountPattern   = regexp.MustCompile(`^[0-9]{12}$`)
)

var topLevelSections = map[string]bool{
	"AWSTemplateFormatVersion": true, "Description": true, "Metadata": true,
	"Parameters": true, "Rules": true, "Mappings": true, "Conditions": true,
	"Transform": true, "Globals": true, "Resources": true, "Outputs": true, "Hooks": true,
}

const (
	samTransform         = "AWS::Serverless-2016-10-31"
	languageExtensions   = "AWS::LanguageExtensions"
	serverlessFunction   = "AWS::Serverless::Function"
	serverlessTypePrefix = "AWS::Serverless::"
	implicitRoleType     = "AWS::IAM::Role"
	implicitRoleIDSuffix = "Role"
)

// Load reads and resolves the SAM template at templatePath. Problems located in the
// template are returned as *Error (with errors.As), parameter problems as
// *ParameterError, unsupported constructs wrap ErrUnsupported; problems with the
// config file or Options are plain errors. Load is safe to call concurrently; a
// custom Options.Resolver is called from the calling goroutine only.
func Load(templatePath string, opts Options) (*Template, error) {
	src, err := os.ReadFile(templatePath)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return load(templatePath, src, opts)
}

func load(file string, src []byte, opts Options) (*Template, error) {
	raw, lines, err := parseYAML(src)
	l := &loader{file: file, lines: lines}
	if err != nil {
		return nil, l.wrap(err)
	}
	l.raw = raw
	t, err := l.run(opts)
	if err != nil {
		return nil, l.wrap(err)
	}
	return t, nil
}

// wrap turns a pathError into an *Error with section, logical id and line.
func (l *loader) wrap(err error) error {
	var pt passthrough
	if errors.As(err, &pt) {
		return pt.error
	}
	var pe *pathError
	if !errors.As(err, &pe) {
		var le *lineError
		if errors.As(err, &le) {
			return &Error{File: l.file, Line: le.line, Err: le.err}
		}
		var perr *ParameterError
		if errors.As(err, &perr) {
			return err
		}
		return &Error{File: l.file, Err: err}
	}
	e := &Error{File: l.file, Err: pe.err, Line: l.lines.Line(pe.path)}
	section, rest, _ := strings.Cut(pe.path, ".")
	e.Section = section
	switch section {
	case "Resources", "Outputs", "Conditions", "Parameters", "Mappings":
		id, after, _ := strings.Cut(rest, ".")
		if i := strings.IndexByte(id, '['); i >= 0 {
			id, after = id[:i], id[i:]
		}
		e.LogicalID, e.Path = id, after
	default:
		e.Path = rest
	}
	return e
}

// passthrough marks an error that is not about the template file (the config file,
// the stack settings); Load returns it unchanged.
type passthrough struct{ error }

// Lines maps the path of every value in a template as written
// ("Resources.Fn.Properties", "Metadata.X[0]") to its 1-based line.
type Lines map[string]int

// Line returns the line recorded for path or for its closest ancestor, 0 if
// none has one.
func (l Lines) Line(path string) int {
	for path != "" {
		if n, ok := l[path]; ok && n > 0 {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (l *loader) run(opts Options) (*Template, error) {
	for _, k := range slices.Sorted(maps.Keys(l.raw)) {
		if !topLevelSections[k] {
			return nil, errorfAt(k, "unknown top-level section %q", k)
		}
	}
	if err := l.readTransforms(); err != nil {
		return nil, err
	}

	cfg, err := l.readConfig(opts)
	if err != nil {
		return nil, passthrough{err}
	}
	if err := l.setEnvironment(opts, cfg); err != nil {
		return nil, passthrough{err}
	}

	defs, err := parseParams(l.raw["Parameters"])
	if err != nil {
		return nil, err
	}
	l.params = defs
	values, err := resolveParams(defs, cfg, opts.Overrides)
	if err != nil {
		return nil, err
	}
	l.paramValues = values

	if err := l.readMappings(); err != nil {
		return nil, err
	}
	if err := l.readConditions(); err != nil {
		return nil, err
	}
	if err := l.readResources(); err != nil {
		return nil, err
	}
	if opts.Resolver != nil {
		l.resolver = opts.Resolver
	} else {
		l.resolver = DefaultResolver{StackName: l.stack, Region: l.region, AccountID: l.account, Partition: l.partition}
	}

	t := &Template{
		Path:       l.file,
		StackName:  l.stack,
		Region:     l.region,
		AccountID:  l.account,
		Partition:  l.partition,
		Parameters: values,
		Conditions: map[string]bool{},
		Resources:  map[string]Resource{},
		Outputs:    map[string]any{},
		Mappings:   l.mappings,
	}
	if d, ok := l.raw["Description"]; ok {
		if !isScalar(d) {
			return nil, errorfAt("Description", "is a %s; want a string", kindOf(d))
		}
		t.Description = scalarString(d)
	}
	if m, ok := l.raw["Metadata"]; ok && m != nil {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil, errorfAt("Metadata", "is a %s; want a mapping", kindOf(m))
		}
		t.Metadata = mm
	}
	for _, name := range slices.Sorted(maps.Keys(l.condDefs)) {
		v, err := l.condition(name, joinKey("Conditions", name))
		if err != nil {
			return nil, err
		}
		t.Conditions[name] = v
	}
	for _, id := range slices.Sorted(maps.Keys(l.resources)) {
		rr := l.resources[id]
		if rr.implicit {
			continue
		}
		active, err := l.active(rr)
		if err != nil {
			return nil, err
		}
		if !active {
			continue
		}
		res, err := l.resolveResource(rr)
		if err != nil {
			return nil, err
		}
		t.Resources[id] = res
	}
	if err := l.readOutputs(t); err != nil {
		return nil, err
	}
	fns, err := buildFunctions(t)
	if err != nil {
		return nil, err
	}
	t.functions = fns
	return t, nil
}

func (l *loader) readTransforms() error {
	tr, ok := l.raw["Transform"]
	if !ok {
		return nil
	}
	var names []any
	switch v := tr.(type) {
	case string:
		names = []any{v}
	case []any:
		names = v
	default:
		return errorfAt("Transform", "is a %s; want a transform name or a list of names", kindOf(tr))
	}
	for i, n := range names {
		s, ok := n.(string)
		if !ok {
			return errorfAt(joinIndex("Transform", i), "is a %s; want a transform name (macros with parameters are not supported)", kindOf(n))
		}
		switch s {
		case samTransform:
		case languageExtensions:
			l.langExt = true
		default:
			return &pathError{path: "Transform", err: fmt.Errorf("transform %q: %w (only %s and %s are)", s, ErrUnsupported, samTransform, languageExtensions)}
		}
	}
	return nil
}

func (l *loader) readConfig(opts Options) (*samConfig, error) {
	if opts.ConfigFile == "" {
		if opts.ConfigEnv != "" {
			return nil, fmt.Errorf("config environment %q given without a config file", opts.ConfigEnv)
		}
		return nil, nil
	}
	env := cmp.Or(opts.ConfigEnv, DefaultConfigEnv)
	cmd := cmp.Or(opts.ConfigCommand, DefaultConfigCommand)
	return readSAMConfig(opts.ConfigFile, env, cmd, opts.ConfigEnv != "")
}

func (l *loader) setEnvironment(opts Options, cfg *samConfig) error {
	var fromConfig samConfig
	if cfg != nil {
		fromConfig = *cfg
	}
	l.stack = cmp.Or(opts.StackName, fromConfig.stackName, DefaultStackName)
	l.region = cmp.Or(opts.Region, fromConfig.region, DefaultRegion)
	l.account = cmp.Or(opts.AccountID, DefaultAccountID)
	if !stackNamePattern.MatchString(l.stack) {
		return fmt.Errorf("stack name %q: want a letter followed by up to 127 letters, digits and hyphens", l.stack)
	}
	if !regionPattern.MatchString(l.region) {
		return fmt.Errorf("region %q does not look like an AWS region (e.g. us-east-1)", l.region)
	}
	if !accountPattern.MatchString(l.account) {
		return fmt.Errorf("account ID %q: want 12 digits", l.account)
	}
	l.partition = partitionOf(l.region)
	return nil
}

func (l *loader) readMappings() error {
	l.mappings = map[string]any{}
	raw, ok := l.raw["Mappings"]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return errorfAt("Mappings", "is a %s; want a mapping", kindOf(raw))
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		top, ok := m[name].(map[string]any)
		if !ok {
			return errorfAt(joinKey("Mappings", name), "is a %s; want a mapping of mappings", kindOf(m[name]))
		}
		for _, k := range slices.Sorted(maps.Keys(top)) {
			if _, ok := top[k].(map[string]any); !ok {
				return errorfAt(joinKey(joinKey("Mappings", name), k), "is a %s; want a mapping", kindOf(top[k]))
			}
		}
	}
	l.mappings = m
	return nil
}

func (l *loader) readConditions() error {
	l.condDefs = map[string]any{}
	l.condValues = map[string]bool{}
	l.condBusy = map[string]bool{}
	raw, ok := l.raw["Conditions"]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return errorfAt("Conditions", "is a %s; want a mapping", kindOf(raw))
	}
	l.condDefs = m
	return nil
}

// rawResource is a resource before resolution.
type rawResource struct {
	id        string
	typ       string
	props     map[string]any
	metadata  any
	condition string
	dependsOn []string
	// implicit marks a resource SAM creates that the template does not declare.
	implicit bool
}

func (l *loader) readResources() error {
	l.resources = map[string]*rawResource{}
	l.propValues = map[string]propResult{}
	l.propBusy = map[string]bool{}
	raw, ok := l.raw["Resources"]
	if !ok {
		return errorfAt("", "template has no Resources section")
	}
	m, ok := raw.(map[string]any)
	if !ok || len(m) == 0 {
		return errorfAt("Resources", "want a mapping with at least one resource")
	}
	globals, err := parseGlobals(l.raw["Globals"])
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(m)) {
		path := joinKey("Resources", id)
		if !logicalIDPattern.MatchString(id) {
			return errorfAt(path, "logical IDs are letters and digits only")
		}
		def, ok := m[id].(map[string]any)
		if !ok {
			return errorfAt(path, "is a %s; want a mapping with Type", kindOf(m[id]))
		}
		rr := &rawResource{id: id}
		typ, ok := def["Type"].(string)
		if !ok || typ == "" {
			return errorfAt(joinKey(path, "Type"), "missing or not a string")
		}
		rr.typ = typ
		if p, ok := def["Properties"]; ok && p != nil {
			pm, ok := p.(map[string]any)
			if !ok {
				return errorfAt(joinKey(path, "Properties"), "is a %s; want a mapping", kindOf(p))
			}
			rr.props = pm
		}
		if rr.props == nil {
			rr.props = map[string]any{}
		}
		rr.metadata = def["Metadata"]
		if c, ok := def["Condition"]; ok {
			s, ok := c.(string)
			if !ok {
				return errorfAt(joinKey(path, "Condition"), "is a %s; want a condition name", kindOf(c))
			}
			if _, ok := l.condDefs[s]; !ok {
				return errorfAt(joinKey(path, "Condition"), "unknown condition %q", s)
			}
			rr.condition = s
		}
		if d, ok := def["DependsOn"]; ok {
			deps, err := stringList(d)
			if err != nil {
				return errAt(joinKey(path, "DependsOn"), err)
			}
			for i, dep := range deps {
				if _, ok := m[dep]; !ok {
					return errorfAt(joinIndex(joinKey(path, "DependsOn"), i), "no resource %q", dep)
				}
			}
			rr.dependsOn = deps
		}
		if strings.HasPrefix(typ, serverlessTypePrefix) {
			section := strings.TrimPrefix(typ, serverlessTypePrefix)
			if g, ok := globals[section]; ok {
				merged, err := mergeGlobals(g, rr.props, def["IgnoreGlobals"])
				if err != nil {
					return errAt(joinKey(path, "IgnoreGlobals"), err)
				}
				rr.props = merged
			}
		}
		l.resources[id] = rr
	}
	// SAM creates an execution role "<Function>Role" for a function without Role;
	// templates reference it (!GetAtt MyFunctionRole.Arn), so it must resolve.
	for _, id := range slices.Sorted(maps.Keys(m)) {
		rr := l.resources[id]
		if rr.typ != serverlessFunction {
			continue
		}
		if _, hasRole := rr.props["Role"]; hasRole {
			continue
		}
		roleID := id + implicitRoleIDSuffix
		if _, exists := l.resources[roleID]; exists {
			continue
		}
		l.resources[roleID] = &rawResource{id: roleID, typ: implicitRoleType, condition: rr.condition, implicit: true, props: map[string]any{}}
	}
	// SAM turns each polled event source of a function into an
	// AWS::Lambda::EventSourceMapping "<Function><Event>"; dashboards and alarms
	// reference it (!Ref ProcessorFunctionStream is the mapping's UUID, the
	// EventSourceMappingUUID dimension of its metrics).
	for _, id := range slices.Sorted(maps.Keys(m)) {
		rr := l.resources[id]
		if rr.typ != serverlessFunction {
			continue
		}
		evs, _ := rr.props["Events"].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(evs)) {
			ev, _ := evs[name].(map[string]any)
			typ, _ := ev["Type"].(string)
			if !mappingEventTypes[typ] {
				continue
			}
			esmID := id + name
			if _, exists := l.resources[esmID]; exists {
				continue
			}
			l.resources[esmID] = &rawResource{id: esmID, typ: eventSourceMappingType, condition: rr.condition, implicit: true, props: map[string]any{}}
		}
	}
	return nil
}

// mappingEventTypes are the SAM event types that become an event source mapping.
var mappingEventTypes = map[string]bool{
	"Kinesis": true, "DynamoDB": true, "SQS": true, "MSK": true, "MQ": true, "SelfManagedKafka": true, "DocumentDB": true,
}

const eventSourceMappingType = "AWS::Lambda::EventSourceMapping"

func stringList(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d is a %s; want a string", i, kindOf(e))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("is a %s; want a string or a list of strings", kindOf(v))
}

// active reports whether the resource exists in the stack (its Condition is true).
func (l *loader) active(rr *rawResource) (bool, error) {
	if rr.condition == "" {
		return true, nil
	}
	return l.condition(rr.condition, joinKey(joinKey("Resources", rr.id), "Condition"))
}

func (l *loader) resolveResource(rr *rawResource) (Resource, error) {
	path := joinKey("Resources", rr.id)
	res := Resource{LogicalID: rr.id, Type: rr.typ, Condition: rr.condition, DependsOn: rr.dependsOn, Properties: map[string]any{}}
	for _, k := range slices.Sorted(maps.Keys(rr.props)) {
		v, err := l.property(rr, k)
		if err != nil {
			return Resource{}, err
		}
		if v.set {
			res.Properties[k] = v.value
		}
	}
	if rr.metadata != nil {
		v, err := l.resolve(rr.metadata, joinKey(path, "Metadata"))
		if err != nil {
			return Resource{}, err
		}
		if _, gone := v.(absent); !gone {
			m, ok := v.(map[string]any)
			if !ok {
				return Resource{}, errorfAt(joinKey(path, "Metadata"), "is a %s; want a mapping", kindOf(v))
			}
			res.Metadata = m
		}
	}
	return res, nil
}

type propResult struct {
	value any
	set   bool
}

// property resolves one top-level property of a resource, memoised, with cycle
// detection (resolvers ask for name properties while other resources resolve).
func (l *loader) property(rr *rawResource, name string) (propResult, error) {
	key := rr.id + "\x00" + name
	if r, ok := l.propValues[key]; ok {
		return r, nil
	}
	path := joinKey(joinKey(joinKey("Resources", rr.id), "Properties"), name)
	if l.propBusy[key] {
		return propResult{}, errorfAt(path, "circular reference: resolving %s.%s needs its own value", rr.id, name)
	}
	raw, ok := rr.props[name]
	if !ok {
		l.propValues[key] = propResult{}
		return propResult{}, nil
	}
	l.propBusy[key] = true
	v, err := l.resolve(raw, path)
	delete(l.propBusy, key)
	if err != nil {
		return propResult{}, err
	}
	r := propResult{value: v, set: true}
	if _, gone := v.(absent); gone {
		r = propResult{}
	}
	l.propValues[key] = r
	return r, nil
}

func (l *loader) readOutputs(t *Template) error {
	raw, ok := l.raw["Outputs"]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return errorfAt("Outputs", "is a %s; want a mapping", kindOf(raw))
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		path := joinKey("Outputs", name)
		def, ok := m[name].(map[string]any)
		if !ok {
			return errorfAt(path, "is a %s; want a mapping with Value", kindOf(m[name]))
		}
		if c, ok := def["Condition"]; ok {
			s, ok := c.(string)
			if !ok {
				return errorfAt(joinKey(path, "Condition"), "is a %s; want a condition name", kindOf(c))
			}
			on, err := l.condition(s, joinKey(path, "Condition"))
			if err != nil {
				return err
			}
			if !on {
				continue
			}
		}
		val, ok := def["Value"]
		if !ok {
			return errorfAt(path, "output has no Value")
		}
		v, err := l.resolve(val, joinKey(path, "Value"))
		if err != nil {
			return err
		}
		if _, gone := v.(absent); gone {
			continue
		}
		if e, ok := def["Export"]; ok {
			if _, err := l.resolve(e, joinKey(path, "Export")); err != nil {
				return err
			}
		}
		t.Outputs[name] = v
	}
	return nil
}

// Function returns the AWS::Serverless::Function with the logical id, Globals merged.
func (t *Template) Function(logicalID string) (Function, bool) {
	for _, f := range t.functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

// Functions returns the AWS::Serverless::Function resources with Globals merged,
// sorted by logical ID.
func (t *Template) Functions() []Function {
	out := make([]Function, len(t.functions))
	copy(out, t.functions)
	return out
}

// Dir is the directory of the template; SAM resolves relative CodeUri paths from it.
func (t *Template) Dir() string { return filepath.Dir(t.Path) }

// Lookup returns the value at the dot-separated path of nested maps in a resolved
// template value, for example Lookup(fn.Properties, "Environment.Variables").
// It reports false when a step is missing or is not a map.
func Lookup(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return v, true
}
