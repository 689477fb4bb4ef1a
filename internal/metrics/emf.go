package metrics

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Unit is a CloudWatch metric unit (the StandardUnit of MetricDatum).
type Unit string

// The CloudWatch units the functions use; Validate accepts every StandardUnit.
const (
	Count        Unit = "Count"
	Bytes        Unit = "Bytes"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
	Percent      Unit = "Percent"
	None         Unit = "None"
)

// Environment variables ConfigFromEnv reads. The template sets the first two from
// its MetricsNamespace parameter and the stack name; Lambda sets the third.
const (
	EnvNamespace    = "METRICS_NAMESPACE"
	EnvService      = "SERVICE_NAME"
	EnvFunctionName = "AWS_LAMBDA_FUNCTION_NAME"
)

// Defaults for the zero fields of Config.
const (
	DefaultNamespace    = "streamlake"
	DefaultService      = "streamlake"
	DefaultFunctionName = "unknown"
)

// Dimension names every line carries.
const (
	DimService      = "Service"
	DimFunctionName = "FunctionName"
)

// Root members a Writer adds to every line besides the metrics and dimensions.
const (
	KeyRequestID = "requestId"
	KeyTraceID   = "traceId"
)

// Limits of the EMF specification and of CloudWatch.
const (
	MaxMetricsPerDirective = 100
	MaxValuesPerMetric     = 100
	MaxDimensionsPerSet    = 30
	MaxNamespaceLength     = 256
	MaxMetricNameLength    = 255
	MaxDimensionValueLen   = 1024
	MaxDimensionNameLen    = 255
)

// Config configures a Writer. The zero value writes to DefaultNamespace with
// service DefaultService and function DefaultFunctionName, stamped with time.Now.
type Config struct {
	Namespace    string
	Service      string
	FunctionName string
	// Now stamps each line's _aws.Timestamp; nil means time.Now.
	Now func() time.Time
}

// ConfigFromEnv reads METRICS_NAMESPACE, SERVICE_NAME and AWS_LAMBDA_FUNCTION_NAME
// through getenv (os.Getenv in a function); unset values take the defaults.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{Namespace: getenv(EnvNamespace), Service: getenv(EnvService), FunctionName: getenv(EnvFunctionName)}
}

// Writer writes EMF lines, one Write call per line. It is safe for concurrent use:
// lines from concurrent Emit calls never interleave.
type Writer struct {
	w   io.Writer
	cfg Config
	mu  sync.Mutex
	buf []byte
}

