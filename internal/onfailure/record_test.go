package onfailure

import (
	"encoding/json"
	"testing"
	"time"
)

// TestRecordJSON: a Record encodes with AWS's field names and order [S3], a
// zero ResponseContext leaves the key out (records discarded before an
// invocation), and the encoding round-trips.
func TestRecordJSON(t *testing.T) {
	unhandled := FunctionErrorUnhandled
	info := KinesisBatchInfo{ShardID: "shardId-000000000001", StartSequenceNumber: "41", EndSequenceNumber: "45",
		ApproximateArrivalOfFirstRecord: "2026-07-12T14:03:05.001Z", ApproximateArrivalOfLastRecord: "2026-07-12T14:03:05.020Z",
		BatchSize: 5, StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/telemetry"}
	const infoJSON = `"KinesisBatchInfo":{"shardId":"shardId-000000000001","startSequenceNumber":"41","endSequenceNumber":"45","approximateArrivalOfFirstRecord":"2026-07-12T14:03:05.001Z","approximateArrivalOfLastRecord":"2026-07-12T14:03:05.020Z","batchSize":5,"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/telemetry"}}`
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"retries exhausted", Record{
			RequestContext:  RequestContext{RequestID: "c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5", FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:processor", Condition: ConditionRetryAttemptsExhausted, ApproximateInvokeCount: 3},
			ResponseContext: ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: &unhandled},
			Version:         Version, Timestamp: "2026-07-12T14:03:07.120Z", KinesisBatchInfo: info},
			`{"requestContext":{"requestId":"c9b8fa9f-5a7f-4c0e-af9c-0c604cde93a5","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:processor","condition":"RetryAttemptsExhausted","approximateInvokeCount":3},` +
				`"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2026-07-12T14:03:07.120Z",` + infoJSON},
		{"partial batch response", Record{
			RequestContext:  RequestContext{RequestID: "r", FunctionARN: "f", Condition: ConditionRetryAttemptsExhausted, ApproximateInvokeCount: 4},
			ResponseContext: ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"},
			Version:         Version, Timestamp: "2026-07-12T14:03:07.120Z", KinesisBatchInfo: info},
			`{"requestContext":{"requestId":"r","functionArn":"f","condition":"RetryAttemptsExhausted","approximateInvokeCount":4},` +
				`"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":null},"version":"1.0","timestamp":"2026-07-12T14:03:07.120Z",` + infoJSON},
		{"record age", Record{
			RequestContext: RequestContext{RequestID: "r", FunctionARN: "f", Condition: ConditionRecordAgeExceeded, ApproximateInvokeCount: 1},
			Version:        Version, Timestamp: "2026-07-12T14:03:07.120Z", KinesisBatchInfo: info},
			`{"requestContext":{"requestId":"r","functionArn":"f","condition":"RecordAgeExceeded","approximateInvokeCount":1},"version":"1.0","timestamp":"2026-07-12T14:03:07.120Z",` + infoJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("json.Marshal(%+v) =\n%s\nwant\n%s", tc.rec, b, tc.want)
			}
			var back Record
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(back)
			if string(again) != tc.want {
				t.Errorf("round trip = %s; want %s", again, tc.want)
			}
		})
	}
}

func TestTime(t *testing.T) {
	at := time.Date(2019, 11, 14, 1, 38, 6, 21_500_000, time.FixedZone("CET", 3600))
	if got, want := Time(at), "2019-11-14T00:38:06.021Z"; got != want {
		t.Errorf("Time(%v) = %s; want %s", at, got, want)
	}
	if got, want := Time(time.Date(2019, 11, 14, 0, 38, 6, 0, time.UTC)), "2019-11-14T00:38:06.000Z"; got != want {
		t.Errorf("Time(whole second) = %s; want %s", got, want)
	}
}

// TestConditions: the condition strings are the ones AWS writes. RecordAgeExceeded
// is recorded from real AWS (LocalStack test_lambda_integration_kinesis.snapshot.json,
// test_kinesis_maximum_record_age_exceeded[*]); MaximumPayloadSizeExceeded is the
// condition AWS documents for a batch over the invoke payload limit ("Capturing
// discarded batches for an Amazon MSK event source",
// https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html).
func TestConditions(t *testing.T) {
	for got, want := range map[string]string{
		ConditionRetryAttemptsExhausted:     "RetryAttemptsExhausted",
		ConditionRecordAgeExceeded:          "RecordAgeExceeded",
		ConditionMaximumPayloadSizeExceeded: "MaximumPayloadSizeExceeded",
	} {
		if got != want {
			t.Errorf("condition %q; want %q", got, want)
		}
	}
}
