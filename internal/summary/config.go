package summary

import (
	"fmt"
	"strconv"
	"strings"
)

// Defaults of Config.
const (
	DefaultDeviceField = "device_id"
	DefaultTimeField   = "timestamp"
)

// DefaultNumericFields are the fields summed when Config.NumericFields is nil.
var DefaultNumericFields = []string{"temperature", "humidity", "battery_level"}

// Environment variables read by ConfigFromEnv.
const (
	EnvDeviceField   = "DEVICE_FIELD"
	EnvTimeField     = "TIME_FIELD"
	EnvNumericFields = "NUMERIC_FIELDS"
)

// MaxNumericFields is the most numeric fields a Config may name. A summary item's
// update conditions every minimum and maximum it moves (two per field, plus the
// first and last event time), and DynamoDB refuses a condition expression over 4
// KB or 300 operators with a ValidationException: past about 36 fields the first
// write of every device-hour would fail, and with it every object. 32 keeps the
// expressions under both limits.
// See https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-expression-parameters
const MaxNumericFields = 32

// Config says which members of a record's original_data the aggregator reads. A
// field is a member name; a dot selects a nested member ("location.lat"). The zero
// value means the defaults. A Config is read-only once in use and then safe for
// concurrent use.
type Config struct {
	// DeviceField holds the device ID (a JSON string, or a number taken as text).
	// Default device_id.
	DeviceField string
	// TimeField holds the event time, read by record.ParseEventTime (RFC 3339, ISO
	// 8601 without an offset as UTC, epoch seconds or milliseconds). When it is missing or
	// not a valid time, the line's approximate_arrival_timestamp is used instead
	// (and counted in Stats.TimeFallback). Default timestamp.
	TimeField string
	// NumericFields are summed, and their minimum and maximum kept. nil means
	// DefaultNumericFields; an empty non-nil slice means counts only.
	NumericFields []string
}

// ConfigFromEnv reads DEVICE_FIELD, TIME_FIELD and NUMERIC_FIELDS (a
// comma-separated list; "-" for none) through getenv; unset variables keep the
// defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{DeviceField: getenv(EnvDeviceField), TimeField: getenv(EnvTimeField)}
	switch v := strings.TrimSpace(getenv(EnvNumericFields)); v {
	case "":
	case "-":
		c.NumericFields = []string{}
	default:
		for _, f := range strings.Split(v, ",") {
			c.NumericFields = append(c.NumericFields, strings.TrimSpace(f))
		}
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.DeviceField == "" {
		c.DeviceField = DefaultDeviceField
	}
	if c.TimeField == "" {
		c.TimeField = DefaultTimeField
	}
	if c.NumericFields == nil {
		c.NumericFields = DefaultNumericFields
	}
	return c
}

// Validate reports a field name that is empty, repeated or has an empty path
// segment, and more than MaxNumericFields numeric fields.
func (c Config) Validate() error {
	c = c.withDefaults()
	if len(c.NumericFields) > MaxNumericFields {
		return fmt.Errorf("summary config: %d numeric fields; at most %d (DynamoDB's limits on update expressions)", len(c.NumericFields), MaxNumericFields)
	}
	seen := map[string]bool{}
	all := append([]string{c.DeviceField, c.TimeField}, c.NumericFields...)
	for i, f := range all {
		if f == "" || strings.HasPrefix(f, ".") || strings.HasSuffix(f, ".") || strings.Contains(f, "..") {
			return fmt.Errorf("summary config: invalid field name %q", f)
		}
		if i >= 2 && (f == c.DeviceField || f == c.TimeField) {
			return fmt.Errorf("summary config: numeric field %q is also the device or time field", f)
		}
		if i >= 2 && seen[f] {
			return fmt.Errorf("summary config: numeric field %q is listed twice", f)
		}
		seen[f] = true
	}
	return nil
}

// Environment variables read by OptionsFromEnv.
const (
	EnvProcessedPrefix   = "PROCESSED_PREFIX"
	EnvObjectConcurrency = "OBJECT_CONCURRENCY"
)

// OptionsFromEnv returns the Aggregator options set by PROCESSED_PREFIX (default
// "processed") and OBJECT_CONCURRENCY (default DefaultConcurrency), read through
// getenv.
func OptionsFromEnv(getenv func(string) string) ([]Option, error) {
	prefix := getenv(EnvProcessedPrefix)
	if prefix == "" {
		prefix = "processed"
	}
	opts := []Option{WithPrefix(prefix)}
	if v := getenv(EnvObjectConcurrency); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s %q: want a whole number ≥ 1", EnvObjectConcurrency, v)
		}
		opts = append(opts, WithConcurrency(n))
	}
	return opts, nil
}
