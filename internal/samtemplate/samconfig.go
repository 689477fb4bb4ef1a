package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/pelletier/go-toml/v2"
)

// ErrUnknownConfigEnv is wrapped by the error Load returns when Options.ConfigEnv
// names an environment the config file does not have.
var ErrUnknownConfigEnv = errors.New("no such environment")

// samConfig is what Load uses from a SAM CLI configuration file.
type samConfig struct {
	stackName string
	region    string
	overrides map[string]string
	// sources names the section each override came from, for error messages.
	sources map[string]string
}

// readSAMConfig reads the "global" and the command's parameters of env from a
// samconfig.toml (or .yaml/.yml) file. The command's section wins over "global", as in
// the SAM CLI. A missing env is an error only when explicit is true.
func readSAMConfig(path, env, command string, explicit bool) (*samConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read SAM config: %w", err)
	}
	var doc map[string]any
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		err = yaml.Unmarshal(data, &doc)
	default:
		err = toml.Unmarshal(data, &doc)
	}
	if err != nil {
		// go-toml reports where the document is broken; say it the way
		// compilers do, path:line:column, so that editors can jump there.
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("parse SAM config %s:%d:%d: %w", path, row, col, err)
		}
		return nil, fmt.Errorf("parse SAM config %s: %w", path, err)
	}
	cfg := &samConfig{overrides: map[string]string{}, sources: map[string]string{}}
	envSection, ok := doc[env]
	if !ok {
		if explicit {
			return nil, fmt.Errorf("SAM config %s: %w %q (environments: %s)", path, ErrUnknownConfigEnv, env, strings.Join(configEnvs(doc), ", "))
		}
		return cfg, nil
	}
	envMap, ok := envSection.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("SAM config %s: [%s] is not a table", path, env)
	}
	for _, cmd := range []string{"global", command} {
		sec, ok := envMap[cmd]
		if !ok {
			continue
		}
		name := fmt.Sprintf("%s [%s.%s.parameters]", filepath.Base(path), env, cmd)
		secMap, ok := sec.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("SAM config %s: [%s.%s] is not a table", path, env, cmd)
		}
		params, ok := secMap["parameters"]
		if !ok {
			continue
		}
		pm, ok := params.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not a table", name)
		}
		if v, ok := pm["stack_name"]; ok {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: stack_name is a %s; want a string", name, kindOf(v))
			}
			cfg.stackName = s
		}
		if v, ok := pm["region"]; ok {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: region is a %s; want a string", name, kindOf(v))
			}
			cfg.region = s
		}
		if v, ok := pm["parameter_overrides"]; ok {
			got := map[string]string{}
			switch v := v.(type) {
			case string:
				err = parseOverridesInto(got, v)
			case []any:
				// The SAM CLI passes each list element to the same parser as one
				// --parameter-overrides value.
				for i, e := range v {
					s, ok := e.(string)
					if !ok {
						return nil, fmt.Errorf("%s: parameter_overrides[%d] is a %s; want a string", name, i, kindOf(e))
					}
					if err = parseOverridesInto(got, s); err != nil {
						break
					}
				}
			default:
				return nil, fmt.Errorf("%s: parameter_overrides is a %s; want a string or a list of strings", name, kindOf(v))
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for k, val := range got {
				cfg.overrides[k] = val
				cfg.sources[k] = name
			}
		}
	}
	return cfg, nil
}

func configEnvs(doc map[string]any) []string {
	var envs []string
	for k, v := range doc {
		if _, ok := v.(map[string]any); ok {
			envs = append(envs, k)
		}
	}
	sort.Strings(envs)
	return envs
}
