package summary_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/summary"
)

type captureSink struct{ objects map[string][]byte }

func (s *captureSink) Put(_ context.Context, o ingest.Object) error {
	s.objects[o.Key] = bytes.Clone(o.Body)
	return nil
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
	sink := &captureSink{objects: map[string][]byte{}}
	p, err := ingest.New(sink, ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := p.Handle(context.Background(), &ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", resp, err)
	}
	if len(sink.objects) != 1 {
		t.Fatalf("objects %d; want one processed object and no quarantine", len(sink.objects))
	}
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
