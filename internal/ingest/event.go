package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
)

// The fast event decoder.
//
// encoding/json decodes a Kinesis event at about 10 µs per record with 13
// allocations (reflection, a string per field, a []byte per payload): ten times
// the cost of everything else the processor does with a record. eventDecoder
// decodes the event Lambda sends in one pass with no allocation per record, and
// is exact by construction: it accepts only the shape that Lambda delivers (the
// keys of events.KinesisEventRecord and events.KinesisRecord, spelled as their
// JSON tags, each at most once, with a value of the field's type; strings without
// escapes; valid UTF-8) and produces the value that json.Unmarshal produces for
// it. Anything else (another key, another case, null, an escape, an error)
// makes it give up, and HandleJSON decodes with encoding/json as before, so that
// errors and edge cases keep encoding/json's behaviour. FuzzDecodeEvent checks the
// equivalence.

// eventDecoder holds the reusable buffers of one decoding. Decoders are pooled.
type eventDecoder struct {
	data  []byte // every record's decoded data, back to back
	spans []span // where each record's data is in data
	str   stringArena
	buf   events.KinesisEvent
}

// span locates a record's data in eventDecoder.data; start < 0 means that the
// record has no "data" key (encoding/json leaves Data nil).
type span struct{ start, end int }

var decoderPool = sync.Pool{New: func() any { return new(eventDecoder) }}

// release drops the references to one event's strings so that they can be
// collected, and returns the decoder to the pool.
func (d *eventDecoder) release() {
	clear(d.buf.Records)
	d.buf.Records = d.buf.Records[:0]
	d.str = stringArena{}
	decoderPool.Put(d)
}

// stringArena makes strings out of byte slices with one allocation per 64 KiB
// rather than one per string. A chunk is never written again once a string
// refers to it, which is what makes the unsafe conversion sound (as in
// strings.Builder).
type stringArena struct{ chunk []byte }

const arenaChunk = 64 << 10

