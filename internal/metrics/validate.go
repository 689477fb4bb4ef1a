package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"time"
)

// knownUnits is CloudWatch's StandardUnit list
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html).
var knownUnits = map[Unit]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true,
	"Bytes": true, "Kilobytes": true, "Megabytes": true, "Gigabytes": true, "Terabytes": true,
	"Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true, "Terabits": true,
	"Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true, "Terabytes/Second": true,
	"Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true, "Gigabits/Second": true, "Terabits/Second": true,
	"Count/Second": true, "None": true,
}

// IsUnit reports whether u is a CloudWatch StandardUnit.
func IsUnit(u Unit) bool { return knownUnits[u] }

var namespacePattern = regexp.MustCompile(`^[a-zA-Z0-9._#:/-]{1,256}$`)

func checkNamespace(ns string) error {
	if !namespacePattern.MatchString(ns) {
		return fmt.Errorf("namespace %q: want 1 to %d characters of [a-zA-Z0-9._#:/-]", ns, MaxNamespaceLength)
	}
	if strings.HasPrefix(ns, "AWS/") {
		return fmt.Errorf("namespace %q: the AWS/ prefix is reserved for AWS services", ns)
	}
	// CloudWatch's Namespace type (PutMetricData, PutMetricAlarm, GetMetricData)
	// has the pattern [^:].*: the template's alarms could not be created.
	if strings.HasPrefix(ns, ":") {
		return fmt.Errorf("namespace %q: CloudWatch refuses a namespace that starts with ':'", ns)
	}
	return nil
}

// checkDimensionText checks what CloudWatch's Dimension type requires of a name and
// of a value: ASCII without control characters, and at least one non-whitespace
// character (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html).
// CloudWatch Logs drops the metrics of an EMF line whose dimensions break it.
func checkDimensionText(what, s string, maxLen int) error {
	if len(s) == 0 || len(s) > maxLen {
		return fmt.Errorf("dimension %s %.40q: want 1 to %d characters", what, s, maxLen)
	}
	blank := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return fmt.Errorf("dimension %s %.40q: want ASCII characters other than control characters", what, s)
		}
		blank = blank && c == ' '
	}
	if blank {
		return fmt.Errorf("dimension %s %q: want a character other than whitespace", what, s)
	}
	return nil
}

func checkDimensionValue(v string) error { return checkDimensionText("value", v, MaxDimensionValueLen) }

func checkDimensionName(k string) error {
	if strings.HasPrefix(k, ":") {
		return fmt.Errorf("dimension name %q starts with ':'", k)
	}
	return checkDimensionText("name", k, MaxDimensionNameLen)
}

// Event is a validated EMF line.
type Event struct {
	Timestamp  time.Time
	Directives []Directive
	// Values holds the values of every declared metric, by name.
	Values map[string][]float64
	// Members holds every root member except _aws, decoded by encoding/json.
	Members map[string]any
}

// Directive is one MetricDirective.
type Directive struct {
	Namespace  string
	Dimensions [][]string
	Metrics    []Definition
}

// Definition is one MetricDefinition.
type Definition struct {
	Name string
	Unit Unit // "" when the line leaves it out (CloudWatch then uses None)
	// StorageResolution is 1 (high resolution) or 60; 0 when left out (60).
	StorageResolution int
}

