package summary

import (
	"fmt"
	"strings"
	"time"
)

// Key is the primary key of a summary item: PK is DEVICE#<device ID> or FLEET, SK
// is HOUR#<UTC hour as 2006-01-02T15>. Sorting keys by (PK, SK) orders a device's
// hours chronologically, which is what a Query with SK BETWEEN relies on.
type Key struct {
	PK string
	SK string
}

// Key prefixes and the fleet partition.
const (
	DevicePrefix = "DEVICE#"
	HourPrefix   = "HOUR#"
	FleetPK      = "FLEET"
	// HourLayout is the layout of the hour in SK.
	HourLayout = "2006-01-02T15"
)

// DynamoDB's limits on key attribute values, in bytes of UTF-8: a partition key
// holds at most 2048, a sort key at most 1024. A write with a longer key fails
// with a ValidationException; for the aggregator that would fail the whole
// object's transaction. See
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys
const (
	MaxPartitionKeyBytes = 2048
	MaxSortKeyBytes      = 1024
)

// MaxDeviceIDBytes is the longest device ID, in bytes of UTF-8, whose DevicePK
// fits a DynamoDB partition key. A longer ID is not a usable device: its records
// are counted in Stats.NoDevice.
const MaxDeviceIDBytes = MaxPartitionKeyBytes - len(DevicePrefix)

// DevicePK returns the partition key of a device's summaries.
func DevicePK(device string) string { return DevicePrefix + device }

// HourSK returns the sort key of the hour holding t (UTC).
func HourSK(t time.Time) string { return HourPrefix + t.UTC().Format(HourLayout) }

// DeviceKey returns the key of a device's summary for the hour holding t.
func DeviceKey(device string, t time.Time) Key { return Key{PK: DevicePK(device), SK: HourSK(t)} }

// FleetKey returns the key of the fleet summary for the hour holding t.
func FleetKey(t time.Time) Key { return Key{PK: FleetPK, SK: HourSK(t)} }

// Hour returns the start of the key's hour.
func (k Key) Hour() (time.Time, error) {
	s, ok := strings.CutPrefix(k.SK, HourPrefix)
	if !ok {
		return time.Time{}, fmt.Errorf("summary key %s: sort key has no %s prefix", k, HourPrefix)
	}
	t, err := time.Parse(HourLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("summary key %s: %w", k, err)
	}
	return t, nil
}

// Device returns the device ID of a device key; ok is false for the fleet.
func (k Key) Device() (id string, ok bool) { return strings.CutPrefix(k.PK, DevicePrefix) }

// String returns "PK/SK".
func (k Key) String() string { return k.PK + "/" + k.SK }

// Less orders keys by PK, then SK: the deterministic order of transaction chunks.
func (k Key) Less(o Key) bool {
	if k.PK != o.PK {
		return k.PK < o.PK
	}
	return k.SK < o.SK
}

// compareKeys is Less as a three-way comparison for slices.SortFunc.
func compareKeys(a, b Key) int {
	if c := strings.Compare(a.PK, b.PK); c != 0 {
		return c
	}
	return strings.Compare(a.SK, b.SK)
}
