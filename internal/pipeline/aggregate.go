package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"slices"
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
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/s3store"
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
// the function's own execution environments.
type sqsConsumer struct {
	fn       samtemplate.Function
	event    samtemplate.Event
	cfg      esm.SQSConfig
	envs     int
	function *localenv.Function
	mapping  *esm.SQSMapping
	dlqURL   string
	logFile  *os.File
	drained  time.Duration // after the Kinesis mapping drained
}

// startSQSConsumers builds every function with an SQS event and prepares one
// mapping per event, each function in its own execution environments, with its
// DynamoDB requests sent through dynamoURL (see startSerialProxy) when it is not
// "". The caller closes the returned consumers with closeConsumers.
func startSQSConsumers(ctx context.Context, lenv *localenv.Env, opts Options, logDir, dynamoURL string, logw io.Writer, sqsClient *sqs.Client) ([]*sqsConsumer, error) {
	var out []*sqsConsumer
	binaries := map[string]string{}
	for _, ev := range localenv.SQSEvents(lenv.Template) {
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
	// The environments' processes write to the file until they are closed
	// (closeConsumers).
	env := map[string]string{}
	if dynamoURL != "" {
		env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamoURL
	}
	cfg, err := lenv.SQSMappingConfig(ctx, fn, ev)
	if err != nil {
		logFile.Close()
		return nil, err
	}
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
	// Faults are injected into the Kinesis function only: a failed aggregator
	// invocation holds its messages for the queue's visibility timeout (six times
	// the function timeout, minutes), as in AWS. The aggregator's own failure
	// handling is tested in packages summary and dynamostore.
	function, err := lenv.NewFunction(fn, binary, env, logFile, envs)
	if err != nil {
		logFile.Close()
		return nil, err
	}
	c := &sqsConsumer{fn: fn, event: ev, cfg: cfg, envs: envs, function: function, logFile: logFile}
	if c.mapping, err = esm.NewSQS(cfg, sqsClient, function); err == nil {
		c.dlqURL, err = lenv.DeadLetterQueueURL(ctx, cfg.QueueURL)
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
		c.function.Close()
		c.logFile.Close()
	}
}

// counters returns the consumer's counters, which a resumed run adds up.
func (c *sqsConsumer) counters() SQSFunctionReport {
	st, fs := c.mapping.Stats(), c.function.Stats()
	return SQSFunctionReport{
		Received: st.ReceivedMessages, Deleted: st.DeletedMessages, Failed: st.FailedMessages,
		Invocations: st.Invocations, FunctionErrors: st.FunctionErrors, PartialFailures: st.PartialFailures,
		LargestBatch: st.LargestBatch, ColdStarts: fs.ColdStarts, BusySeconds: float64(fs.Busy.Microseconds()) / 1e6,
	}
}

// report describes the consumer at the end of the run.
func (c *sqsConsumer) report(ctx context.Context, client *sqs.Client) (SQSFunctionReport, error) {
	r := c.counters()
	r.Function, r.Event, r.QueueURL = c.fn.LogicalID, c.event.Name, c.cfg.QueueURL
	r.Environments, r.TailSeconds = c.envs, c.drained.Seconds()
	if n := c.function.Stats().Invocations; n > 0 {
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

// compareSummaries compares the summaries table, read whole with Scan, with a
// recomputation from the latest versions of the processed objects (design §4,
// §9.3), and cross-checks the devices' counts with crossCheck.
func compareSummaries(ctx context.Context, lenv *localenv.Env, fn samtemplate.Function, table, bucket, prefix string) (*SummaryReport, error) {
	cfg, err := summary.ConfigFromEnv(func(k string) string { return fn.Environment[k] })
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", fn.LogicalID, err)
	}
	s3c := s3store.NewClient(lenv.AWS, func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	objects, err := readRawObjects(ctx, s3c, bucket, prefix)
	if err != nil {
		return nil, err
	}
	want, stats, err := summary.FromObjects(cfg, objects)
	if err != nil {
		return nil, fmt.Errorf("recompute summaries: %w", err)
	}
	// Every item, not only the keys the recomputation has: an item of a
	// device or hour no processed record has is a mismatch too.
	got, err := dynamostore.New(dynamodb.NewFromConfig(lenv.AWS), table).ScanSummaries(ctx)
	if err != nil {
		return nil, err
	}
	return summaryReport(want, stats, got, objects, cfg.DeviceField), nil
}

// summaryReport compares got, the table's items, with want, recomputed from
// objects with stats.
func summaryReport(want map[summary.Key]*summary.Summary, stats summary.Stats, got map[summary.Key]*summary.Summary, objects []summary.Object, deviceField string) *SummaryReport {
	rep := &SummaryReport{Items: len(got), Recomputed: stats}
	for _, d := range summary.Compare(want, got) {
		rep.Mismatches++
		if len(rep.Sample) < 10 {
			rep.Sample = append(rep.Sample, d.String())
		}
	}
	crossCheck(objects, got, rep)
	rep.WithoutDevice = countWithoutDevice(objects, deviceField)
	return rep
}

// countWithoutDevice counts the lines of objects whose original_data has no
// usable device at deviceField (dots select nested members), read with
// encoding/json independently of package summary: original_data or a member
// on the path is not an object, or the member is missing, null, "", not a
// string or number, or a string longer than summary.MaxDeviceIDBytes. The
// aggregator leaves such records out of the summaries (README "Hourly
// summaries"), and producers other than the run's own send them: text, binary,
// KPL aggregates' user records of any shape. Lines encoding/json cannot read
// are not counted (the recomputation counts them as malformed).
func countWithoutDevice(objects []summary.Object, deviceField string) int64 {
	path := strings.Split(deviceField, ".")
	var n int64
	for _, o := range objects {
		r, err := ndjson.NewReader(o.Key, o.Body)
		if err != nil {
			continue
		}
		sc := ndjson.NewScanner(r)
		for sc.Scan() {
			if line := sc.Bytes(); len(bytes.TrimSpace(line)) > 0 && withoutDevice(line, path) {
				n++
			}
		}
	}
	return n
}

// withoutDevice reports whether line is an output line whose original_data has
// no usable device at path. Member names are matched exactly and the last of
// a repeated name counts, as the aggregator reads them (a map: encoding/json
// matches struct fields without regard to case).
func withoutDevice(line []byte, path []string) bool {
	var l map[string]json.RawMessage
	if json.Unmarshal(line, &l) != nil {
		return false
	}
	v, ok := l["original_data"]
	if !ok {
		return false
	}
	for _, name := range path {
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil || m == nil {
			return true
		}
		if v, ok = m[name]; !ok {
			return true
		}
	}
	var x any
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if d.Decode(&x) != nil {
		return true
	}
	switch x := x.(type) {
	case json.Number:
		return len(x) > summary.MaxDeviceIDBytes
	case string:
		return x == "" || len(x) > summary.MaxDeviceIDBytes
	}
	return true
}

// crossCheck counts the records of objects per device_id (a JSON string) and
// UTC hour of timestamp (a string time.RFC3339Nano reads), with encoding/json
// and package time only, and compares the counts with the device items' count
// attribute. Records it cannot read that simply are NotCrossChecked; while
// there are any, a device's item may count more than the records read simply
// (one of them may be the device's, in an hour the check cannot tell), else it
// must count as many.
func crossCheck(objects []summary.Object, got map[summary.Key]*summary.Summary, rep *SummaryReport) {
	counts := map[summary.Key]int64{}
	unsure := map[string]bool{} // devices with a record not read simply
	anyUnsure := false          // a record without a simple device
	for _, o := range objects {
		r, err := ndjson.NewReader(o.Key, o.Body)
		if err != nil {
			rep.NotCrossChecked++ // the recomputation fails on it first
			anyUnsure = true
			continue
		}
		sc := ndjson.NewScanner(r)
		for sc.Scan() {
			line := sc.Bytes()
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			device, hour, ok := simpleDeviceHour(line)
			if ok && len(device) > summary.MaxDeviceIDBytes {
				// Too long for a partition key: the aggregator counts it as a
				// record without a device, in no device item.
				rep.NotCrossChecked++
				continue
			}
			if !ok {
				rep.NotCrossChecked++
				if device != "" {
					unsure[device] = true
				} else {
					anyUnsure = true
				}
				continue
			}
			rep.CrossChecked++
			counts[summary.DeviceKey(device, hour)]++
		}
		if sc.Err() != nil {
			anyUnsure = true
		}
	}
	keys := map[summary.Key]bool{}
	for k := range counts {
		keys[k] = true
	}
	for k, s := range got {
		if _, isDevice := k.Device(); isDevice && s.Count != 0 {
			keys[k] = true
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(keys), func(a, b summary.Key) int { return strings.Compare(a.String(), b.String()) }) {
		var n int64
		if s := got[k]; s != nil {
			n = s.Count
		}
		device, _ := k.Device()
		if n == counts[k] || (anyUnsure || unsure[device]) && n > counts[k] {
			continue
		}
		rep.CrossMismatches++
		if len(rep.CrossSample) < 10 {
			rep.CrossSample = append(rep.CrossSample, fmt.Sprintf("%s: count %d, %d records read simply", k, n, counts[k]))
		}
	}
}

// simpleDeviceHour reads line's original_data.device_id and the UTC hour of
// original_data.timestamp; ok is false when either is not there as a string,
// or the time is neither RFC 3339 nor that form without an offset, taken as UTC
// (the recipe generator's isoformat()). device is set when it was read. Member names are
// matched exactly, as the aggregator matches them (a map, not struct fields,
// which encoding/json matches without regard to case: a payload with
// "device_id" and "Device_ID" has the first's device).
func simpleDeviceHour(line []byte) (device string, hour time.Time, ok bool) {
	var l struct {
		Data map[string]json.RawMessage `json:"original_data"`
	}
	if json.Unmarshal(line, &l) != nil {
		return "", time.Time{}, false
	}
	var ts string
	if json.Unmarshal(l.Data["device_id"], &device) != nil || device == "" {
		return "", time.Time{}, false
	}
	if json.Unmarshal(l.Data["timestamp"], &ts) != nil {
		return device, time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		if t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", ts, time.UTC); err != nil {
			return device, time.Time{}, false
		}
	}
	return device, t.UTC().Truncate(time.Hour), true
}

// readRawObjects reads the current version of every object under prefix.
func readRawObjects(ctx context.Context, client *s3.Client, bucket, prefix string) ([]summary.Object, error) {
	var out []summary.Object
	objects := s3store.NewReader(client)
	err := eachObject(ctx, client, bucket, prefix, func(key string) error {
		obj, err := objects.GetObject(ctx, bucket, key)
		if err != nil {
			return err
		}
		out = append(out, *obj)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// startSerialProxy starts a proxy that forwards requests to the emulator at
// target one at a time. The pipeline uses
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
func startSerialProxy(target string) (*localProxy, error) {
	var mu sync.Mutex
	return startProxy(target, func(rp *httputil.ReverseProxy) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			// A function killed by a timeout drops its connection: the request
			// must still finish in the emulator before the next one starts.
			rp.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
		})
	})
}

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
