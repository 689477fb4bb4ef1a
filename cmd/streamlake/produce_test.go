package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/kinesisevent"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/record"
	"github.com/streamlake/streamlake/internal/sensor"
)

// runCmd runs the CLI in-process and returns exit code, stdout and stderr.
func runCmd(t *testing.T, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	return runWithKinesis(t, nil, terminal, args...)
}

// runWithKinesis runs the CLI in-process as runCmd does, with `produce` putting
// records through k (nil: a client of the AWS configuration).
func runWithKinesis(t *testing.T, k producer.API, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: os.Getenv, isTerminal: terminal, kinesis: k}
	code := run(context.Background(), e, args)
	return code, stdout.String(), stderr.String()
}

func TestProduceBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"count and duration", []string{"--stream", "s", "--count", "5", "--duration", "1s"}, "--count and --duration are mutually exclusive"},
		{"negative rate", []string{"--stream", "s", "--rate", "-1"}, "--rate must be a number >= 0"},
		{"unknown flag", []string{"--stream", "s", "--bogus"}, "flag provided but not defined: -bogus"},
		{"no stream", []string{"--count", "5"}, "--stream is required"},
		{"zero count", []string{"--stream", "s", "--count", "0"}, "--count must be at least 1"},
		{"negative duration", []string{"--stream", "s", "--duration", "-1s"}, "--duration must be positive"},
		{"zero devices", []string{"--stream", "s", "--devices", "0"}, "--devices must be between 1 and"},
		{"bad start", []string{"--stream", "s", "--start", "yesterday"}, `--start "yesterday" is not an RFC 3339 time`},
		{"bad scenario", []string{"--stream", "s", "--scenario", "chaos"}, `unknown --scenario "chaos"`},
		{"zero attempts", []string{"--stream", "s", "--max-attempts", "0"}, "--max-attempts must be at least 1"},
		{"negative interval", []string{"--stream", "s", "--interval", "-1s"}, "--interval must not be negative"},
		{"count with mixed", []string{"--stream", "s", "--scenario", "mixed", "--count", "3"}, "--count does not apply to scenario mixed"},
		{"bad shape", []string{"--stream", "s", "--shape", "csv"}, `unknown shape "csv"`},
		{"shape with filtered", []string{"--stream", "s", "--scenario", "filtered", "--shape", "recipe"}, "--shape does not apply to scenario filtered"},
		{"duration with poison", []string{"--stream", "s", "--scenario", "poison", "--duration", "1s"}, "--duration works with scenario sensor only"},
		{"events-out without start", []string{"--events-out", "x.json"}, "--events-out needs --start"},
		{"events-out with rate", []string{"--events-out", "x.json", "--start", "2026-11-21T13:40:00Z", "--rate", "5"}, "--rate does not apply with --events-out"},
		{"events-out too many", []string{"--events-out", "x.json", "--start", "2026-11-21T13:40:00Z", "--count", "10001"}, "at most 10000 records"},
		{"positional", []string{"--stream", "s", "extra"}, `unexpected argument "extra"`},
		{"bad number", []string{"--stream", "s", "--count", "many"}, `invalid value "many" for flag -count`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, append([]string{"produce"}, tc.args...)...)
			if code != exitUsage {
				t.Errorf("produce %v exit = %d; want %d", tc.args, code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "Usage: streamlake produce") {
				t.Errorf("produce %v stderr = %q; want %q and the usage", tc.args, stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("produce %v stdout = %q; want nothing", tc.args, stdout)
			}
		})
	}
}

func TestProduceHelp(t *testing.T) {
	code, _, stderr := runCmd(t, false, "produce", "--help")
	if code != exitOK || !strings.Contains(stderr, "--events-out") || !strings.Contains(stderr, "Scenarios") {
		t.Errorf("produce --help = %d, %q; want 0 and the flags", code, stderr)
	}
}

// sampleCommands reads the commands that regenerate events/kinesis-*.json (what
// `make events` runs).
func sampleCommands(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "produce", "events.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, strings.Fields(line))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != 6 {
		t.Fatalf("testdata/produce/events.txt has %d commands; want 6", len(out))
	}
	return out
}

