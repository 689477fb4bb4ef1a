// Package sensor generates seeded, reproducible IoT sensor readings: the data the
// developer CLI puts into the stream and writes into sample Kinesis events.
//
// A Generator cycles through a fleet of devices (sensor-0001, sensor-0002, …). Each
// device has a fixed location, a temperature and humidity baseline with a slow random
// drift plus measurement noise, and a battery that drains a little with every reading.
// The event time starts at Config.Start and advances by Config.Interval per reading,
// across the fleet, so readings come out in event-time order.
//
// The same Config always yields the same readings, byte for byte: values come from a
// PCG generator seeded with Config.Seed, and Reading.MarshalJSON writes a fixed key
// order (device_id, temperature, humidity, timestamp, location, battery_level) and
// fixed decimal places. The partition key of a reading is its device ID, so that per
// device order is preserved within a Kinesis shard.
//
// The package imports no AWS SDK.
package sensor
