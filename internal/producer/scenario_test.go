package producer_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/sensor"
)

func scenario(t *testing.T, name string, shape sensor.Shape, count int) []producer.Generated {
	t.Helper()
	src, err := producer.NewSource(producer.ScenarioConfig{Scenario: name, Devices: 5, Seed: 3,
		Start: time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC), Interval: time.Second, Shape: shape, Count: count})
	if err != nil {
		t.Fatalf("NewSource(%s) error = %v", name, err)
	}
	var out []producer.Generated
	for len(out) < count {
		it, ok := src()
		if !ok {
			break
		}
		out = append(out, it)
	}
	return out
}

// TestPoisonScenario checks that exactly the middle record carries
// PoisonTimestamp, in either shape, and the others their reading's time.
func TestPoisonScenario(t *testing.T) {
	for _, shape := range []sensor.Shape{sensor.ShapeSensor, sensor.ShapeRecipe} {
		recs := scenario(t, producer.ScenarioPoison, shape, 10)
		for i, r := range recs {
			var v struct {
				Timestamp string `json:"timestamp"`
			}
			if err := json.Unmarshal(r.Data, &v); err != nil {
				t.Fatalf("%s record %d: %v", shape, i, err)
			}
			if poison := v.Timestamp == producer.PoisonTimestamp; poison != (i == 5) {
				t.Errorf("%s record %d: timestamp %q; want %q only for record 5", shape, i, v.Timestamp, producer.PoisonTimestamp)
			}
			if !r.EventTime.Equal(time.Date(2026, 11, 21, 13, 40, i, 0, time.UTC)) {
				t.Errorf("%s record %d: EventTime %v; want one second apart from the start", shape, i, r.EventTime)
			}
		}
	}
}

// TestHeartbeat checks the heartbeat's fields: no reading, an integer battery
// level (as events/kinesis-filtered.json has it).
func TestHeartbeat(t *testing.T) {
	r := sensor.Reading{DeviceID: "sensor-0002", BatteryLevel: 77.6, Timestamp: time.Date(2026, 11, 21, 13, 40, 10, 0, time.UTC)}
	got := string(producer.Heartbeat(r))
	want := `{"device_id":"sensor-0002","type":"heartbeat","battery_level":77,"timestamp":"2026-11-21T13:40:10.000Z"}`
	if got != want {
		t.Errorf("Heartbeat() = %s; want %s", got, want)
	}
}

func TestFixedScenariosEnd(t *testing.T) {
	for name, want := range map[string]int{producer.ScenarioMixed: 8, producer.ScenarioFiltered: 12} {
		if got := len(scenario(t, name, sensor.ShapeSensor, 100)); got != want {
			t.Errorf("scenario %s: %d records; want %d", name, got, want)
		}
	}
}

func TestUnknownScenario(t *testing.T) {
	if _, err := producer.NewSource(producer.ScenarioConfig{Scenario: "chaos", Devices: 1, Start: time.Now()}); err == nil || !strings.Contains(err.Error(), `unknown scenario "chaos"`) {
		t.Errorf("NewSource(chaos) error = %v; want unknown scenario", err)
	}
}
