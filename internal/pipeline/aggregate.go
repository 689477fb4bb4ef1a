package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/samtemplate"
	"github.com/streamlake/streamlake/internal/summary"
)

// sqsWaitTime is the long-polling wait of the local SQS mappings: short, so that
// an interrupted run stops within a second, and long enough that idle pollers
// cost the emulator little.
const sqsWaitTime = time.Second

// sqsReceiveLease is how long messages received by a run that dies before it
// records them stay invisible (esm.SQSConfig.ReceiveLease).
const sqsReceiveLease = 10 * time.Second

// SQSFunctionReport describes a function fed by an SQS event source mapping (the
// aggregator) and its queue at the end of the run.
type SQSFunctionReport struct {
	Function string `json:"function"`
	Event    string `json:"event"`
	QueueURL string `json:"queue_url"`
	// Received, Deleted and Failed count the notifications received (each
	// receipt), deleted after processing, and left to the visibility timeout
	// after a failure.
	Received int64 `json:"received"`
	Deleted  int64 `json:"deleted"`
	Failed   int64 `json:"failed"`
	// DeadLettered is the number of messages in the queue's dead-letter queue.
	DeadLettered    int   `json:"dead_lettered"`
	Invocations     int64 `json:"invocations"`
	FunctionErrors  int64 `json:"function_errors"`
	PartialFailures int64 `json:"partial_failures"`
	LargestBatch    int64 `json:"largest_batch"`
	ColdStarts      int64 `json:"cold_starts"`
	Environments    int   `json:"environments"`
	// BusySeconds is the summed invocation time; MeanInvokeMS its mean.
	BusySeconds  float64 `json:"busy_seconds"`
	MeanInvokeMS float64 `json:"mean_invoke_ms"`
	// TailSeconds is how long the queue took to drain after the stream was
	// drained (the aggregator's lag behind the processor).
	TailSeconds float64 `json:"tail_seconds"`
	// MessagesPerBusySecond is Deleted divided by the busy time per environment:
	// the rate the function sustains while it has work.
	MessagesPerBusySecond float64 `json:"messages_per_busy_second"`
}

