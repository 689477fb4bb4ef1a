package localenv

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/filter"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

// CheckKinesisEvent loads the template as Open will, finds the Kinesis event of
// function (see KinesisFunction), refuses the properties the emulation does not
// support (see checkKinesisEmulated) or code it cannot build (CheckLocalCode) and
// compiles its FilterCriteria, without starting anything: a local run calls it
// before it starts an emulator.
func CheckKinesisEvent(opts Options, function string) error {
	tpl, err := LoadTemplate(opts)
	if err != nil {
		return err
	}
	fn, ev, err := KinesisFunction(tpl, function)
	if err != nil {
		return err
	}
	if err := checkKinesisEmulated(fn, ev); err != nil {
		return err
	}
	if err := CheckLocalCode(fn); err != nil {
		return err
	}
	patterns, err := ev.FilterPatterns()
	if err != nil {
		return err
	}
	if patterns != nil {
		if _, err := filter.Compile(patterns); err != nil {
			return fmt.Errorf("function %s event %s: FilterCriteria: %w", fn.LogicalID, ev.Name, err)
		}
	}
	return nil
}

// KinesisFunction finds the function whose Kinesis event a local run emulates,
// and that event: logicalID's, or, when logicalID is "", the only function with a
// Kinesis event. A function with more than one Kinesis event is refused.
func KinesisFunction(t *samtemplate.Template, logicalID string) (samtemplate.Function, samtemplate.Event, error) {
	var candidates []samtemplate.Function
	for _, fn := range t.Functions() {
		if len(fn.KinesisEvents()) > 0 && (logicalID == "" || fn.LogicalID == logicalID) {
			candidates = append(candidates, fn)
		}
	}
	switch {
	case len(candidates) == 0 && logicalID != "":
		return samtemplate.Function{}, samtemplate.Event{}, fmt.Errorf("function %s has no Kinesis event in %s", logicalID, t.Path)
	case len(candidates) == 0:
		return samtemplate.Function{}, samtemplate.Event{}, fmt.Errorf("no function with a Kinesis event in %s", t.Path)
	case len(candidates) > 1:
		var names []string
		for _, c := range candidates {
			names = append(names, c.LogicalID)
		}
		return samtemplate.Function{}, samtemplate.Event{}, fmt.Errorf("several functions have Kinesis events (%s): choose one", strings.Join(names, ", "))
	}
	fn := candidates[0]
	events := fn.KinesisEvents()
	if len(events) > 1 {
		return samtemplate.Function{}, samtemplate.Event{}, fmt.Errorf("function %s has %d Kinesis events; one is supported", fn.LogicalID, len(events))
	}
	return fn, events[0], nil
}

