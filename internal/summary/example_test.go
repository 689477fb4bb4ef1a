package summary_test

import (
	"fmt"

	"github.com/streamlake/streamlake/internal/summary"
)

// A processed object is parsed into its contribution: the aggregate of its
// records per device-hour and fleet-hour. Lines that cannot be aggregated are
// counted, not dropped silently.
func ExampleConfig_ParseObject() {
	body := []byte(`{"original_data":{"device_id":"sensor-0001","temperature":21.43,"timestamp":"2026-11-21T13:40:05Z"},"approximate_arrival_timestamp":"2026-11-21T13:40:05.123Z"}
{"original_data":{"device_id":"sensor-0001","temperature":19.07,"timestamp":"2026-11-21T13:59:00Z"},"approximate_arrival_timestamp":"2026-11-21T13:59:00.456Z"}
{"original_data":{"message":"free text, no device"},"approximate_arrival_timestamp":"2026-11-21T13:59:01.000Z"}
`)
	c, err := summary.Config{}.ParseObject("processed/year=2026/month=11/day=21/hour=13/shardId-000000000000-1.ndjson", body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range c.Keys() {
		s := c.Summaries[k]
		t := s.Fields["temperature"]
		avg, _ := t.Average()
		fmt.Printf("%s count=%d temperature sum=%s avg=%.2f min=%s max=%s\n", k, s.Count, t.Sum, avg, t.Min, t.Max)
	}
	fmt.Printf("lines=%d records=%d without device=%d\n", c.Stats.Lines, c.Stats.Records, c.Stats.NoDevice)
	// Output:
	// DEVICE#sensor-0001/HOUR#2026-11-21T13 count=2 temperature sum=40.5 avg=20.25 min=19.07 max=21.43
	// FLEET/HOUR#2026-11-21T13 count=2 temperature sum=40.5 avg=20.25 min=19.07 max=21.43
	// lines=3 records=2 without device=1
}

// When an object is overwritten with a prefix of its records (a retry after
// bisect), Diff retracts what left it; the rest arrives in another object.
func ExampleDiff() {
	line := func(temp string) string {
		return `{"original_data":{"device_id":"d1","temperature":` + temp + `,"timestamp":"2026-11-21T13:00:00Z"}}` + "\n"
	}
	before, _ := summary.Config{}.ParseObject("a.ndjson", []byte(line("20")+line("22.5")+line("30")))
	after, _ := summary.Config{}.ParseObject("a.ndjson", []byte(line("20")))
	for _, ch := range summary.Diff(before, after) {
		t := ch.Fields["temperature"]
		fmt.Printf("%s count %+d, temperature n %+d sum %s\n", ch.Key, ch.Count, t.N, t.Sum)
	}
	// Output:
	// DEVICE#d1/HOUR#2026-11-21T13 count -2, temperature n -2 sum -52.5
	// FLEET/HOUR#2026-11-21T13 count -2, temperature n -2 sum -52.5
}
