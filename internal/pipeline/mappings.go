package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/filter"
	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

// mappings prepares the event source mappings: the Kinesis function in its
// execution environments behind the fault injection, with its Kinesis mapping;
// and the functions fed by SQS (the aggregator), each with its own environments
// and SQS mapping.
func (r *run) mappings(ctx context.Context) error {
	if err := r.processorMapping(ctx); err != nil {
		return err
	}
	if err := r.sqsMappings(ctx); err != nil {
		return err
	}
	r.rep.Bucket = r.fn.Environment["BUCKET_NAME"]
	r.rep.Function.SetupSeconds = time.Since(r.started).Seconds()
	return nil
}

// processorMapping prepares the Kinesis function and its mapping. The mapping
// invokes it through the fault injection (faultInjector) and, for a run that
// reshards, the order check.
func (r *run) processorMapping(ctx context.Context) error {
	o := r.opts
	fnLog, err := os.Create(filepath.Join(r.logDir, r.fn.LogicalID+".log"))
	if err != nil {
		return err
	}
	r.onClose(func() { fnLog.Close() })
	r.counts = &faultCounts{}
	env := map[string]string{}
	if o.Faults.S3FailureRate > 0 {
		proxy, err := startS3FaultProxy(r.st.endpoint("s3"), o.Faults.S3FailureRate, newLockedRand(o.Faults.Seed, 1), r.counts)
		if err != nil {
			return err
		}
		r.onClose(proxy.close)
		env["AWS_ENDPOINT_URL_S3"] = proxy.url
		env["AWS_MAX_ATTEMPTS"] = "1"
	}
	mcfg, matcher, err := mappingConfig(ctx, r.lenv, r.fn, r.event, r.sqs)
	if err != nil {
		return err
	}
	r.matcher = matcher
	mcfg.PollInterval = o.PollInterval
	mcfg.CheckpointFile = filepath.Join(o.WorkDir, "checkpoints", r.fn.LogicalID+"-"+r.event.Name+".json")
	if err := os.MkdirAll(filepath.Dir(mcfg.CheckpointFile), 0o755); err != nil {
		return err
	}
	mcfg.Logger = slog.New(slog.NewTextHandler(r.logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The mapping's EventSourceArn may be an enhanced fan-out consumer's.
	r.streamARN = esm.StreamARNOf(mcfg.StreamARN)
	summary, err := r.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(r.streamARN)})
	if err != nil {
		return fmt.Errorf("stream %s: %w", streamNameOf(r.streamARN), err)
	}
	shards := int(aws.ToInt32(summary.StreamDescriptionSummary.OpenShardCount))
	envs := min(max(shards*max(mcfg.ParallelizationFactor, 1), 1), maxEnvironments)
	if r.function, err = r.lenv.NewFunction(r.fn, r.binary, env, fnLog, envs); err != nil {
		return err
	}
	r.onClose(func() { r.function.Close() })
	r.rep.Function.Environments = envs
	var inv esm.Invoker = &faultInjector{next: r.function, faults: o.Faults, rng: newLockedRand(o.Faults.Seed, 2), counts: r.counts}
	if o.ReshardAt > 0 {
		r.order = newOrderCheck(inv)
		inv = r.order
		mcfg.DiscoveryInterval = max(o.PollInterval, 100*time.Millisecond)
	}
	if r.mapping, err = esm.New(mcfg, r.kin, r.sqs, inv); err != nil {
		return fmt.Errorf("event source mapping %s.%s: %w", r.fn.LogicalID, r.event.Name, err)
	}
	if d := mcfg.DestinationConfig.OnFailure; d != nil {
		r.rep.FailureQueueURL = d.QueueURL
	}
	return nil
}

// sqsMappings prepares the functions fed by SQS (the aggregator) and their
// mappings. Their DynamoDB requests go through a serializing proxy unless the
// emulator isolates transactions itself (see startSerialProxy).
func (r *run) sqsMappings(ctx context.Context) error {
	dynamoURL := ""
	if !localenv.Faithful(r.st.endpoint("dynamodb")) {
		dynamo, err := startSerialProxy(r.st.endpoint("dynamodb"))
		if err != nil {
			return err
		}
		r.onClose(dynamo.close)
		dynamoURL = dynamo.url
	}
	consumers, err := startSQSConsumers(ctx, r.lenv, r.opts, r.logDir, dynamoURL, r.logw, r.sqs)
	if err != nil {
		return err
	}
	r.consumers = consumers
	r.onClose(func() { closeConsumers(consumers) })
	return nil
}