// sqsConsumer is one SQS event of a function, emulated by an esm.SQSMapping over
// the function's own host pool.
type sqsConsumer struct {
	fn      samtemplate.Function
	event   samtemplate.Event
	cfg     esm.SQSConfig
	envs    int
	pool    *hostPool
	inv     *invoker
	mapping *esm.SQSMapping
	dlqURL  string
	logFile *os.File
	drained time.Duration // after the Kinesis mapping drained
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

// startSQSConsumers builds every function with an SQS event and prepares one
// mapping per event, each function under its own host pool, with its DynamoDB
// requests sent through dynamoURL (see startSerialProxy) when it is not "". The caller closes the
// returned consumers' pools with closeConsumers.
func startSQSConsumers(ctx context.Context, lenv *localenv.Env, opts Options, logDir, dynamoURL string, logw io.Writer, sqsClient *sqs.Client) ([]*sqsConsumer, error) {
	var out []*sqsConsumer
	binaries := map[string]string{}
	for _, ev := range sqsEvents(lenv.Template) {
		fn, err := lenv.Function(ev.Function)
		if err != nil {
			closeConsumers(out)
			return nil, err
		}
		binary, ok := binaries[fn.LogicalID]
		if !ok {
			fmt.Fprintf(logw, "building %s for this machine\n", fn.LogicalID)
			if binary, err = lenv.Build(ctx, fn); err != nil {
				closeConsumers(out)
				return nil, err
			}
			binaries[fn.LogicalID] = binary
		}
		c, err := newSQSConsumer(ctx, lenv, opts, fn, ev, binary, logDir, dynamoURL, logw, sqsClient)
		if err != nil {
			closeConsumers(out)
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func newSQSConsumer(ctx context.Context, lenv *localenv.Env, opts Options, fn samtemplate.Function, ev samtemplate.Event,
	binary, logDir, dynamoURL string, logw io.Writer, sqsClient *sqs.Client) (*sqsConsumer, error) {
	logFile, err := os.OpenFile(filepath.Join(logDir, fn.LogicalID+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	// The host pool's processes write to the file until the pool is closed
	// (closeConsumers).
	env := map[string]string{}
	if dynamoURL != "" {
		env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamoURL
	}
	hostCfg := lenv.HostConfig(fn, binary, env, &lockedWriter{w: logFile})
	if err := hostCfg.Validate(); err != nil {
		logFile.Close()
		return nil, err
	}
	cfg, err := sqsMappingConfig(ctx, lenv, fn, ev, sqsClient)
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cfg.FunctionARN = lenv.FunctionARN(hostCfg)
	cfg.Pollers = esm.DefaultSQSPollers
	cfg.WaitTime = sqsWaitTime
	// A run killed mid-batch leaves messages invisible for the queue's
	// visibility timeout (minutes): the next run releases those it recorded at
	// once, and those a poll received as the process died return after the lease.
	cfg.ReceiptFile = filepath.Join(opts.WorkDir, "checkpoints", fn.LogicalID+"-"+ev.Name+"-receipts.json")
	cfg.ReceiveLease = sqsReceiveLease
	cfg.Logger = slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	envs := esm.DefaultSQSPollers
	if cfg.MaximumConcurrency > 0 {
		envs = min(envs, cfg.MaximumConcurrency)
	}
	pool := newHostPool(hostCfg, envs)
	// Faults are injected into the Kinesis function only: a failed aggregator
	// invocation holds its messages for the queue's visibility timeout (six times
	// the function timeout, minutes), as in AWS. The aggregator's own failure
	// handling is tested in packages summary and dynamostore.
	inv := &invoker{pool: pool, faults: Faults{}, rng: newLockedRand(opts.Faults.Seed, 5), counts: &faultCounts{}, timeout: hostCfg.Timeout}
	c := &sqsConsumer{fn: fn, event: ev, cfg: cfg, envs: envs, pool: pool, inv: inv, logFile: logFile}
	if c.mapping, err = esm.NewSQS(cfg, sqsClient, inv); err == nil {
		c.dlqURL, err = deadLetterQueueURL(ctx, sqsClient, cfg.QueueURL)
	}
	if err != nil {
		closeConsumers([]*sqsConsumer{c})
		return nil, fmt.Errorf("event source mapping %s.%s: %w", fn.LogicalID, ev.Name, err)
	}
	return c, nil
}

// closeConsumers stops the consumers' execution environments and closes their
// logs.
func closeConsumers(cs []*sqsConsumer) {
	for _, c := range cs {
		c.pool.close()
		c.logFile.Close()
	}
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

// upstream is closed when the Kinesis mapping has drained the stream: every
// object is written, so every notification is in the queue.
type upstream struct {
	done chan struct{}
	at   time.Time // written before done is closed
}

func newUpstream() *upstream { return &upstream{done: make(chan struct{})} }

func (u *upstream) close() {
	u.at = time.Now()
	close(u.done)
}

// runConsumers runs every SQS mapping in the background until its queue is
// drained after up is closed; wait returns their errors once all returned.
func runConsumers(ctx context.Context, cs []*sqsConsumer, up *upstream) (wait func() error) {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			if err := c.mapping.RunUntilDrained(ctx, up.done); err != nil {
				errs[i] = fmt.Errorf("event source mapping %s.%s: %w", c.fn.LogicalID, c.event.Name, err)
				return
			}
			// RunUntilDrained returns nil only after up.done was closed.
			c.drained = time.Since(up.at)
		})
	}
	return func() error {
		wg.Wait()
		return errors.Join(errs...)
	}
}

// report describes the consumer at the end of the run.
func (c *sqsConsumer) report(ctx context.Context, client *sqs.Client) (SQSFunctionReport, error) {
	st := c.mapping.Stats()
	r := SQSFunctionReport{
		Function: c.fn.LogicalID, Event: c.event.Name, QueueURL: c.cfg.QueueURL,
		Received: st.ReceivedMessages, Deleted: st.DeletedMessages, Failed: st.FailedMessages,
		Invocations: st.Invocations, FunctionErrors: st.FunctionErrors, PartialFailures: st.PartialFailures,
		LargestBatch: st.LargestBatch, ColdStarts: c.inv.coldStarts.Load(), Environments: c.envs,
		BusySeconds: float64(c.inv.busy.Load()) / 1e6, TailSeconds: c.drained.Seconds(),
	}
	if n := c.inv.invocations.Load(); n > 0 {
		r.MeanInvokeMS = r.BusySeconds * 1000 / float64(n)
	}
	if r.BusySeconds > 0 {
		r.MessagesPerBusySecond = float64(r.Deleted) / (r.BusySeconds / float64(c.envs))
	}
	if c.dlqURL != "" {
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(c.dlqURL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			return r, fmt.Errorf("dead-letter queue %s: %w", c.dlqURL, err)
		}
		for _, v := range out.Attributes {
			n, _ := strconv.Atoi(v)
			r.DeadLettered += n
		}
	}
	return r, nil
}

// reportConsumers fills rep.SQSFunctions and, for the consumer that writes the
// summaries table, rep.Summaries.
func reportConsumers(ctx context.Context, lenv *localenv.Env, cs []*sqsConsumer, tables map[string]string, bucket, prefix string, client *sqs.Client, rep *Report) error {
	checked := map[string]bool{}
	for _, c := range cs {
		r, err := c.report(ctx, client)
		if err != nil {
			return err
		}
		rep.SQSFunctions = append(rep.SQSFunctions, r)
		if checked[c.fn.LogicalID] || len(tables) == 0 {
			continue
		}
		checked[c.fn.LogicalID] = true
		table, err := summaryTable(c.fn, tables)
		if err != nil {
			return err
		}
		if rep.Summaries, err = compareSummaries(ctx, lenv, c.fn, table, bucket, prefix); err != nil {
			return err
		}
	}
	return nil
}

// summaryTable finds the table the aggregator writes: the template's only table,
// or the one an environment variable of fn names.
func summaryTable(fn samtemplate.Function, tables map[string]string) (string, error) {
	if len(tables) == 1 {
		for _, name := range tables {
			return name, nil
		}
	}
	for _, name := range tables {
		for _, v := range fn.Environment {
			if v == name {
				return name, nil
			}
		}
	}
	return "", fmt.Errorf("function %s: cannot tell which of the tables %v holds the summaries", fn.LogicalID, tables)
}

// compareSummaries compares the summaries table, read with one Query per device
// and for the fleet, with a recomputation from the latest versions of the
// processed objects (design §4, §9.3).
func compareSummaries(ctx context.Context, lenv *localenv.Env, fn samtemplate.Function, table, bucket, prefix string) (*SummaryReport, error) {
	cfg, err := summary.ConfigFromEnv(func(k string) string { return fn.Environment[k] })
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", fn.LogicalID, err)
	}
	s3c := s3.NewFromConfig(lenv.AWS, func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	objects, err := readRawObjects(ctx, s3c, bucket, prefix)
	if err != nil {
		return nil, err
	}
	want, _, err := summary.FromObjects(cfg, objects)
	if err != nil {
		return nil, fmt.Errorf("recompute summaries: %w", err)
	}
	pks := map[string]bool{summary.FleetPK: true}
	for k := range want {
		pks[k.PK] = true
	}
	store := dynamostore.New(dynamodb.NewFromConfig(lenv.AWS), table)
	// Every hour a key can hold: the whole SK range, still one Query per
	// partition.
	from, to := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)
	got := map[summary.Key]*summary.Summary{}
	for _, pk := range sortedSet(pks) {
		items, err := store.Query(ctx, pk, from, to)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			got[it.Key] = it.Summary
		}
	}
	rep := &SummaryReport{Items: len(got)}
	for _, d := range summary.Compare(want, got) {
		rep.Mismatches++
		if len(rep.Sample) < 10 {
			rep.Sample = append(rep.Sample, d.String())
		}
	}
	return rep, nil
}

// readRawObjects reads the current version of every object under prefix.
func readRawObjects(ctx context.Context, client *s3.Client, bucket, prefix string) ([]summary.Object, error) {
	var out []summary.Object
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
			}
			body, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
			}
			out = append(out, summary.Object{Bucket: bucket, Key: key, ETag: strings.Trim(aws.ToString(obj.ETag), `"`), Body: body})
		}
	}
	return out, nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// serialProxy forwards requests to the emulator one at a time. The pipeline uses
