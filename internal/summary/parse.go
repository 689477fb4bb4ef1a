package summary

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/record"
)

// ParseObject decodes one processed object (gzip, zstd or plain by the key's
// extension, see package ndjson) and aggregates its records. A body that cannot be
// decompressed is an error (ndjson.ErrUnsupportedObject for a key of no known
// extension); bad lines are not: they are counted in Stats.
func (c Config) ParseObject(key string, body []byte) (*Contribution, error) {
	r, err := ndjson.NewReader(key, body)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", key, err)
	}
	contrib, err := c.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", key, err)
	}
	return contrib, nil
}

// Parse aggregates the NDJSON lines read from r (already decompressed). It fails
// only when r fails or a line exceeds ndjson.MaxLineBytes.
func (c Config) Parse(r io.Reader) (*Contribution, error) {
	p := newParser(c.withDefaults())
	sc := ndjson.NewScanner(r)
	for sc.Scan() {
		p.line(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d longer than %d bytes: %w", p.stats.Lines+1, ndjson.MaxLineBytes, err)
		}
		return nil, fmt.Errorf("read line %d: %w", p.stats.Lines+1, err)
	}
	return p.finish(), nil
}

// acc is a summary under construction, with fields indexed like Config.NumericFields.
type acc struct {
	count       int64
	first, last time.Time
	fields      []Field
}

func (a *acc) add(t time.Time, vals []Decimal, has []bool) {
	if a.count == 0 || t.Before(a.first) {
		a.first = t
	}
	if a.count == 0 || t.After(a.last) {
		a.last = t
	}
	a.count++
	for i, ok := range has {
		if ok {
			a.fields[i].add(vals[i])
		}
	}
}

// parser holds the state of one Parse call.
type parser struct {
	cfg        Config
	devicePath []string
	timePath   []string
	numPaths   [][]string
	// first segments wanted from original_data, deduplicated; want[i] is the
	// index in firstVals.
	firstNames []string
	firstVals  [][]byte
	firstFound []bool

	devices map[string]map[int64]*acc
	fleet   map[int64]*acc
	stats   Stats
	vals    []Decimal
	has     []bool
}

func newParser(c Config) *parser {
	p := &parser{
		cfg:        c,
		devicePath: strings.Split(c.DeviceField, "."),
		timePath:   strings.Split(c.TimeField, "."),
		devices:    map[string]map[int64]*acc{},
		fleet:      map[int64]*acc{},
		vals:       make([]Decimal, len(c.NumericFields)),
		has:        make([]bool, len(c.NumericFields)),
	}
	for _, f := range c.NumericFields {
		p.numPaths = append(p.numPaths, strings.Split(f, "."))
	}
	add := func(path []string) {
		for _, n := range p.firstNames {
			if n == path[0] {
				return
			}
		}
		p.firstNames = append(p.firstNames, path[0])
	}
	add(p.devicePath)
	add(p.timePath)
	for _, np := range p.numPaths {
		add(np)
	}
	p.firstVals = make([][]byte, len(p.firstNames))
	p.firstFound = make([]bool, len(p.firstNames))
	return p
}

// get returns the value at path inside original_data, using the values collected
// by the single pass over its members.
func (p *parser) get(path []string) ([]byte, bool) {
	for i, n := range p.firstNames {
		if n == path[0] {
			if !p.firstFound[i] {
				return nil, false
			}
			if len(path) == 1 {
				return p.firstVals[i], true
			}
			return lookup(p.firstVals[i], path[1:])
		}
	}
	return nil, false
}