// New returns a Writer writing to w (os.Stdout in a function), or an error if the
// namespace or a dimension value is invalid.
func New(w io.Writer, cfg Config) (*Writer, error) {
	if w == nil {
		return nil, errors.New("metrics: nil writer")
	}
	cfg.Namespace = cmp.Or(cfg.Namespace, DefaultNamespace)
	cfg.Service = cmp.Or(cfg.Service, DefaultService)
	cfg.FunctionName = cmp.Or(cfg.FunctionName, DefaultFunctionName)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := checkNamespace(cfg.Namespace); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	for _, v := range []string{cfg.Service, cfg.FunctionName} {
		if err := checkDimensionValue(v); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return &Writer{w: w, cfg: cfg}, nil
}

// Namespace returns the namespace the Writer's lines declare.
func (w *Writer) Namespace() string { return w.cfg.Namespace }

// Set is the metrics of one invocation, in the order they were added. The zero
// value is an empty set. A Set is not safe for concurrent use.
type Set struct {
	metrics []metric
	props   []property
}

type metric struct {
	name   string
	unit   Unit
	values []float64
}

type property struct {
	key   string
	value any
}

// Add records value for the metric name. Adding a name again appends a value (the
// line then carries an array, which CloudWatch aggregates as separate samples); the
// unit of the first Add is kept.
func (s *Set) Add(name string, unit Unit, value float64) {
	for i := range s.metrics {
		if s.metrics[i].name == name {
			s.metrics[i].values = append(s.metrics[i].values, value)
			return
		}
	}
	s.metrics = append(s.metrics, metric{name: name, unit: unit, values: []float64{value}})
}

// AddDuration records d in milliseconds.
func (s *Set) AddDuration(name string, d time.Duration) {
	s.Add(name, Milliseconds, float64(d.Microseconds())/1000)
}

// Property adds a root member that is not a metric: a searchable log field (shard
// id, object key). value must marshal to JSON.
func (s *Set) Property(key string, value any) {
	s.props = append(s.props, property{key: key, value: value})
}

// Len returns the number of distinct metrics in the set.
func (s *Set) Len() int { return len(s.metrics) }

// Emit writes the set as one EMF line, with the request id (and X-Ray trace id) of
// ctx's Lambda invocation when there is one. It returns an error, and writes
// nothing, for a set that would not be a valid EMF line: an empty or too long metric
// name, a unit CloudWatch does not know, a NaN or infinite value, more than
// MaxValuesPerMetric values, or a name used twice. Sets of more than
// MaxMetricsPerDirective metrics are split over several directives of the line.
func (w *Writer) Emit(ctx context.Context, s *Set) error {
	if len(s.metrics) == 0 {
		return errors.New("metrics: empty set")
	}
	var requestID, traceID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	// aws-lambda-go puts the invocation's X-Ray trace header under this string key.
	if v, ok := ctx.Value("x-amzn-trace-id").(string); ok {
		traceID = v
	}
	used := map[string]bool{"_aws": true, DimService: true, DimFunctionName: true}
	if requestID != "" {
		used[KeyRequestID] = true
	}
	if traceID != "" {
		used[KeyTraceID] = true
	}
	for _, m := range s.metrics {
		if m.name == "" || len(m.name) > MaxMetricNameLength {
			return fmt.Errorf("metrics: metric name %q: want 1 to %d bytes", m.name, MaxMetricNameLength)
		}
		if !knownUnits[m.unit] {
			return fmt.Errorf("metrics: metric %s: unit %q is not a CloudWatch unit", m.name, m.unit)
		}
		if len(m.values) > MaxValuesPerMetric {
			return fmt.Errorf("metrics: metric %s has %d values; EMF allows %d", m.name, len(m.values), MaxValuesPerMetric)
		}
		for _, v := range m.values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("metrics: metric %s: value %v is not a finite number", m.name, v)
			}
		}
		if used[m.name] {
			return fmt.Errorf("metrics: metric name %q is used twice or is reserved", m.name)
		}
		used[m.name] = true
	}
	for _, p := range s.props {
		if p.key == "" || used[p.key] {
			return fmt.Errorf("metrics: property %q is empty, a metric name or reserved", p.key)
		}
		used[p.key] = true
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf[:0]
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, w.cfg.Now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[`...)
	for start := 0; start < len(s.metrics); start += MaxMetricsPerDirective {
		if start > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Namespace":`...)
		b = appendString(b, w.cfg.Namespace)
		b = append(b, `,"Dimensions":[["Service"],["Service","FunctionName"]],"Metrics":[`...)
		for i, m := range s.metrics[start:min(start+MaxMetricsPerDirective, len(s.metrics))] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"Name":`...)
			b = appendString(b, m.name)
			b = append(b, `,"Unit":`...)
			b = appendString(b, string(m.unit))
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	b = append(b, "]}"...)
	b = appendMember(b, DimService, w.cfg.Service)
	b = appendMember(b, DimFunctionName, w.cfg.FunctionName)
	for _, m := range s.metrics {
		b = append(b, ',')
		b = appendString(b, m.name)
		b = append(b, ':')
		if len(m.values) == 1 {
			b = appendNumber(b, m.values[0])
			continue
		}
		b = append(b, '[')
		for i, v := range m.values {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendNumber(b, v)
		}
		b = append(b, ']')
	}
	for _, p := range s.props {
		v, err := json.Marshal(p.value)
		if err != nil {
			return fmt.Errorf("metrics: property %s: %w", p.key, err)
		}
		b = append(b, ',')
		b = appendString(b, p.key)
		b = append(b, ':')
		b = append(b, v...)
	}
	if requestID != "" {
		b = appendMember(b, KeyRequestID, requestID)
	}
	if traceID != "" {
		b = appendMember(b, KeyTraceID, traceID)
	}
	b = append(b, "}\n"...)
	w.buf = b
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("metrics: write: %w", err)
	}
	return nil
}

func appendMember(b []byte, key, value string) []byte {
	b = append(b, ',')
	b = appendString(b, key)
	b = append(b, ':')
	return appendString(b, value)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// appendNumber appends a finite v as encoding/json formats a float64 (integers
// without an exponent up to 1e21).
func appendNumber(b []byte, v float64) []byte {
	q, _ := json.Marshal(v) // finite: checked by Emit
	return append(b, q...)
}
