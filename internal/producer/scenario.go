package producer

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/streamlake/streamlake/internal/sensor"
)

// Scenarios of NewSource: what the generated records hold.
const (
	// ScenarioSensor is sensor readings.
	ScenarioSensor = "sensor"
	// ScenarioMixed is 8 payload kinds, one each: sensor JSON, JSON array, JSON
	// string, text log line, binary (not UTF-8), empty, JSON with unicode
	// escapes, padded JSON.
	ScenarioMixed = "mixed"
	// ScenarioFiltered is 12 records, 6 that the template's default filter
	// passes and 6 it drops.
	ScenarioFiltered = "filtered"
	// ScenarioPoison is sensor readings, exactly one of them (the middle one)
	// with the event time PoisonTimestamp.
	ScenarioPoison = "poison"
	// ScenarioFlood is sensor readings whose event times no reading makes a
	// time: every record is quarantined.
	ScenarioFlood = "flood"
)

// PoisonTimestamp is the event time of a poison record: a device with a broken
// clock. The processor's transform quarantines it (README, "Event time").
const PoisonTimestamp = "yesterday"

// ScenarioConfig configures NewSource. The zero Scenario is ScenarioSensor.
type ScenarioConfig struct {
	Scenario string
	// Devices, Seed, Start and Interval configure the sensor generator
	// (sensor.Config).
	Devices  int
	Seed     int64
	Start    time.Time
	Interval time.Duration
	// Shape is how sensor readings are written (sensor, poison and flood).
	Shape sensor.Shape
	// Count is the number of records of the poison scenario, whose middle one
	// is poison.
	Count int
}

// Generated is one generated record with the event time of the reading it
// was made from.
type Generated struct {
	Record
	EventTime time.Time
}

// Source yields the records of a scenario; ok is false when a finite scenario
// (mixed, filtered) ends. It is not safe for concurrent use.
type Source func() (it Generated, ok bool)

// NewSource returns the records of c.Scenario, reproducible for the same c.
func NewSource(c ScenarioConfig) (Source, error) {
	g, err := sensor.NewGenerator(sensor.Config{Devices: c.Devices, Seed: c.Seed, Start: c.Start, Interval: c.Interval})
	if err != nil {
		return nil, err
	}
	reading := func(r sensor.Reading, data []byte) (Generated, bool) {
		return Generated{Record: Record{PartitionKey: r.PartitionKey(), Data: data}, EventTime: r.Timestamp}, true
	}
	switch c.Scenario {
	case ScenarioSensor, "":
		return func() (Generated, bool) {
			r := g.Next()
			return reading(r, r.AppendShape(nil, c.Shape))
		}, nil
	case ScenarioPoison:
		poisonAt := c.Count / 2
		return func() (Generated, bool) {
			i := g.Count()
			r := g.Next()
			data := r.AppendShape(nil, c.Shape)
			if i == poisonAt {
				data = Poison(r, c.Shape, data)
			}
			return reading(r, data)
		}, nil
	case ScenarioFlood:
		return func() (Generated, bool) {
			i := g.Count()
			r := g.Next()
			return reading(r, replaceTimestamp(r, c.Shape, r.AppendShape(nil, c.Shape), unreadableTimes[i%len(unreadableTimes)]))
		}, nil
	case ScenarioMixed:
		return fixedSource(g, mixedPayloads), nil
	case ScenarioFiltered:
		return fixedSource(g, filteredPayloads), nil
	}
	return nil, fmt.Errorf("unknown scenario %q", c.Scenario)
}

// Poison returns data, the reading r written in shape, with the event time
// PoisonTimestamp.
func Poison(r sensor.Reading, shape sensor.Shape, data []byte) []byte {
	return replaceTimestamp(r, shape, data, PoisonTimestamp)
}

// Heartbeat returns the heartbeat a device sends beside its readings: no
// reading, so the template's default filter drops it. battery_level is an
// integer, as in events/kinesis-filtered.json.
func Heartbeat(r sensor.Reading) []byte {
	return fmt.Appendf(nil, `{"device_id":%q,"type":"heartbeat","battery_level":%d,"timestamp":%q}`,
		r.DeviceID, int(r.BatteryLevel), ts(r))
}

// replaceTimestamp replaces the text of the reading's event time in its data.
func replaceTimestamp(r sensor.Reading, shape sensor.Shape, data []byte, with string) []byte {
	ts := `"` + shape.Timestamp(r.Timestamp) + `"`
	return bytes.Replace(data, []byte(ts), strconv.AppendQuote(nil, with), 1)
}

