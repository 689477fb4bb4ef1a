package metrics_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/metrics"
	"github.com/streamlake/streamlake/internal/record"
	"github.com/streamlake/streamlake/internal/samtemplate"
	"github.com/streamlake/streamlake/internal/sensor"
)

// These tests check template.yaml's operations resources (dashboard, alarms, alarm
// topic, event source mapping metrics, Glue tables) against the code: the metrics
// the functions emit, the resources the template declares and the lines the
// processor writes.

var templatePath = flag.String("template", "../../template.yaml", "template to check")

const stack = "streamlake"

// ref is a resource reference the template resolved: Ref (attr "") or GetAtt.
type ref struct {
	id, typ, attr string
}

// recorder resolves like samtemplate.DefaultResolver and remembers which resource
// reference produced each value, so that a value found in a dashboard body can be
// traced back to the resource it names.
type recorder struct {
	samtemplate.DefaultResolver
	values map[string]ref
}

func (r *recorder) Ref(rr samtemplate.ResourceRef) (any, error) {
	v, err := r.DefaultResolver.Ref(rr)
	if err == nil {
		r.values[fmt.Sprint(v)] = ref{rr.LogicalID, rr.Type, ""}
	}
	return v, err
}

func (r *recorder) GetAtt(rr samtemplate.ResourceRef, attr string) (any, error) {
	v, err := r.DefaultResolver.GetAtt(rr, attr)
	if err == nil {
		r.values[fmt.Sprint(v)] = ref{rr.LogicalID, rr.Type, attr}
	}
	return v, err
}

type loaded struct {
	*samtemplate.Template
	refs map[string]ref
}

func load(t *testing.T, overrides map[string]string) *loaded {
	t.Helper()
	rec := &recorder{DefaultResolver: samtemplate.DefaultResolver{StackName: stack, Region: "eu-west-1", AccountID: "123456789012"}, values: map[string]ref{}}
	tpl, err := samtemplate.Load(*templatePath, samtemplate.Options{StackName: stack, Region: "eu-west-1", Overrides: overrides, Resolver: rec})
	if err != nil {
		t.Fatalf("samtemplate.Load: %v", err)
	}
	return &loaded{tpl, rec.values}
}