// it for an emulator that does not isolate transactions: stock moto, e.g. the
// user's. The moto processes the pipeline starts run through the launcher of
// package motoserver, which serializes DynamoDB requests inside moto and says so
// (motoserver.Patched); the proxy is not needed there.
//
// Stock moto's DynamoDB TransactWriteItems is not isolated from concurrent requests: it
// deep-copies the table, applies the actions one by one and, when one fails
// (a conflict the aggregator expects and retries), restores the copy, discarding
// whatever other requests wrote meanwhile; a copy taken while another request
// writes fails with a 500 ("dictionary changed size during iteration"). DynamoDB
// transactions are isolated and all-or-nothing
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html),
// which the aggregator's exactly-once protocol relies on. Sending the
// functions' DynamoDB requests through this proxy restores that, while the
// functions still run concurrently.
type serialProxy struct {
	server *http.Server
	url    string
}

func startSerialProxy(target string) (*serialProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("emulator endpoint %q: %w", target, err)
	}
	rp := newProxy(u)
	var mu sync.Mutex
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		// A function killed by a timeout drops its connection: the request
		// must still finish in the emulator before the next one starts.
		rp.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	})
	l, err := listenLoopback()
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return &serialProxy{server: srv, url: "http://" + l.Addr().String()}, nil
}