// Value returns the single value of metric name, and whether the event has exactly
// one value for it.
func (e *Event) Value(name string) (float64, bool) {
	v := e.Values[name]
	if len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// IsEMF reports whether line is meant as an EMF line: a JSON object with an "_aws"
// member. Use it to pick EMF lines out of a function's output before Validate.
func IsEMF(line []byte) bool {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	var probe struct {
		AWS json.RawMessage `json:"_aws"`
	}
	return json.Unmarshal(line, &probe) == nil && probe.AWS != nil
}

// MaxTimestampAge and MaxTimestampFuture bound how far Validate lets _aws.Timestamp be from now: CloudWatch
// Logs rejects events more than 14 days old or 2 hours in the future.
const (
	MaxTimestampAge    = 14 * 24 * time.Hour
	MaxTimestampFuture = 2 * time.Hour
)

// Validate checks that line (one log event; a trailing newline is allowed) is a
// valid EMF document and returns it parsed. It checks what the specification
// requires: a JSON object and nothing else on the line, no duplicate root members,
// an "_aws" object with an integer millisecond Timestamp (within MaxTimestampAge
// before and MaxTimestampFuture after now, unless now is zero) and a non-empty
// CloudWatchMetrics array; each directive with a Namespace matching
// [a-zA-Z0-9._#:/-]{1,256} (not AWS/…, not starting with ':'), Dimensions as an array of dimension sets of
// at most 30 keys each, every key naming a root member whose value is a string,
// keys and values of ASCII without control characters and not only whitespace (keys
// of at most 255 characters, not starting with ':'; values of at most 1024), and
// 1 to 100 Metrics, each with a Name naming a root member whose value
// is a number or an array of 1 to 100 numbers, an optional Unit from CloudWatch's
// list and an optional StorageResolution of 1 or 60. Objects defined by the
// specification may not carry other members.
func Validate(line []byte, now time.Time) (*Event, error) {
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) == 0 || line[0] != '{' || line[len(line)-1] != '}' {
		return nil, errors.New("emf: the line is not exactly one JSON object")
	}
	root, err := decodeObject(line)
	if err != nil {
		return nil, fmt.Errorf("emf: %w", err)
	}
	rawAWS, ok := root["_aws"]
	if !ok {
		return nil, errors.New(`emf: no "_aws" member`)
	}
	meta, err := decodeObject(rawAWS)
	if err != nil {
		return nil, fmt.Errorf("emf: _aws: %w", err)
	}
	if err := onlyMembers(meta, "_aws", "Timestamp", "CloudWatchMetrics"); err != nil {
		return nil, err
	}
	ev := &Event{Values: map[string][]float64{}, Members: map[string]any{}}
	ts, ok := meta["Timestamp"]
	if !ok {
		return nil, errors.New("emf: _aws.Timestamp is missing")
	}
	var ms json.Number
	if err := strictNumber(ts, &ms); err != nil {
		return nil, fmt.Errorf("emf: _aws.Timestamp: %w", err)
	}
	msInt, err := ms.Int64()
	if err != nil || msInt < 0 {
		return nil, fmt.Errorf("emf: _aws.Timestamp %s is not a non-negative integer of milliseconds", ms)
	}
	ev.Timestamp = time.UnixMilli(msInt).UTC()
	if !now.IsZero() {
		if ev.Timestamp.Before(now.Add(-MaxTimestampAge)) || ev.Timestamp.After(now.Add(MaxTimestampFuture)) {
			return nil, fmt.Errorf("emf: _aws.Timestamp %s is not within 14 days before and 2 hours after %s (seconds instead of milliseconds?)",
				ev.Timestamp.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	var directives []json.RawMessage
	if err := json.Unmarshal(meta["CloudWatchMetrics"], &directives); err != nil || meta["CloudWatchMetrics"] == nil {
		return nil, errors.New("emf: _aws.CloudWatchMetrics is missing or not an array")
	}
	if len(directives) == 0 {
		return nil, errors.New("emf: _aws.CloudWatchMetrics is empty")
	}
	for i, raw := range directives {
		d, err := validateDirective(raw, root, ev)
		if err != nil {
			return nil, fmt.Errorf("emf: CloudWatchMetrics[%d]: %w", i, err)
		}
		ev.Directives = append(ev.Directives, d)
	}
	for k, raw := range root {
		if k == "_aws" {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("emf: member %s: %w", k, err)
		}
		ev.Members[k] = v
	}
	return ev, nil
}

func validateDirective(raw json.RawMessage, root map[string]json.RawMessage, ev *Event) (Directive, error) {
	var d Directive
	obj, err := decodeObject(raw)
	if err != nil {
		return d, err
	}
	if err := onlyMembers(obj, "MetricDirective", "Namespace", "Dimensions", "Metrics"); err != nil {
		return d, err
	}
	if err := json.Unmarshal(obj["Namespace"], &d.Namespace); err != nil || obj["Namespace"] == nil {
		return d, errors.New("the Namespace member is missing or not a string")
	}
	if err := checkNamespace(d.Namespace); err != nil {
		return d, err
	}
	if obj["Dimensions"] == nil {
		return d, errors.New("the Dimensions member is missing")
	}
	if err := json.Unmarshal(obj["Dimensions"], &d.Dimensions); err != nil || d.Dimensions == nil {
		return d, errors.New("the Dimensions member is not an array of arrays of strings")
	}
	for i, set := range d.Dimensions {
		if len(set) > MaxDimensionsPerSet {
			return d, fmt.Errorf("dimension set %d has %d keys; at most %d", i, len(set), MaxDimensionsPerSet)
		}
		seen := map[string]bool{}
		for _, key := range set {
			if seen[key] {
				return d, fmt.Errorf("dimension set %d names %q twice", i, key)
			}
			seen[key] = true
			if err := checkDimensionName(key); err != nil {
				return d, err
			}
			rawV, ok := root[key]
			if !ok {
				return d, fmt.Errorf("dimension %q is not a root member", key)
			}
			var s string
			if err := json.Unmarshal(rawV, &s); err != nil {
				return d, fmt.Errorf("dimension %q: its value %s is not a string", key, rawV)
			}
			if err := checkDimensionValue(s); err != nil {
				return d, fmt.Errorf("dimension %q: %w", key, err)
			}
		}
	}
	var defs []json.RawMessage
	if err := json.Unmarshal(obj["Metrics"], &defs); err != nil || obj["Metrics"] == nil {
		return d, errors.New("the Metrics member is missing or not an array")
	}
	if len(defs) == 0 || len(defs) > MaxMetricsPerDirective {
		return d, fmt.Errorf("the Metrics member has %d definitions; want 1 to %d", len(defs), MaxMetricsPerDirective)
	}
	names := map[string]bool{}
	for j, rawDef := range defs {
		def, err := validateDefinition(rawDef)
		if err != nil {
			return d, fmt.Errorf("metric definition %d: %w", j, err)
		}
		if names[def.Name] {
			return d, fmt.Errorf("metric definition %d: %q is defined twice", j, def.Name)
		}
		names[def.Name] = true
		rawV, ok := root[def.Name]
		if !ok {
			return d, fmt.Errorf("metric %q is not a root member", def.Name)
		}
		values, err := metricValues(rawV)
		if err != nil {
			return d, fmt.Errorf("metric %q: %w", def.Name, err)
		}
		ev.Values[def.Name] = values
		d.Metrics = append(d.Metrics, def)
	}
	return d, nil
}

func validateDefinition(raw json.RawMessage) (Definition, error) {
	var def Definition
	obj, err := decodeObject(raw)
	if err != nil {
		return def, err
	}
	if err := onlyMembers(obj, "MetricDefinition", "Name", "Unit", "StorageResolution"); err != nil {
		return def, err
	}
	if err := json.Unmarshal(obj["Name"], &def.Name); err != nil || obj["Name"] == nil {
		return def, errors.New("the Name member is missing or not a string")
	}
	if def.Name == "" || len(def.Name) > MaxMetricNameLength {
		return def, fmt.Errorf("the Name %q: want 1 to %d bytes", def.Name, MaxMetricNameLength)
	}
	if u, ok := obj["Unit"]; ok {
		var s string
		if err := json.Unmarshal(u, &s); err != nil {
			return def, fmt.Errorf("the Unit %s is not a string", u)
		}
		if !knownUnits[Unit(s)] {
			return def, fmt.Errorf("the Unit %q is not a CloudWatch unit", s)
		}
		def.Unit = Unit(s)
	}
	if r, ok := obj["StorageResolution"]; ok {
		var n json.Number
		if err := strictNumber(r, &n); err != nil || (n.String() != "1" && n.String() != "60") {
			return def, fmt.Errorf("the StorageResolution %s: want 1 or 60", r)
		}
		def.StorageResolution = map[string]int{"1": 1, "60": 60}[n.String()]
	}
	return def, nil
}

// metricValues decodes a metric member: a number or an array of 1 to 100 numbers.
func metricValues(raw json.RawMessage) ([]float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		if len(items) == 0 || len(items) > MaxValuesPerMetric {
			return nil, fmt.Errorf("array of %d values; want 1 to %d", len(items), MaxValuesPerMetric)
		}
		out := make([]float64, 0, len(items))
		for _, it := range items {
			v, err := number(it)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	v, err := number(raw)
	if err != nil {
		return nil, err
	}
	return []float64{v}, nil
}

func number(raw json.RawMessage) (float64, error) {
	var n json.Number
	if err := strictNumber(raw, &n); err != nil {
		return 0, err
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("value %s is out of range", n)
	}
	return f, nil
}

// strictNumber decodes a JSON number, rejecting strings (which json.Number accepts).
func strictNumber(raw json.RawMessage, n *json.Number) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return fmt.Errorf("value %s is not a number", raw)
	}
	return json.Unmarshal(raw, n)
}

// decodeObject decodes a JSON object into its members, rejecting duplicate keys
// (encoding/json would silently keep the last one).
func decodeObject(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s is not a JSON object", abbreviate(raw))
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		key := tok.(string) // object keys are strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("member %q: %w", key, err)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("member %q appears twice", key)
		}
		out[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

func onlyMembers(obj map[string]json.RawMessage, what string, allowed ...string) error {
	for k := range obj {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return fmt.Errorf("emf: %s has the member %q, which the specification does not define", what, k)
		}
	}
	return nil
}

func abbreviate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
