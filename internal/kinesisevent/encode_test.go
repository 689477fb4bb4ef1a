package kinesisevent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestEpochSeconds(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.UnixMilli(1545084650987), "1545084650.987"},
		{time.UnixMilli(1545084650000), "1545084650"},
		{time.UnixMilli(1545084650100), "1545084650.1"},
		{time.UnixMilli(1545084650001), "1545084650.001"},
		// What aws-lambda-go decodes 1545084650.987 to.
		{time.Unix(1545084650, 986_999_893), "1545084650.987"},
		{time.Unix(1545084650, 999_999_999), "1545084651"},
		{time.Unix(1545084650, 400_000), "1545084650"},
	}
	for _, tc := range tests {
		if got := epochSeconds(tc.t); string(got) != tc.want {
			t.Errorf("epochSeconds(%v) = %s; want %s", tc.t.UnixNano(), got, tc.want)
		}
	}
}

// TestEncodeMemberOrder checks that records are written with their members in
// the order of the events Lambda delivers (the developer guide's example event),
// not aws-lambda-go's field order, and that decoding gives back the event.
func TestEncodeMemberOrder(t *testing.T) {
	ev, err := Build([]Record{
		{PartitionKey: "a<b>&c", Data: []byte("Hello, this is a test."), ArrivalTime: time.UnixMilli(1545084650987)},
		{PartitionKey: "empty", ArrivalTime: time.UnixMilli(1545084651000)},
	}, Options{ShardID: "shardId-000000000006", StreamARN: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	seq := ev.Records[0].Kinesis.SequenceNumber
	want := `{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"a<b>&c","sequenceNumber":"` + seq +
		`","data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","approximateArrivalTimestamp":1545084650.987},` +
		`"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000006:` + seq +
		`","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/streamlake-processor-role",` +
		`"awsRegion":"us-east-2","eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"},{"kinesis":`
	if !strings.HasPrefix(string(b), want) {
		t.Errorf("Encode =\n%s\nwant it to start with\n%s", b, want)
	}
	if !strings.Contains(string(b), `"data":"","approximateArrivalTimestamp":1545084651}`) {
		t.Errorf("Encode = %s; want empty data as \"\" and a whole second without decimals", b)
	}
	var back events.KinesisEvent
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	again, err := Encode(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(b) {
		t.Errorf("Encode(decode(Encode(ev))) =\n%s\nwant\n%s", again, b)
	}
	indented, err := Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(indented), "{\n      \"kinesis\": {\n        \"kinesisSchemaVersion\": \"1.0\",\n        \"partitionKey\": \"a<b>&c\",") {
		t.Errorf("Marshal =\n%s\nwant Lambda's member order, indented, strings unescaped", indented)
	}
}

func TestEncodeEncryptionType(t *testing.T) {
	ev, err := Build(records(1, time.Millisecond), Options{EncryptionType: "KMS"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"approximateArrivalTimestamp":1795268400,"encryptionType":"KMS"},"eventSource"`) {
		t.Errorf("Encode = %s; want encryptionType after the arrival time", b)
	}
}

// TestAppendRecordNilData: a record without data is written with "data": "", as
// Lambda writes an empty record, never null (which aws-lambda-go's decoder and
// others reading the event would take for a missing member).
func TestAppendRecordNilData(t *testing.T) {
	for _, data := range [][]byte{nil, {}} {
		r := events.KinesisEventRecord{EventSource: "aws:kinesis", Kinesis: events.KinesisRecord{PartitionKey: "k", SequenceNumber: "1", Data: data}}
		b, err := AppendRecord(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"data":""`) {
			t.Errorf("AppendRecord(data %#v) = %s; want \"data\":\"\"", data, b)
		}
	}
}
