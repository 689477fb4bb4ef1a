package benchdata

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamlake/streamlake/internal/kinesisevent"
	"github.com/streamlake/streamlake/internal/sensor"
)

// Parameters of the generated readings. They are fixed so that every run, in every
// language, measures the same bytes.
const (
	// Seed is the sensor generator's seed.
	Seed = 1
	// Devices is the fleet size: readings cycle through this many device IDs.
	Devices = 100
	// ArrivalStep is the gap between consecutive records' arrival times.
	ArrivalStep = time.Millisecond
)

// Start is the event time of the first reading and the arrival time of the first
// record.
var Start = time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC)

// SensorEvent returns a Kinesis event of n sensor readings (1 ≤ n ≤ 10,000).
func SensorEvent(n int) (events.KinesisEvent, error) {
	g, err := sensor.NewGenerator(sensor.Config{Devices: Devices, Seed: Seed, Start: Start})
	if err != nil {
		return events.KinesisEvent{}, fmt.Errorf("benchdata: %w", err)
	}
	recs := make([]kinesisevent.Record, n)
	for i := range recs {
		r := g.Next()
		recs[i] = kinesisevent.Record{
			PartitionKey: r.PartitionKey(),
			Data:         r.AppendJSON(make([]byte, 0, 192)),
			ArrivalTime:  Start.Add(time.Duration(i) * ArrivalStep),
		}
	}
	ev, err := kinesisevent.Build(recs, kinesisevent.Options{})
	if err != nil {
		return events.KinesisEvent{}, fmt.Errorf("benchdata: %w", err)
	}
	return ev, nil
}

// SensorEventJSON returns SensorEvent(n) encoded as Lambda delivers it:
// compact JSON with each record's members in Lambda's order
// (kinesisevent.Encode).
func SensorEventJSON(n int) ([]byte, error) {
	ev, err := SensorEvent(n)
	if err != nil {
		return nil, err
	}
	b, err := kinesisevent.Encode(ev)
	if err != nil {
		return nil, fmt.Errorf("benchdata: encode event: %w", err)
	}
	return b, nil
}

// LargestSensorEventJSON returns the event of the most sensor readings (at most
// kinesisevent.MaxRecords) whose JSON is at most limit bytes, and its record count.
func LargestSensorEventJSON(limit int) ([]byte, int, error) {
	lo, hi := 1, kinesisevent.MaxRecords
	var best []byte
	for lo <= hi {
		mid := (lo + hi) / 2
		b, err := SensorEventJSON(mid)
		if err != nil {
			return nil, 0, err
		}
		if len(b) <= limit {
			best, lo = b, mid+1
		} else {
			hi = mid - 1
		}
	}
	if best == nil {
		return nil, 0, fmt.Errorf("benchdata: no sensor event fits in %d bytes", limit)
	}
	return best, hi, nil
}

// PayloadBytes returns the sum of the records' data sizes: the bytes producers put
// into the stream, which is what MB/s figures of `make bench` count.
func PayloadBytes(ev *events.KinesisEvent) int {
	n := 0
	for i := range ev.Records {
		n += len(ev.Records[i].Kinesis.Data)
	}
	return n
}
