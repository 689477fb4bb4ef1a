package summary

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseEventTimeOutsideYears checks that an event time whose UTC hour falls
// outside years 0000–9999 is an invalid time (the arrival time is used, as the
// processor would have quarantined it), so no key breaks the HOUR#YYYY-MM-DDTHH
// layout.
func TestParseEventTimeOutsideYears(t *testing.T) {
	body := `{"original_data":{"device_id":"a","timestamp":"9999-12-31T23:30:00-01:00","temperature":1},"approximate_arrival_timestamp":"2026-11-21T13:40:05.000Z"}
{"original_data":{"device_id":"b","timestamp":"0000-01-01T00:30:00+01:00","temperature":2}}
{"original_data":{"device_id":"c","timestamp":"9999-12-31T22:30:00-01:00","temperature":3}}
`
	c, err := Config{}.ParseObject("k.ndjson", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Lines: 3, Records: 2, NoTime: 1, TimeFallback: 1, InvalidTime: 2}
	if diff := cmp.Diff(want, c.Stats); diff != "" {
		t.Errorf("Stats mismatch (-want +got):\n%s", diff)
	}
	wantKeys := []Key{
		DeviceKey("a", time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)),
		DeviceKey("c", time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)),
		FleetKey(time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)),
		FleetKey(time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)),
	}
	if diff := cmp.Diff(wantKeys, c.Keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	for _, k := range c.Keys() {
		if _, err := k.Hour(); err != nil {
			t.Errorf("key %s: %v", k, err)
		}
	}
}
