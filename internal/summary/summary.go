package summary

import (
	"maps"
	"slices"
	"time"
)

// TimeLayout is how first/last event times are stored: RFC 3339 in UTC with a
// fixed nine-digit fraction, so that comparing the strings (as DynamoDB condition
// expressions do) compares the times.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// Field aggregates one numeric field over the records of a summary that carry it as
// a JSON number. Min and Max are meaningful only when N > 0. The zero value is an
// empty aggregate.
type Field struct {
	N   int64
	Sum Decimal
	Min Decimal
	Max Decimal
}

// Average returns Sum/N; ok is false when N is 0.
func (f Field) Average() (avg float64, ok bool) {
	if f.N == 0 {
		return 0, false
	}
	return f.Sum.Float64() / float64(f.N), true
}

// add folds one value into f.
func (f *Field) add(v Decimal) {
	if f.N == 0 {
		f.Min, f.Max = v, v
	} else {
		if v.Cmp(f.Min) < 0 {
			f.Min = v
		}
		if v.Cmp(f.Max) > 0 {
			f.Max = v
		}
	}
	f.N++
	f.Sum = f.Sum.Add(v)
}

// merge folds o into f.
func (f *Field) merge(o Field) {
	if o.N == 0 {
		return
	}
	if f.N == 0 {
		*f = o
		return
	}
	f.N += o.N
	f.Sum = f.Sum.Add(o.Sum)
	if o.Min.Cmp(f.Min) < 0 {
		f.Min = o.Min
	}
	if o.Max.Cmp(f.Max) > 0 {
		f.Max = o.Max
	}
}

// Summary is the aggregate of the records of one device (or the fleet) in one
// hour of event time: how many, the event-time range, and per numeric field the
// count, sum, minimum and maximum. The zero value is an empty summary. A Summary is
// not safe for concurrent mutation.
type Summary struct {
	Count int64
	// First and Last are the earliest and latest event times. They are set when
	// Count is above 0, and may stay set when it went back to 0 (records left an
	// object; extremes are never retracted). Go's zero time is also a valid event
	// time: hasTimes, not IsZero, says whether they hold one.
	First, Last time.Time
	// Fields maps a numeric field name to its aggregate; fields no record carried
	// are absent.
	Fields map[string]Field
}

// hasTimes reports whether s holds event times: it counts records, or (a
// summary whose count went back to 0; extremes are never retracted) a time is set.
func (s *Summary) hasTimes() bool { return s.Count > 0 || !s.First.IsZero() || !s.Last.IsZero() }

// Merge folds o into s.
func (s *Summary) Merge(o *Summary) {
	if o.hasTimes() {
		had := s.hasTimes()
		if !had || o.First.Before(s.First) {
			s.First = o.First
		}
		if !had || o.Last.After(s.Last) {
			s.Last = o.Last
		}
	}
	s.Count += o.Count
	for name, f := range o.Fields {
		if s.Fields == nil {
			s.Fields = map[string]Field{}
		}
		cur := s.Fields[name]
		cur.merge(f)
		s.Fields[name] = cur
	}
}

// Clone returns a deep copy of s.
func (s *Summary) Clone() *Summary {
	c := *s
	c.Fields = maps.Clone(s.Fields)
	return &c
}

// FieldNames returns the names in s.Fields, sorted.
func (s *Summary) FieldNames() []string {
	return slices.Sorted(maps.Keys(s.Fields))
}
