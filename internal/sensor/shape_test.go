package sensor

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAppendRecipeJSON(t *testing.T) {
	tests := []struct {
		r    Reading
		want string
	}{
		{
			Reading{DeviceID: "sensor-0001", Temperature: 21.43, Humidity: 48.2, Timestamp: time.Date(2026, 11, 21, 13, 40, 1, 357_000_000, time.UTC),
				Location: Location{Lat: 52.5211, Lon: 13.4012}, BatteryLevel: 86.6},
			`{"device_id": "sensor-0001", "temperature": 21.43, "humidity": 48.2, "timestamp": "2026-11-21T13:40:01.357000", "location": {"lat": 52.5211, "lon": 13.4012}, "battery_level": 87}`,
		},
		{
			Reading{DeviceID: "sensor-0002", Temperature: 21, Humidity: 0, Timestamp: time.Date(2026, 11, 21, 13, 40, 0, 0, time.FixedZone("x", 3600)),
				Location: Location{Lat: -33.8688, Lon: 151}, BatteryLevel: 0.4},
			`{"device_id": "sensor-0002", "temperature": 21.0, "humidity": 0.0, "timestamp": "2026-11-21T12:40:00", "location": {"lat": -33.8688, "lon": 151.0}, "battery_level": 0}`,
		},
		{
			Reading{DeviceID: "sensor-0003", Temperature: -4.5, Humidity: 99.99, Timestamp: time.Date(2026, 11, 21, 13, 40, 0, 1000, time.UTC),
				Location: Location{Lat: 1.3521, Lon: 103.8198}, BatteryLevel: 100},
			`{"device_id": "sensor-0003", "temperature": -4.5, "humidity": 99.99, "timestamp": "2026-11-21T13:40:00.000001", "location": {"lat": 1.3521, "lon": 103.8198}, "battery_level": 100}`,
		},
	}
	for _, tc := range tests {
		got := string(tc.r.AppendShape(nil, ShapeRecipe))
		if got != tc.want {
			t.Errorf("AppendShape(%+v, recipe) =\n%s\nwant\n%s", tc.r, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s is not JSON", got)
		}
		if ts := ShapeRecipe.Timestamp(tc.r.Timestamp); !json.Valid([]byte(`"`+ts+`"`)) || len(ts) < 19 {
			t.Errorf("Timestamp = %q", ts)
		}
	}
}

func TestParseShape(t *testing.T) {
	for in, want := range map[string]Shape{"": ShapeSensor, "sensor": ShapeSensor, "recipe": ShapeRecipe} {
		if got, err := ParseShape(in); err != nil || got != want {
			t.Errorf("ParseShape(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseShape("csv"); err == nil {
		t.Error(`ParseShape("csv") succeeded; want an error`)
	}
	r := Reading{DeviceID: "d", Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)}
	if got, want := string(r.AppendShape(nil, ShapeSensor)), string(r.AppendJSON(nil)); got != want {
		t.Errorf("AppendShape(sensor) = %s; want AppendJSON %s", got, want)
	}
	if got := ShapeSensor.Timestamp(r.Timestamp); got != "2026-01-02T03:04:05.006Z" {
		t.Errorf("ShapeSensor.Timestamp = %s", got)
	}
}