// eventsOut returns the --events-out value of args and its index.
func eventsOut(t *testing.T, args []string) (string, int) {
	t.Helper()
	for i, a := range args {
		if a == "--events-out" && i+1 < len(args) {
			return args[i+1], i + 1
		}
	}
	t.Fatalf("command %v has no --events-out", args)
	return "", 0
}

// TestSampleEventsUpToDate regenerates every sample event into a temporary directory,
// twice, and compares with the committed file, so `make events` drift fails here.
func TestSampleEventsUpToDate(t *testing.T) {
	for _, args := range sampleCommands(t) {
		committed, i := eventsOut(t, args)
		t.Run(filepath.Base(committed), func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("..", "..", committed))
			if err != nil {
				t.Fatalf("read committed sample: %v (run `make events`)", err)
			}
			var outs [][]byte
			for run := range 2 {
				a := append([]string(nil), args...)
				a[i] = filepath.Join(t.TempDir(), fmt.Sprintf("run%d.json", run))
				code, stdout, stderr := runCmd(t, false, a...)
				if code != exitOK {
					t.Fatalf("streamlake %v = %d, stderr %s", a, code, stderr)
				}
				if !strings.Contains(stdout, "wrote ") {
					t.Errorf("stdout = %q; want a summary", stdout)
				}
				b, err := os.ReadFile(a[i])
				if err != nil {
					t.Fatal(err)
				}
				outs = append(outs, b)
			}
			if !bytes.Equal(outs[0], outs[1]) {
				t.Fatalf("two runs of %v differ:\n%s", args, cmp.Diff(string(outs[0]), string(outs[1])))
			}
			if !bytes.Equal(outs[0], want) {
				t.Errorf("%s is out of date; run `make events`:\n%s", committed, cmp.Diff(string(want), string(outs[0])))
			}
		})
	}
}

// loadEvent decodes a committed sample and checks that it round-trips.
func loadEvent(t *testing.T, name string) events.KinesisEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	back, err := kinesisevent.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, b) {
		t.Errorf("%s does not round-trip through events.KinesisEvent:\n%s", name, cmp.Diff(string(b), string(back)))
	}
	prev := new(big.Int)
	for i, r := range ev.Records {
		seq, ok := new(big.Int).SetString(r.Kinesis.SequenceNumber, 10)
		if !ok || len(r.Kinesis.SequenceNumber) != 56 || seq.Cmp(prev) <= 0 {
			t.Errorf("%s record %d: sequence number %q not a growing 56-digit number", name, i, r.Kinesis.SequenceNumber)
		}
		prev = seq
		if r.EventID != "shardId-000000000000:"+r.Kinesis.SequenceNumber || r.EventSource != "aws:kinesis" ||
			r.EventSourceArn != "arn:aws:kinesis:us-east-1:123456789012:stream/streamlake-sensor-stream" {
			t.Errorf("%s record %d: eventID %s, source %s %s", name, i, r.EventID, r.EventSource, r.EventSourceArn)
		}
	}
	return ev
}

func TestSampleSensorBatch(t *testing.T) {
	ev := loadEvent(t, "kinesis-sensor-batch.json")
	if len(ev.Records) != 60 {
		t.Fatalf("records = %d; want 60", len(ev.Records))
	}
	hours := map[int]int{}
	last := map[string]time.Time{}
	for i, r := range ev.Records {
		var rd sensor.Reading
		if err := json.Unmarshal(r.Kinesis.Data, &rd); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if rd.DeviceID != r.Kinesis.PartitionKey {
			t.Errorf("record %d: device %s under partition key %s", i, rd.DeviceID, r.Kinesis.PartitionKey)
		}
		if p, ok := last[rd.DeviceID]; ok && !rd.Timestamp.After(p) {
			t.Errorf("record %d: %s event time %s not after %s", i, rd.DeviceID, rd.Timestamp, p)
		}
		if at := r.Kinesis.ApproximateArrivalTimestamp.Time; at.Before(rd.Timestamp) {
			t.Errorf("record %d arrives at %s before its event time %s", i, at, rd.Timestamp)
		}
		last[rd.DeviceID] = rd.Timestamp
		hours[rd.Timestamp.Hour()]++
	}
	if len(last) != 5 {
		t.Errorf("devices = %d; want 5", len(last))
	}
	if diff := cmp.Diff(map[int]int{13: 20, 14: 40}, hours); diff != "" {
		t.Errorf("records per event hour (-want +got):\n%s", diff)
	}
}

