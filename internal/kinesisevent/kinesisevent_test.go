package kinesisevent

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC)

func records(n int, step time.Duration) []Record {
	out := make([]Record, n)
	for i := range out {
		out[i] = Record{PartitionKey: "sensor-0001", Data: []byte{byte(i), 0xfb, 0xff}, ArrivalTime: t0.Add(time.Duration(i) * step)}
	}
	return out
}

func TestBuildShape(t *testing.T) {
	in := []Record{
		{PartitionKey: "sensor-0001", Data: []byte(`{"device_id":"sensor-0001"}`), ArrivalTime: t0.Add(123 * time.Millisecond)},
		{PartitionKey: "bin", Data: []byte{0xfb, 0xff, 0xfe}, ArrivalTime: t0.Add(time.Second + 987654321)},
		{PartitionKey: "empty", ArrivalTime: t0.Add(2 * time.Second)},
	}
	ev, err := Build(in, Options{})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	b, err := Marshal(ev)
	if err != nil {
		t.Fatalf("Marshal error: %v", err)
	}
	var raw struct {
		Records []map[string]json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	first := raw.Records[0]
	want := map[string]string{
		"awsRegion":         `"us-east-1"`,
		"eventID":           `"shardId-000000000000:49657148256837120925312649873215874502659812305470881794"`,
		"eventName":         `"aws:kinesis:record"`,
		"eventSource":       `"aws:kinesis"`,
		"eventSourceARN":    `"arn:aws:kinesis:us-east-1:123456789012:stream/streamlake-sensor-stream"`,
		"eventVersion":      `"1.0"`,
		"invokeIdentityArn": `"arn:aws:iam::123456789012:role/streamlake-processor-role"`,
	}
	for k, v := range want {
		if got := string(first[k]); got != v {
			t.Errorf("Records[0].%s = %s; want %s", k, got, v)
		}
	}
	var kin []map[string]any
	for _, r := range raw.Records {
		var m map[string]any
		if err := json.Unmarshal(r["kinesis"], &m); err != nil {
			t.Fatal(err)
		}
		kin = append(kin, m)
	}
	if got := kin[1]["data"]; got != "+//+" {
		t.Errorf("binary data = %v; want standard base64 +//+", got)
	}
	if got := kin[2]["data"]; got != "" {
		t.Errorf("empty data = %#v; want \"\"", got)
	}
	if got := kin[0]["kinesisSchemaVersion"]; got != "1.0" {
		t.Errorf("kinesisSchemaVersion = %v; want 1.0", got)
	}
	if _, ok := kin[0]["encryptionType"]; ok {
		t.Errorf("encryptionType present without Options.EncryptionType")
	}
	// aws-lambda-go would encode 13:40:00.123 as 1795268400.1230001, so Build
	// moves it to .124.
	if !strings.Contains(string(b), "\"approximateArrivalTimestamp\": 1795268400.124\n") ||
		!strings.Contains(string(b), "\"approximateArrivalTimestamp\": 1795268401.987\n") {
		t.Errorf("arrival timestamps not in epoch seconds with ms precision:\n%s", b)
	}
	if !bytes.HasSuffix(b, []byte("}\n")) || !bytes.HasPrefix(b, []byte("{\n  \"Records\": [\n")) {
		t.Errorf("Marshal output is not indented JSON with a final newline:\n%s", b)
	}
}

func TestBuildRoundTrip(t *testing.T) {
	ev, err := Build(records(500, 37*time.Millisecond), Options{EncryptionType: "KMS"})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	b, err := Marshal(ev)
	if err != nil {
		t.Fatalf("Marshal error: %v", err)
	}
	var back events.KinesisEvent
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("decode: %v", err)
	}
	b2, err := Marshal(back)
	if err != nil {
		t.Fatalf("Marshal(decoded) error: %v", err)
	}
	if !bytes.Equal(b, b2) {
		t.Errorf("decode + encode changed the event:\n%s", cmp.Diff(string(b), string(b2)))
	}
	for i, r := range back.Records {
		if want := []byte{byte(i), 0xfb, 0xff}; !bytes.Equal(r.Kinesis.Data, want) {
			t.Fatalf("record %d data = %x; want %x", i, r.Kinesis.Data, want)
		}
	}
}

func TestSequenceNumbers(t *testing.T) {
	ev, err := Build(records(2000, time.Millisecond), Options{ShardID: "shardId-000000000003"})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	digits := regexp.MustCompile(`^[1-9][0-9]{55}$`)
	prev := new(big.Int)
	for i, r := range ev.Records {
		s := r.Kinesis.SequenceNumber
		if !digits.MatchString(s) {
			t.Fatalf("record %d sequence number %q; want 56 digits", i, s)
		}
		n, _ := new(big.Int).SetString(s, 10)
		if n.Cmp(prev) <= 0 {
			t.Fatalf("record %d sequence number %s does not increase", i, s)
		}
		prev = n
		if want := "shardId-000000000003:" + s; r.EventID != want {
			t.Fatalf("record %d eventID = %s; want %s", i, r.EventID, want)
		}
	}
}

