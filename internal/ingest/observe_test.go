package ingest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestObserveReportsEachBatch(t *testing.T) {
	good := sensor(1, "2026-11-21T13:59:00Z")
	poison := sensor(2, "yesterday")
	ev := kinesisEvent(good, poison, good)
	bytesIn := 2*len(good) + len(poison)

	tests := []struct {
		name   string
		ev     *events.KinesisEvent
		failIf func(string) error
		want   BatchStats
	}{
		{"stored", ev, nil, BatchStats{ShardID: shard, Records: 3, BytesIn: bytesIn, Written: 2, Quarantined: 1, Objects: 2,
			FirstArrival: ev.Records[0].Kinesis.ApproximateArrivalTimestamp.Time}},
		{"processed object fails", ev, func(key string) error {
			if strings.HasPrefix(key, "processed/") {
				return errors.New("SlowDown")
			}
			return nil
		}, BatchStats{ShardID: shard, Records: 3, BytesIn: bytesIn, Failed: true,
			FirstArrival: ev.Records[0].Kinesis.ApproximateArrivalTimestamp.Time}},
		{"quarantine object fails", ev, func(key string) error {
			if strings.HasPrefix(key, "quarantine/") {
				return errors.New("SlowDown")
			}
			return nil
		}, BatchStats{ShardID: shard, Records: 3, BytesIn: bytesIn, Written: 2, Objects: 1, Failed: true,
			FirstArrival: ev.Records[0].Kinesis.ApproximateArrivalTimestamp.Time}},
		{"empty batch", &events.KinesisEvent{}, nil, BatchStats{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := newMemSink()
			sink.failIf = tc.failIf
			var got []BatchStats
			p, err := New(sink, Config{Now: fixedNow, Logger: slog.New(slog.DiscardHandler),
				Observe: func(_ context.Context, s BatchStats) { got = append(got, s) }})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Handle(context.Background(), tc.ev); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("Observe called %d times; want once", len(got))
			}
			s := got[0]
			if s.Start.IsZero() || s.Duration < 0 {
				t.Errorf("Start %v, Duration %v; want a start time and a duration", s.Start, s.Duration)
			}
			stored := 0
			for _, o := range sink.objects {
				stored += len(o.Body)
			}
			if s.BytesOut != stored {
				t.Errorf("BytesOut = %d; want %d (the stored bodies)", s.BytesOut, stored)
			}
			if d := cmp.Diff(tc.want, s, cmpopts.IgnoreFields(BatchStats{}, "Start", "Duration", "BytesOut")); d != "" {
				t.Errorf("BatchStats (-want +got):\n%s", d)
			}
		})
	}
}

func TestObserveNotCalledForInvalidEvents(t *testing.T) {
	called := 0
	p, err := New(newMemSink(), Config{Logger: slog.New(slog.DiscardHandler), Observe: func(context.Context, BatchStats) { called++ }})
	if err != nil {
		t.Fatal(err)
	}
	ev := kinesisEvent(sensor(1, "2026-11-21T13:59:00Z"))
	ev.Records[0].EventSource = "aws:sqs"
	if _, err := p.Handle(context.Background(), ev); err == nil {
		t.Fatal("Handle(SQS record) = nil error")
	}
	if _, err := p.HandleJSON(context.Background(), []byte(`{"hello":1}`)); err == nil {
		t.Fatal("HandleJSON(not an event) = nil error")
	}
	if called != 0 {
		t.Errorf("Observe called %d times for invalid events; want 0", called)
	}
}