func (p *serialProxy) close() { _ = p.server.Close() }

// drainProbe reads the aggregator side's progress for the live status line and
// the timeline: the SQS mappings' counters at every sample, and about once a
// second the queues' depth and the summaries table's item count.
type drainProbe struct {
	ctx       context.Context
	consumers []*sqsConsumer
	sqs       *sqs.Client
	dynamo    *dynamodb.Client
	table     string // the summaries table, "" without one
	up        *upstream

	mu   sync.Mutex
	last AggregatorSample
}

// AggregatorSample is the aggregator side of a timeline Sample.
type AggregatorSample struct {
	// Aggregating is true once the stream is drained.
	Aggregating bool
	// Notifications counts notifications processed and deleted.
	Notifications int64
	// NotificationsLeft is the queues' approximate depth (visible and in
	// flight), SummaryItems the summaries table's items (DescribeTable
	// ItemCount), both read about once a second.
	NotificationsLeft, SummaryItems int64
}

func newDrainProbe(ctx context.Context, lenv *localenv.Env, cs []*sqsConsumer, tables map[string]string, client *sqs.Client, up *upstream) *drainProbe {
	p := &drainProbe{ctx: ctx, consumers: cs, sqs: client, dynamo: dynamodb.NewFromConfig(lenv.AWS), up: up}
	for _, c := range cs {
		if len(tables) == 0 {
			break
		}
		if t, err := summaryTable(c.fn, tables); err == nil {
			p.table = t
			break
		}
	}
	return p
}

// sample returns the aggregator's counters, reading the queues and the table
// when remote is true (else their last values). Read errors keep the last
// values: the probe only informs.
func (p *drainProbe) sample(remote bool) AggregatorSample {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s AggregatorSample
	select {
	case <-p.up.done:
		s.Aggregating = true
	default:
	}
	for _, c := range p.consumers {
		s.Notifications += c.mapping.Stats().DeletedMessages
	}
	s.NotificationsLeft, s.SummaryItems = p.last.NotificationsLeft, p.last.SummaryItems
	if remote {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		defer cancel()
		var left int64
		ok := true
		for _, c := range p.consumers {
			out, err := p.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(c.cfg.QueueURL),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
			if err != nil {
				ok = false
				break
			}
			for _, v := range out.Attributes {
				n, _ := strconv.ParseInt(v, 10, 64)
				left += n
			}
		}
		if ok {
			s.NotificationsLeft = left
		}
		if p.table != "" {
			if out, err := p.dynamo.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.table)}); err == nil {
				s.SummaryItems = aws.ToInt64(out.Table.ItemCount)
			}
		}
	}
	p.last = s
	return s
}