func TestArrivalTimesPrintAsMilliseconds(t *testing.T) {
	ev, err := Build(records(5000, time.Millisecond), Options{})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	prev := time.Time{}
	moved := 0
	for i, r := range ev.Records {
		at := r.Kinesis.ApproximateArrivalTimestamp.Time
		b, _ := json.Marshal(r.Kinesis.ApproximateArrivalTimestamp)
		if dot := bytes.IndexByte(b, '.'); dot >= 0 && len(b)-dot-1 > 3 {
			t.Fatalf("record %d arrival encodes as %s; want at most 3 decimals", i, b)
		}
		if at.Before(prev) {
			t.Fatalf("record %d arrival %s before previous %s", i, at, prev)
		}
		want := t0.Add(time.Duration(i) * time.Millisecond)
		if d := at.Sub(want); d < 0 || d > 5*time.Millisecond {
			t.Fatalf("record %d arrival %s; want within 5ms after %s", i, at, want)
		}
		if !at.Equal(want) {
			moved++
		}
		prev = at
	}
	if moved == 0 {
		t.Errorf("no arrival time needed moving; the test does not exercise printable")
	}
}

func TestOptions(t *testing.T) {
	in := records(1, time.Second)
	ev, err := Build(in, Options{StreamARN: "arn:aws:kinesis:eu-west-1:111122223333:stream/other"})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	r := ev.Records[0]
	if r.AwsRegion != "eu-west-1" || r.InvokeIdentityArn != "arn:aws:iam::111122223333:role/streamlake-processor-role" {
		t.Errorf("region %s, role %s; want them from the stream ARN", r.AwsRegion, r.InvokeIdentityArn)
	}
	ev, err = Build(in, Options{StreamARN: "arn:aws-cn:kinesis:cn-north-1:111122223333:stream/other"})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	if r := ev.Records[0]; r.AwsRegion != "cn-north-1" || r.InvokeIdentityArn != "arn:aws-cn:iam::111122223333:role/streamlake-processor-role" {
		t.Errorf("region %s, role %s; want them from the aws-cn stream ARN", r.AwsRegion, r.InvokeIdentityArn)
	}
	ev, err = Build(in, Options{Region: "ap-south-1"})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	if got, want := ev.Records[0].EventSourceArn, "arn:aws:kinesis:ap-south-1:123456789012:stream/streamlake-sensor-stream"; got != want {
		t.Errorf("eventSourceARN = %s; want %s", got, want)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []Record
		opts Options
		want string
	}{
		{"none", nil, Options{}, "no records"},
		{"too many", records(MaxRecords+1, 0), Options{}, "at most 10000"},
		{"no key", []Record{{ArrivalTime: t0}}, Options{}, "record 0: partition key is empty"},
		{"no time", []Record{{PartitionKey: "k"}}, Options{}, "record 0: arrival time is missing"},
		{"time goes back", []Record{{PartitionKey: "k", ArrivalTime: t0}, {PartitionKey: "k", ArrivalTime: t0.Add(-time.Millisecond)}}, Options{},
			"record 1: arrival time 2026-11-21T13:39:59.999Z is before"},
		{"bad ARN", records(1, 0), Options{StreamARN: "arn:aws:sqs:us-east-1:123456789012:queue"}, "is not a Kinesis stream ARN"},
		{"ARN without stream/", records(1, 0), Options{StreamARN: "arn:aws:kinesis:us-east-1:123456789012:s"}, "is not a Kinesis stream ARN"},
		{"ARN without region", records(1, 0), Options{StreamARN: "arn:aws:kinesis::123456789012:stream/s"}, "is not a Kinesis stream ARN"},
		{"ARN without account", records(1, 0), Options{StreamARN: "arn:aws:kinesis:us-east-1::stream/s"}, "is not a Kinesis stream ARN"},
		{"too few ARN sections", records(1, 0), Options{StreamARN: "arn:aws:kinesis:us-east-1:stream/s"}, "is not a Kinesis stream ARN"},
		{"not an ARN", records(1, 0), Options{StreamARN: "stream/s"}, "is not a Kinesis stream ARN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.in, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build error = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMarshalTooLarge(t *testing.T) {
	in := make([]Record, 7)
	for i := range in {
		in[i] = Record{PartitionKey: "k", Data: make([]byte, 700<<10), ArrivalTime: t0}
	}
	ev, err := Build(in, Options{})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	if _, err := Marshal(ev); err == nil || !strings.Contains(err.Error(), "Lambda accepts at most 6291456") {
		t.Errorf("Marshal of a %d-record event error = %v; want the 6 MB payload limit", len(in), err)
	}
}

func TestDataIsStandardBase64(t *testing.T) {
	data := []byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0xfb}
	ev, err := Build([]Record{{PartitionKey: "k", Data: data, ArrivalTime: t0}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Marshal(ev)
	if want := `"data": "` + base64.StdEncoding.EncodeToString(data) + `"`; !strings.Contains(string(b), want) {
		t.Errorf("event %s; want %s", b, want)
	}
}