// checkKinesisEmulated refuses fn's Kinesis event ev without the properties SAM
// requires (samtemplate.Event.CheckKinesis), and the properties the local
// emulation does not support, instead of ignoring them: a tumbling window
// (TumblingWindowInSeconds other than 0; 0 means no window, see
// https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html)
// and a disabled mapping (Enabled: false). Values may be written as numbers and
// booleans, or be strings (parameters, "false").
func checkKinesisEmulated(fn samtemplate.Function, ev samtemplate.Event) error {
	if err := ev.CheckKinesis(); err != nil {
		return err
	}
	where := fmt.Sprintf("function %s event %s", fn.LogicalID, ev.Name)
	// The mapping's integer settings, read here so that a value such as "1.5"
	// (a CloudFormation Number) fails before an emulator starts.
	for _, name := range []string{"BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds"} {
		if _, err := IntProperty(ev.Properties, name, 0); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	window, err := IntProperty(ev.Properties, "TumblingWindowInSeconds", 0)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if window != 0 {
		return fmt.Errorf("%s: TumblingWindowInSeconds %d: the local emulation does not support tumbling windows (leave it out or set 0)", where, window)
	}
	enabled, err := boolProperty(ev.Properties, "Enabled", true)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if !enabled {
		return fmt.Errorf("%s: Enabled: false: the local emulation does not support a disabled Kinesis event; a local run needs it enabled", where)
	}
	return nil
}

// KinesisMappingConfig turns fn's SAM Kinesis event ev into the configuration of
// its event source mapping, and the Matcher of its FilterCriteria (nil without
// any). Properties the emulation does not support are refused (see
// checkKinesisEmulated). The on-failure queue's URL is looked up in the emulator.
func (e *Env) KinesisMappingConfig(ctx context.Context, fn samtemplate.Function, ev samtemplate.Event) (esm.Config, esm.Matcher, error) {
	if err := checkKinesisEmulated(fn, ev); err != nil {
		return esm.Config{}, nil, err
	}
	p := ev.Properties
	where := fmt.Sprintf("function %s event %s", fn.LogicalID, ev.Name)
	var err error
	geti := func(name string, def int) int {
		if err != nil {
			return 0
		}
		v, perr := IntProperty(p, name, def)
		if perr != nil {
			err = fmt.Errorf("%s: %w", where, perr)
		}
		return v
	}
	c := esm.Config{
		FunctionARN:                    e.FunctionARN(fn),
		StreamARN:                      fmt.Sprint(p["Stream"]),
		StartingPosition:               fmt.Sprint(p["StartingPosition"]),
		BatchSize:                      geti("BatchSize", esm.DefaultBatchSize),
		MaximumBatchingWindowInSeconds: geti("MaximumBatchingWindowInSeconds", 0),
		ParallelizationFactor:          geti("ParallelizationFactor", 1),
		BisectBatchOnFunctionError:     boolValue(p["BisectBatchOnFunctionError"]),
		InvokeIdentityArn:              e.RoleARN(fn),
		Region:                         e.Template.Region,
	}
	retries := geti("MaximumRetryAttempts", -1)
	age := geti("MaximumRecordAgeInSeconds", -1)
	if err != nil {
		return esm.Config{}, nil, err
	}
	c.MaximumRetryAttempts, c.MaximumRecordAgeInSeconds = &retries, &age
	if ts, ok := p["StartingPositionTimestamp"]; ok {
		f, perr := strconv.ParseFloat(fmt.Sprint(ts), 64)
		if perr != nil {
			return esm.Config{}, nil, fmt.Errorf("%s: StartingPositionTimestamp %v is not Unix seconds", where, ts)
		}
		c.StartingPositionTimestamp = time.Unix(0, int64(f*1e9))
	}
	if c.FunctionResponseTypes, err = responseTypes(p); err != nil {
		return esm.Config{}, nil, fmt.Errorf("%s: %w", where, err)
	}
	for _, name := range []string{"BatchSize", "ParallelizationFactor"} {
		// esm.Config reads 0 as the default; in a template, as in
		// CreateEventSourceMapping, the least is 1.
		if v, ok := p[name]; ok && v != nil && geti(name, 1) < 1 {
			return esm.Config{}, nil, fmt.Errorf("%s: %s %v: the least value is 1", where, name, v)
		}
	}
	patterns, err := ev.FilterPatterns()
	if err != nil {
		return esm.Config{}, nil, err
	}
	var matcher esm.Matcher
	if patterns != nil {
		crit, err := filter.Compile(patterns)
		if err != nil {
			return esm.Config{}, nil, fmt.Errorf("%s: FilterCriteria: %w", where, err)
		}
		c.FilterCriteria, matcher = crit, crit
	}
	if dc, ok := p["DestinationConfig"].(map[string]any); ok {
		if of, ok := dc["OnFailure"].(map[string]any); ok {
			dest := fmt.Sprint(of["Destination"])
			if t, ok := of["Type"]; ok && t != "SQS" {
				return esm.Config{}, nil, fmt.Errorf("%s: on-failure destination type %v: only SQS is emulated", where, t)
			}
			name := dest[strings.LastIndexByte(dest, ':')+1:]
			out, err := sqs.NewFromConfig(e.AWS).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
			if err != nil {
				return esm.Config{}, nil, fmt.Errorf("%s: on-failure queue %s: %w", where, dest, err)
			}
			c.DestinationConfig.OnFailure = &esm.OnFailureDestination{Destination: dest, QueueURL: aws.ToString(out.QueueUrl)}
		}
	}
	return c, matcher, nil
}

func boolValue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}

// boolProperty reads the boolean property name of a resolved template value: a
// boolean, or "true" or "false" in any case (parameters are strings); def is
// returned when it is absent.
func boolProperty(props map[string]any, name string, def bool) (bool, error) {
	v, ok := props[name]
	if !ok || v == nil {
		return def, nil
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch {
		case strings.EqualFold(b, "true"):
			return true, nil
		case strings.EqualFold(b, "false"):
			return false, nil
		}
		return false, fmt.Errorf("%s %q is not a boolean", name, b)
	}
	return false, fmt.Errorf("%s is %T, want a boolean", name, v)
}