// checkTemplate loads the template as localenv.Open will, and finds the function
// to emulate, without starting anything.
func checkTemplate(opts Options) error {
	tpl, err := localenv.LoadTemplate(localenv.Options{TemplatePath: opts.TemplatePath, ConfigEnv: opts.ConfigEnv,
		Overrides: opts.Overrides, StackName: opts.StackName, Getenv: opts.Getenv})
	if err != nil {
		return err
	}
	fn, ev, err := kinesisFunction(tpl, opts.Function)
	if err != nil {
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

// kinesisFunction finds the function (and its Kinesis event) to emulate.
func kinesisFunction(t *samtemplate.Template, logicalID string) (samtemplate.Function, samtemplate.Event, error) {
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

// mappingConfig turns a SAM Kinesis event into an esm.Config.
func mappingConfig(ctx context.Context, lenv *localenv.Env, fn samtemplate.Function, ev samtemplate.Event, sqsClient *sqs.Client) (esm.Config, esm.Matcher, error) {
	p := ev.Properties
	where := fmt.Sprintf("function %s event %s", fn.LogicalID, ev.Name)
	var err error
	geti := func(name string, def int) int {
		if err != nil {
			return 0
		}
		v, e := localenv.IntProperty(p, name, def)
		if e != nil {
			err = fmt.Errorf("%s: %w", where, e)
		}
		return v
	}
	c := esm.Config{
		FunctionARN:                    lenv.FunctionARN(fn),
		StreamARN:                      fmt.Sprint(p["Stream"]),
		StartingPosition:               fmt.Sprint(p["StartingPosition"]),
		BatchSize:                      geti("BatchSize", esm.DefaultBatchSize),
		MaximumBatchingWindowInSeconds: geti("MaximumBatchingWindowInSeconds", 0),
		ParallelizationFactor:          geti("ParallelizationFactor", 1),
		BisectBatchOnFunctionError:     boolValue(p["BisectBatchOnFunctionError"]),
		InvokeIdentityArn:              lenv.RoleARN(fn),
		Region:                         lenv.Template.Region,
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
	if types, ok := p["FunctionResponseTypes"].([]any); ok {
		for _, t := range types {
			c.FunctionResponseTypes = append(c.FunctionResponseTypes, fmt.Sprint(t))
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
			out, err := sqsClient.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
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

// sqsEvents returns the SQS events of the template's functions, by function and
// event name.
func sqsEvents(t *samtemplate.Template) []samtemplate.Event {
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

// sqsMappingConfig turns a SAM SQS event into an esm.SQSConfig (without the
// emulator knobs).
func sqsMappingConfig(ctx context.Context, lenv *localenv.Env, fn samtemplate.Function, ev samtemplate.Event, sqsClient *sqs.Client) (esm.SQSConfig, error) {
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
	c := esm.SQSConfig{QueueARN: queueARN, Region: lenv.Template.Region}
	var err error
	if c.BatchSize, err = localenv.IntProperty(p, "BatchSize", esm.DefaultSQSBatchSize); err != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: %w", where, err)
	}
	if c.MaximumBatchingWindowInSeconds, err = localenv.IntProperty(p, "MaximumBatchingWindowInSeconds", 0); err != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: %w", where, err)
	}
	if sc, ok := p["ScalingConfig"].(map[string]any); ok {
		if c.MaximumConcurrency, err = localenv.IntProperty(sc, "MaximumConcurrency", 0); err != nil {
			return esm.SQSConfig{}, fmt.Errorf("%s: ScalingConfig: %w", where, err)
		}
	}
	if types, ok := p["FunctionResponseTypes"].([]any); ok {
		for _, t := range types {
			c.FunctionResponseTypes = append(c.FunctionResponseTypes, fmt.Sprint(t))
		}
	}
	name := queueARN[strings.LastIndexByte(queueARN, ':')+1:]
	out, err := sqsClient.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return esm.SQSConfig{}, fmt.Errorf("%s: queue %s: %w", where, queueARN, err)
	}
	c.QueueURL = aws.ToString(out.QueueUrl)
	return c, nil
}

// deadLetterQueueURL returns the URL of the queue's RedrivePolicy target, or ""
// without one.
func deadLetterQueueURL(ctx context.Context, client *sqs.Client, queueURL string) (string, error) {
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