func TestSampleMixedPayloads(t *testing.T) {
	ev := loadEvent(t, "kinesis-mixed-payloads.json")
	kinds := map[string]int{}
	for _, r := range ev.Records {
		d := r.Kinesis.Data
		trimmed := bytes.TrimSpace(d)
		switch {
		case len(d) == 0:
			kinds["empty"]++
		case !utf8.Valid(d):
			kinds["binary"]++
		case !json.Valid(d):
			if bytes.ContainsRune(d, '°') {
				kinds["text with non-ASCII"]++
			}
		case len(trimmed) != len(d):
			kinds["padded JSON"]++
		case d[0] == '[':
			kinds["array"]++
		case d[0] == '"':
			kinds["string"]++
		case bytes.Contains(d, []byte(`\u00`)):
			kinds["unicode escapes"]++
		default:
			var rd sensor.Reading
			if json.Unmarshal(d, &rd) == nil && rd.DeviceID != "" {
				kinds["sensor"]++
			}
		}
	}
	want := map[string]int{"empty": 1, "binary": 1, "text with non-ASCII": 1, "padded JSON": 1, "array": 1, "string": 1, "unicode escapes": 1, "sensor": 1}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("payload kinds (-want +got):\n%s", diff)
	}
	if !bytes.HasPrefix(ev.Records[4].Kinesis.Data, []byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe}) {
		t.Errorf("binary record = %x; want the 1f8b0800fffe prefix", ev.Records[4].Kinesis.Data)
	}
}

// defaultFilterPasses evaluates the template's default filter
// {"data": {"device_id": [{"exists": true}], "temperature": [{"numeric": [">=", -50]}]}}
// for the payload shapes in the sample (not a general filter engine).
func defaultFilterPasses(data []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return false // not a JSON object: a data pattern cannot match
	}
	if _, ok := m["device_id"]; !ok {
		return false
	}
	var temp float64
	raw, ok := m["temperature"]
	if !ok || json.Unmarshal(raw, &temp) != nil {
		return false
	}
	return temp >= -50
}

func TestSampleFiltered(t *testing.T) {
	ev := loadEvent(t, "kinesis-filtered.json")
	var pass []int
	for i, r := range ev.Records {
		if defaultFilterPasses(r.Kinesis.Data) {
			pass = append(pass, i)
		}
	}
	if diff := cmp.Diff([]int{0, 2, 5, 7, 9, 11}, pass); diff != "" {
		t.Errorf("records passing the default filter (-want +got):\n%s", diff)
	}
	var heartbeats, probes int
	for _, r := range ev.Records {
		d := string(r.Kinesis.Data)
		if strings.Contains(d, `"type":"heartbeat"`) {
			heartbeats++
		}
		if strings.Contains(d, `"temperature":-127.00`) {
			probes++
		}
	}
	if heartbeats != 2 || probes != 2 {
		t.Errorf("heartbeats %d, disconnected probes %d; want 2 each", heartbeats, probes)
	}
}

