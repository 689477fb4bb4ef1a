package samtemplate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnsupported is wrapped by errors about template constructs that cannot be
// resolved without a deployed AWS account (Fn::ImportValue, macros, SSM parameter
// types, ...) or that this package does not implement.
var ErrUnsupported = errors.New("not supported locally")

// Error is a problem at a place in the template. Load returns it (as error) for every
// problem it can place; use errors.As to get at the fields.
type Error struct {
	// File is the template path as given to Load.
	File string
	// Line is the 1-based line of the offending node, 0 when unknown.
	Line int
	// Section is the top-level section: "Resources", "Outputs", "Conditions",
	// "Parameters", "Globals", "Mappings", or "" for the template itself.
	Section string
	// LogicalID is the resource, output, condition or parameter name, "" if none.
	LogicalID string
	// Path is the property path inside LogicalID (or inside Section when LogicalID is
	// empty), e.g. "Properties.Events.Stream.Properties.FilterCriteria.Fn::If[1]".
	Path string
	// Err is the cause.
	Err error
}

// Error formats the error as "file:line: resource X: Path: cause".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.LogicalID != "" {
		b.WriteString(sectionNoun(e.Section))
		b.WriteString(" ")
		b.WriteString(e.LogicalID)
		b.WriteString(": ")
	} else if e.Section != "" {
		b.WriteString(e.Section)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func sectionNoun(section string) string {
	switch section {
	case "Resources":
		return "resource"
	case "Outputs":
		return "output"
	case "Conditions":
		return "condition"
	case "Parameters":
		return "parameter"
	case "Mappings":
		return "mapping"
	case "Globals":
		return "Globals"
	}
	return section
}

// ParameterError reports a parameter value that is missing, unknown or breaks the
// parameter's constraints (AllowedValues, MinValue, MaxValue, AllowedPattern, ...).
type ParameterError struct {
	// Name is the parameter name.
	Name string
	// Source says where the value came from: "Default", the samconfig.toml section,
	// or "overrides".
	Source string
	// Reason is the human explanation, e.g. `value "200" is above MaxValue 100`.
	Reason string
}

// Error formats the error as "parameter Name (from Source): Reason".
func (e *ParameterError) Error() string {
	if e.Source == "" {
		return fmt.Sprintf("parameter %s: %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("parameter %s (from %s): %s", e.Name, e.Source, e.Reason)
}

// pathError is an error raised during resolution, carrying the path at which it
// happened until Load converts it into an *Error.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// errAt wraps err with the path where it happened unless it already carries one.
func errAt(path string, err error) error {
	var pe *pathError
	if errors.As(err, &pe) {
		return err
	}
	return &pathError{path: path, err: err}
}

func errorfAt(path, format string, a ...any) error {
	return &pathError{path: path, err: fmt.Errorf(format, a...)}
}
