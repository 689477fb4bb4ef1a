package ingest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/streamlake/streamlake/internal/record"
)

// Record is what a Transform sees of one Kinesis record.
type Record struct {
	// Payload is the record's data as one compact JSON value: the original JSON, or
	// {"message": …} for text, or {"data_base64": …} for binary. It aliases a buffer
	// that is reused after Transform returns: copy it to keep it.
	Payload []byte
	// Kind says which of the three representations Payload is.
	Kind record.Kind
	// Meta is the record's Kinesis metadata.
	Meta *record.Meta
}

// Transform is the seam for business logic. It is called once per record, in
// stream order, from one goroutine at a time per Processor.
//
// It returns the JSON value to store as the line's original_data (returning
// r.Payload unchanged is the common case; other JSON is compacted onto one line,
// and output that is not JSON is quarantined with a reason that says so), or an
// error to reject the record: the record is then quarantined with err.Error() as
// the reason (its first KiB, cut at a character). Every
// error is treated as permanent for that record; a transform that depends on a
// service that can be down should fail the invocation instead (return the error
// from a wrapping handler), so that Lambda retries the batch.
type Transform interface {
	Transform(r *Record) ([]byte, error)
}

// TransformFunc adapts a function to a Transform.
type TransformFunc func(r *Record) ([]byte, error)

// Transform calls f(r).
func (f TransformFunc) Transform(r *Record) ([]byte, error) { return f(r) }

// Identity is a Transform that stores every payload as it is.
var Identity Transform = TransformFunc(func(r *Record) ([]byte, error) { return r.Payload, nil })

// ValidateEventTime is the default Transform: it passes every payload through, but
// rejects a JSON object whose top-level "timestamp" member is present and is not an
// event time by record.ParseEventTime (RFC 3339; ISO 8601 with or without an offset,
// without one taken as UTC; a space for T; epoch seconds or milliseconds; see
// ParseEventTime for the full grammar), because the event time is what the hourly
// summaries group by and what analytics queries filter on: a reading with an
// unreadable time is quarantined rather than counted in the wrong hour. The
// aggregator reads the time with the same function, so the hour it counts a record
// in is the hour this check saw. A null timestamp is treated as absent. It is
// ValidateEventTimeAt("timestamp"); the function checks the field the aggregator
// reads (TIME_FIELD).
//
// When it is the Processor's transform, the Processor finds the member while it
// scans the payload (record.AppendPayloadMember) rather than in a second pass;
// the result is the same.
var ValidateEventTime Transform = &eventTimeCheck{field: DefaultTimeField, path: []string{DefaultTimeField}}

// DefaultTimeField is the event-time field ValidateEventTime checks.
const DefaultTimeField = "timestamp"

// ValidateEventTimeAt is ValidateEventTime for the event time in field: a member
// name, or a path of names joined by dots ("meta.time" is the member time of the
// member meta), read as the aggregator's TimeField is, member names compared as
// JSON decodes them (record.Lookup). It returns an error for an empty name or an
// empty path segment.
func ValidateEventTimeAt(field string) (Transform, error) {
	if field == DefaultTimeField {
		return ValidateEventTime, nil
	}
	path := strings.Split(field, ".")
	for _, seg := range path {
		if seg == "" {
			return nil, fmt.Errorf("event time field %q: empty member name", field)
		}
	}
	return &eventTimeCheck{field: field, path: path}, nil
}

// eventTimeCheck is the type of ValidateEventTime and ValidateEventTimeAt's
// transforms: New recognises it, to run the check during the payload scan.
type eventTimeCheck struct {
	field string   // as configured, for the reasons
	path  []string // field cut at its dots
}

func (c *eventTimeCheck) Transform(r *Record) ([]byte, error) {
	if r.Kind != record.JSON {
		return r.Payload, nil
	}
	v, ok := record.Lookup(r.Payload, c.path)
	if err := c.check(v, ok); err != nil {
		return nil, err
	}
	return r.Payload, nil
}

// check is the verdict on the raw value v of a JSON payload's event-time member
// (ok false: there is none).
func (c *eventTimeCheck) check(v []byte, ok bool) error {
	if !ok || string(v) == "null" {
		return nil
	}
	if _, ok := record.ParseEventTime(v); ok {
		return nil
	}
	return c.rejection(v)
}

// rejection is the error for the raw value v of an event-time member that
// record.ParseEventTime rejects: what is wrong with it and, where that is
// known, what to send instead (record.EventTimeProblem).
func (c *eventTimeCheck) rejection(v []byte) error {
	switch v[0] {
	case '"':
		msg := fmt.Sprintf("%s %s is not a date-time (RFC 3339 or ISO 8601) nor an epoch number", c.field, truncate(string(v), 64))
		if why := record.EventTimeProblem(v); why != "" {
			msg += ": " + why
		}
		return errors.New(msg)
	case '-':
		what := "a negative number"
		if isZero(v[1:]) {
			what = "zero with a minus sign"
		}
		return fmt.Errorf("%s %s is %s, want a date-time string or epoch seconds or milliseconds", c.field, truncate(string(v), 64), what)
	case '{', '[', 't', 'f', 'n':
		return fmt.Errorf("%s is %s, want a date-time string or epoch seconds or milliseconds", c.field, kindOfJSON(v))
	}
	return fmt.Errorf("%s %s is a number out of range (1e19 or more), want a date-time string or epoch seconds or milliseconds", c.field, truncate(string(v), 64))
}

// isZero reports whether the JSON number n (without its sign) is zero: no
// digit of its significand, before any exponent, is other than 0.
func isZero(n []byte) bool {
	for _, c := range n {
		switch {
		case c == 'e' || c == 'E':
			return true
		case c >= '1' && c <= '9':
			return false
		}
	}
	return true
}

func kindOfJSON(v []byte) string {
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	}
	return "a boolean"
}

// truncate cuts s to at most n bytes, at the start of a character, and marks
// the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// maxReasonBytes bounds a quarantine line's "error": a custom transform's error
// may quote the whole record, which the line holds already.
const maxReasonBytes = 1 << 10