func TestSamplePoison(t *testing.T) {
	ev := loadEvent(t, "kinesis-poison.json")
	var bad []int
	for i, r := range ev.Records {
		var m struct {
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal(r.Kinesis.Data, &m); err != nil {
			t.Fatalf("record %d is not JSON: %v", i, err)
		}
		if _, err := time.Parse(time.RFC3339, m.Timestamp); err != nil {
			bad = append(bad, i)
		}
	}
	if diff := cmp.Diff([]int{5}, bad); diff != "" || len(ev.Records) != 10 {
		t.Errorf("%d records; records with an unparseable timestamp (-want +got):\n%s", len(ev.Records), diff)
	}
}

func TestProduceEventsOutErrors(t *testing.T) {
	code, _, stderr := runCmd(t, false, "produce", "--events-out", filepath.Join(t.TempDir(), "missing", "x.json"), "--start", "2026-11-21T13:40:00Z")
	if code != exitFailure || !strings.Contains(stderr, "write ") {
		t.Errorf("produce into a missing directory = %d, %q; want 1 and a write error", code, stderr)
	}
}

func TestProduceEventsOutStreamARN(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.json")
	code, stdout, stderr := runCmd(t, false, "produce", "--events-out", out, "--start", "2026-11-21T13:40:00Z",
		"--count", "2", "--stream", "my-stream", "--region", "eu-west-1", "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum["records"] != 2.0 {
		t.Errorf("--json summary %q (%v); want records 2", stdout, err)
	}
	b, _ := os.ReadFile(out)
	var ev events.KinesisEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if r := ev.Records[0]; r.EventSourceArn != "arn:aws:kinesis:eu-west-1:123456789012:stream/my-stream" || r.AwsRegion != "eu-west-1" {
		t.Errorf("eventSourceARN %s, region %s; want the named stream in eu-west-1", r.EventSourceArn, r.AwsRegion)
	}
}

// fakeKinesis is a narrow fake of the two Kinesis calls for failure paths that moto
// cannot produce.
type fakeKinesis struct {
	mu       sync.Mutex
	failKey  string // entries with this partition key always fail
	throttle bool   // every other call fails as a whole
	failCall int    // this call (1-based) fails as a whole with failErr
	failErr  error
	calls    int
	stored   []string
}

func (f *fakeKinesis) DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{}}, nil
}

func (f *fakeKinesis) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == f.failCall {
		return nil, f.failErr
	}
	if f.throttle && f.calls%2 == 1 {
		return nil, &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "Rate exceeded"}
	}
	out := &kinesis.PutRecordsOutput{}
	for _, e := range in.Records {
		if aws.ToString(e.PartitionKey) == f.failKey {
			out.Records = append(out.Records, types.PutRecordsResultEntry{
				ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("Rate exceeded for shard"),
			})
			continue
		}
		f.stored = append(f.stored, string(e.Data))
		out.Records = append(out.Records, types.PutRecordsResultEntry{ShardId: aws.String("shardId-000000000000"), SequenceNumber: aws.String(fmt.Sprint(len(f.stored)))})
	}
	return out, nil
}

func TestProduceUndeliveredExits1(t *testing.T) {
	f := &fakeKinesis{failKey: "sensor-0002"}
	code, stdout, stderr := runWithKinesis(t, f, false, "produce", "--stream", "s", "--count", "50", "--devices", "5", "--max-attempts", "2", "--json")
	if code != exitFailure {
		t.Errorf("exit = %d; want 1", code)
	}
	if !strings.Contains(stderr, "10 records not delivered") {
		t.Errorf("stderr = %q; want it to say 10 records not delivered", stderr)
	}
	var sum produceSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("--json summary %q: %v", stdout, err)
	}
	if sum.Sent != 40 || sum.Failed != 10 || sum.Retries != 10 || len(f.stored) != 40 {
		t.Errorf("summary %+v, stored %d; want 40 sent, 10 failed, 10 retries", sum, len(f.stored))
	}
}

