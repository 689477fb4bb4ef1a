package summary

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
)

// encodingVersion is the version of MarshalBinary's format.
const encodingVersion = 1

type wireContribution struct {
	Version int        `json:"v"`
	Stats   Stats      `json:"stats"`
	Items   []wireItem `json:"items"`
}

type wireItem struct {
	PK     string               `json:"pk"`
	SK     string               `json:"sk"`
	Count  int64                `json:"c"`
	First  string               `json:"f"`
	Last   string               `json:"l"`
	Fields map[string]wireField `json:"x,omitempty"`
}

type wireField struct {
	N   int64   `json:"n"`
	Sum Decimal `json:"s"`
	Min Decimal `json:"lo"`
	Max Decimal `json:"hi"`
}

// MarshalBinary encodes c compactly (gzip-compressed JSON, keys in order, so equal
// contributions encode to equal bytes). The store keeps it in the contribution
// item.
func (c *Contribution) MarshalBinary() ([]byte, error) {
	w := wireContribution{Version: encodingVersion, Stats: c.Stats}
	for _, k := range c.Keys() {
		s := c.Summaries[k]
		it := wireItem{PK: k.PK, SK: k.SK, Count: s.Count, First: formatTime(s.First), Last: formatTime(s.Last)}
		for name, f := range s.Fields {
			if it.Fields == nil {
				it.Fields = make(map[string]wireField, len(s.Fields))
			}
			it.Fields[name] = wireField(f)
		}
		w.Items = append(w.Items, it)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, fmt.Errorf("encode contribution: %w", err)
	}
	if err := json.NewEncoder(zw).Encode(&w); err != nil {
		return nil, fmt.Errorf("encode contribution: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode contribution: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func (c *Contribution) UnmarshalBinary(b []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("decode contribution: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("decode contribution: %w", err)
	}
	var w wireContribution
	if err := json.Unmarshal(raw, &w); err != nil {
		return fmt.Errorf("decode contribution: %w", err)
	}
	if w.Version != encodingVersion {
		return fmt.Errorf("decode contribution: unknown version %d", w.Version)
	}
	out := Contribution{Stats: w.Stats, Summaries: make(map[Key]*Summary, len(w.Items))}
	for _, it := range w.Items {
		s := &Summary{Count: it.Count}
		if s.First, err = parseStoredTime(it.First); err != nil {
			return fmt.Errorf("decode contribution: %w", err)
		}
		if s.Last, err = parseStoredTime(it.Last); err != nil {
			return fmt.Errorf("decode contribution: %w", err)
		}
		for name, f := range it.Fields {
			if s.Fields == nil {
				s.Fields = make(map[string]Field, len(it.Fields))
			}
			s.Fields[name] = Field(f)
		}
		out.Summaries[Key{PK: it.PK, SK: it.SK}] = s
	}
	*c = out
	return nil
}

// formatTime formats t with TimeLayout; the zero time is "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// FormatTime formats t as stored in summary items (TimeLayout), Go's zero time
// included (0001-01-01T00:00:00.000000000Z).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// parseStoredTime parses what formatTime wrote in a contribution ("" for the
// zero time) or FormatTime in a summary item.
func parseStoredTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	return t, nil
}

// ParseTime parses a time as stored in summary items; "" is the zero time.
func ParseTime(s string) (time.Time, error) { return parseStoredTime(s) }