// unreadableTimes are event times that no reading makes a time, as devices with
// broken clocks or firmware send them; the flood scenario cycles through them.
var unreadableTimes = []string{
	"yesterday", "unknown", "", "NaN", "0000-00-00 00:00:00", "2026-13-45T25:61:00",
	"21/11/2026 13:40", "Sat Nov 21 13:40:00 2026", "2026-11-21", "-1",
}

// payload builds the i-th record of a fixed scenario from the i-th reading, so
// device, time and values stay consistent with the sensor data.
type payload func(r sensor.Reading) (key string, data []byte)

func fixedSource(g *sensor.Generator, payloads []payload) Source {
	return func() (Generated, bool) {
		i := g.Count()
		if i >= len(payloads) {
			return Generated{}, false
		}
		r := g.Next()
		key, data := payloads[i](r)
		return Generated{Record: Record{PartitionKey: key, Data: data}, EventTime: r.Timestamp}, true
	}
}

func ts(r sensor.Reading) string { return r.Timestamp.UTC().Format(sensor.TimestampLayout) }

// mixedPayloads are the payload kinds the processor must handle, one each.
var mixedPayloads = []payload{
	// A sensor reading.
	func(r sensor.Reading) (string, []byte) { return r.DeviceID, r.AppendJSON(nil) },
	// A JSON array (a gateway batching readings).
	func(r sensor.Reading) (string, []byte) {
		return r.DeviceID, fmt.Appendf(nil, `[{"device_id":%q,"temperature":%.2f,"timestamp":%q},{"device_id":%q,"temperature":%.2f,"timestamp":%q}]`,
			r.DeviceID, r.Temperature, ts(r), r.DeviceID, r.Temperature+0.07, ts(r))
	},
	// A JSON string scalar.
	func(r sensor.Reading) (string, []byte) { return r.DeviceID, []byte(`"calibration complete"`) },
	// A plain UTF-8 log line, with non-ASCII.
	func(r sensor.Reading) (string, []byte) {
		return r.DeviceID, fmt.Appendf(nil, "%s WARN %s probe drift +0.7°C over baseline (%.2f °C)", ts(r), r.DeviceID, r.Temperature)
	},
	// Binary: a gzip header followed by bytes that are not UTF-8.
	func(r sensor.Reading) (string, []byte) {
		return r.DeviceID, []byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x03, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1}
	},
	// An empty payload.
	func(r sensor.Reading) (string, []byte) { return r.DeviceID, []byte{} },
	// JSON with unicode escapes (the raw bytes are ASCII).
	func(r sensor.Reading) (string, []byte) {
		return r.DeviceID, fmt.Appendf(nil, `{"device_id":%q,"site":"M\u00fcnchen \u2013 K\u00fchlhaus 3","unit":"\u00b0C","temperature":%.2f,"timestamp":%q}`,
			r.DeviceID, r.Temperature, ts(r))
	},
	// JSON padded with whitespace.
	func(r sensor.Reading) (string, []byte) {
		return r.DeviceID, fmt.Appendf(nil, "  \n\t{\"device_id\": %q, \"temperature\": %.2f, \"timestamp\": %q}\n  ", r.DeviceID, r.Temperature, ts(r))
	},
}

// filteredPayloads interleave records the template's default filter
// {"data": {"device_id": [{"exists": true}], "temperature": [{"numeric": [">=", -50]}]}}
// passes (normal readings, and one exactly at -50) with ones it drops.
var filteredPayloads = []payload{
	passReading,
	heartbeat,
	passReading,
	disconnectedProbe,
	noDeviceID,
	passReading,
	plainText,
	func(r sensor.Reading) (string, []byte) { // boundary: -50 passes ">= -50"
		r.Temperature = -50
		return r.DeviceID, r.AppendJSON(nil)
	},
	heartbeat,
	passReading,
	disconnectedProbe,
	passReading,
}

func passReading(r sensor.Reading) (string, []byte) { return r.DeviceID, r.AppendJSON(nil) }

func heartbeat(r sensor.Reading) (string, []byte) { return r.DeviceID, Heartbeat(r) }

// disconnectedProbe is a reading from a probe that is unplugged: DS18B20-style
// sensors report -127 °C then.
func disconnectedProbe(r sensor.Reading) (string, []byte) {
	r.Temperature = -127
	return r.DeviceID, r.AppendJSON(nil)
}

func noDeviceID(r sensor.Reading) (string, []byte) {
	return "gateway-01", fmt.Appendf(nil, `{"gateway_id":"gateway-01","temperature":%.2f,"humidity":%.2f,"timestamp":%q}`,
		r.Temperature, r.Humidity, ts(r))
}

func plainText(r sensor.Reading) (string, []byte) {
	return r.DeviceID, fmt.Appendf(nil, "%s rebooting after firmware update", r.DeviceID)
}
