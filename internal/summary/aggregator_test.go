package summary

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
)

// fakeSource is an in-memory ObjectSource whose versions can change between
// calls (to play the races of a real bucket).
type fakeSource struct {
	mu      sync.Mutex
	objects map[string]*Object
	// onGet, if set, runs after each GetObject (to overwrite objects mid-way);
	// onETag after each ObjectETag.
	onGet, onETag func(key string)
	err           error
}

func (f *fakeSource) GetObject(_ context.Context, bucket, key string) (*Object, error) {
	f.mu.Lock()
	o, ok := f.objects[key]
	err := f.err
	f.mu.Unlock()
	if f.onGet != nil {
		defer f.onGet(key)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	c := *o
	return &c, nil
}

func (f *fakeSource) ObjectETag(_ context.Context, bucket, key string) (string, error) {
	if f.onETag != nil {
		defer f.onETag(key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[key]
	if !ok {
		return "", ErrNotFound
	}
	return o.ETag, nil
}

func (f *fakeSource) put(key, etag string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.objects == nil {
		f.objects = map[string]*Object{}
	}
	f.objects[key] = &Object{Bucket: "b", Key: key, ETag: etag, Body: body}
}

func (f *fakeSource) delete(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objects, key)
}

// fakeStore records what it is asked to apply, keeping the latest ETag per key.
type fakeStore struct {
	mu      sync.Mutex
	applied map[string]string
	calls   []string
	err     error
}

func (f *fakeStore) Apply(_ context.Context, key, etag string, c *Contribution) (ApplyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, key+"@"+etag)
	if f.err != nil {
		return ApplyResult{}, f.err
	}
	if f.applied == nil {
		f.applied = map[string]string{}
	}
	if f.applied[key] == etag {
		return ApplyResult{Duplicate: true}, nil
	}
	f.applied[key] = etag
	return ApplyResult{Changes: len(c.Summaries), Transactions: 1, WriteActions: len(c.Summaries) + 1}, nil
}

func newTestAggregator(t *testing.T, src ObjectSource, store Store) *Aggregator {
	t.Helper()
	a, err := NewAggregator(src, store, Config{}, WithPrefix("processed/"), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), WithConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func s3Body(bucket, key, etag, eventName string) string {
	return fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":%q,"s3":{"bucket":{"name":%q},"object":{"key":%q,"size":1,"eTag":%q}}}]}`,
		eventName, bucket, url.QueryEscape(key), etag)
}

func sqsMessage(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: body, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q", AWSRegion: "us-east-1"}
}

func invoke(t *testing.T, a *Aggregator, ev events.SQSEvent) []string {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(a.Handle).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	if resp.BatchItemFailures == nil {
		t.Errorf("response %s has a null batchItemFailures; want a list", out)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

func TestHandleReportsOnlyFailedMessages(t *testing.T) {
	src := &fakeSource{}
	key := "processed/year=2026/month=11/day=21/hour=13/shardId-000000000000-1.ndjson"
	src.put(key, "e1", ndBody(randomRecordsN(5)))
	src.put("processed/bad.ndjson.gz", "e2", []byte("not gzip"))
	store := &fakeStore{}
	a := newTestAggregator(t, src, store)

	ev := events.SQSEvent{Records: []events.SQSMessage{
		sqsMessage("ok", s3Body("b", key, "e1", "ObjectCreated:Put")),
		sqsMessage("dup", s3Body("b", key, "e1", "ObjectCreated:Put")),
		sqsMessage("corrupt", s3Body("b", "processed/bad.ndjson.gz", "e2", "ObjectCreated:Put")),
		sqsMessage("missing", s3Body("b", "processed/gone.ndjson.gz", "e3", "ObjectCreated:CompleteMultipartUpload")),
		sqsMessage("test", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-21T13:00:00.000Z","Bucket":"b"}`),
		sqsMessage("removed", s3Body("b", key, "e1", "ObjectRemoved:Delete")),
		sqsMessage("elsewhere", s3Body("b", "quarantine/x.ndjson.gz", "e4", "ObjectCreated:Put")),
		sqsMessage("not-json", `<xml/>`),
		sqsMessage("not-s3", `{"Type":"Notification","Message":"{}"}`),
		sqsMessage("no-key", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}`),
	}}
	got := invoke(t, a, ev)
	want := []string{"corrupt", "no-key", "not-json", "not-s3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failed messages (-want +got):\n%s", diff)
	}
	// The object named twice was read and applied once.
	if diff := cmp.Diff([]string{key + "@e1"}, store.calls); diff != "" {
		t.Errorf("Apply calls (-want +got):\n%s", diff)
	}
}

// An event of another source, or records without a message ID, is a function
// error: batchItemFailures can only name SQS messages, and an empty
// itemIdentifier would fail the whole batch in any case.
func TestHandleRejectsOtherEvents(t *testing.T) {
	a := newTestAggregator(t, &fakeSource{}, &fakeStore{})
	key := "processed/a.ndjson"
	tests := []struct {
		name string
		ev   events.SQSEvent
		want string
	}{
		{"Kinesis batch", events.SQSEvent{Records: []events.SQSMessage{{EventSource: "aws:kinesis"}}}, `record 0: eventSource is "aws:kinesis", want "aws:sqs"`},
		{"no eventSource", events.SQSEvent{Records: []events.SQSMessage{sqsMessage("m1", s3Body("b", key, "e1", "ObjectCreated:Put")), {MessageId: "m2"}}}, `record 1: eventSource is ""`},
		{"no messageId", events.SQSEvent{Records: []events.SQSMessage{{EventSource: "aws:sqs", Body: s3Body("b", key, "e1", "ObjectCreated:Put")}}}, "record 0 has no messageId"},
	}
	for _, tc := range tests {
		resp, err := a.Handle(context.Background(), tc.ev)
		if err == nil || !strings.Contains(err.Error(), tc.want) || len(resp.BatchItemFailures) != 0 {
			t.Errorf("%s: Handle = %v, %v; want a function error containing %q", tc.name, resp, err, tc.want)
		}
	}
}

// TestHandleIgnoresOtherBuckets checks that with WithBucket a notification of
// an object in another bucket is acknowledged with a warning and never applied:
// contributions are per key, so it would replace the contribution of the
// output bucket's object under the same key.
func TestHandleIgnoresOtherBuckets(t *testing.T) {
	key := "processed/year=2026/month=11/day=21/hour=13/shardId-000000000000-1.ndjson"
	src := &fakeSource{} // serves a key whatever the bucket, as S3 would serve the other bucket's object
	src.put(key, "e1", ndBody(randomRecordsN(3)))
	store := &fakeStore{}
	var logs bytes.Buffer
	a, err := NewAggregator(src, store, Config{}, WithBucket("out"), WithPrefix("processed"),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}

	failed := invoke(t, a, events.SQSEvent{Records: []events.SQSMessage{
		sqsMessage("other", s3Body("someone-else", key, "e1", "ObjectCreated:Put")),
	}})
	if len(failed) != 0 || len(store.calls) != 0 {
		t.Errorf("notification of another bucket: failed %v, Apply calls %v; want none", failed, store.calls)
	}
	var warning struct {
		Level, Msg, Bucket, ObjectKey string
	}
	if err := json.Unmarshal(logs.Bytes(), &warning); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if warning.Level != "WARN" || warning.Msg != "ignoring object of another bucket" || warning.Bucket != "someone-else" || warning.ObjectKey != key {
		t.Errorf("log %s; want a warning naming bucket someone-else and key %s", logs.String(), key)
	}

	failed = invoke(t, a, events.SQSEvent{Records: []events.SQSMessage{
		sqsMessage("same", s3Body("out", key, "e1", "ObjectCreated:Put")),
	}})
	if len(failed) != 0 {
		t.Errorf("notification of the output bucket: failed %v; want none", failed)
	}
	if diff := cmp.Diff([]string{key + "@e1"}, store.calls); diff != "" {
		t.Errorf("Apply calls (-want +got):\n%s", diff)
	}
}

func TestHandleStoreAndSourceErrors(t *testing.T) {
	key := "processed/a.ndjson"
	for _, tc := range []struct {
		name   string
		src    *fakeSource
		store  *fakeStore
		failed bool
	}{
		{"store fails", &fakeSource{}, &fakeStore{err: errors.New("throttled")}, true},
		{"source fails", &fakeSource{err: errors.New("access denied")}, &fakeStore{}, true},
		{"both fine", &fakeSource{}, &fakeStore{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.src.put(key, "e1", ndBody(randomRecordsN(3)))
			a := newTestAggregator(t, tc.src, tc.store)
			got := invoke(t, a, events.SQSEvent{Records: []events.SQSMessage{sqsMessage("m1", s3Body("b", key, "e1", "ObjectCreated:Put"))}})
			if (len(got) == 1) != tc.failed {
				t.Errorf("failures = %v; want failed %v", got, tc.failed)
			}
		})
	}
}

// TestObjectFollowsOverwrites plays a notification handled with a version that
// is already stale: after applying it, the aggregator sees the newer ETag and
// applies the newer version too.
func TestObjectFollowsOverwrites(t *testing.T) {
	src := &fakeSource{}
	key := "processed/a.ndjson"
	src.put(key, "v1", ndBody(randomRecordsN(3)))
	overwrites := 0
	src.onGet = func(string) {
		if overwrites < 2 {
			overwrites++
			src.put(key, fmt.Sprintf("v%d", overwrites+1), ndBody(randomRecordsN(3+overwrites)))
		}
	}
	store := &fakeStore{}
	a := newTestAggregator(t, src, store)
	if err := a.Object(context.Background(), "b", key); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{key + "@v1", key + "@v2", key + "@v3"}, store.calls); diff != "" {
		t.Errorf("Apply calls (-want +got):\n%s", diff)
	}

	// An object that never stops changing is given up on (SQS retries later).
	key2 := "processed/b.ndjson"
	src.put(key2, "w0", ndBody(randomRecordsN(2)))
	src.onGet = func(string) { overwrites++; src.put(key2, fmt.Sprintf("w%d", overwrites), ndBody(randomRecordsN(2))) }
	if err := a.Object(context.Background(), "b", key2); err == nil || !strings.Contains(err.Error(), "giving up") {
		t.Errorf("Object(ever-changing) = %v; want a giving-up error", err)
	}
}

// TestObjectDeletedWhileAggregated: an object deleted after it was read is
// done with once the version read is applied (S3 sends no event for a delete
// the aggregator acts on), not failed for SQS to retry.
func TestObjectDeletedWhileAggregated(t *testing.T) {
	src := &fakeSource{}
	key := "processed/a.ndjson"
	src.put(key, "v1", ndBody(randomRecordsN(3)))
	src.onGet = src.delete
	store := &fakeStore{}
	a := newTestAggregator(t, src, store)
	if err := a.Object(context.Background(), "b", key); err != nil {
		t.Fatalf("Object(deleted after GetObject) = %v; want nil", err)
	}
	if diff := cmp.Diff([]string{key + "@v1"}, store.calls); diff != "" {
		t.Errorf("Apply calls (-want +got):\n%s", diff)
	}

	// Overwritten while the first version was applied, then deleted before
	// the newer version is read: done as well.
	key2 := "processed/b.ndjson"
	src.put(key2, "w1", ndBody(randomRecordsN(2)))
	src.onGet = func(k string) { src.put(k, "w2", ndBody(randomRecordsN(3))) }
	src.onETag = src.delete
	if err := a.Object(context.Background(), "b", key2); err != nil {
		t.Fatalf("Object(overwritten, then deleted) = %v; want nil", err)
	}
	// A failing read of the newer version is the message's failure.
	key3 := "processed/c.ndjson"
	src.put(key3, "x1", ndBody(randomRecordsN(2)))
	src.onETag = func(string) {
		src.mu.Lock()
		src.err = errors.New("access denied")
		src.mu.Unlock()
	}
	if err := a.Object(context.Background(), "b", key3); err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("Object(newer version unreadable) = %v; want the read's error", err)
	}
	if diff := cmp.Diff([]string{key + "@v1", key2 + "@w1", key3 + "@x1"}, store.calls); diff != "" {
		t.Errorf("Apply calls (-want +got):\n%s", diff)
	}
}

func TestHandleRejectsNonSQSEvents(t *testing.T) {
	a := newTestAggregator(t, &fakeSource{}, &fakeStore{})
	for _, payload := range []string{`{}`, `{"Records":[]}`, `[]`, `"hello"`} {
		if _, err := lambda.NewHandler(a.Handle).Invoke(context.Background(), []byte(payload)); err == nil {
			t.Errorf("Invoke(%s) succeeded; want a function error", payload)
		}
	}
	// A deadline closer than the margin leaves no time for work: the message is
	// reported for redelivery.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	src := &fakeSource{}
	src.put("processed/a.ndjson", "e", nil)
	a = newTestAggregator(t, src, &fakeStore{})
	resp, err := a.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{sqsMessage("m", s3Body("b", "processed/a.ndjson", "e", "ObjectCreated:Put"))}})
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Errorf("Handle(cancelled context) = %+v, %v; want the message reported as failed", resp, err)
	}
}

// TestSampleEvent decodes events/sqs-s3-notification.json into the aws-lambda-go
// types, checks that it round-trips, and runs it through the handler.
func TestSampleEvent(t *testing.T) {
	raw, err := os.ReadFile("../../events/sqs-s3-notification.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	// aws-lambda-go writes md5OfMessageAttributes even when there are no message
	// attributes (Lambda leaves it out then).
	again = []byte(strings.Replace(string(again), `"md5OfMessageAttributes":"",`, "", 1))
	assertJSONEqual(t, raw, again)
	if len(ev.Records) != 1 || ev.Records[0].EventSource != "aws:sqs" || ev.Records[0].MessageId == "" {
		t.Fatalf("sample SQS event = %+v; want one aws:sqs message", ev)
	}

	var n events.S3Event
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &n); err != nil {
		t.Fatalf("body is not an S3 event: %v", err)
	}
	r := n.Records[0]
	wantKey := "processed/year=2026/month=11/day=21/hour=13/shardId-000000000000-49657148256837120925312649873215874502659812305470881794.ndjson.gz"
	if r.EventName != "ObjectCreated:Put" || r.S3.Object.URLDecodedKey != wantKey {
		t.Errorf("notification = %s %s; want ObjectCreated:Put of %s", r.EventName, r.S3.Object.URLDecodedKey, wantKey)
	}
	body, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	// aws-lambda-go adds the decoded key when marshalling; S3 does not send it.
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	delete(m["Records"].([]any)[0].(map[string]any)["s3"].(map[string]any)["object"].(map[string]any), "urlDecodedKey")
	body, _ = json.Marshal(m)
	assertJSONEqual(t, []byte(ev.Records[0].Body), body)

	src := &fakeSource{}
	src.put(wantKey, r.S3.Object.ETag, gzipped(ndBody(randomRecordsN(4))))
	store := &fakeStore{}
	a := newTestAggregator(t, src, store)
	if got := invoke(t, a, ev); len(got) != 0 {
		t.Errorf("sample event failures = %v; want none", got)
	}
	if diff := cmp.Diff([]string{wantKey + "@" + r.S3.Object.ETag}, store.calls); diff != "" {
		t.Errorf("Apply calls (-want +got):\n%s", diff)
	}
}

func assertJSONEqual(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestHandleObserve(t *testing.T) {
	src := &fakeSource{}
	good := "processed/a.ndjson"
	body := string(ndBody(randomRecordsN(5))) + "not json\n"
	src.put(good, "e1", []byte(body))
	src.put("processed/b.ndjson.gz", "e2", []byte("not gzip"))
	store := &fakeStore{applied: map[string]string{"processed/c.ndjson": "e3"}}
	src.put("processed/c.ndjson", "e3", ndBody(randomRecordsN(2)))
	var got []BatchStats
	a, err := NewAggregator(src, store, Config{}, WithPrefix("processed/"), WithLogger(slog.New(slog.DiscardHandler)),
		WithObserve(func(_ context.Context, s BatchStats) { got = append(got, s) }))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Config{}.ParseObject(good, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		sqsMessage("ok", s3Body("b", good, "e1", "ObjectCreated:Put")),
		sqsMessage("corrupt", s3Body("b", "processed/b.ndjson.gz", "e2", "ObjectCreated:Put")),
		sqsMessage("dup", s3Body("b", "processed/c.ndjson", "e3", "ObjectCreated:Put")),
	}}
	if _, err := a.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Handle(context.Background(), events.SQSEvent{}); err == nil {
		t.Fatal("Handle(no records) succeeded; want a function error")
	}
	// A function error fails every message of the batch: SQS makes them all
	// visible again.
	kinesis := events.SQSEvent{Records: []events.SQSMessage{{EventSource: "aws:kinesis"}, {EventSource: "aws:kinesis"}}}
	if _, err := a.Handle(context.Background(), kinesis); err == nil {
		t.Fatal("Handle(Kinesis records) succeeded; want a function error")
	}
	// Object is not a batch: nothing is observed.
	if err := a.Object(context.Background(), "b", "processed/c.ndjson"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("observed %d batches; want 3 (one per Handle)", len(got))
	}
	if got[0].Start.IsZero() || got[0].Duration <= 0 || got[1].Start.IsZero() {
		t.Errorf("observed Start, Duration = %v, %v; want the batch's", got[0].Start, got[0].Duration)
	}
	for i := range got {
		got[i].Start, got[i].Duration = time.Time{}, 0
	}
	wantStats := []BatchStats{
		{Messages: 3, Failed: 1, Objects: 1, Duplicates: 1, Items: len(want.Summaries), Lines: want.Stats},
		{},
		{Messages: 2, Failed: 2},
	}
	if want.Stats.Malformed != 1 || want.Stats.Records != 5 {
		t.Fatalf("test object stats = %+v; want 5 records and 1 malformed line", want.Stats)
	}
	if diff := cmp.Diff(wantStats, got); diff != "" {
		t.Errorf("observed stats (-want +got):\n%s", diff)
	}
}
