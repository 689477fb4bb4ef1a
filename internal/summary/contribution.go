package summary

import (
	"maps"
	"slices"
)

// Contribution is what one processed object adds to the summaries: the aggregate
// of its records per summary key (each device-hour and fleet-hour it touches), and
// what was read. Applying the difference between an object's new and previously
// applied contribution is how the store keeps summaries exact when an object is
// overwritten. The zero value is an empty contribution. A Contribution is not safe
// for concurrent mutation.
type Contribution struct {
	Summaries map[Key]*Summary
	Stats     Stats
}

// Stats counts the lines of an object and why some were not aggregated. Nothing is
// dropped silently: Lines = Records + Skipped().
type Stats struct {
	// Lines is the number of non-empty lines.
	Lines int64 `json:"lines"`
	// Records is the number of lines aggregated into summaries.
	Records int64 `json:"records"`
	// Malformed counts lines that are not a JSON object with an original_data
	// member.
	Malformed int64 `json:"malformed"`
	// NoDevice counts records whose original_data has no usable device field:
	// missing, not a non-empty string or a number, or longer than
	// MaxDeviceIDBytes (its partition key would exceed DynamoDB's 2048 bytes).
	NoDevice int64 `json:"noDevice"`
	// NoTime counts records with neither a valid event time nor an arrival time.
	NoTime int64 `json:"noTime"`
	// TimeFallback counts aggregated records whose hour came from
	// approximate_arrival_timestamp because the time field was missing or invalid.
	TimeFallback int64 `json:"timeFallback"`
	// InvalidTime counts records whose time field was present but not an event
	// time by record.ParseEventTime (a subset of TimeFallback and NoTime).
	InvalidTime int64 `json:"invalidTime"`
	// NonNumeric counts, per numeric field, aggregated records where the field held
	// something other than a number or null (the record still counts, the field
	// does not).
	NonNumeric map[string]int64 `json:"nonNumeric,omitempty"`
	// OutOfRange counts, per numeric field, aggregated records where the field held
	// a number outside the summable domain: not 0, and 1e12 or more in magnitude or
	// with digits below 1e-21 (see summableMaxExponent). Summing such values could
	// need more than the 38 significant digits a DynamoDB number holds. The record
	// still counts, the field does not (as with NonNumeric).
	OutOfRange map[string]int64 `json:"outOfRange,omitempty"`
}

// Skipped returns the number of lines that were not aggregated.
func (s Stats) Skipped() int64 { return s.Malformed + s.NoDevice + s.NoTime }

// Add folds o into s.
func (s *Stats) Add(o Stats) {
	s.Lines += o.Lines
	s.Records += o.Records
	s.Malformed += o.Malformed
	s.NoDevice += o.NoDevice
	s.NoTime += o.NoTime
	s.TimeFallback += o.TimeFallback
	s.InvalidTime += o.InvalidTime
	for k, v := range o.NonNumeric {
		if s.NonNumeric == nil {
			s.NonNumeric = map[string]int64{}
		}
		s.NonNumeric[k] += v
	}
	for k, v := range o.OutOfRange {
		if s.OutOfRange == nil {
			s.OutOfRange = map[string]int64{}
		}
		s.OutOfRange[k] += v
	}
}

// Keys returns the contribution's summary keys in (PK, SK) order.
func (c *Contribution) Keys() []Key {
	if c == nil {
		return nil
	}
	return slices.SortedFunc(maps.Keys(c.Summaries), compareKeys)
}

// Summary returns the contribution's summary for k, or nil.
func (c *Contribution) Summary(k Key) *Summary {
	if c == nil {
		return nil
	}
	return c.Summaries[k]
}