func TestProduceRetriesThrottling(t *testing.T) {
	for _, tc := range []struct {
		count   int
		ordered bool
	}{{1200, false}, {60, true}} {
		t.Run(fmt.Sprintf("ordered=%v", tc.ordered), func(t *testing.T) {
			f := &fakeKinesis{throttle: true}
			args := []string{"produce", "--stream", "s", "--count", fmt.Sprint(tc.count), "--devices", "3", "--seed", "9", "--start", "2026-11-21T13:40:00Z"}
			if tc.ordered {
				args = append(args, "--ordered")
			}
			code, stdout, stderr := runWithKinesis(t, f, true, args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %s", code, stderr)
			}
			if want := fmt.Sprintf("sent %d records", tc.count); !strings.Contains(stdout, want) || !strings.Contains(stdout, "0 failed") {
				t.Errorf("stdout = %q; want a summary of %s, 0 failed", stdout, want)
			}
			if !strings.Contains(stderr, "rec/s") || !strings.Contains(stderr, "retries") || !strings.Contains(stderr, "\r") {
				t.Errorf("stderr = %q; want a progress line on a terminal", stderr)
			}
			// Whole-call throttling resends whole calls, so the stream order is the
			// generated order in both modes.
			g, _ := sensor.NewGenerator(sensor.Config{Devices: 3, Seed: 9, Start: time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC)})
			var want []string
			for range tc.count {
				want = append(want, string(g.Next().AppendJSON(nil)))
			}
			if diff := cmp.Diff(want, f.stored); diff != "" {
				t.Errorf("stored records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProduceNoProgressWithoutTerminal(t *testing.T) {
	code, _, stderr := runWithKinesis(t, &fakeKinesis{}, false, "produce", "--stream", "s", "--count", "10")
	if code != exitOK || stderr != "" {
		t.Errorf("produce = %d, stderr %q; want 0 and a quiet stderr", code, stderr)
	}
}

// newMotoStream creates a stream in moto and returns a client for reading it back.
func newMotoStream(t *testing.T, name string, shards int32) *kinesis.Client {
	t.Helper()
	motoserver.ForTest(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := kinesis.NewFromConfig(cfg)
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	w := kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("wait for stream: %v", err)
	}
	return client
}

type readBack struct {
	seq  *big.Int
	key  string
	data string
}

func readStream(t *testing.T, client *kinesis.Client, stream string) []readBack {
	t.Helper()
	ctx := context.Background()
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	var out []readBack
	for _, sh := range shards.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			res, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Records {
				seq, _ := new(big.Int).SetString(aws.ToString(r.SequenceNumber), 10)
				out = append(out, readBack{seq: seq, key: aws.ToString(r.PartitionKey), data: string(r.Data)})
			}
			if len(res.Records) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out
}

func TestProduceToMoto(t *testing.T) {
	const stream = "cli-produce"
	client := newMotoStream(t, stream, 3)
	arn := "arn:aws:kinesis:us-east-1:123456789012:stream/" + stream
	start := "2026-11-21T13:40:00Z"
	code, stdout, stderr := runCmd(t, false, "produce", "--stream", arn, "--count", "2000", "--devices", "25", "--seed", "4",
		"--start", start, "--interval", "100ms", "--ordered", "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var sum produceSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("--json summary %q: %v", stdout, err)
	}
	if sum.Sent != 2000 || sum.Failed != 0 || sum.Calls < 80 || sum.Bytes == 0 || sum.RecordsPerSecond <= 0 || sum.DurationSeconds <= 0 {
		t.Errorf("summary %+v; want 2000 sent in at least 80 ordered calls", sum)
	}

	got := readStream(t, client, stream)
	if len(got) != 2000 {
		t.Fatalf("read back %d records; want 2000", len(got))
	}
	sort.SliceStable(got, func(a, b int) bool { return got[a].seq.Cmp(got[b].seq) < 0 })
	gotByKey := map[string][]string{}
	for _, r := range got {
		gotByKey[r.key] = append(gotByKey[r.key], r.data)
	}
	g, _ := sensor.NewGenerator(sensor.Config{Devices: 25, Seed: 4, Start: time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC), Interval: 100 * time.Millisecond})
	wantByKey := map[string][]string{}
	for range 2000 {
		r := g.Next()
		wantByKey[r.DeviceID] = append(wantByKey[r.DeviceID], string(r.AppendJSON(nil)))
	}
	if diff := cmp.Diff(wantByKey, gotByKey); diff != "" {
		t.Errorf("records per device in stream order (-want +got):\n%s", diff)
	}
}

func TestProduceDurationToMoto(t *testing.T) {
	const stream = "cli-produce-duration"
	client := newMotoStream(t, stream, 2)
	code, stdout, stderr := runCmd(t, false, "produce", "--stream", stream, "--duration", "500ms", "--rate", "400", "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var sum produceSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("--json summary %q: %v", stdout, err)
	}
	if sum.Sent < 1 || sum.Failed != 0 {
		t.Errorf("summary %+v; want records sent and none failed", sum)
	}
	if got := readStream(t, client, stream); int64(len(got)) != sum.Sent {
		t.Errorf("stream holds %d records; summary says %d sent", len(got), sum.Sent)
	}
}

func TestProduceMissingStream(t *testing.T) {
	motoserver.ForTest(t)
	code, _, stderr := runCmd(t, false, "produce", "--stream", "no-such-stream", "--count", "5")
	if code != exitFailure || !strings.Contains(stderr, "5 records not delivered") || !strings.Contains(stderr, "describe stream no-such-stream") {
		t.Errorf("produce to a missing stream = %d, %q; want 1 and a clear error", code, stderr)
	}
}

// The recipe sample holds the recipe generator's records: json.dumps spacing and
// event times without an offset, each of which the shared parser reads as UTC; the
// flood sample holds only event times no reading makes a time.
func TestSampleRecipeAndFlood(t *testing.T) {
	recipe := loadEvent(t, "kinesis-recipe-generator.json")
	if len(recipe.Records) != 200 {
		t.Fatalf("recipe sample has %d records; want 200", len(recipe.Records))
	}
	noFraction := 0
	for i, r := range recipe.Records {
		var v struct {
			DeviceID  string  `json:"device_id"`
			Timestamp string  `json:"timestamp"`
			Battery   float64 `json:"battery_level"`
		}
		if err := json.Unmarshal(r.Kinesis.Data, &v); err != nil || !bytes.HasPrefix(r.Kinesis.Data, []byte(`{"device_id": "`)) {
			t.Fatalf("record %d = %s (%v); want the recipe's json.dumps shape", i, r.Kinesis.Data, err)
		}
		if strings.ContainsAny(v.Timestamp[10:], "Z+-") || v.Battery != float64(int(v.Battery)) {
			t.Errorf("record %d: timestamp %q battery %v; want isoformat() without offset, an integer battery", i, v.Timestamp, v.Battery)
		}
		if len(v.Timestamp) == 19 {
			noFraction++
		}
		got, ok := record.ParseEventTimeString(v.Timestamp)
		if want, err := time.Parse("2006-01-02T15:04:05.999999", v.Timestamp); !ok || err != nil || !got.Equal(want) {
			t.Errorf("record %d: ParseEventTimeString(%q) = %v, %v; want %v as UTC", i, v.Timestamp, got, ok, want)
		}
	}
	if noFraction == 0 || noFraction == len(recipe.Records) {
		t.Errorf("%d of %d timestamps have no fraction; want some with and some without (isoformat drops zero microseconds)", noFraction, len(recipe.Records))
	}
	flood := loadEvent(t, "kinesis-poison-flood.json")
	if len(flood.Records) != 500 {
		t.Fatalf("flood sample has %d records; want 500", len(flood.Records))
	}
	for i, r := range flood.Records {
		v, ok := record.TopLevelMember(r.Kinesis.Data, "timestamp")
		if !ok {
			t.Fatalf("flood record %d has no timestamp: %s", i, r.Kinesis.Data)
		}
		if tm, ok := record.ParseEventTime(v); ok {
			t.Errorf("flood record %d: timestamp %s reads as %v; want unreadable", i, v, tm)
		}
	}
}

// A run that an error stops part-way counts the records of --count it never sent as
// not delivered: sent + failed is --count.
func TestProduceStoppedCountsUnsent(t *testing.T) {
	f := &fakeKinesis{failCall: 2, failErr: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: kinesis:PutRecords"}}
	code, stdout, stderr := runWithKinesis(t, f, false, "produce", "--stream", "s", "--count", "1700", "--json")
	if code != exitFailure {
		t.Errorf("exit = %d; want 1", code)
	}
	var sum produceSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("--json summary %q: %v", stdout, err)
	}
	if sum.Sent != 500 || sum.Failed != 1200 || len(f.stored) != 500 {
		t.Errorf("summary %+v, stored %d; want 500 sent, 1200 failed", sum, len(f.stored))
	}
	if !strings.Contains(stderr, "1200 records not delivered (700 of them not sent after the error)") || !strings.Contains(stderr, "AccessDeniedException") {
		t.Errorf("stderr = %q; want it to count the 1200 records not delivered and name the error", stderr)
	}
}
