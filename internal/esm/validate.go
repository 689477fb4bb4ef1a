package esm

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// problems collects what is wrong with a mapping's configuration, so that
// every problem is reported at once, as CreateEventSourceMapping does. The
// checks shared by Config (Kinesis) and SQSConfig are its methods.
type problems []error

// add records one problem.
func (p *problems) add(format string, args ...any) {
	*p = append(*p, fmt.Errorf(format, args...))
}

// err returns nil without problems, else one error naming the kind of mapping
// ("Kinesis", "SQS") and joining every problem.
func (p problems) err(kind string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("invalid %s event source mapping: %w", kind, errors.Join(p...))
}

// parseARN parses s with the SDK's ARN parser (arn:partition:service:region:account:resource,
// with region and account possibly empty) and also requires a partition, a
// service and a resource.
func parseARN(s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Partition == "" || a.Service == "" || a.Resource == "" {
		return arn.ARN{}, fmt.Errorf("%q is not an ARN (arn:partition:service:region:account:resource)", s)
	}
	return a, nil
}

// requiredARN parses the ARN field name; ok is false (and the problem
// recorded) if it is empty or not an ARN.
func (p *problems) requiredARN(name, value string) (a arn.ARN, ok bool) {
	if value == "" {
		p.add("%s is required", name)
		return arn.ARN{}, false
	}
	a, err := parseARN(value)
	if err != nil {
		p.add("%s: %v", name, err)
		return arn.ARN{}, false
	}
	return a, true
}

// functionARN checks the target function's ARN.
func (p *problems) functionARN(value string) {
	if a, ok := p.requiredARN("FunctionARN", value); ok && (a.Service != "lambda" || !strings.HasPrefix(a.Resource, "function:")) {
		p.add("FunctionARN %q is not a Lambda function ARN", value)
	}
}

// region returns the events' awsRegion: region if set, else the event
// source's (sourceRegion, "" if its ARN is invalid). A region that differs from
// the source's is a problem; source names it ("stream", "queue").
func (p *problems) region(region, sourceRegion, source string) string {
	if region == "" {
		return sourceRegion
	}
	if sourceRegion != "" && sourceRegion != region {
		p.add("Region %q differs from the %s's region %q", region, source, sourceRegion)
	}
	return region
}

// batchSize returns BatchSize n, or def for 0; it must be 1–maxSize.
func (p *problems) batchSize(n, def, maxSize int) int {
	size := cmp.Or(n, def)
	if size < 1 || size > maxSize {
		p.add("BatchSize %d is outside 1–%d", n, maxSize)
	}
	return size
}

// window returns MaximumBatchingWindowInSeconds w as a duration; ok is false
// if w is outside 0–300.
func (p *problems) window(w int) (d time.Duration, ok bool) {
	if w < 0 || w > MaxBatchingWindowInSeconds {
		p.add("MaximumBatchingWindowInSeconds %d is outside 0–%d", w, MaxBatchingWindowInSeconds)
		return time.Duration(w) * time.Second, false
	}
	return time.Duration(w) * time.Second, true
}

// reportFailures checks FunctionResponseTypes and reports whether it holds
// ReportBatchItemFailures.
func (p *problems) reportFailures(types []string) bool {
	if len(types) > 1 {
		p.add("FunctionResponseTypes has %d entries; at most 1 (ReportBatchItemFailures) is allowed", len(types))
	}
	report := false
	for _, t := range types {
		if t != ReportBatchItemFailures {
			p.add("FunctionResponseTypes value %q is not ReportBatchItemFailures", t)
		} else {
			report = true
		}
	}
	return report
}

// duration returns the emulator knob name of value d, or def for 0; it must
// not be negative.
func (p *problems) duration(name string, d, def time.Duration) time.Duration {
	if d < 0 {
		p.add("%s %s is negative", name, d)
	}
	return cmp.Or(d, def)
}

// maxPayload returns MaxPayloadBytes n, or DefaultMaxPayloadBytes for 0; it
// must not be negative.
func (p *problems) maxPayload(n int) int {
	if n < 0 {
		p.add("MaxPayloadBytes %d is negative", n)
	}
	return cmp.Or(n, DefaultMaxPayloadBytes)
}
