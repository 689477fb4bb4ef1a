package sensor

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Defaults used where a Config field is zero.
const (
	// DefaultDevices is the fleet size when Config.Devices is 0.
	DefaultDevices = 10
	// DefaultInterval is the event-time step between readings when Config.Interval is 0.
	DefaultInterval = time.Second
	// MaxDevices bounds Config.Devices; device IDs have four digits up to 9999 and
	// grow wider after that.
	MaxDevices = 100000
)

// TimestampLayout is the layout of Reading.Timestamp in JSON: RFC 3339 in UTC with
// millisecond precision, e.g. 2026-11-21T13:40:00.000Z.
const TimestampLayout = "2006-01-02T15:04:05.000Z07:00"

// Location is a device's fixed position in decimal degrees (WGS 84).
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Reading is one sensor record. The struct tags let encoding/json decode the JSON
// that MarshalJSON writes. The zero value is a reading of no device and is not
// meaningful.
type Reading struct {
	// DeviceID is "sensor-" followed by the 1-based device number, zero-padded to
	// four digits.
	DeviceID string `json:"device_id"`
	// Temperature in degrees Celsius, rounded to 2 decimals.
	Temperature float64 `json:"temperature"`
	// Humidity is the relative humidity in percent (0–100), rounded to 2 decimals.
	Humidity float64 `json:"humidity"`
	// Timestamp is the event time (when the device measured), in UTC, truncated to
	// the millisecond.
	Timestamp time.Time `json:"timestamp"`
	// Location is fixed per device, rounded to 4 decimals (about 11 m).
	Location Location `json:"location"`
	// BatteryLevel in percent (0–100), rounded to 1 decimal; it only goes down.
	BatteryLevel float64 `json:"battery_level"`
}

// PartitionKey returns the Kinesis partition key of the reading: its device ID.
func (r Reading) PartitionKey() string { return r.DeviceID }

// MarshalJSON encodes the reading as compact JSON with the key order device_id,
// temperature, humidity, timestamp, location, battery_level and fixed decimal places,
// so equal readings always encode to equal bytes.
func (r Reading) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 192)), nil
}

// AppendJSON appends the JSON encoding of the reading (as MarshalJSON) to b.
func (r Reading) AppendJSON(b []byte) []byte {
	b = append(b, `{"device_id":`...)
	b = strconv.AppendQuote(b, r.DeviceID)
	b = append(b, `,"temperature":`...)
	b = appendFixed(b, r.Temperature, 2)
	b = append(b, `,"humidity":`...)
	b = appendFixed(b, r.Humidity, 2)
	b = append(b, `,"timestamp":"`...)
	b = r.Timestamp.UTC().AppendFormat(b, TimestampLayout)
	b = append(b, `","location":{"lat":`...)
	b = appendFixed(b, r.Location.Lat, 4)
	b = append(b, `,"lon":`...)
	b = appendFixed(b, r.Location.Lon, 4)
	b = append(b, `},"battery_level":`...)
	b = appendFixed(b, r.BatteryLevel, 1)
	return append(b, '}')
}

// appendFixed writes v with exactly prec decimals. NaN and infinities cannot occur in
// generated readings; they are written as 0 so the output is always valid JSON.
func appendFixed(b []byte, v float64, prec int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	v = round(v, prec)
	return strconv.AppendFloat(b, v, 'f', prec, 64)
}

// round rounds v to prec decimals and turns -0 into 0 (so "-0.00" never appears).
func round(v float64, prec int) float64 {
	p := math.Pow10(prec)
	v = math.Round(v*p) / p
	if v == 0 {
		return 0
	}
	return v
}

// Config configures a Generator. The zero value is not usable: Start is required.
type Config struct {
	// Devices is the fleet size; 0 means DefaultDevices.
	Devices int
	// Seed selects the pseudo-random sequence; equal seeds give equal readings.
	Seed int64
	// Start is the event time of the first reading. Required.
	Start time.Time
	// Interval is the event time between consecutive readings across the fleet, so
	// one device reports every Devices×Interval; 0 means DefaultInterval.
	Interval time.Duration
}

