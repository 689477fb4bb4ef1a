package esm

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/onfailure"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func goldenSource() eventSource {
	return eventSource{
		shardID:           "shardId-000000000006",
		invokeIdentityARN: "arn:aws:iam::123456789012:role/lambda-role",
		region:            "us-east-2",
		streamARN:         "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
	}
}

func goldenRecords(t *testing.T) []*record {
	src := goldenSource()
	in := []struct {
		seq, key string
		data     []byte
		arrival  time.Time
	}{
		{"49590338271490256608559692538361571095921575989136588898", "1", []byte("Hello, this is a test."), time.UnixMilli(1545084650987)},
		{"49590338271490256608559692538361571095921575989136588899", "a<b>&c", []byte(`{"device_id":"d-1","temperature":21.5}`), time.UnixMilli(1545084651000)},
		{"49590338271490256608559692538361571095921575989136588900", "bin", []byte{0xff, 0x00, 0x10}, time.UnixMilli(1545084651010)},
		{"49590338271490256608559692538361571095921575989136588901", "empty", nil, time.UnixMilli(1545084651999)},
	}
	var recs []*record
	for _, r := range in {
		js, err := src.encodeRecord(r.seq, r.key, r.data, r.arrival)
		if err != nil {
			t.Fatalf("encodeRecord(%s) = %v", r.seq, err)
		}
		recs = append(recs, &record{seq: r.seq, partitionKey: r.key, arrival: r.arrival, json: js})
	}
	return recs
}

// TestEventGolden pins the exact bytes of a Kinesis event [S9]: field names and
// order, base64 data, approximateArrivalTimestamp in seconds with ms, eventID.
func TestEventGolden(t *testing.T) {
	recs := goldenRecords(t)
	ev := buildEvent(recs)
	if got := eventSize(recs); got != len(ev) {
		t.Errorf("eventSize() = %d; want len(buildEvent()) = %d", got, len(ev))
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, ev, "", "  "); err != nil {
		t.Fatalf("event is not JSON: %v", err)
	}
	golden(t, "kinesis-event.golden.json", append(pretty.Bytes(), '\n'))
}

// TestEventDecodesAsAWSLambdaGo checks the event against aws-lambda-go's
// events.KinesisEvent, which functions decode it into [S10].
func TestEventDecodesAsAWSLambdaGo(t *testing.T) {
	var ev events.KinesisEvent
	if err := json.Unmarshal(buildEvent(goldenRecords(t)), &ev); err != nil {
		t.Fatalf("decode into events.KinesisEvent: %v", err)
	}
	if len(ev.Records) != 4 {
		t.Fatalf("len(Records) = %d; want 4", len(ev.Records))
	}
	r := ev.Records[0]
	want := events.KinesisEventRecord{
		AwsRegion:         "us-east-2",
		EventID:           "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
		EventName:         "aws:kinesis:record",
		EventSource:       "aws:kinesis",
		EventSourceArn:    "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
		EventVersion:      "1.0",
		InvokeIdentityArn: "arn:aws:iam::123456789012:role/lambda-role",
		Kinesis: events.KinesisRecord{
			Data:                 []byte("Hello, this is a test."),
			PartitionKey:         "1",
			SequenceNumber:       "49590338271490256608559692538361571095921575989136588898",
			KinesisSchemaVersion: "1.0",
		},
	}
	got := r
	got.Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	// float64 seconds lose sub-µs precision in aws-lambda-go; the ms must survive.
	if d := r.Kinesis.ApproximateArrivalTimestamp.Sub(time.UnixMilli(1545084650987)); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("approximateArrivalTimestamp = %v; want 1545084650.987", r.Kinesis.ApproximateArrivalTimestamp.Time)
	}
	if got := ev.Records[2].Kinesis.Data; !bytes.Equal(got, []byte{0xff, 0x00, 0x10}) {
		t.Errorf("binary data = %x; want ff0010", got)
	}
	if got := ev.Records[3].Kinesis.Data; got == nil || len(got) != 0 {
		t.Errorf("empty data = %#v; want an empty, non-nil slice", got)
	}
}

