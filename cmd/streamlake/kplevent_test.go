package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamlake/streamlake/internal/kinesisevent"
	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/sensor"
)

var updateKPL = flag.Bool("update-kpl", false, "rewrite events/kinesis-kpl-aggregated.json")

// kplSampleEvent builds events/kinesis-kpl-aggregated.json: two KPL aggregated
// records (5 sensor readings; 4 readings and one whose event time no reading
// makes a time) around a plain record, as a KPL producer with aggregation on
// writes them.
func kplSampleEvent(t *testing.T) []byte {
	t.Helper()
	start := time.Date(2026, 11, 21, 15, 10, 0, 0, time.UTC)
	g, err := sensor.NewGenerator(sensor.Config{Devices: 4, Seed: 7, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	users := func(n int) []kpl.Record {
		var out []kpl.Record
		for range n {
			r := g.Next()
			out = append(out, kpl.Record{PartitionKey: r.PartitionKey(), Data: r.AppendJSON(nil)})
		}
		return out
	}
	a := users(5)
	plain := g.Next()
	b := append(users(4), kpl.Record{PartitionKey: "sensor-0002",
		Data: []byte(`{"device_id":"sensor-0002","temperature":21.7,"humidity":48.1,"timestamp":"yesterday","location":{"lat":47.5712,"lon":-122.2951},"battery_level":64.9}`)})
	ev, err := kinesisevent.Build([]kinesisevent.Record{
		{PartitionKey: a[0].PartitionKey, Data: kpl.Aggregate(a), ArrivalTime: start.Add(2 * time.Second)},
		{PartitionKey: plain.PartitionKey(), Data: plain.AppendJSON(nil), ArrivalTime: start.Add(3 * time.Second)},
		{PartitionKey: b[0].PartitionKey, Data: kpl.Aggregate(b), ArrivalTime: start.Add(5 * time.Second)},
	}, kinesisevent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := kinesisevent.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKPLSampleEventUpToDate checks the committed KPL sample against what
// kplSampleEvent builds (`make events` rewrites it with -update-kpl), and that
// it is a valid sample (loadEvent's checks).
func TestKPLSampleEventUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "events", "kinesis-kpl-aggregated.json")
	want := kplSampleEvent(t)
	if *updateKPL {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date; run `make events`:\n%s", path, cmp.Diff(string(want), string(got)))
	}
	ev := loadEvent(t, "kinesis-kpl-aggregated.json")
	aggregates := 0
	for _, r := range ev.Records {
		if users, ok := kpl.Parse(nil, r.Kinesis.Data); ok {
			aggregates++
			if len(users) != 5 {
				t.Errorf("aggregate of %d user records; want 5", len(users))
			}
		}
	}
	if aggregates != 2 {
		t.Errorf("%d aggregated records; want 2", aggregates)
	}
}
