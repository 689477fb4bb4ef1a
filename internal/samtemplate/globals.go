package samtemplate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// globalsSections lists the Globals sections SAM accepts and, for Function, the
// properties it accepts there (from the SAM translator's globals plugin).
var globalsSections = map[string][]string{
	"Function": {
		"Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize",
		"Timeout", "VpcConfig", "Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn",
		"AutoPublishAlias", "AutoPublishAliasAllProperties", "Layers", "DeploymentPreference",
		"RolePath", "PermissionsBoundary", "ReservedConcurrentExecutions",
		"ProvisionedConcurrencyConfig", "AssumeRolePolicyDocument", "EventInvokeConfig",
		"FileSystemConfigs", "CodeSigningConfigArn", "Architectures", "SnapStart",
		"EphemeralStorage", "FunctionUrlConfig", "RuntimeManagementConfig", "LoggingConfig",
		"RecursiveLoop", "SourceKMSKeyArn",
	},
	"Api":          nil,
	"HttpApi":      nil,
	"SimpleTable":  nil,
	"StateMachine": nil,
	"LayerVersion": nil,
}

// parseGlobals reads the Globals section: section name -> properties.
func parseGlobals(raw any) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	if raw == nil {
		return out, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, errorfAt("Globals", "is a %s; want a mapping", kindOf(raw))
	}
	for _, section := range slices.Sorted(maps.Keys(m)) {
		path := joinKey("Globals", section)
		allowed, known := globalsSections[section]
		if !known {
			return nil, errorfAt(path, "%q is not a Globals section (sections: %s)", section, strings.Join(slices.Sorted(maps.Keys(globalsSections)), ", "))
		}
		props, ok := m[section].(map[string]any)
		if !ok {
			return nil, errorfAt(path, "is a %s; want a mapping of properties", kindOf(m[section]))
		}
		if allowed != nil {
			for _, k := range slices.Sorted(maps.Keys(props)) {
				if !contains(allowed, k) {
					return nil, errorfAt(joinKey(path, k), "%s is not allowed in Globals.%s (Role, Policies, FunctionName and Events never are)", k, section)
				}
			}
		}
		out[section] = props
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// mergeGlobals merges global properties into a resource's properties the way the
// SAM translator does: mappings merge key by key (recursively), lists concatenate
// (global elements first), and anything else, including an intrinsic function or a
// type mismatch, takes the resource's value. ignore is the resource's IgnoreGlobals
// attribute: "*" or a list of property names to leave out.
func mergeGlobals(global, local map[string]any, ignore any) (map[string]any, error) {
	g := global
	switch ig := ignore.(type) {
	case nil:
	case string:
		if ig != "*" {
			return nil, fmt.Errorf("IgnoreGlobals must be \"*\" or a list of property names, got %q", ig)
		}
		return local, nil
	case []any:
		g = make(map[string]any, len(global))
		for k, v := range global {
			g[k] = v
		}
		for i, e := range ig {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("IgnoreGlobals[%d] is a %s; want a property name", i, kindOf(e))
			}
			if _, ok := g[s]; !ok {
				return nil, fmt.Errorf("IgnoreGlobals[%d]: Globals has no property %q", i, s)
			}
			delete(g, s)
		}
	default:
		return nil, fmt.Errorf("IgnoreGlobals must be \"*\" or a list of property names, got %s", describe(ignore))
	}
	return mergeValue(g, local).(map[string]any), nil
}

func mergeValue(global, local any) any {
	gm, gIsMap := plainMap(global)
	lm, lIsMap := plainMap(local)
	if gIsMap && lIsMap {
		out := make(map[string]any, len(gm)+len(lm))
		for k, v := range gm {
			out[k] = v
		}
		for k, v := range lm {
			if gv, ok := out[k]; ok {
				out[k] = mergeValue(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	}
	gl, gIsList := global.([]any)
	ll, lIsList := local.([]any)
	if gIsList && lIsList {
		out := make([]any, 0, len(gl)+len(ll))
		out = append(out, gl...)
		return append(out, ll...)
	}
	return local
}

// plainMap reports whether v is a mapping that is not an intrinsic function call.
func plainMap(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	if _, _, isFn, err := intrinsic(m); isFn || err != nil {
		return nil, false
	}
	return m, true
}