func (p *parser) line(b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return
	}
	p.stats.Lines++
	if b[0] != '{' || !json.Valid(b) {
		p.stats.Malformed++
		return
	}
	var od, arrival []byte
	var hasOD bool
	top, _ := newMembers(b)
	for {
		n, v, ok := top.next()
		if !ok {
			break
		}
		switch {
		case nameIs(n, "original_data"):
			od, hasOD = v, true
		case nameIs(n, "approximate_arrival_timestamp"):
			arrival = v
		}
	}
	if !hasOD {
		p.stats.Malformed++
		return
	}
	clear(p.firstFound)
	if it, ok := newMembers(od); ok {
		for {
			n, v, ok := it.next()
			if !ok {
				break
			}
			for i, want := range p.firstNames {
				if nameIs(n, want) {
					p.firstVals[i], p.firstFound[i] = v, true
				}
			}
		}
	}

	dv, ok := p.get(p.devicePath)
	device, ok := deviceID(dv, ok)
	if !ok {
		p.stats.NoDevice++
		return
	}
	t, ok := time.Time{}, false
	if tv, found := p.get(p.timePath); found && !isNull(tv) {
		if t, ok = parseTime(tv); !ok {
			p.stats.InvalidTime++
		}
	}
	if !ok {
		if t, ok = parseTime(arrival); !ok {
			p.stats.NoTime++
			return
		}
		p.stats.TimeFallback++
	}
	for i, path := range p.numPaths {
		p.has[i] = false
		v, found := p.get(path)
		if !found || isNull(v) {
			continue
		}
		d, ok := parseNumber(v)
		if !ok || !d.summable() {
			// The line is valid JSON, so a value that starts like a number is one:
			// parseNumber refused it only for a magnitude DynamoDB cannot store.
			if v[0] == '-' || (v[0] >= '0' && v[0] <= '9') {
				p.stats.OutOfRange = countField(p.stats.OutOfRange, p.cfg.NumericFields[i])
			} else {
				p.stats.NonNumeric = countField(p.stats.NonNumeric, p.cfg.NumericFields[i])
			}
			continue
		}
		p.vals[i], p.has[i] = d, true
	}
	p.stats.Records++

	t = t.UTC()
	hour := t.Unix() - mod(t.Unix(), 3600)
	hours, ok := p.devices[device]
	if !ok {
		hours = map[int64]*acc{}
		p.devices[strings.Clone(device)] = hours
	}
	p.accFor(hours, hour).add(t, p.vals, p.has)
	p.accFor(p.fleet, hour).add(t, p.vals, p.has)
}

// countField counts one more value of field in m, allocating m on first use.
func countField(m map[string]int64, field string) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	m[field]++
	return m
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func (p *parser) accFor(m map[int64]*acc, hour int64) *acc {
	a, ok := m[hour]
	if !ok {
		a = &acc{fields: make([]Field, len(p.cfg.NumericFields))}
		m[hour] = a
	}
	return a
}

func (p *parser) finish() *Contribution {
	c := &Contribution{Summaries: make(map[Key]*Summary, len(p.fleet)*(len(p.devices)+1)), Stats: p.stats}
	conv := func(a *acc) *Summary {
		s := &Summary{Count: a.count, First: a.first, Last: a.last}
		for i, f := range a.fields {
			if f.N > 0 {
				if s.Fields == nil {
					s.Fields = make(map[string]Field, len(a.fields))
				}
				s.Fields[p.cfg.NumericFields[i]] = f
			}
		}
		return s
	}
	for device, hours := range p.devices {
		for h, a := range hours {
			c.Summaries[Key{PK: DevicePK(device), SK: HourSK(time.Unix(h, 0))}] = conv(a)
		}
	}
	for h, a := range p.fleet {
		c.Summaries[FleetKey(time.Unix(h, 0))] = conv(a)
	}
	return c
}

// deviceID returns the device ID held by v: a non-empty string, or a number's text,
// of at most MaxDeviceIDBytes once in UTF-8. A longer ID would make a partition key
// DynamoDB rejects, failing the object's every record, so it is no device.
//
// Bytes that are not UTF-8 (encoding/json accepts them inside strings) become
// U+FFFD, one per byte, as every JSON encoder on the way to DynamoDB writes them
// (the SDK's, and encoding/json's for stored contributions): the ID is then the one
// DynamoDB stores, so two such IDs cannot be distinct summary keys of one item, and
// the length checked is the length sent.
func deviceID(v []byte, found bool) (string, bool) {
	if !found || len(v) == 0 {
		return "", false
	}
	var s string
	switch c := v[0]; {
	case c == '"':
		var ok bool
		if s, ok = stringValue(v); !ok || s == "" {
			return "", false
		}
		if !utf8.ValidString(s) {
			s = replaceInvalidUTF8(s)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		s = bytesString(v)
	default:
		return "", false
	}
	if len(s) > MaxDeviceIDBytes {
		return "", false
	}
	return s, true
}

// replaceInvalidUTF8 returns s with each byte that is not part of a UTF-8 encoding
// replaced by U+FFFD, as encoding/json and the AWS SDK's JSON encoder do (unlike
// strings.ToValidUTF8, which replaces a run of such bytes once).
func replaceInvalidUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// parseTime reads an event time (a JSON string or number) with
// record.ParseEventTime, the reading the processor's check uses, so that a record
// is summarized in the hour the processor accepted it for.
func parseTime(v []byte) (time.Time, bool) {
	return record.ParseEventTime(v)
}
