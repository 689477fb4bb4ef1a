package dynamostore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/summary"
)

// TestHandlerBadInput sends one batch mixing good messages with every kind of
// bad one through the Lambda JSON interface, and checks that exactly the bad
// ones are reported and the good ones aggregated.
func TestHandlerBadInput(t *testing.T) {
	h := newHarness(t)
	recs := readings(11, 60, 4, 2)
	good := objectKey(4, 1)
	eGood := h.put(t, good, body(recs, "2026-11-21T13:40:06.000Z"))

	notGzip := objectKey(4, 100)
	eNotGzip := h.put(t, notGzip, []byte("{\"original_data\":{}}\n"))

	// Bad lines and records without the fields the aggregator needs: counted,
	// not fatal.
	badLines := objectKey(4, 200)
	lines := append(strings.Split(strings.TrimSpace(string(plain(recs[:5], "x"))), "\n"),
		`not json`, `{"original_data":{"temperature":1}}`, `{"original_data":{"device_id":"d","temperature":2}}`, `[]`)
	eBadLines := h.put(t, badLines, gz([]byte(strings.Join(lines, "\n")+"\n")))

	empty := objectKey(4, 300)
	eEmpty := h.put(t, empty, gz(nil))

	msgs := map[string]events.SQSMessage{
		"good":           message(h.notification(good, eGood)),
		"not gzip":       message(h.notification(notGzip, eNotGzip)),
		"bad lines":      message(h.notification(badLines, eBadLines)),
		"empty object":   message(h.notification(empty, eEmpty)),
		"missing object": message(h.notification(objectKey(4, 999), "0123")),
		"not JSON":       message("this is not JSON"),
		"JSON, not S3":   message(`{"hello":"world"}`),
		"JSON array":     message(`[1,2]`),
		"bad key escape": message(strings.Replace(h.notification(good, eGood), `"key":"processed`, `"key":"%zz`, 1)),
		"not aws:s3":     message(strings.Replace(h.notification(good, eGood), `"eventSource":"aws:s3"`, `"eventSource":"aws:sns"`, 1)),
		"test event":     message(fmt.Sprintf(`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-21T13:00:00.000Z","Bucket":%q,"RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw"}`, h.bucket)),
		"object removed": message(strings.Replace(h.notification(good, eGood), "ObjectCreated:Put", "ObjectRemoved:Delete", 1)),
		"outside prefix": message(h.notification("quarantine/year=2026/x.ndjson.gz", "abc")),
	}
	wantFailed := []string{"not gzip", "not JSON", "JSON, not S3", "JSON array", "bad key escape", "not aws:s3"}

	var ev events.SQSEvent
	names := map[string]string{}
	for name, m := range msgs {
		ev.Records = append(ev.Records, m)
		names[m.MessageId] = name
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(h.agg.Handle).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, names[f.ItemIdentifier])
	}
	slices.Sort(failed)
	slices.Sort(wantFailed)
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("batchItemFailures = %q; want %q", failed, wantFailed)
	}

	want := expected(t, append(recs, recs[:5]...))
	h.check(t, want, true)
	c, ok, err := h.store.Contribution(context.Background(), badLines)
	if err != nil || !ok {
		t.Fatalf("Contribution(bad lines) = %v, %v", ok, err)
	}
	wantStats := summary.Stats{Lines: 9, Records: 5, Malformed: 2, NoDevice: 1, NoTime: 1, NonNumeric: map[string]int64{"battery_level": 5}}
	if got := c.Contribution.Stats; fmt.Sprint(got) != fmt.Sprint(wantStats) {
		t.Errorf("bad-lines stats = %+v; want %+v", got, wantStats)
	}
	if c, ok, err := h.store.Contribution(context.Background(), empty); err != nil || !ok || c.ETag != eEmpty {
		t.Errorf("Contribution(empty) = %+v, %v, %v; want etag %s recorded", c, ok, err, eEmpty)
	}

	// An event that is not an SQS event is a function error.
	for _, bad := range []string{`{}`, `{"Records":[]}`, `"x"`} {
		if _, err := lambda.NewHandler(h.agg.Handle).Invoke(context.Background(), []byte(bad)); err == nil {
			t.Errorf("Invoke(%s) succeeded; want an error", bad)
		}
	}
}

func plain(recs []reading, stamp string) []byte {
	var b strings.Builder
	for i, r := range recs {
		b.WriteString(r.line(i+1, stamp))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// TestNotificationsThroughMoto has moto's S3 send ObjectCreated notifications
// for the processed prefix to an SQS queue, receives them, and invokes the
// handler with the SQS event Lambda would build from them.
func TestNotificationsThroughMoto(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sq := sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("aggregator-" + h.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	queueARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	_, err = h.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(h.bucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			Id:       aws.String("processed-objects"),
			QueueArn: aws.String(queueARN),
			Events:   []s3types.Event{"s3:ObjectCreated:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
				{Name: s3types.FilterRuleNamePrefix, Value: aws.String(prefix + "/")},
			}}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}

	all := readings(12, 200, 6, 2)
	k1, k2 := objectKey(5, 1), objectKey(5, 101)
	h.put(t, k1, body(all[:150], "2026-11-21T13:40:06.000Z"))
	h.put(t, k1, body(all[:100], "2026-11-21T13:41:00.000Z"))    // bisect: prefix …
	h.put(t, k2, body(all[100:200], "2026-11-21T13:41:00.000Z")) // … and the rest
	h.put(t, "quarantine/year=2026/month=11/day=21/hour=13/x.ndjson.gz", body(all[:3], "x"))

	var ev events.SQSEvent
	sawTest, sawEncodedKey := false, false
	deadline := time.Now().Add(10 * time.Second)
	for len(ev.Records) < 4 && time.Now().Before(deadline) {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			sawTest = sawTest || strings.Contains(body, "s3:TestEvent")
			sawEncodedKey = sawEncodedKey || strings.Contains(body, "year%3D2026")
			if strings.Contains(body, "quarantine") {
				t.Errorf("notification for an object outside the prefix: %s", body)
			}
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: body,
				Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes,
				EventSourceARN: queueARN, EventSource: "aws:sqs", AWSRegion: "us-east-1",
			})
		}
	}
	if len(ev.Records) < 3 {
		t.Fatalf("received %d notifications; want at least 3 (one per put)", len(ev.Records))
	}
	t.Logf("received %d messages (test event: %v, URL-encoded keys: %v)", len(ev.Records), sawTest, sawEncodedKey)
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(h.agg.Handle).Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("response %s, %v; want no failures", out, err)
	}
	h.check(t, expected(t, all), true)
}

func gz(b []byte) []byte { return gzipBytes(b) }