func TestNewOnFailureRecord(t *testing.T) {
	s := &settings{Config: Config{FunctionARN: testFunctionARN, StreamARN: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}}
	recs := goldenRecords(t)[:3]
	now := time.Date(2019, 11, 14, 0, 38, 6, 21_500_000, time.UTC)
	tests := []struct {
		name      string
		condition string
		att       attempt
		wantCtx   onfailure.ResponseContext
		wantCount int
	}{
		{"function error", onfailure.ConditionRetryAttemptsExhausted, attempt{invokes: 3, functionError: "errorString", requestID: "c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5"},
			onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: new("Unhandled")}, 3},
		{"partial failure", onfailure.ConditionRetryAttemptsExhausted, attempt{invokes: 2, requestID: "c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5"},
			onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"}, 2},
		// Recorded from AWS (LocalStack test_lambda_integration_kinesis.snapshot.json,
		// TestKinesisSource::test_kinesis_maximum_record_age_exceeded[expire-before-ingestion]):
		// approximateInvokeCount 1 and no responseContext.
		{"expired before any invocation", onfailure.ConditionRecordAgeExceeded, attempt{requestID: "c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5", beforeInvoke: true},
			onfailure.ResponseContext{}, 1},
		// ...[expire-while-retrying]: no responseContext after invocations either.
		{"expired while retrying", onfailure.ConditionRecordAgeExceeded, attempt{invokes: 7, functionError: "errorString", requestID: "c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5", beforeInvoke: true},
			onfailure.ResponseContext{}, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := newOnFailureRecord(s, "shardId-000000000006", recs, tc.condition, tc.att, now)
			want := onfailure.Record{
				RequestContext: onfailure.RequestContext{RequestID: "c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5", FunctionARN: testFunctionARN,
					Condition: tc.condition, ApproximateInvokeCount: tc.wantCount},
				ResponseContext: tc.wantCtx,
				Version:         "1.0",
				Timestamp:       "2019-11-14T00:38:06.021Z",
				KinesisBatchInfo: onfailure.KinesisBatchInfo{
					ShardID:                         "shardId-000000000006",
					StartSequenceNumber:             "49590338271490256608559692538361571095921575989136588898",
					EndSequenceNumber:               "49590338271490256608559692538361571095921575989136588900",
					ApproximateArrivalOfFirstRecord: "2018-12-17T22:10:50.987Z",
					ApproximateArrivalOfLastRecord:  "2018-12-17T22:10:51.010Z",
					BatchSize:                       3,
					StreamARN:                       "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
				},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("newOnFailureRecord (-want +got):\n%s", diff)
			}
			body, err := marshalOnFailure(got)
			if err != nil {
				t.Fatal(err)
			}
			checkOnFailureShape(t, body)
		})
	}
	t.Run("golden", func(t *testing.T) {
		body, err := marshalOnFailure(newOnFailureRecord(s, "shardId-000000000006", recs, onfailure.ConditionRetryAttemptsExhausted, tests[0].att, now))
		if err != nil {
			t.Fatal(err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, []byte(body), "", "    "); err != nil {
			t.Fatal(err)
		}
		golden(t, "on-failure-record.golden.json", append(pretty.Bytes(), '\n'))
	})
	t.Run("random request id", func(t *testing.T) {
		a := newOnFailureRecord(s, "shardId-000000000006", recs, onfailure.ConditionRetryAttemptsExhausted, attempt{invokes: 1}, now)
		b := newOnFailureRecord(s, "shardId-000000000006", recs, onfailure.ConditionRetryAttemptsExhausted, attempt{invokes: 1}, now)
		if a.RequestContext.RequestID == b.RequestContext.RequestID {
			t.Errorf("two records share request id %s; want random UUIDs", a.RequestContext.RequestID)
		}
		body, _ := marshalOnFailure(a)
		checkOnFailureShape(t, body)
	})
}
