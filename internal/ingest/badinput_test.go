package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/record"
)

// eventJSON returns the JSON of a valid event with payloads, after mutate.
func eventJSON(t *testing.T, mutate func(ev *events.KinesisEvent), payloads ...[]byte) []byte {
	t.Helper()
	ev := kinesisEvent(payloads...)
	if mutate != nil {
		mutate(ev)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// renumber gives the records the sequence numbers seqs.
func renumber(seqs ...string) func(ev *events.KinesisEvent) {
	return func(ev *events.KinesisEvent) {
		for i, s := range seqs {
			ev.Records[i].Kinesis.SequenceNumber = s
			ev.Records[i].EventID = shard + ":" + s
		}
	}
}

// TestBadInputMatrix feeds the handler events that are broken, of the wrong
// source, huge, or odd in their data. A rejected event is an *EventError with a
// clear reason and stores nothing; an accepted one stores every record in
// exactly one line whose original_data is the record's payload.
func TestBadInputMatrix(t *testing.T) {
	valid := eventJSON(t, nil, sensor(0, "2026-11-21T13:40:00Z"), sensor(1, "2026-11-21T13:40:01Z"))
	big := func(n int) []byte {
		return fmt.Appendf(nil, `{"device_id":"sensor-0001","timestamp":"2026-11-21T13:40:00Z","blob":%q}`, strings.Repeat("x", n))
	}
	deep := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	tests := []struct {
		name  string
		event []byte
		// err is a substring of the EventError; "" means the event is accepted.
		err string
		// payloads are the data of the records of an accepted event, in order.
		payloads [][]byte
		// partitionKey, if set, is the stored partition key of every line.
		partitionKey string
	}{
		// Malformed or truncated.
		{name: "empty body", event: []byte(``), err: "not a JSON object"},
		{name: "whitespace", event: []byte(" \n\t"), err: "not a JSON object"},
		{name: "null", event: []byte(`null`), err: "not a JSON object"},
		{name: "array", event: []byte(`[{"Records":[]}]`), err: "not a JSON object"},
		{name: "number beyond float64", event: []byte(`1e400`), err: "not a JSON object"},
		{name: "truncated", event: valid[:len(valid)/2], err: "invalid Kinesis event"},
		{name: "truncated by one byte", event: valid[:len(valid)-1], err: "invalid Kinesis event"},
		{name: "trailing garbage", event: append(append([]byte{}, valid...), []byte(" {}")...), err: "invalid Kinesis event"},
		{name: "Records is an object", event: []byte(`{"Records":{}}`), err: "invalid Kinesis event"},
		{name: "Records holds null", event: []byte(`{"Records":[null]}`), err: `eventSource is ""`},
		{name: "record without fields", event: []byte(`{"Records":[{}]}`), err: `eventSource is ""`},
		{name: "data not base64", event: []byte(`{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"%%%"}}]}`), err: "invalid Kinesis event: decode: record 0: "},
		{name: "deeply nested event (100k levels)", event: []byte(strings.Repeat(`{"Records":`, 100000) + "[]" + strings.Repeat("}", 100000)), err: "invalid Kinesis event"},
		{name: "arrival time beyond float64", event: bytes.Replace(valid, []byte(`"approximateArrivalTimestamp":1795269598`), []byte(`"approximateArrivalTimestamp":1e400`), 1), err: "invalid Kinesis event"},
		{name: "arrival time a string", event: bytes.Replace(valid, []byte(`"approximateArrivalTimestamp":1795269598`), []byte(`"approximateArrivalTimestamp":"now"`), 1), err: "invalid Kinesis event: decode: record 0: json: cannot unmarshal string"},
		{name: "second record's arrival time a string", event: bytes.Replace(valid, []byte(`"approximateArrivalTimestamp":1795269599`), []byte(`"approximateArrivalTimestamp":"now"`), 1), err: "invalid Kinesis event: decode: record 1: json: cannot unmarshal string"},
		{name: "no arrival time", event: bytes.Replace(valid, []byte(`"approximateArrivalTimestamp":1795269598,`), nil, 1), err: "record 0: approximateArrivalTimestamp is missing"},
		{name: "arrival time of Go's zero time", event: eventJSON(t, func(ev *events.KinesisEvent) {
			ev.Records[1].Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{}
		}, []byte("a"), []byte("b")), err: "record 1: approximateArrivalTimestamp 1754-08-30T22:43:41.12865448Z is not a time Kinesis gives"},
		{name: "arrival time negative", event: bytes.Replace(valid, []byte(`"approximateArrivalTimestamp":1795269598`), []byte(`"approximateArrivalTimestamp":-5.5`), 1),
			err: "approximateArrivalTimestamp 1969-12-31T23:59:54.5Z is not a time Kinesis gives (want one from 1970-01-01T00:00:01Z to 9999-12-31T23:59:59.999Z, rounded to the millisecond)"},
		{name: "arrival time 0.5", event: bytes.Replace(valid, []byte(`"approximateArrivalTimestamp":1795269598`), []byte(`"approximateArrivalTimestamp":0.5`), 1),
			err: "approximateArrivalTimestamp 1970-01-01T00:00:00.5Z is not a time Kinesis gives"},
		{name: "arrival time in the year 10000", event: bytes.Replace(valid, []byte(`"approximateArrivalTimestamp":1795269598`), []byte(`"approximateArrivalTimestamp":253402300800.5`), 1),
			err: "approximateArrivalTimestamp 10000-01-01T00:00:00.5Z is not a time Kinesis gives"},
		{name: "arrival time rounding into the year 10000", event: bytes.Replace(valid, []byte(`"approximateArrivalTimestamp":1795269598`), []byte(`"approximateArrivalTimestamp":253402300799.9996`), 1),
			err: "approximateArrivalTimestamp 9999-12-31T23:59:59.9996"},
		{name: "arrival time 1e300", event: bytes.Replace(valid, []byte(`"approximateArrivalTimestamp":1795269598`), []byte(`"approximateArrivalTimestamp":1e300`), 1),
			err: "is not a time Kinesis gives"},
		{name: "sequence number not decimal", event: eventJSON(t, renumber("1", "0x2"), []byte("a"), []byte("b")), err: `sequenceNumber "0x2" is not a decimal number`},
		{name: "sequence number 200 digits", event: eventJSON(t, renumber("1", strings.Repeat("9", 200)), []byte("a"), []byte("b")), err: "is not a decimal number of 1 to 129 digits"},
		{name: "sequence number 130 digits", event: eventJSON(t, renumber("1", strings.Repeat("9", 130)), []byte("a"), []byte("b")), err: "is not a decimal number of 1 to 129 digits"},
		{name: "duplicate sequence numbers", event: eventJSON(t, renumber("5", "5"), sensor(0, "bad"), sensor(1, "bad")), err: "sequenceNumber 5 is not after the previous record's 5"},
		{name: "decreasing sequence numbers", event: eventJSON(t, renumber("10", "9"), []byte("a"), []byte("b")), err: "sequenceNumber 9 is not after the previous record's 10"},
		{name: "eventID of another record", event: eventJSON(t, func(ev *events.KinesisEvent) { ev.Records[0].EventID = ev.Records[1].EventID }, []byte("a"), []byte("b")), err: "eventID"},
		{name: "two shards", event: eventJSON(t, func(ev *events.KinesisEvent) {
			ev.Records[1].EventID = "shardId-000000000001:" + ev.Records[1].Kinesis.SequenceNumber
		}, []byte("a"), []byte("b")), err: "differs from the batch's shard"},

		// Members that encoding/json would read into one field: the last would
		// win and the other records or payloads would be lost.
		{name: "Records twice", event: bytes.Replace(valid, []byte(`{"Records":`), []byte(`{"Records":[],"Records":`), 1), err: `the event has the member "Records" twice`},
		{name: "Records and records", event: append(bytes.Clone(bytes.TrimSuffix(bytes.TrimSpace(valid), []byte("}"))), []byte(`,"records":[]}`)...),
			err: `the event has the members "Records" and "records", which encoding/json reads as one`},
		{name: "data twice in a record", event: bytes.Replace(valid, []byte(`"data":`), []byte(`"data":"YQ==","Data":`), 1),
			err: `record 0: kinesis has the members "data" and "Data", which encoding/json reads as one`},
		{name: "data twice in the second record", event: func() []byte {
			i := bytes.LastIndex(valid, []byte(`"data":`))
			return slices.Concat(valid[:i], []byte(`"data":"YQ==",`), valid[i:])
		}(), err: `record 1: kinesis has the member "data" twice`},
		{name: "kinesis twice in a record", event: bytes.Replace(valid, []byte(`"kinesis":`), []byte(`"Kinesis":{},"kinesis":`), 1),
			err: `record 0 has the members "Kinesis" and "kinesis"`},

		// Events of other sources.
		{name: "SQS event", event: []byte(`{"Records":[{"messageId":"1","receiptHandle":"r","body":"{}","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:q"}]}`), err: `eventSource is "aws:sqs"`},
		{name: "S3 event", event: []byte(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`), err: `eventSource is "aws:s3"`},
		{name: "DynamoDB Streams event", event: []byte(`{"Records":[{"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"111"}}]}`), err: `eventSource is "aws:dynamodb"`},
		{name: "SNS event", event: []byte(`{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0","Sns":{"Message":"x"}}]}`), err: `eventSource is "aws:sns"`},
		{name: "EventBridge event", event: []byte(`{"version":"0","id":"1","detail-type":"Object Created","source":"aws.s3","detail":{}}`), err: `no "Records" array`},
		{name: "S3 test event", event: []byte(`{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}`), err: `no "Records" array`},
		{name: "API Gateway event", event: []byte(`{"resource":"/","httpMethod":"POST","body":"{\"Records\":[]}"}`), err: `no "Records" array`},
		{name: "Kinesis time-window event", event: []byte(`{"Records":[],"window":{"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z"},"state":{},"shardId":"s","isFinalInvokeForWindow":false}`)},
		{name: "a member of no field in two cases", event: []byte(`{"Records":[],"state":{"a":1,"A":2},"State":{},"shardId":"s"}`)},

		// Valid events with odd data: nothing lost.
		{name: "empty batch", event: []byte(`{"Records":[]}`)},
		{name: "record over 1 MiB", event: eventJSON(t, nil, big(1536<<10)), payloads: [][]byte{big(1536 << 10)}},
		{name: "event over 6 MB", event: eventJSON(t, nil, big(1400<<10), big(1400<<10), big(1400<<10), big(1400<<10), big(1400<<10)),
			payloads: [][]byte{big(1400 << 10), big(1400 << 10), big(1400 << 10), big(1400 << 10), big(1400 << 10)}},
		{name: "invalid UTF-8 data", event: eventJSON(t, nil, []byte("{\"a\":\"\xff\xfe\"}"), []byte{0xc0, 0xaf}), payloads: [][]byte{[]byte("{\"a\":\"\xff\xfe\"}"), {0xc0, 0xaf}}},
		{name: "invalid UTF-8 in the event JSON", event: bytes.Replace(eventJSON(t, nil, []byte("a")), []byte(`"partitionKey":"sensor-0000"`), []byte("\"partitionKey\":\"sensor-\xff\""), 1),
			payloads: [][]byte{[]byte("a")}, partitionKey: "sensor-\uFFFD"},
		{name: "deeply nested data (100k levels)", event: eventJSON(t, nil, deep(100000)), payloads: [][]byte{deep(100000)}},
		{name: "numbers beyond float64", event: eventJSON(t, nil, []byte(`{"n":1e400,"i":123456789012345678901234567890,"m":-1e-400}`)),
			payloads: [][]byte{[]byte(`{"n":1e400,"i":123456789012345678901234567890,"m":-1e-400}`)}},
		{name: "empty, null and whitespace data", event: eventJSON(t, nil, []byte{}, []byte("null"), []byte(" ")), payloads: [][]byte{{}, []byte("null"), []byte(" ")}},
		{name: "3 MiB of control bytes (18 MiB escaped)", event: eventJSON(t, nil, bytes.Repeat([]byte{1}, 3<<20), sensor(1, "2026-11-21T13:40:01Z")),
			payloads: [][]byte{bytes.Repeat([]byte{1}, 3<<20), sensor(1, "2026-11-21T13:40:01Z")}},
		{name: "NUL and control bytes", event: eventJSON(t, nil, []byte("\x00\x01\x1b[31m")), payloads: [][]byte{[]byte("\x00\x01\x1b[31m")}},
		{name: "sequence numbers of different lengths", event: eventJSON(t, renumber("9", "10", "00011"), []byte("a"), []byte("b"), []byte("c")),
			payloads: [][]byte{[]byte("a"), []byte("b"), []byte("c")}},
		{name: "sequence number of 129 digits, the API's longest", event: eventJSON(t, renumber("9", "1"+strings.Repeat("0", 128)), []byte("a"), []byte("b")),
			payloads: [][]byte{[]byte("a"), []byte("b")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := newMemSink()
			resp, err := fuzzProcessor(sink).HandleJSON(context.Background(), tc.event)
			if tc.err != "" {
				var ee *EventError
				if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("HandleJSON(%.60q) error = %v; want an EventError containing %q", tc.event, err, tc.err)
				}
				if len(sink.objects) != 0 {
					t.Errorf("a rejected event stored %d objects", len(sink.objects))
				}
				return
			}
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("HandleJSON = %v, %v; want success", resp, err)
			}
			var ev events.KinesisEvent
			if err := json.Unmarshal(tc.event, &ev); err != nil {
				t.Fatal(err)
			}
			for key, obj := range sink.objects {
				// Every line is one the pipeline's own reader takes.
				r, err := ndjson.NewReader(key, obj.Body)
				if err != nil {
					t.Fatal(err)
				}
				sc := ndjson.NewScanner(r)
				for sc.Scan() {
				}
				if err := sc.Err(); err != nil {
					t.Errorf("%s: %v", key, err)
				}
			}
			_, lines := storedSeqs(t, sink)
			if len(lines) != len(tc.payloads) || len(ev.Records) != len(tc.payloads) {
				t.Fatalf("stored %d lines for %d records; want %d", len(lines), len(ev.Records), len(tc.payloads))
			}
			bySeq := map[string]map[string]any{}
			for _, l := range lines {
				seq, _ := l["sequence_number"].(string)
				if _, dup := bySeq[seq]; dup {
					t.Fatalf("record %s stored twice", seq)
				}
				bySeq[seq] = l
			}
			for i, r := range ev.Records {
				l, ok := bySeq[r.Kinesis.SequenceNumber]
				if !ok {
					t.Fatalf("record %d (%s) not stored", i, r.Kinesis.SequenceNumber)
				}
				want, kind := record.AppendPayload(nil, tc.payloads[i])
				got, _ := json.Marshal(l["original_data"])
				if !sameJSON(got, want) {
					t.Errorf("record %d original_data = %.80s; want %.80s", i, got, want)
				}
				if kind == record.Binary {
					var v struct {
						D string `json:"data_base64"`
					}
					_ = json.Unmarshal(got, &v)
					if d, err := base64.StdEncoding.DecodeString(v.D); err != nil || !bytes.Equal(d, tc.payloads[i]) {
						t.Errorf("record %d binary payload does not round-trip", i)
					}
				}
				if tc.partitionKey != "" && l["partition_key"] != tc.partitionKey {
					t.Errorf("record %d partition_key = %q; want %q", i, l["partition_key"], tc.partitionKey)
				}
			}
		})
	}
}

// TestEventShape: the members ambiguousMember compares are encoding/json's
// names for events.KinesisEvent's fields, taken from aws-lambda-go's tags.
func TestEventShape(t *testing.T) {
	ev := eventShape()
	rec := ev.nested["Records"]
	if rec == nil || rec.nested["kinesis"] == nil {
		t.Fatalf("eventShape = %+v; want Records holding records holding kinesis", ev)
	}
	for _, tc := range []struct {
		s    *shape
		want []string
	}{
		{ev, []string{"Records"}},
		{rec, []string{"eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn", "awsRegion", "eventSourceARN", "kinesis"}},
		{rec.nested["kinesis"], []string{"approximateArrivalTimestamp", "data", "partitionKey", "sequenceNumber", "kinesisSchemaVersion", "encryptionType"}},
	} {
		for _, f := range tc.want {
			if got := tc.s.field(strings.ToUpper(f)); got != f {
				t.Errorf("field(%q) = %q; want %q (fields %v)", strings.ToUpper(f), got, f, tc.s.fields)
			}
		}
	}
	if n := len(rec.nested["kinesis"].nested); n != 0 {
		t.Errorf("kinesis has %d nested objects; want none (the arrival time has its own UnmarshalJSON)", n)
	}
}
