package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// sarParameterTypes are the parameter types SAR's ParameterDefinition takes
// (https://docs.aws.amazon.com/serverlessrepo/latest/devguide/applications.html#applications-model-parameterdefinition):
// no AWS-specific or SSM parameter types.
var sarParameterTypes = setOf("String", "Number", "List<Number>", "CommaDelimitedList")

// maxParameterDescription is ParameterDefinition's description limit.
const maxParameterDescription = 4000

const interfaceKey = "AWS::CloudFormation::Interface"

// checkParameters checks each parameter against SAR's ParameterDefinition and the
// project's rule that the application deploys from its SAR page with no input: every
// parameter has a Default, and the whole template resolves with the defaults.
func (c *checker) checkParameters(templatePath string) []string {
	raw, present := c.doc.root["Parameters"]
	params, ok := raw.(map[string]any)
	if present && !ok {
		c.errorf("Parameters", "is %s; want a mapping", describe(raw))
		return nil
	}
	names := slices.Sorted(maps.Keys(params))
	for _, name := range names {
		path := joinKey("Parameters", name)
		def, ok := params[name].(map[string]any)
		if !ok {
			c.errorf(path, "is %s; want a mapping", describe(params[name]))
			continue
		}
		typ, _ := def["Type"].(string)
		if !sarParameterTypes[typ] {
			c.errorf(joinKey(path, "Type"), "%q: SAR takes only String, Number, List<Number> and CommaDelimitedList parameters", typ)
		}
		if _, ok := def["Default"]; !ok {
			c.errorf(path, "no Default: deploying from the SAR page would ask for a value (every parameter needs a working default)")
		}
		switch d := def["Description"].(type) {
		case nil:
			c.warnf(path, "no Description: the SAR page and the CloudFormation console show the bare name")
		case string:
			if n := utf8.RuneCountInString(d); n > maxParameterDescription {
				c.errorf(joinKey(path, "Description"), "is %d characters long; SAR allows at most %d", n, maxParameterDescription)
			}
		default:
			c.errorf(joinKey(path, "Description"), "is %s; want a string", describe(d))
		}
	}
	if _, err := samtemplate.Load(templatePath, samtemplate.Options{}); err != nil {
		c.errorf("Parameters", "the template does not resolve with its parameter defaults, as a deploy from the SAR page with no input would: %v", err)
	}
	return names
}

// checkInterface checks that AWS::CloudFormation::Interface puts every parameter in
// exactly one labelled group and labels only existing parameters
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-cloudformation-interface.html).
func (c *checker) checkInterface(params []string) {
	meta, _ := c.doc.root["Metadata"].(map[string]any)
	base := joinKey("Metadata", interfaceKey)
	raw, ok := meta[interfaceKey]
	if !ok {
		if len(params) > 0 {
			c.errorf("Metadata", "no %s: group and label the parameters so that the CloudFormation console reads well", interfaceKey)
		}
		return
	}
	if calls := findIntrinsics(raw, base); len(calls) > 0 {
		for _, p := range calls {
			c.errorf(p, "intrinsic functions are not resolved in %s", interfaceKey)
		}
		return
	}
	iface, ok := raw.(map[string]any)
	if !ok {
		c.errorf(base, "is %s; want a mapping", describe(raw))
		return
	}
	known := setOf(params...)
	groupOf := map[string]string{}
	groups, _ := iface["ParameterGroups"].([]any)
	if _, ok := iface["ParameterGroups"]; ok && groups == nil {
		c.errorf(joinKey(base, "ParameterGroups"), "is %s; want a list", describe(iface["ParameterGroups"]))
	}
	for i, g := range groups {
		gp := joinIndex(joinKey(base, "ParameterGroups"), i)
		group, ok := g.(map[string]any)
		if !ok {
			c.errorf(gp, "is %s; want a mapping with Label and Parameters", describe(g))
			continue
		}
		label := labelDefault(group["Label"])
		if label == "" {
			c.errorf(joinKey(gp, "Label"), "want {default: <label text>}")
			label = fmt.Sprintf("group %d", i+1)
		}
		members, ok := group["Parameters"].([]any)
		if !ok || len(members) == 0 {
			c.errorf(joinKey(gp, "Parameters"), "want a non-empty list of parameter names")
			continue
		}
		for j, m := range members {
			mp := joinIndex(joinKey(gp, "Parameters"), j)
			name, ok := m.(string)
			switch {
			case !ok:
				c.errorf(mp, "is %s; want a parameter name", describe(m))
			case !known[name]:
				c.errorf(mp, "%q is not a parameter of the template", name)
			case groupOf[name] != "":
				c.errorf(mp, "%q is already in the group %q; a parameter belongs to exactly one group", name, groupOf[name])
			default:
				groupOf[name] = label
			}
		}
	}
	var loose []string
	for _, p := range params {
		if groupOf[p] == "" {
			loose = append(loose, p)
		}
	}
	if len(loose) > 0 {
		c.errorf(joinKey(base, "ParameterGroups"), "parameters in no group: %s", strings.Join(loose, ", "))
	}
	if raw, ok := iface["ParameterLabels"]; ok {
		labels, ok := raw.(map[string]any)
		if !ok {
			c.errorf(joinKey(base, "ParameterLabels"), "is %s; want a mapping", describe(raw))
			return
		}
		for _, name := range slices.Sorted(maps.Keys(labels)) {
			lp := joinKey(joinKey(base, "ParameterLabels"), name)
			if !known[name] {
				c.errorf(lp, "%q is not a parameter of the template", name)
			}
			if labelDefault(labels[name]) == "" {
				c.errorf(lp, "want {default: <label text>}")
			}
		}
	}
}

// labelDefault returns the text of a {default: text} label, or "".
func labelDefault(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["default"].(string)
	return strings.TrimSpace(s)
}
