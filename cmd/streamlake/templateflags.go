package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// templateFlags are the flags that choose a SAM template and its parameters, as
// `sam deploy` takes them: --template, --config-env and --parameter-overrides
// (and, for filters, --config-file). Every command that reads the template
// declares them through register.
type templateFlags struct {
	path      string
	configEnv string
	overrides parameterOverrides
	// configFile is --config-file ("" when not given, or not a flag of the
	// command); hasConfigFile says the command declares it.
	configFile    string
	hasConfigFile bool
}

// templateUsage is the help text of the template flags; an empty field keeps the
// wording of invoke and local.
type templateUsage struct {
	template, configEnv, overrides string
}

// register declares --template (default defaultPath), --config-env and
// --parameter-overrides on fs.
func (t *templateFlags) register(fs *flag.FlagSet, defaultPath string, u templateUsage) {
	fs.StringVar(&t.path, "template", defaultPath, cmp.Or(u.template, "SAM template"))
	fs.StringVar(&t.configEnv, "config-env", "", cmp.Or(u.configEnv, "samconfig.toml environment for parameter overrides"))
	fs.Var(&t.overrides, "parameter-overrides", cmp.Or(u.overrides, "template parameter K=V (repeatable; space-separated pairs accepted)"))
}

// registerConfigFile also declares --config-file.
func (t *templateFlags) registerConfigFile(fs *flag.FlagSet, usage string) {
	fs.StringVar(&t.configFile, "config-file", "", usage)
	t.hasConfigFile = true
}

// samconfig returns the SAM CLI config file to read: --config-file, else the
// samconfig.toml beside the template if there is one, else "" (the template's
// defaults and the overrides only). Naming an environment without a config file
// is an error.
func (t *templateFlags) samconfig() (string, error) {
	if t.configFile != "" {
		return t.configFile, nil
	}
	beside := filepath.Join(filepath.Dir(t.path), "samconfig.toml")
	if _, err := os.Stat(beside); err == nil {
		return beside, nil
	}
	switch {
	case t.configEnv == "":
		return "", nil
	case t.hasConfigFile:
		return "", fmt.Errorf("--config-env %s: no --config-file given and no samconfig.toml beside %s", t.configEnv, t.path)
	default:
		return "", fmt.Errorf("--config-env %s: %s not found", t.configEnv, beside)
	}
}

// load reads the template with the parameters of the flags. On error, code is
// exitUsage when the flags are at fault (an unknown environment, a bad or
// unknown override, an environment without a config file) and exitFailure
// otherwise.
func (t *templateFlags) load() (tpl *samtemplate.Template, code int, err error) {
	cfgFile, err := t.samconfig()
	if err != nil {
		return nil, exitUsage, err
	}
	tpl, err = samtemplate.Load(t.path, samtemplate.Options{ConfigFile: cfgFile, ConfigEnv: t.configEnv, Overrides: t.overrides.values})
	var pe *samtemplate.ParameterError
	switch {
	case errors.As(err, &pe) && pe.Source == "overrides":
		return nil, exitUsage, fmt.Errorf("--parameter-overrides: %w", err)
	case errors.Is(err, samtemplate.ErrUnknownConfigEnv):
		return nil, exitUsage, fmt.Errorf("--config-env: %w", err)
	case err != nil:
		return nil, exitFailure, err
	}
	return tpl, exitOK, nil
}

// parameterOverrides is the flag.Value of --parameter-overrides: repeatable, a
// value may hold several space-separated Key=Value (or
// ParameterKey=K,ParameterValue=V) pairs, and a later value for a key wins. An
// empty value sets nothing, as `sam deploy --parameter-overrides ""` does (the
// SAM CLI's CfnParameterOverridesType returns no overrides for empty input), so
// that a script may pass an empty variable.
type parameterOverrides struct{ values map[string]string }

func (p *parameterOverrides) String() string { return "" }

// Set adds the pairs of s.
func (p *parameterOverrides) Set(s string) error {
	m, err := samtemplate.ParseParameterOverrides(s)
	if err != nil {
		return err
	}
	if p.values == nil {
		p.values = map[string]string{}
	}
	for k, v := range m {
		p.values[k] = v
	}
	return nil
}

// setFlags returns the names of the flags given on the command line (fs.Visit),
// as opposed to those left at their defaults.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
