package sensor_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/streamlake/streamlake/internal/sensor"
)

func ExampleGenerator() {
	g, err := sensor.NewGenerator(sensor.Config{
		Devices:  2,
		Seed:     1,
		Start:    time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC),
		Interval: time.Minute,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		r := g.Next()
		b, _ := json.Marshal(r)
		fmt.Println(r.PartitionKey(), string(b))
	}
	// Output:
	// sensor-0001 {"device_id":"sensor-0001","temperature":16.20,"humidity":51.22,"timestamp":"2026-11-21T13:40:00.000Z","location":{"lat":47.5712,"lon":-122.2951},"battery_level":70.2}
	// sensor-0002 {"device_id":"sensor-0002","temperature":25.75,"humidity":49.75,"timestamp":"2026-11-21T13:41:00.000Z","location":{"lat":1.4010,"lon":103.8191},"battery_level":77.7}
	// sensor-0001 {"device_id":"sensor-0001","temperature":16.13,"humidity":50.95,"timestamp":"2026-11-21T13:42:00.000Z","location":{"lat":47.5712,"lon":-122.2951},"battery_level":70.1}
}