// device is the per-device state of the model.
type device struct {
	id        string
	loc       Location
	tempBase  float64
	tempDrift float64
	humBase   float64
	humDrift  float64
	battery   float64
	drain     float64
}

// Generator produces readings. It is not safe for concurrent use.
type Generator struct {
	rng      *rand.Rand
	devices  []device
	start    time.Time
	interval time.Duration
	n        int
}

// sites are real places with sensor fleets in the sample data (cold chain, offices,
// greenhouses); each device is placed near one of them.
var sites = []Location{
	{Lat: 47.6062, Lon: -122.3321}, // Seattle
	{Lat: 52.5200, Lon: 13.4050},   // Berlin
	{Lat: 35.6762, Lon: 139.6503},  // Tokyo
	{Lat: -33.8688, Lon: 151.2093}, // Sydney
	{Lat: 19.4326, Lon: -99.1332},  // Mexico City
	{Lat: 51.9244, Lon: 4.4777},    // Rotterdam
	{Lat: 1.3521, Lon: 103.8198},   // Singapore
	{Lat: -23.5505, Lon: -46.6333}, // São Paulo
}

// NewGenerator validates cfg and returns a generator positioned at the first reading.
func NewGenerator(cfg Config) (*Generator, error) {
	switch {
	case cfg.Devices < 0 || cfg.Devices > MaxDevices:
		return nil, fmt.Errorf("sensor: devices must be between 1 and %d, got %d", MaxDevices, cfg.Devices)
	case cfg.Interval < 0:
		return nil, fmt.Errorf("sensor: interval must not be negative, got %s", cfg.Interval)
	case cfg.Start.IsZero():
		return nil, errors.New("sensor: start time is required")
	}
	if cfg.Devices == 0 {
		cfg.Devices = DefaultDevices
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	// The second PCG word is a fixed constant so a seed is one number to the user.
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed5e45ab1e5))
	g := &Generator{
		rng:      rng,
		devices:  make([]device, cfg.Devices),
		start:    cfg.Start.UTC().Truncate(time.Millisecond),
		interval: cfg.Interval,
	}
	for i := range g.devices {
		site := sites[rng.IntN(len(sites))]
		g.devices[i] = device{
			id: DeviceID(i + 1),
			loc: Location{
				Lat: round(site.Lat+(rng.Float64()-0.5)*0.1, 4),
				Lon: round(site.Lon+(rng.Float64()-0.5)*0.1, 4),
			},
			tempBase: 16 + rng.Float64()*12, // indoor and greenhouse range, °C
			humBase:  35 + rng.Float64()*30,
			battery:  70 + rng.Float64()*30,
			drain:    0.02 + rng.Float64()*0.06, // percent per reading
		}
	}
	return g, nil
}

// DeviceID returns the ID of the n-th device (1-based): DeviceID(1) = "sensor-0001".
func DeviceID(n int) string { return fmt.Sprintf("sensor-%04d", n) }

// Next returns the next reading. Devices report in turn (sensor-0001, sensor-0002, …,
// then sensor-0001 again), so each device's event times strictly increase.
func (g *Generator) Next() Reading {
	d := &g.devices[g.n%len(g.devices)]
	ts := g.start.Add(time.Duration(g.n) * g.interval)
	g.n++

	d.tempDrift = clamp(d.tempDrift+g.rng.NormFloat64()*0.05, -2, 2)
	d.humDrift = clamp(d.humDrift+g.rng.NormFloat64()*0.2, -8, 8)
	temp := d.tempBase + d.tempDrift + g.rng.NormFloat64()*0.15
	hum := clamp(d.humBase+d.humDrift+g.rng.NormFloat64()*0.5, 0, 100)
	r := Reading{
		DeviceID:     d.id,
		Temperature:  round(temp, 2),
		Humidity:     round(hum, 2),
		Timestamp:    ts,
		Location:     d.loc,
		BatteryLevel: round(d.battery, 1),
	}
	d.battery = math.Max(0, d.battery-d.drain)
	return r
}

// Count returns how many readings Next has returned.
func (g *Generator) Count() int { return g.n }

// Devices returns the fleet size.
func (g *Generator) Devices() int { return len(g.devices) }

func clamp(v, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, v)) }