// SQSEvents returns the SQS events of the template's functions, by function and
// event name.
func SQSEvents(t *samtemplate.Template) []samtemplate.Event {
	var out []samtemplate.Event
	for _, fn := range t.Functions() {
		names := make([]string, 0, len(fn.Events))
		for name, ev := range fn.Events {
			if ev.Type == "SQS" {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			out = append(out, fn.Events[name])
		}
	}
	return out
}

// SQSMappingConfig turns fn's SAM SQS event ev into the configuration of its
// event source mapping (without the emulator's knobs: pollers, wait time,
// receipt file). The queue's URL is looked up in the emulator, and a queue whose
// visibility timeout is shorter than fn's timeout is refused, as Lambda refuses
// to create or update such a mapping ("Your function's timeout must be less than
// or equal to the queue's visibility timeout",
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
func (e *Env) SQSMappingConfig(ctx context.Context, fn samtemplate.Function, ev samtemplate.Event) (esm.SQSConfig, error) {
	p := ev.Properties
	where := fmt.Sprintf("function %s event %s", fn.LogicalID, ev.Name)
	if enabled, ok := p["Enabled"]; ok && !boolValue(enabled) {
		return esm.SQSConfig{}, fmt.Errorf("%s: the SQS event is disabled (Enabled: false); a local run needs it enabled", where)
	}
	if patterns, err := ev.FilterPatterns(); err != nil {
		return esm.SQSConfig{}, err
	} else if patterns != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: FilterCriteria on an SQS event is not emulated", where)
	}
	queueARN, _ := p["Queue"].(string)
	if queueARN == "" {
		return esm.SQSConfig{}, fmt.Errorf("%s: Queue (the queue ARN) is required", where)
	}
	c := esm.SQSConfig{QueueARN: queueARN, Region: e.Template.Region, FunctionARN: e.FunctionARN(fn)}
	var err error
	if c.BatchSize, err = IntProperty(p, "BatchSize", esm.DefaultSQSBatchSize); err != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: %w", where, err)
	}
	if c.MaximumBatchingWindowInSeconds, err = IntProperty(p, "MaximumBatchingWindowInSeconds", 0); err != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: %w", where, err)
	}
	if sc, ok := p["ScalingConfig"].(map[string]any); ok {
		if c.MaximumConcurrency, err = IntProperty(sc, "MaximumConcurrency", 0); err != nil {
			return esm.SQSConfig{}, fmt.Errorf("%s: ScalingConfig: %w", where, err)
		}
	}
	if c.BatchSize < 1 && p["BatchSize"] != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: BatchSize %v: the least value is 1", where, p["BatchSize"])
	}
	if c.FunctionResponseTypes, err = responseTypes(p); err != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: %w", where, err)
	}
	name := queueARN[strings.LastIndexByte(queueARN, ':')+1:]
	out, err := sqs.NewFromConfig(e.AWS).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: queue %s: %w", where, queueARN, err)
	}
	c.QueueURL = aws.ToString(out.QueueUrl)
	if err := e.checkVisibilityTimeout(ctx, fn, c.QueueURL, queueARN); err != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: %w", where, err)
	}
	return c, nil
}

// checkVisibilityTimeout returns an error when the queue's VisibilityTimeout is
// shorter than fn's Timeout (see SQSMappingConfig).
func (e *Env) checkVisibilityTimeout(ctx context.Context, fn samtemplate.Function, queueURL, queueARN string) error {
	out, err := sqs.NewFromConfig(e.AWS).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout}})
	if err != nil {
		return fmt.Errorf("queue %s: %w", queueARN, err)
	}
	v := out.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)]
	vt, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("queue %s: VisibilityTimeout %q is not a number of seconds", queueARN, v)
	}
	if fn.Timeout > vt {
		return fmt.Errorf("the function's Timeout %d s is longer than the VisibilityTimeout %d s of queue %s: "+
			"Lambda refuses an SQS event source mapping whose function timeout exceeds the queue's visibility timeout", fn.Timeout, vt, queueARN)
	}
	return nil
}

// DeadLetterQueueURL returns the URL of the queue's RedrivePolicy target, or ""
// without one.
func (e *Env) DeadLetterQueueURL(ctx context.Context, queueURL string) (string, error) {
	client := sqs.NewFromConfig(e.AWS)
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", queueURL, err)
	}
	rp := out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]
	if rp == "" {
		return "", nil
	}
	var policy struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if err := json.Unmarshal([]byte(rp), &policy); err != nil || policy.DeadLetterTargetArn == "" {
		return "", fmt.Errorf("queue %s: RedrivePolicy %s has no deadLetterTargetArn", queueURL, rp)
	}
	name := policy.DeadLetterTargetArn[strings.LastIndexByte(policy.DeadLetterTargetArn, ':')+1:]
	u, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("dead-letter queue %s: %w", policy.DeadLetterTargetArn, err)
	}
	return aws.ToString(u.QueueUrl), nil
}

// responseTypes returns an event's FunctionResponseTypes, a list in a template
// (CloudFormation refuses a single string). Anything else is an error rather
// than no list: without ReportBatchItemFailures a partial batch response counts
// as a success, and the records it names would be checkpointed.
func responseTypes(p map[string]any) ([]string, error) {
	v, ok := p["FunctionResponseTypes"]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("FunctionResponseTypes %v is %T; want a list, such as [ReportBatchItemFailures]", v, v)
	}
	out := make([]string, 0, len(list))
	for _, t := range list {
		s, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("FunctionResponseTypes holds %v (%T); want strings", t, t)
		}
		out = append(out, s)
	}
	return out, nil
}
