package samtemplate

import (
	"fmt"
	"strings"
)

// ParseParameterOverrides parses parameter overrides in the formats the SAM CLI
// accepts for --parameter-overrides and samconfig.toml's parameter_overrides:
//
//	Key=Value Key2="value with spaces" Key3='single quoted' Key4=with\ escaped\ space
//	ParameterKey=Key,ParameterValue=Value ParameterKey=Key2,ParameterValue="v w"
//
// Pairs are separated by spaces. A value may be wrapped in double or single quotes;
// inside a value a backslash escapes the next character, and, as in the SAM CLI, the
// sequences \<space>, \" and \' are unescaped while other backslashes are kept. An
// empty value is written Key="" (or Key=). Later pairs win over earlier ones. Anything
// that is not a pair is an error (the SAM CLI silently ignores some of it).
func ParseParameterOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	if err := parseOverridesInto(out, s); err != nil {
		return nil, err
	}
	return out, nil
}

func parseOverridesInto(out map[string]string, s string) error {
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return nil
		}
		start := i
		var key, value string
		var err error
		if strings.HasPrefix(s[i:], "ParameterKey=") {
			i += len("ParameterKey=")
			ks := i
			for i < len(s) && s[i] != ',' && !isSpace(s[i]) {
				i++
			}
			key = s[ks:i]
			if !strings.HasPrefix(s[i:], ",ParameterValue=") {
				return fmt.Errorf("parameter overrides: %q: want ParameterKey=Name,ParameterValue=Value", word(s, start))
			}
			i += len(",ParameterValue=")
		} else {
			ks := i
			for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
				i++
			}
			if i >= len(s) || s[i] != '=' {
				return fmt.Errorf("parameter overrides: %q is not Key=Value", word(s, start))
			}
			key = s[ks:i]
			i++ // '='
		}
		key = unquoteWrapped(key)
		if key == "" || !isAlnum(key) {
			return fmt.Errorf("parameter overrides: %q: parameter names are letters and digits only", word(s, start))
		}
		value, i, err = scanValue(s, i)
		if err != nil {
			return fmt.Errorf("parameter overrides: %s: %w", key, err)
		}
		if i < len(s) && !isSpace(s[i]) {
			return fmt.Errorf("parameter overrides: %s: unexpected %q after the value; quote values that contain spaces or quotes", key, word(s, i))
		}
		out[key] = value
	}
}

// scanValue reads one value starting at s[i] and returns it unquoted.
func scanValue(s string, i int) (string, int, error) {
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		q := s[i]
		start := i
		i++
		for i < len(s) && s[i] != q {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			i++
		}
		if i >= len(s) {
			return "", i, fmt.Errorf("unterminated %c quote in %s", q, s[start:])
		}
		i++
		return unquoteWrapped(s[start:i]), i, nil
	}
	start := i
	for i < len(s) && !isSpace(s[i]) {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		i++
	}
	return unquoteWrapped(s[start:i]), i, nil
}

// unquoteWrapped mirrors the SAM CLI's _unquote_wrapped_quotes.
func unquoteWrapped(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	}
	return strings.NewReplacer(`\ `, " ", `\"`, `"`, `\'`, "'").Replace(v)
}

func word(s string, i int) string {
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isAlnum(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
