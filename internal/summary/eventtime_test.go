package summary_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/summary"
)

type captureSink struct{ objects map[string][]byte }

func (s *captureSink) Put(_ context.Context, o ingest.Object) error {
	s.objects[o.Key] = bytes.Clone(o.Body)
	return nil
}

// processAll runs the event through the processor with the default transform
// and returns what it stored, which must be one processed object: no record
// quarantined.
func processAll(t *testing.T, ev *events.KinesisEvent) *captureSink {
	t.Helper()
	sink := &captureSink{objects: map[string][]byte{}}
	p, err := ingest.New(sink, ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := p.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", resp, err)
	}
	if len(sink.objects) != 1 {
		t.Fatalf("objects %d; want one processed object and no quarantine", len(sink.objects))
	}
	return sink
}

// The recipe generator's records (event times without an offset) go through the
// processor and into the summaries, each in the UTC hour of its own timestamp: the
// hour the processor's check read.
func TestRecipeGeneratorRecordsReachTheirHour(t *testing.T) {
	raw, err := os.ReadFile("../../events/kinesis-recipe-generator.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	sink := processAll(t, &ev)
	// The expected hours, computed with time.Parse of Python's isoformat layout.
	want := map[string]int64{}
	for _, r := range ev.Records {
		var v struct {
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal(r.Kinesis.Data, &v); err != nil {
			t.Fatal(err)
		}
		tm, err := time.Parse("2006-01-02T15:04:05.999999", v.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		want[summary.FleetKey(tm).SK]++
	}
	if len(want) < 2 {
		t.Fatalf("the sample spans %d hours; want at least 2", len(want))
	}
	for key, body := range sink.objects {
		c, err := summary.Config{}.ParseObject(key, body)
		if err != nil {
			t.Fatal(err)
		}
		if c.Stats.Records != int64(len(ev.Records)) || c.Stats.TimeFallback != 0 || c.Stats.InvalidTime != 0 {
			t.Errorf("stats %+v; want %d records, all with their own event time", c.Stats, len(ev.Records))
		}
		for k, s := range c.Summaries {
			if k.PK == summary.FleetPK && s.Count != want[k.SK] {
				t.Errorf("%s count = %d; want %d", k, s.Count, want[k.SK])
			}
		}
		fleetHours := 0
		for k := range c.Summaries {
			if k.PK == summary.FleetPK {
				fleetHours++
			}
		}
		if fleetHours != len(want) {
			t.Errorf("fleet hours = %d; want %d", fleetHours, len(want))
		}
	}
}

// Event times as languages write them by default (Ruby's Time#to_s, Go's
// Time.String, JavaScript's toUTCString) are processed, not quarantined, and each
// record is summarized in the UTC hour of its time, across a day boundary too.
func TestDefaultFormattedTimesReachTheirHour(t *testing.T) {
	tests := []struct{ timestamp, hour string }{
		{"2025-07-13 08:59:59 +0900", "2025-07-12T23"},                                 // Ruby, Time#to_s
		{"2025-07-12 23:30:00 UTC", "2025-07-12T23"},                                   // Ruby, Time#utc.to_s
		{"2025-07-13 01:00:00.5 +0200 CEST", "2025-07-12T23"},                          // Go, Time.String
		{"2025-07-13 01:00:00.5 +0200 CEST m=+0.000012345", "2025-07-12T23"},           // of time.Now()
		{"Sun, 13 Jul 2025 00:00:00 GMT", "2025-07-13T00"},                             // JavaScript, toUTCString
		{"Sat, 12 Jul 2025 20:00:01 -0400", "2025-07-13T00"},                           // Go, time.RFC1123Z
		{"Sat Jul 12 23:59:59 UTC 2025", "2025-07-12T23"},                              // Java, Date.toString
		{"Sat Jul 12 2025 19:30:00 GMT-0400 (Eastern Daylight Time)", "2025-07-12T23"}, // JavaScript, String(date)
		{"2025-07-12 19:59:59.999999999 -0400", "2025-07-12T23"},                       // the hour's last nanosecond
	}
	ev := events.KinesisEvent{}
	for i, tc := range tests {
		data, err := json.Marshal(map[string]any{"device_id": "d", "timestamp": tc.timestamp, "temperature": i})
		if err != nil {
			t.Fatal(err)
		}
		seq := "4959000000000000000000000000000000000000000000000000000" + string(rune('0'+i))
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			EventSource: "aws:kinesis", EventName: "aws:kinesis:record", EventVersion: "1.0",
			EventID:        "shardId-000000000000:" + seq,
			EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
			Kinesis: events.KinesisRecord{Data: data, PartitionKey: "d", SequenceNumber: seq,
				KinesisSchemaVersion: "1.0", ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.Unix(1752300000, 0)}},
		})
	}
	sink := processAll(t, &ev)
	want := map[string]int64{}
	for _, tc := range tests {
		want["HOUR#"+tc.hour]++
	}
	for key, body := range sink.objects {
		c, err := summary.Config{}.ParseObject(key, body)
		if err != nil {
			t.Fatal(err)
		}
		if c.Stats.Records != int64(len(tests)) || c.Stats.TimeFallback != 0 || c.Stats.InvalidTime != 0 {
			t.Errorf("stats %+v; want %d records, all with their own event time", c.Stats, len(tests))
		}
		got := map[string]int64{}
		for k, s := range c.Summaries {
			if k.PK == summary.FleetPK {
				got[k.SK] = s.Count
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("fleet counts by hour (-want +got):\n%s", diff)
		}
	}
}