func (a *stringArena) make(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > cap(a.chunk)-len(a.chunk) {
		a.chunk = make([]byte, 0, max(arenaChunk, len(b)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return unsafe.String(&a.chunk[start], len(b))
}

// repeated decodes a string field that usually has the same value in every
// record of a batch (region, ARNs, versions): equal to the previous record's, it
// shares its string.
func (d *eventDecoder) repeated(p *parser, prev string, dst *string) bool {
	if p.same(prev) {
		*dst = prev
		return true
	}
	s, ok := p.str()
	if ok {
		*dst = d.str.make(s)
	}
	return ok
}

// Field bits, to reject a key that appears twice (encoding/json would merge
// duplicate objects member by member, a case not worth reproducing).
const (
	fAwsRegion = 1 << iota
	fEventID
	fEventName
	fEventSource
	fEventSourceARN
	fEventVersion
	fInvokeIdentityARN
	fKinesis
	fArrival
	fData
	fEncryptionType
	fPartitionKey
	fSequenceNumber
	fSchemaVersion
)

// decode decodes data into d.buf and reports whether it could; on false the
// caller must decode data with encoding/json. The event's byte slices alias d's
// buffers until release; its strings are immutable and outlive it.
func (d *eventDecoder) decode(data []byte) (*events.KinesisEvent, bool) {
	p := parser{b: data}
	if d.data == nil {
		d.data = make([]byte, 0, 4096) // non-nil: empty data decodes to []byte{}
	}
	d.data = d.data[:0]
	d.spans = d.spans[:0]
	recs := d.buf.Records[:0]
	if recs == nil {
		recs = []events.KinesisEventRecord{}
	}
	seenRecords := false
	p.ws()
	if !p.consume('{') {
		return nil, false
	}
	p.ws()
	if !p.consume('}') {
		for {
			key, ok := p.key()
			if !ok || string(key) != "Records" || seenRecords {
				return nil, false
			}
			seenRecords = true
			p.ws()
			if !p.consume('[') {
				return nil, false
			}
			p.ws()
			if !p.consume(']') {
				for {
					recs = append(recs, events.KinesisEventRecord{})
					var prev *events.KinesisEventRecord
					if n := len(recs); n > 1 {
						prev = &recs[n-2]
					}
					if !d.record(&p, &recs[len(recs)-1], prev) {
						d.buf.Records = recs
						return nil, false
					}
					p.ws()
					if p.consume(',') {
						p.ws()
						continue
					}
					if !p.consume(']') {
						d.buf.Records = recs
						return nil, false
					}
					break
				}
			}
			p.ws()
			if p.consume(',') {
				p.ws()
				continue
			}
			if !p.consume('}') {
				d.buf.Records = recs
				return nil, false
			}
			break
		}
	}
	p.ws()
	d.buf.Records = recs
	if p.i != len(p.b) || !seenRecords {
		return nil, false
	}
	// The data slices are cut only now: d.data may have moved while it grew.
	for i, sp := range d.spans {
		if sp.start >= 0 {
			recs[i].Kinesis.Data = d.data[sp.start:sp.end:sp.end]
		}
	}
	return &d.buf, true
}

// record decodes one element of "Records". prev is the previous record, whose
// strings are reused when equal.
func (d *eventDecoder) record(p *parser, r *events.KinesisEventRecord, prev *events.KinesisEventRecord) bool {
	if prev == nil {
		prev = &events.KinesisEventRecord{}
	}
	if !p.consume('{') {
		return false
	}
	sp := span{start: -1}
	seen := 0
	p.ws()
	if p.consume('}') {
		d.spans = append(d.spans, sp)
		return true
	}
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		p.ws()
		var bit int
		switch string(key) {
		case "kinesis":
			bit = fKinesis
			if seen&bit != 0 || !d.kinesis(p, &r.Kinesis, &prev.Kinesis, &sp) {
				return false
			}
		case "eventSource":
			bit = fEventSource
			if !d.repeated(p, prev.EventSource, &r.EventSource) {
				return false
			}
		case "eventVersion":
			bit = fEventVersion
			if !d.repeated(p, prev.EventVersion, &r.EventVersion) {
				return false
			}
		case "eventID":
			bit = fEventID
			s, ok := p.str()
			if !ok {
				return false
			}
			r.EventID = d.str.make(s)
		case "eventName":
			bit = fEventName
			if !d.repeated(p, prev.EventName, &r.EventName) {
				return false
			}
		case "invokeIdentityArn":
			bit = fInvokeIdentityARN
			if !d.repeated(p, prev.InvokeIdentityArn, &r.InvokeIdentityArn) {
				return false
			}
		case "awsRegion":
			bit = fAwsRegion
			if !d.repeated(p, prev.AwsRegion, &r.AwsRegion) {
				return false
			}
		case "eventSourceARN":
			bit = fEventSourceARN
			if !d.repeated(p, prev.EventSourceArn, &r.EventSourceArn) {
				return false
			}
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		p.ws()
		if p.consume(',') {
			p.ws()
			continue
		}
		if !p.consume('}') {
			return false
		}
		break
	}
	d.spans = append(d.spans, sp)
	return true
}

// kinesis decodes a record's "kinesis" object.
func (d *eventDecoder) kinesis(p *parser, k, prev *events.KinesisRecord, sp *span) bool {
	if !p.consume('{') {
		return false
	}
	seen := 0
	p.ws()
	if p.consume('}') {
		return true
	}
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		p.ws()
		var bit int
		switch string(key) {
		case "data":
			bit = fData
			s, ok := p.rawStr()
			if !ok {
				return false
			}
			n := len(d.data)
			d.data = growTo(d.data, n+base64.StdEncoding.DecodedLen(len(s)))
			m, err := base64.StdEncoding.Decode(d.data[n:cap(d.data)], s)
			// The base64 decoder rejects every byte a JSON string cannot hold
			// unescaped (and '\\') except '\r' and '\n', which it skips: the
			// length check rejects those, as no byte was skipped only if every 4
			// characters made 3 bytes (less the padding).
			if err != nil || len(s)%4 != 0 || m != len(s)/4*3-padding(s) {
				return false
			}
			d.data = d.data[:n+m]
			*sp = span{start: n, end: n + m}
		case "approximateArrivalTimestamp":
			bit = fArrival
			num, ok := p.number()
			if !ok {
				return false
			}
			t, ok := secondsEpoch(num)
			if !ok {
				return false
			}
			k.ApproximateArrivalTimestamp = events.SecondsEpochTime{Time: t}
		case "partitionKey":
			bit = fPartitionKey
			s, ok := p.str()
			if !ok {
				return false
			}
			k.PartitionKey = d.str.make(s)
		case "sequenceNumber":
			bit = fSequenceNumber
			s, ok := p.str()
			if !ok {
				return false
			}
			k.SequenceNumber = d.str.make(s)
		case "kinesisSchemaVersion":
			bit = fSchemaVersion
			if !d.repeated(p, prev.KinesisSchemaVersion, &k.KinesisSchemaVersion) {
				return false
			}
		case "encryptionType":
			bit = fEncryptionType
			if !d.repeated(p, prev.EncryptionType, &k.EncryptionType) {
				return false
			}
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		p.ws()
		if p.consume(',') {
			p.ws()
			continue
		}
		return p.consume('}')
	}
}

// secondsEpoch converts a JSON number the way events.SecondsEpochTime's
// UnmarshalJSON does (json.Unmarshal into a float64, then the same arithmetic,
// truncation of the fraction included), without its allocations.
func secondsEpoch(num []byte) (time.Time, bool) {
	epoch, err := strconv.ParseFloat(unsafe.String(&num[0], len(num)), 64)
	if err != nil {
		return time.Time{}, false
	}
	epochSec := int64(epoch)
	epochNano := int64((epoch - float64(epochSec)) * float64(time.Second))
	return time.Unix(epochSec, epochNano), true
}

// growTo returns b with at least n bytes of capacity, keeping its contents.
func growTo(b []byte, n int) []byte {
	if n <= cap(b) {
		return b
	}
	nb := make([]byte, len(b), max(n, 2*cap(b), 4096))
	copy(nb, b)
	return nb
}

// parser is a cursor over JSON text.
type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) consume(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// key reads a member name and its colon. Names are short: a plain loop beats
// IndexByte's setup. Only printable ASCII without escapes is accepted; every
// name the decoder knows is.
func (p *parser) key() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			k := p.b[start:p.i]
			p.i++
			p.ws()
			return k, p.consume(':')
		}
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// same reports whether the next value is the string prev (already validated
// when it was decoded), and if so skips it: the fields that repeat in every
// record of a batch cost one comparison.
func (p *parser) same(prev string) bool {
	end := p.i + 1 + len(prev)
	if prev == "" || end >= len(p.b) || p.b[p.i] != '"' || p.b[end] != '"' || string(p.b[p.i+1:end]) != prev {
		return false
	}
	p.i = end + 1
	return true
}

// str reads a string that has no escapes and is valid UTF-8 and returns its
// contents (which encoding/json would return unchanged).
func (p *parser) str() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	n := bytes.IndexByte(p.b[p.i:], '"')
	if n < 0 {
		return nil, false
	}
	s := p.b[p.i : p.i+n]
	p.i += n + 1
	switch plainASCII(s) {
	case plain:
		return s, true
	case nonASCII:
		return s, utf8.Valid(s) && bytes.IndexByte(s, '\\') < 0 && !hasControl(s)
	}
	return nil, false
}

// rawStr reads a string and returns its contents unchecked: the caller must
// reject what a JSON string cannot hold unescaped, and escapes.
func (p *parser) rawStr() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	n := bytes.IndexByte(p.b[p.i:], '"')
	if n < 0 {
		return nil, false
	}
	s := p.b[p.i : p.i+n]
	p.i += n + 1
	return s, true
}

// padding counts the '=' that end a base64 text.
func padding(s []byte) int {
	n := 0
	for i := len(s) - 1; i >= 0 && n < 2 && s[i] == '='; i-- {
		n++
	}
	return n
}

// String contents classes.
const (
	plain    = iota // printable ASCII without '\\'
	nonASCII        // has bytes >= 0x80, maybe others
	special         // has '\\' or a control character
)

// plainASCII classifies s eight bytes at a time.
func plainASCII(s []byte) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	class := plain
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		if x&highs != 0 {
			class = nonASCII
			continue // decided by the caller's slower checks
		}
		// A byte < 0x20 or equal to '\\' (0x5c) has its high bit set in the
		// result (the classic "has zero byte" test, on x and on x ^ '\\'s).
		lt := (x - 0x20*ones) & ^x
		bs := x ^ 0x5c*ones
		eq := (bs - ones) & ^bs
		if (lt|eq)&highs != 0 {
			return special
		}
	}
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			class = nonASCII
		case c < 0x20 || c == '\\':
			return special
		}
	}
	return class
}

func hasControl(s []byte) bool {
	for _, c := range s {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() ([]byte, bool) {
	b, i := p.b, p.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	p.i = i
	return b[start:i], true
}
