package sensor

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Shape is how a Reading is written as a record's data. The zero value is
// ShapeSensor.
type Shape string

// Shapes of Reading data.
const (
	// ShapeSensor is this project's own encoding (Reading.AppendJSON): compact JSON,
	// fixed decimals, the event time in RFC 3339 UTC with milliseconds.
	ShapeSensor Shape = "sensor"
	// ShapeRecipe is the record the classic Kinesis-to-S3 recipe's Python data
	// generator puts into the stream: the same fields in the same order, written by
	// json.dumps with its default separators (", " and ": "), floats as Python's
	// repr (23.4, 21.0), battery_level as an integer (random.randint), and
	// "timestamp": datetime.utcnow().isoformat(), which has no UTC offset and
	// microseconds only when they are not zero (2026-11-21T13:40:01.357000, but
	// 2026-11-21T13:40:00). The recipe's own handler can read it; a processor that
	// wants RFC 3339 would reject every record.
	ShapeRecipe Shape = "recipe"
)

// ParseShape returns the Shape named s ("" is ShapeSensor).
func ParseShape(s string) (Shape, error) {
	switch sh := Shape(s); sh {
	case "", ShapeSensor:
		return ShapeSensor, nil
	case ShapeRecipe:
		return sh, nil
	}
	return "", fmt.Errorf("unknown shape %q: want sensor or recipe", s)
}

// Timestamp returns the text of the event time t as shape s writes it (without
// quotes).
func (s Shape) Timestamp(t time.Time) string {
	if s == ShapeRecipe {
		return string(appendPythonISO(nil, t))
	}
	return t.UTC().Format(TimestampLayout)
}

// AppendShape appends the reading's data in shape s to b.
func (r Reading) AppendShape(b []byte, s Shape) []byte {
	if s == ShapeRecipe {
		return r.AppendRecipeJSON(b)
	}
	return r.AppendJSON(b)
}

// AppendRecipeJSON appends the reading as the recipe's generator writes it (see
// ShapeRecipe), e.g.
//
//	{"device_id": "sensor-0001", "temperature": 21.43, "humidity": 48.2, "timestamp": "2026-11-21T13:40:01.357000", "location": {"lat": 52.5211, "lon": 13.4012}, "battery_level": 87}
func (r Reading) AppendRecipeJSON(b []byte) []byte {
	b = append(b, `{"device_id": `...)
	b = strconv.AppendQuote(b, r.DeviceID)
	b = append(b, `, "temperature": `...)
	b = appendPythonFloat(b, round(r.Temperature, 2))
	b = append(b, `, "humidity": `...)
	b = appendPythonFloat(b, round(r.Humidity, 2))
	b = append(b, `, "timestamp": "`...)
	b = appendPythonISO(b, r.Timestamp)
	b = append(b, `", "location": {"lat": `...)
	b = appendPythonFloat(b, r.Location.Lat)
	b = append(b, `, "lon": `...)
	b = appendPythonFloat(b, r.Location.Lon)
	b = append(b, `}, "battery_level": `...)
	b = strconv.AppendInt(b, int64(math.Round(r.BatteryLevel)), 10)
	return append(b, '}')
}

// appendPythonFloat writes v as Python's repr does for the magnitudes a reading
// has: the shortest decimal that reads back as v, with ".0" for integral values.
func appendPythonFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}

// appendPythonISO writes t in UTC as Python's naive datetime.isoformat(): seconds,
// and a 6-digit microsecond fraction only when it is not zero.
func appendPythonISO(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = t.AppendFormat(b, "2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		s := strconv.Itoa(us)
		for i := len(s); i < 6; i++ {
			b = append(b, '0')
		}
		b = append(b, s...)
	}
	return b
}
