package sensor

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var start = time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC)

func generate(t *testing.T, cfg Config, n int) []Reading {
	t.Helper()
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatalf("NewGenerator(%+v) error: %v", cfg, err)
	}
	out := make([]Reading, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

func marshalAll(t *testing.T, rs []Reading) []byte {
	t.Helper()
	var b []byte
	for _, r := range rs {
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("json.Marshal(%+v) error: %v", r, err)
		}
		b = append(append(b, j...), '\n')
	}
	return b
}

func TestGeneratorReproducible(t *testing.T) {
	cfg := Config{Devices: 5, Seed: 42, Start: start, Interval: time.Minute}
	a := marshalAll(t, generate(t, cfg, 200))
	b := marshalAll(t, generate(t, cfg, 200))
	if !bytes.Equal(a, b) {
		t.Fatalf("same config gave different readings:\n%s", cmp.Diff(string(a), string(b)))
	}
	cfg.Seed = 43
	c := marshalAll(t, generate(t, cfg, 200))
	if bytes.Equal(a, c) {
		t.Fatalf("seeds 42 and 43 gave identical readings")
	}
}

func TestReadingJSONKeyOrderAndFormat(t *testing.T) {
	r := Reading{
		DeviceID:     "sensor-0007",
		Temperature:  21.5,
		Humidity:     -0.0001,
		Timestamp:    time.Date(2026, 11, 21, 14, 0, 0, 123456789, time.FixedZone("CET", 3600)),
		Location:     Location{Lat: 52.52, Lon: -13.40505},
		BatteryLevel: 80,
	}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal error: %v", err)
	}
	want := `{"device_id":"sensor-0007","temperature":21.50,"humidity":0.00,"timestamp":"2026-11-21T13:00:00.123Z","location":{"lat":52.5200,"lon":-13.4051},"battery_level":80.0}`
	if string(got) != want {
		t.Errorf("json.Marshal(reading) = %s; want %s", got, want)
	}
}

func TestReadingRoundTrip(t *testing.T) {
	for _, r := range generate(t, Config{Devices: 3, Seed: 7, Start: start}, 30) {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("json.Marshal error: %v", err)
		}
		var back Reading
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("json.Unmarshal(%s) error: %v", b, err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Errorf("round trip of %s changed the reading (-want +got):\n%s", b, diff)
		}
	}
}

func TestGeneratorModel(t *testing.T) {
	const devices, n = 5, 600
	cfg := Config{Devices: devices, Seed: 1, Start: start, Interval: time.Minute}
	rs := generate(t, cfg, n)
	idRE := regexp.MustCompile(`^sensor-\d{4}$`)
	last := map[string]Reading{}
	for i, r := range rs {
		if want := DeviceID(i%devices + 1); r.DeviceID != want {
			t.Fatalf("reading %d device = %s; want %s", i, r.DeviceID, want)
		}
		if !idRE.MatchString(r.DeviceID) || r.PartitionKey() != r.DeviceID {
			t.Fatalf("reading %d: device %q, partition key %q", i, r.DeviceID, r.PartitionKey())
		}
		if want := start.Add(time.Duration(i) * time.Minute); !r.Timestamp.Equal(want) {
			t.Fatalf("reading %d timestamp = %s; want %s", i, r.Timestamp, want)
		}
		if r.Temperature < 10 || r.Temperature > 35 {
			t.Errorf("reading %d temperature = %v; want within 10..35 °C", i, r.Temperature)
		}
		if r.Humidity < 0 || r.Humidity > 100 {
			t.Errorf("reading %d humidity = %v; want within 0..100", i, r.Humidity)
		}
		if r.BatteryLevel < 0 || r.BatteryLevel > 100 {
			t.Errorf("reading %d battery = %v; want within 0..100", i, r.BatteryLevel)
		}
		if r.Location.Lat < -90 || r.Location.Lat > 90 || r.Location.Lon < -180 || r.Location.Lon > 180 {
			t.Errorf("reading %d location = %+v; not a coordinate", i, r.Location)
		}
		if p, ok := last[r.DeviceID]; ok {
			if p.Location != r.Location {
				t.Errorf("device %s moved from %+v to %+v", r.DeviceID, p.Location, r.Location)
			}
			if r.BatteryLevel > p.BatteryLevel {
				t.Errorf("device %s battery rose from %v to %v", r.DeviceID, p.BatteryLevel, r.BatteryLevel)
			}
			if !r.Timestamp.After(p.Timestamp) {
				t.Errorf("device %s time did not advance: %s then %s", r.DeviceID, p.Timestamp, r.Timestamp)
			}
		}
		last[r.DeviceID] = r
	}
	// The battery drains visibly over 120 readings per device.
	first := rs[0]
	if l := last[first.DeviceID]; l.BatteryLevel >= first.BatteryLevel {
		t.Errorf("device %s battery %v → %v; want it to drain", first.DeviceID, first.BatteryLevel, l.BatteryLevel)
	}
}

func TestNewGeneratorDefaults(t *testing.T) {
	g, err := NewGenerator(Config{Start: start})
	if err != nil {
		t.Fatalf("NewGenerator error: %v", err)
	}
	if g.Devices() != DefaultDevices {
		t.Errorf("Devices() = %d; want %d", g.Devices(), DefaultDevices)
	}
	a, b := g.Next(), g.Next()
	if d := b.Timestamp.Sub(a.Timestamp); d != DefaultInterval {
		t.Errorf("interval = %s; want %s", d, DefaultInterval)
	}
	if g.Count() != 2 {
		t.Errorf("Count() = %d; want 2", g.Count())
	}
}

func TestNewGeneratorErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative devices", Config{Devices: -1, Start: start}, "devices must be between"},
		{"too many devices", Config{Devices: MaxDevices + 1, Start: start}, "devices must be between"},
		{"negative interval", Config{Interval: -time.Second, Start: start}, "interval must not be negative"},
		{"no start", Config{}, "start time is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewGenerator(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewGenerator(%+v) error = %v; want it to contain %q", tc.cfg, err, tc.want)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	g, err := NewGenerator(Config{Devices: 100, Seed: 1, Start: start})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = g.Next().AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}
