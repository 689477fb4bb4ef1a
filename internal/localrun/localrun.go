package localrun

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/renameio/v2"
)

// FileName is the session file's name inside a run's work directory.
const FileName = "session.json"

// Dummy credentials for the emulator, which accepts any. They are the values moto's
// own documentation uses.
const (
	DummyAccessKeyID     = "testing"
	DummySecretAccessKey = "testing"
)

// Services are the AWS services a local run uses, by their SDK service ID in lower
// case (the suffix of AWS_ENDPOINT_URL_<SERVICE>, lower-cased).
var Services = []string{"dynamodb", "kinesis", "s3", "sqs"}

// Session describes the emulator and resources of the last local run. The zero
// value is an empty session (no endpoints). A Session is a value; it is safe for
// concurrent reads.
type Session struct {
	// Endpoints maps a service ID (see [Services]) to the URL of the emulator that
	// serves it.
	Endpoints map[string]string `json:"endpoints"`
	// Region is the region the local stack was resolved in.
	Region string `json:"region"`
	// StackName is the local stack's name (resource names derive from it).
	StackName string `json:"stack_name"`
	// Outputs are the template's stack outputs as the local run resolved them
	// (StreamName, StreamArn, OutputBucketName, FailureQueueUrl, SummaryTableName,
	// …), queue URLs being the emulator's.
	Outputs map[string]string `json:"outputs"`
	// Template is how the run read its SAM template, so that a command that
	// applies a function's settings (redrive: the FilterCriteria, COMPRESSION and
	// TIME_FIELD) reads them as the run did. Nil in a session that does not
	// record it.
	Template *Template `json:"template,omitempty"`
}

// Template is a SAM template as a local run read it.
type Template struct {
	// Path is the template file, absolute.
	Path string `json:"path"`
	// ConfigEnv is the samconfig.toml environment ("" = default).
	ConfigEnv string `json:"config_env,omitempty"`
	// Overrides are the parameter overrides the run was given.
	Overrides map[string]string `json:"parameter_overrides,omitempty"`
	// Function is the logical ID of the function whose Kinesis event source
	// mapping the run emulated.
	Function string `json:"function,omitempty"`
}

// SingleEndpoint returns an Endpoints map in which url serves every service.
func SingleEndpoint(url string) map[string]string {
	m := make(map[string]string, len(Services))
	for _, s := range Services {
		m[s] = url
	}
	return m
}

// Endpoint returns the URL that serves service, or "".
func (s Session) Endpoint(service string) string { return s.Endpoints[strings.ToLower(service)] }

// SharedEndpoint returns the URL when one emulator serves every service of the
// session, else "".
func (s Session) SharedEndpoint() string {
	shared := ""
	for _, u := range s.Endpoints {
		if shared != "" && u != shared {
			return ""
		}
		shared = u
	}
	return shared
}

// Output returns the stack output name, or "".
func (s Session) Output(name string) string { return s.Outputs[name] }

// Exports returns the environment variables that point the AWS CLI and the SDKs at
// the session's emulator, in a stable order: AWS_ENDPOINT_URL when one emulator
// serves everything, AWS_ENDPOINT_URL_<SERVICE> for each service (these win over
// AWS_ENDPOINT_URL), AWS_REGION and AWS_DEFAULT_REGION, and dummy credentials.
func (s Session) Exports() [][2]string {
	var out [][2]string
	if u := s.SharedEndpoint(); u != "" {
		out = append(out, [2]string{"AWS_ENDPOINT_URL", u})
	}
	for _, svc := range slices.Sorted(maps.Keys(s.Endpoints)) {
		out = append(out, [2]string{"AWS_ENDPOINT_URL_" + strings.ToUpper(svc), s.Endpoints[svc]})
	}
	if s.Region != "" {
		// AWS_DEFAULT_REGION too: boto3 (and tools built on it) read only that one.
		out = append(out, [2]string{"AWS_REGION", s.Region}, [2]string{"AWS_DEFAULT_REGION", s.Region})
	}
	out = append(out, [2]string{"AWS_ACCESS_KEY_ID", DummyAccessKeyID}, [2]string{"AWS_SECRET_ACCESS_KEY", DummySecretAccessKey})
	return out
}

// ExportLine returns Exports as one POSIX shell `export` command.
func (s Session) ExportLine() string {
	var b strings.Builder
	b.WriteString("export")
	for _, kv := range s.Exports() {
		b.WriteString(" " + kv[0] + "=" + shellQuote(kv[1]))
	}
	return b.String()
}

// shellQuote quotes v for a POSIX shell when it holds anything but safe characters.
func shellQuote(v string) string {
	safe := v != ""
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// Path returns the session file of work directory dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Load reads dir's session. When there is none the error wraps [os.ErrNotExist].
func Load(dir string) (Session, error) {
	var s Session
	b, err := os.ReadFile(Path(dir))
	if err != nil {
		return s, fmt.Errorf("local run state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Session{}, fmt.Errorf("local run state %s: %w", Path(dir), err)
	}
	if len(s.Endpoints) == 0 {
		return Session{}, fmt.Errorf("local run state %s: no endpoints", Path(dir))
	}
	return s, nil
}

// Save writes s to dir through a temporary file, so that a reader never sees half
// a file.
func Save(dir string, s Session) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save local run state: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save local run state: %w", err)
	}
	if err := renameio.WriteFile(Path(dir), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save local run state: %w", err)
	}
	return nil
}

// Remove deletes dir's session, if any.
func Remove(dir string) error {
	if err := os.Remove(Path(dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove local run state: %w", err)
	}
	return nil
}