func (l *loaded) ofType(typ string) []samtemplate.Resource {
	var out []samtemplate.Resource
	for _, id := range sortedKeys(l.Resources) {
		if r := l.Resources[id]; r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// metricID identifies a metric series: namespace, name and dimensions, with each
// dimension value replaced by the logical ID of the resource it names.
type metricID struct {
	namespace, name string
	dims            string // "Name=LogicalID,..." sorted
}

func (m metricID) String() string { return m.namespace + " " + m.name + " {" + m.dims + "}" }

// dimension says what a dimension's value must be: a reference of this kind.
var dimensions = map[string]ref{
	"StreamName":             {typ: "AWS::Kinesis::Stream"},
	"FunctionName":           {typ: "AWS::Serverless::Function"},
	"QueueName":              {typ: "AWS::SQS::Queue", attr: "QueueName"},
	"TableName":              {typ: "AWS::DynamoDB::Table"},
	"EventSourceMappingUUID": {typ: "AWS::Lambda::EventSourceMapping"},
}

// awsMetrics lists, per AWS namespace, the metrics the template may use and the
// dimension they take (from the services' CloudWatch metrics documentation).
var awsMetrics = map[string]map[string]string{
	"AWS/Kinesis": {
		"IncomingRecords": "StreamName", "IncomingBytes": "StreamName", "WriteProvisionedThroughputExceeded": "StreamName",
		"ReadProvisionedThroughputExceeded": "StreamName", "GetRecords.IteratorAgeMilliseconds": "StreamName",
	},
	"AWS/Lambda": {
		"Invocations": "FunctionName", "Errors": "FunctionName", "Throttles": "FunctionName", "Duration": "FunctionName",
		"IteratorAge": "FunctionName", "ConcurrentExecutions": "FunctionName",
		"PolledEventCount": "EventSourceMappingUUID", "FilteredOutEventCount": "EventSourceMappingUUID",
		"InvokedEventCount": "EventSourceMappingUUID", "FailedInvokeEventCount": "EventSourceMappingUUID",
		"DroppedEventCount": "EventSourceMappingUUID", "OnFailureDestinationDeliveredEventCount": "EventSourceMappingUUID",
	},
	"AWS/SQS": {
		"ApproximateNumberOfMessagesVisible": "QueueName", "ApproximateAgeOfOldestMessage": "QueueName",
		"NumberOfMessagesSent": "QueueName", "NumberOfMessagesDeleted": "QueueName",
	},
	"AWS/DynamoDB": {
		"ConsumedWriteCapacityUnits": "TableName", "ConsumedReadCapacityUnits": "TableName",
		"ReadThrottleEvents": "TableName", "WriteThrottleEvents": "TableName",
	},
}

// checkMetric validates one metric reference and returns its identity.
func (l *loaded) checkMetric(namespace, name string, dims map[string]string) (metricID, error) {
	id := metricID{namespace: namespace, name: name}
	var parts []string
	if allowed, ok := awsMetrics[namespace]; ok {
		dim, ok := allowed[name]
		if !ok {
			return id, fmt.Errorf("%s %s is not a metric this template may use", namespace, name)
		}
		if len(dims) != 1 || dims[dim] == "" {
			return id, fmt.Errorf("%s %s has dimensions %v; want exactly %s", namespace, name, dims, dim)
		}
	} else {
		if namespace != l.Parameters["MetricsNamespace"] {
			return id, fmt.Errorf("namespace %q is neither an AWS namespace nor MetricsNamespace %q", namespace, l.Parameters["MetricsNamespace"])
		}
		if len(dims) != 2 || dims["Service"] == "" || dims["FunctionName"] == "" {
			return id, fmt.Errorf("%s %s has dimensions %v; want Service and FunctionName (the EMF dimension set)", namespace, name, dims)
		}
		if dims["Service"] != stack && dims["Service"] != l.Parameters["ServiceName"] {
			return id, fmt.Errorf("%s %s: Service %q is neither the stack name nor ServiceName", namespace, name, dims["Service"])
		}
		fn := l.refs[dims["FunctionName"]].id
		catalog := map[string][]metrics.Metric{"ProcessorFunction": metrics.ProcessorMetrics(), "AggregatorFunction": metrics.AggregatorMetrics()}[fn]
		if !slices.ContainsFunc(catalog, func(m metrics.Metric) bool { return m.Name == name }) {
			return id, fmt.Errorf("%s: %s does not emit %s (see package metrics' catalog)", namespace, fn, name)
		}
		parts = append(parts, "Service=")
	}
	for _, k := range sortedKeys(dims) {
		if k == "Service" {
			continue
		}
		want, ok := dimensions[k]
		if !ok {
			return id, fmt.Errorf("%s %s: unknown dimension %s", namespace, name, k)
		}
		got, ok := l.refs[dims[k]]
		if !ok || got.typ != want.typ || got.attr != want.attr {
			return id, fmt.Errorf("%s %s: %s %q is not a reference to an %s in the template (resolved from %+v)", namespace, name, k, dims[k], want.typ, got)
		}
		parts = append(parts, k+"="+got.id)
	}
	sort.Strings(parts)
	id.dims = strings.Join(parts, ",")
	return id, nil
}

type widget struct {
	Type       string `json:"type"`
	X          int    `json:"x"`
	Y          int    `json:"y"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Properties struct {
		Title   string   `json:"title"`
		Region  string   `json:"region"`
		Metrics [][]any  `json:"metrics"`
		Alarms  []string `json:"alarms"`
	} `json:"properties"`
}

// dashboardMetrics parses the dashboard body and returns the metrics it shows and
// the alarms its alarm widget lists.
func dashboardMetrics(t *testing.T, l *loaded) (map[metricID]bool, []string) {
	t.Helper()
	dashboards := l.ofType("AWS::CloudWatch::Dashboard")
	if len(dashboards) != 1 {
		t.Fatalf("%d dashboards; want 1", len(dashboards))
	}
	body, ok := dashboards[0].Properties["DashboardBody"].(string)
	if !ok {
		t.Fatalf("DashboardBody is a %T; want a string", dashboards[0].Properties["DashboardBody"])
	}
	var doc struct {
		Widgets []widget `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("DashboardBody is not JSON after substitution: %v\n%s", err, body)
	}
	if strings.Contains(body, "${") {
		t.Errorf("DashboardBody has an unsubstituted variable")
	}
	shown := map[metricID]bool{}
	var alarms []string
	for i, w := range doc.Widgets {
		if w.Width < 1 || w.Height < 1 || w.X < 0 || w.X+w.Width > 24 {
			t.Errorf("widget %d (%s) at x=%d width=%d height=%d does not fit the 24-column grid", i, w.Properties.Title, w.X, w.Width, w.Height)
		}
		switch w.Type {
		case "text":
		case "alarm":
			alarms = append(alarms, w.Properties.Alarms...)
		case "metric":
			if w.Properties.Region != l.Region || len(w.Properties.Metrics) == 0 {
				t.Errorf("widget %q: region %q, %d metrics; want the stack's region and metrics", w.Properties.Title, w.Properties.Region, len(w.Properties.Metrics))
			}
			for _, m := range w.Properties.Metrics {
				id, err := metricOfRow(l, m)
				if err != nil {
					t.Errorf("widget %q: %v", w.Properties.Title, err)
					continue
				}
				shown[id] = true
			}
		default:
			t.Errorf("widget %d has type %q", i, w.Type)
		}
	}
	return shown, alarms
}

// metricOfRow reads a dashboard metrics row: [namespace, name, dim, value, ..., {options}].
func metricOfRow(l *loaded, row []any) (metricID, error) {
	if len(row) > 0 {
		if _, ok := row[len(row)-1].(map[string]any); ok {
			row = row[:len(row)-1]
		}
	}
	var s []string
	for _, v := range row {
		str, ok := v.(string)
		if !ok || str == "..." || str == "." {
			return metricID{}, fmt.Errorf("metric row %v: want strings without shorthand", row)
		}
		s = append(s, str)
	}
	if len(s) < 2 || len(s)%2 != 0 {
		return metricID{}, fmt.Errorf("metric row %v: want namespace, name and dimension pairs", row)
	}
	dims := map[string]string{}
	for i := 2; i < len(s); i += 2 {
		dims[s[i]] = s[i+1]
	}
	return l.checkMetric(s[0], s[1], dims)
}

type alarm struct {
	id      string
	metrics []metricID
	props   map[string]any
}

func alarms(t *testing.T, l *loaded) []alarm {
	t.Helper()
	var out []alarm
	for _, r := range l.ofType("AWS::CloudWatch::Alarm") {
		a := alarm{id: r.LogicalID, props: r.Properties}
		stats := []map[string]any{}
		if _, ok := r.Properties["MetricName"]; ok {
			stats = append(stats, map[string]any{"Namespace": r.Properties["Namespace"], "MetricName": r.Properties["MetricName"], "Dimensions": r.Properties["Dimensions"]})
		}
		list, _ := r.Properties["Metrics"].([]any)
		for _, q := range list {
			if ms, ok := q.(map[string]any)["MetricStat"].(map[string]any); ok {
				stats = append(stats, ms["Metric"].(map[string]any))
			}
		}
		if len(stats) == 0 {
			t.Errorf("alarm %s watches no metric", r.LogicalID)
		}
		for _, m := range stats {
			dims := map[string]string{}
			dl, _ := m["Dimensions"].([]any)
			for _, d := range dl {
				dm := d.(map[string]any)
				dims[fmt.Sprint(dm["Name"])] = fmt.Sprint(dm["Value"])
			}
			id, err := l.checkMetric(fmt.Sprint(m["Namespace"]), fmt.Sprint(m["MetricName"]), dims)
			if err != nil {
				t.Errorf("alarm %s: %v", r.LogicalID, err)
				continue
			}
			a.metrics = append(a.metrics, id)
		}
		out = append(out, a)
	}
	return out
}

// failureSignals are the metrics that mean something went wrong: each must be on
// the dashboard and watched by an alarm.
func failureSignals(t *testing.T, l *loaded) []metricID {
	t.Helper()
	fnDim := func(id string) string { return "FunctionName=" + id }
	var out []metricID
	for _, fn := range []string{"ProcessorFunction", "AggregatorFunction"} {
		if _, ok := l.Resources[fn]; !ok {
			t.Fatalf("no %s in the template", fn)
		}
		out = append(out, metricID{"AWS/Lambda", "Errors", fnDim(fn)}, metricID{"AWS/Lambda", "Throttles", fnDim(fn)})
	}
	ns := l.Parameters["MetricsNamespace"]
	out = append(out,
		metricID{"AWS/Lambda", "IteratorAge", fnDim("ProcessorFunction")},
		metricID{"AWS/Lambda", "DroppedEventCount", "EventSourceMappingUUID=ProcessorFunctionStream"},
		metricID{ns, "BatchFailures", "FunctionName=ProcessorFunction,Service="},
		metricID{ns, "RecordsQuarantined", "FunctionName=ProcessorFunction,Service="},
	)
	for _, s := range l.ofType("AWS::Kinesis::Stream") {
		out = append(out, metricID{"AWS/Kinesis", "WriteProvisionedThroughputExceeded", "StreamName=" + s.LogicalID},
			metricID{"AWS/Kinesis", "ReadProvisionedThroughputExceeded", "StreamName=" + s.LogicalID})
	}
	for _, tb := range l.ofType("AWS::DynamoDB::Table") {
		out = append(out, metricID{"AWS/DynamoDB", "ReadThrottleEvents", "TableName=" + tb.LogicalID},
			metricID{"AWS/DynamoDB", "WriteThrottleEvents", "TableName=" + tb.LogicalID})
	}
	// Queues that hold failures: the mapping's on-failure destination and every
	// dead-letter queue of a redrive policy.
	for _, q := range l.ofType("AWS::SQS::Queue") {
		if rp, ok := q.Properties["RedrivePolicy"].(map[string]any); ok {
			dlq := l.refs[fmt.Sprint(rp["deadLetterTargetArn"])]
			out = append(out, metricID{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName=" + dlq.id})
		}
	}
	stream := kinesisEvent(t, l)
	dest := stream["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)["Destination"]
	out = append(out, metricID{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName=" + l.refs[fmt.Sprint(dest)].id})
	return out
}

func kinesisEvent(t *testing.T, l *loaded) map[string]any {
	t.Helper()
	fn := l.Resources["ProcessorFunction"]
	ev, ok := fn.Properties["Events"].(map[string]any)["Stream"].(map[string]any)
	if !ok || ev["Type"] != "Kinesis" {
		t.Fatalf("ProcessorFunction has no Kinesis event named Stream")
	}
	return ev["Properties"].(map[string]any)
}

func TestDashboardNamesExistingMetricsAndResources(t *testing.T) {
	l := load(t, nil)
	shown, listed := dashboardMetrics(t, l)
	if len(shown) < 30 {
		t.Errorf("the dashboard shows %d metrics; want the stream, both functions, the mapping, the queues, the table and the custom metrics", len(shown))
	}
	for _, want := range failureSignals(t, l) {
		if !shown[want] {
			t.Errorf("failure signal %s is not on the dashboard", want)
		}
	}
	for _, group := range [][]metrics.Metric{metrics.ProcessorMetrics(), metrics.AggregatorMetrics()} {
		for _, m := range group {
			if m.Name == metrics.HandlerErrors.Name || m.Name == metrics.MessagesReceived.Name || m.Name == metrics.AggregationDuration.Name {
				continue // in the functions' own Errors, Invocations and Duration
			}
			found := false
			for id := range shown {
				found = found || id.name == m.Name
			}
			if !found {
				t.Errorf("custom metric %s is not on the dashboard", m.Name)
			}
		}
	}
	// The alarm widget lists every alarm.
	var all []string
	for _, a := range l.ofType("AWS::CloudWatch::Alarm") {
		all = append(all, a.LogicalID)
	}
	var got []string
	for _, arn := range listed {
		r := l.refs[arn]
		if r.typ != "AWS::CloudWatch::Alarm" || r.attr != "Arn" {
			t.Errorf("alarm widget lists %q, which is not an alarm of the template", arn)
		}
		got = append(got, r.id)
	}
	sort.Strings(got)
	if !slices.Equal(all, got) {
		t.Errorf("alarm widget lists %v; want every alarm %v", got, all)
	}
}

func TestEveryFailureSignalHasAnAlarm(t *testing.T) {
	l := load(t, nil)
	alarmed := map[metricID][]string{}
	topic := ""
	for v, r := range l.refs {
		if r.id == "AlarmTopic" && r.attr == "" {
			topic = v
		}
	}
	if topic == "" {
		t.Fatal("no AlarmTopic is referenced")
	}
	for _, a := range alarms(t, l) {
		for _, m := range a.metrics {
			alarmed[m] = append(alarmed[m], a.id)
		}
		for _, key := range []string{"AlarmActions", "OKActions"} {
			if acts, _ := a.props[key].([]any); len(acts) != 1 || acts[0] != topic {
				t.Errorf("alarm %s: %s = %v; want the alarm topic", a.id, key, a.props[key])
			}
		}
		if a.props["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s: TreatMissingData = %v; want notBreaching (no traffic is not a failure)", a.id, a.props["TreatMissingData"])
		}
		if d, _ := a.props["AlarmDescription"].(string); len(d) < 40 {
			t.Errorf("alarm %s: the description should say what to do", a.id)
		}
	}
	for _, s := range failureSignals(t, l) {
		if len(alarmed[s]) == 0 {
			t.Errorf("failure signal %s has no alarm", s)
		}
	}
}

func TestAlarmTopicCanReceiveAlarms(t *testing.T) {
	l := load(t, nil)
	topic, ok := l.Resources["AlarmTopic"]
	if !ok {
		t.Fatal("no AlarmTopic")
	}
	key := l.refs[fmt.Sprint(topic.Properties["KmsMasterKeyId"])]
	if key.typ != "AWS::KMS::Key" {
		t.Fatalf("AlarmTopic KmsMasterKeyId = %v; want a customer managed key of the template (alarms cannot use alias/aws/sns)", topic.Properties["KmsMasterKeyId"])
	}
	policy, _ := json.Marshal(l.Resources[key.id].Properties["KeyPolicy"])
	for _, want := range []string{`"Service":"cloudwatch.amazonaws.com"`, `"kms:GenerateDataKey*"`, `"kms:Decrypt"`} {
		if !strings.Contains(string(policy), want) {
			t.Errorf("the alarm topic key policy lacks %s: %s", want, policy)
		}
	}
	if _, ok := l.Resources["AlarmEmailSubscription"]; ok {
		t.Error("AlarmEmailSubscription exists with an empty AlarmEmail")
	}
	withEmail := load(t, map[string]string{"AlarmEmail": "ops@example.com"})
	sub, ok := withEmail.Resources["AlarmEmailSubscription"]
	if !ok || sub.Properties["Endpoint"] != "ops@example.com" || sub.Properties["Protocol"] != "email" {
		t.Errorf("with AlarmEmail set, subscription = %+v; want an email subscription", sub)
	}
}

func TestMetricsEnvironmentAndMappingMetrics(t *testing.T) {
	for _, tc := range []struct {
		overrides   map[string]string
		ns, service string
	}{
		{nil, "streamlake", stack},
		{map[string]string{"MetricsNamespace": "acme/iot", "ServiceName": "plant-7"}, "acme/iot", "plant-7"},
	} {
		l := load(t, tc.overrides)
		for _, fn := range l.Functions() {
			if fn.Environment[metrics.EnvNamespace] != tc.ns || fn.Environment[metrics.EnvService] != tc.service {
				t.Errorf("%s environment %v; want %s=%s and %s=%s", fn.LogicalID, fn.Environment, metrics.EnvNamespace, tc.ns, metrics.EnvService, tc.service)
			}
		}
		if _, err := metrics.New(&strings.Builder{}, metrics.Config{Namespace: tc.ns, Service: tc.service}); err != nil {
			t.Errorf("the template's namespace and service are not valid for EMF: %v", err)
		}
		mc, _ := kinesisEvent(t, l)["MetricsConfig"].(map[string]any)
		if m, _ := mc["Metrics"].([]any); len(m) != 1 || m[0] != "EventCount" {
			t.Errorf("Kinesis event MetricsConfig = %v; want {Metrics: [EventCount]}", mc)
		}
	}
	tpl := load(t, nil)
	if g, _ := tpl.Resources["ProcessorFunction"].Properties["Tracing"].(string); g != "Active" {
		t.Errorf("ProcessorFunction Tracing = %q; want Active", g)
	}
}

// TestGlueTablesMatchOutputLines checks the Athena tables against lines written by
// package record and readings from package sensor: every key of a line is a
// column, with a type that reads its value.
func TestGlueTablesMatchOutputLines(t *testing.T) {
	l := load(t, nil)
	gen, err := sensor.NewGenerator(sensor.Config{Devices: 1, Seed: 1, Start: time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	reading := gen.Next().AppendJSON(nil)
	meta := &record.Meta{PartitionKey: "sensor-0001", SequenceNumber: "4959", EventID: "shardId-000000000000:4959", ShardID: "shardId-000000000000", ArrivalTime: time.Now()}
	for _, tc := range []struct {
		table, prefixParam, reason string
	}{
		{"sensor_readings", "ProcessedPrefix", ""},
		{"quarantined_records", "QuarantinePrefix", "timestamp is not RFC 3339"},
	} {
		t.Run(tc.table, func(t *testing.T) {
			var input map[string]any
			for _, r := range l.ofType("AWS::Glue::Table") {
				if ti := r.Properties["TableInput"].(map[string]any); ti["Name"] == tc.table {
					input = ti
					if l.refs[fmt.Sprint(r.Properties["DatabaseName"])].typ != "AWS::Glue::Database" {
						t.Errorf("table %s is not in the template's Glue database", tc.table)
					}
				}
			}
			if input == nil {
				t.Fatalf("no Glue table %s", tc.table)
			}
			sd := input["StorageDescriptor"].(map[string]any)
			bucket := l.Resources["ProcessorFunction"].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)["BUCKET_NAME"]
			prefix := fmt.Sprintf("s3://%s/%s/", bucket, l.Parameters[tc.prefixParam])
			params := input["Parameters"].(map[string]any)
			if sd["Location"] != prefix || params["storage.location.template"] != prefix+"year=${year}/month=${month}/day=${day}/hour=${hour}/" {
				t.Errorf("location %v, template %v; want %s…", sd["Location"], params["storage.location.template"], prefix)
			}
			if params["projection.enabled"] != "true" || sd["SerdeInfo"].(map[string]any)["SerializationLibrary"] != "org.openx.data.jsonserde.JsonSerDe" {
				t.Errorf("want partition projection and the OpenX JSON SerDe: %v", input)
			}
			var keys []string
			for _, p := range input["PartitionKeys"].([]any) {
				keys = append(keys, fmt.Sprint(p.(map[string]any)["Name"]))
			}
			if !slices.Equal(keys, []string{"year", "month", "day", "hour"}) {
				t.Errorf("partition keys %v; want year, month, day, hour (the object key layout)", keys)
			}
			columns := map[string]string{}
			for _, c := range sd["Columns"].([]any) {
				cm := c.(map[string]any)
				columns[fmt.Sprint(cm["Name"])] = fmt.Sprint(cm["Type"])
			}
			// A line of a KPL user record has every member of the others and
			// its sub_sequence_number.
			agg := *meta
			agg.Aggregated, agg.SubSequenceNumber = true, 3
			line := record.AppendLine(nil, reading, &agg, "2026-11-21T13:00:01.000Z", tc.reason)
			var v map[string]any
			if err := json.Unmarshal(line, &v); err != nil {
				t.Fatal(err)
			}
			if _, ok := v["sub_sequence_number"]; !ok {
				t.Fatalf("line of a KPL user record without sub_sequence_number: %s", line)
			}
			checkColumns(t, "", v, columns)
			for _, payload := range []map[string]any{{"message": "x"}, {"data_base64": "AAE="}} {
				checkColumns(t, "original_data.", payload, parseStruct(t, columns["original_data"]))
			}
		})
	}
}

// checkColumns checks that every key of v has a column whose type reads its value.
func checkColumns(t *testing.T, path string, v map[string]any, columns map[string]string) {
	t.Helper()
	for k, val := range v {
		typ, ok := columns[strings.ToLower(k)]
		if !ok {
			t.Errorf("%s%s is in the output lines but not a column", path, k)
			continue
		}
		switch val := val.(type) {
		case string:
			if typ != "string" {
				t.Errorf("%s%s holds a string; column type %s", path, k, typ)
			}
		case float64:
			if typ != "double" && !(typ == "int" && val == math.Trunc(val) && math.Abs(val) < math.MaxInt32) {
				t.Errorf("%s%s holds %v; column type %s (want double: readings have decimals)", path, k, val, typ)
			}
		case bool:
			if typ != "boolean" {
				t.Errorf("%s%s holds a boolean; column type %s", path, k, typ)
			}
		case map[string]any:
			checkColumns(t, path+k+".", val, parseStruct(t, typ))
		default:
			t.Errorf("%s%s holds %T", path, k, val)
		}
	}
}

// parseStruct parses a Hive struct<...> type string into its fields.
func parseStruct(t *testing.T, typ string) map[string]string {
	t.Helper()
	if !strings.HasPrefix(typ, "struct<") || !strings.HasSuffix(typ, ">") {
		t.Errorf("type %q is not a struct", typ)
		return nil
	}
	out := map[string]string{}
	body := typ[len("struct<") : len(typ)-1]
	depth, start := 0, 0
	for i := 0; i <= len(body); i++ {
		if i < len(body) {
			switch body[i] {
			case '<':
				depth++
				continue
			case '>':
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		name, ftyp, ok := strings.Cut(body[start:i], ":")
		if !ok {
			t.Errorf("struct field %q has no type", body[start:i])
		}
		out[name] = ftyp
		start = i + 1
	}
	return out
}
