package ingest

import (
	"fmt"
	"time"

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
// It returns the JSON value to store as the line's original_data (compact, one
// line; returning r.Payload unchanged is the common case), or an error to reject the
// record: the record is then quarantined with err.Error() as the reason. Every
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
// RFC 3339 date-time string, because the event time is what the hourly summaries
// group by and what analytics queries filter on: a reading with an unreadable time
// is quarantined rather than counted in the wrong hour.
var ValidateEventTime Transform = TransformFunc(validateEventTime)

func validateEventTime(r *Record) ([]byte, error) {
	if r.Kind != record.JSON {
		return r.Payload, nil
	}
	v, ok := record.TopLevelMember(r.Payload, "timestamp")
	if !ok {
		return r.Payload, nil
	}
	s, ok := record.StringValue(v)
	if !ok {
		return nil, fmt.Errorf("timestamp is %s, want an RFC 3339 string", kindOfJSON(v))
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return nil, fmt.Errorf("timestamp %q is not an RFC 3339 date-time", truncate(s, 64))
	}
	return r.Payload, nil
}

func kindOfJSON(v []byte) string {
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string with escapes"
	}
	return "a number"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
