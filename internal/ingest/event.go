package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
	asmbase64 "github.com/segmentio/asm/base64"
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
	// The first record's layout, learned anew for every event.
	marks   []mark
	lay     layout
	learned bool
	idColon int // where the first record's eventID has its last ':' (or -1)
	byLay   int // records decoded by the layout (for tests)
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
	d.str = stringArena{next: d.str.used + d.str.used/8}
	decoderPool.Put(d)
}

// stringArena makes strings out of byte slices with one allocation per 64 KiB
// rather than one per string. A chunk is never written again once a string
// refers to it, which is what makes the unsafe conversion sound (as in
// strings.Builder). The first chunk has room for what the previous event's
// strings took, with some slack (next), so that an event like the previous
// one takes one chunk of the size it needs rather than 64 KiB chunks whose
// last is mostly empty: less garbage, fewer collections.
type stringArena struct {
	chunk []byte
	used  int // bytes of strings made
	next  int // the size of the first chunk, if not 0
}

const arenaChunk = 64 << 10

// grow starts a chunk with room for n bytes.
func (a *stringArena) grow(n int) {
	size := max(arenaChunk, n)
	if a.next > 0 {
		size, a.next = max(a.next, n), 0
	}
	a.chunk = make([]byte, 0, size)
}

func (a *stringArena) make(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > cap(a.chunk)-len(a.chunk) {
		a.grow(len(b))
	}
	a.used += len(b)
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return unsafe.String(&a.chunk[start], len(b))
}

// join makes the string prefix + b with one copy.
func (a *stringArena) join(prefix string, b []byte) string {
	n := len(prefix) + len(b)
	if n == 0 {
		return ""
	}
	if n > cap(a.chunk)-len(a.chunk) {
		a.grow(n)
	}
	a.used += n
	start := len(a.chunk)
	a.chunk = append(append(a.chunk, prefix...), b...)
	return unsafe.String(&a.chunk[start], n)
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
	d.marks = d.marks[:0]
	d.learned, d.byLay = false, 0
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
					if !d.nextRecord(&p, recs) {
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

// nextRecord decodes the next element of "Records" into the last of recs: by the
// first record's layout when it follows it, else member by member.
func (d *eventDecoder) nextRecord(p *parser, recs []events.KinesisEventRecord) bool {
	r := &recs[len(recs)-1]
	if len(recs) == 1 {
		start := p.i
		if !d.record(p, r, nil) {
			return false
		}
		d.learn(p, start, p.i)
		d.idColon = strings.LastIndexByte(r.EventID, ':')
		return true
	}
	return d.learned && d.fastRecord(p, r, &recs[0]) || d.record(p, r, &recs[len(recs)-2])
}

// record decodes one element of "Records". prev is the previous record, whose
// strings are reused when equal.
func (d *eventDecoder) record(p *parser, r *events.KinesisEventRecord, prev *events.KinesisEventRecord) bool {
	if prev == nil {
		prev = &events.KinesisEventRecord{}
	}
	sp := span{start: -1}
	ok := d.members(p, func(key []byte) (int, bool) {
		switch string(key) {
		case "kinesis":
			return fKinesis, d.kinesis(p, &r.Kinesis, &prev.Kinesis, &sp)
		case "eventID":
			return fEventID, d.varString(p, vEventID, &r.EventID)
		}
		if f, ok := recordStrings[string(key)]; ok {
			return f.bit, d.repeated(p, *f.of(prev), f.of(r))
		}
		return 0, false
	})
	if ok {
		d.spans = append(d.spans, sp)
	}
	return ok
}

// kinesis decodes a record's "kinesis" object.
func (d *eventDecoder) kinesis(p *parser, k, prev *events.KinesisRecord, sp *span) bool {
	return d.members(p, func(key []byte) (int, bool) {
		switch string(key) {
		case "data":
			return fData, d.varData(p, sp)
		case "approximateArrivalTimestamp":
			return fArrival, d.varArrival(p, &k.ApproximateArrivalTimestamp)
		case "partitionKey":
			return fPartitionKey, d.varString(p, vPartitionKey, &k.PartitionKey)
		case "sequenceNumber":
			return fSequenceNumber, d.varString(p, vSequenceNumber, &k.SequenceNumber)
		}
		if f, ok := kinesisStrings[string(key)]; ok {
			return f.bit, d.repeated(p, *f.of(prev), f.of(k))
		}
		return 0, false
	})
}

// stringField is a string field of T that usually has the same value in every
// record of a batch: its field bit and where it is in a T.
type stringField[T any] struct {
	bit int
	of  func(*T) *string
}

// recordStrings and kinesisStrings are the repeating string fields of a record
// and of its kinesis object, by JSON key.
var (
	recordStrings = map[string]stringField[events.KinesisEventRecord]{
		"eventSource":       {fEventSource, func(r *events.KinesisEventRecord) *string { return &r.EventSource }},
		"eventVersion":      {fEventVersion, func(r *events.KinesisEventRecord) *string { return &r.EventVersion }},
		"eventName":         {fEventName, func(r *events.KinesisEventRecord) *string { return &r.EventName }},
		"invokeIdentityArn": {fInvokeIdentityARN, func(r *events.KinesisEventRecord) *string { return &r.InvokeIdentityArn }},
		"awsRegion":         {fAwsRegion, func(r *events.KinesisEventRecord) *string { return &r.AwsRegion }},
		"eventSourceARN":    {fEventSourceARN, func(r *events.KinesisEventRecord) *string { return &r.EventSourceArn }},
	}
	kinesisStrings = map[string]stringField[events.KinesisRecord]{
		"kinesisSchemaVersion": {fSchemaVersion, func(k *events.KinesisRecord) *string { return &k.KinesisSchemaVersion }},
		"encryptionType":       {fEncryptionType, func(k *events.KinesisRecord) *string { return &k.EncryptionType }},
	}
)

// members decodes a JSON object whose values member decodes: member is called
// with the cursor at a member's value and returns the member's field bit (a key
// seen twice is rejected) and whether it decoded the value.
func (d *eventDecoder) members(p *parser, member func(key []byte) (bit int, ok bool)) bool {
	if !p.consume('{') {
		return false
	}
	p.ws()
	if p.consume('}') {
		return true
	}
	seen := 0
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		p.ws()
		bit, ok := member(key)
		if !ok || seen&bit != 0 {
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

// The values that differ from record to record; the rest of a record (names,
// punctuation, and values such as the region or the stream ARN) is, in the events
// Lambda sends, the same text in every record of a batch.
type varField uint8

const (
	vEventID varField = iota
	vArrival
	vData
	vPartitionKey
	vSequenceNumber
)

// mark is where the first record of an event has a varField's value.
type mark struct {
	field      varField
	start, end int
}

// layout is the text of an event's first record cut at its variable values:
// lits[0] vars[0] lits[1] … vars[n-1] lits[n]. A later record whose text
// matches lits around values of the right types is the first record with other
// variable values; fastRecord decodes it with a comparison per literal instead
// of a key lookup per member.
type layout struct {
	lits [][]byte
	vars []varField
}

// learn cuts the first record, p.b[start:end], at the variable values marked
// while it was decoded.
func (d *eventDecoder) learn(p *parser, start, end int) {
	d.lay.lits = append(d.lay.lits[:0], nil)
	d.lay.vars = d.lay.vars[:0]
	at := start
	for _, m := range d.marks {
		d.lay.lits[len(d.lay.lits)-1] = p.b[at:m.start]
		d.lay.lits = append(d.lay.lits, nil)
		d.lay.vars = append(d.lay.vars, m.field)
		at = m.end
	}
	d.lay.lits[len(d.lay.lits)-1] = p.b[at:end]
	d.learned = true
}

// fastRecord decodes a record that follows the layout of the first one, first,
// and reports whether it could; on false nothing is consumed and the caller
// decodes the record with record. Values are checked as record checks them, and
// the text between them equals the first record's, so the result is the one
// record would produce.
func (d *eventDecoder) fastRecord(p *parser, r *events.KinesisEventRecord, first *events.KinesisEventRecord) bool {
	start, dataLen := p.i, len(d.data)
	*r = *first
	sp := span{start: -1}
	ids := idPair{}
	ok := p.literal(d.lay.lits[0])
	for k := 0; ok && k < len(d.lay.vars); k++ {
		switch d.lay.vars[k] {
		case vEventID:
			ok = d.eventID(p, r, &ids)
		case vArrival:
			ok = d.varArrival(p, &r.Kinesis.ApproximateArrivalTimestamp)
		case vData:
			ok = d.varData(p, &sp)
		case vPartitionKey:
			ok = d.varString(p, vPartitionKey, &r.Kinesis.PartitionKey)
		case vSequenceNumber:
			ok = d.sequenceNumber(p, r, first, &ids)
		}
		ok = ok && p.literal(d.lay.lits[k+1])
	}
	if !ok {
		p.i, d.data = start, d.data[:dataLen]
		*r = events.KinesisEventRecord{}
		return false
	}
	d.spans = append(d.spans, sp)
	d.byLay++
	return true
}

// idPair tracks, within one record, the sharing of bytes between its eventID
// and its sequence number: Lambda's eventID is "<shardId>:<sequenceNumber>", so
// one copy of the eventID holds both strings.
type idPair struct {
	eventID bool   // the record's eventID is decoded
	joined  string // the shard prefix of the first record's eventID and this record's sequence number, when it was decoded first
}

// sequenceNumber decodes a record's sequence number, as the tail of its eventID
// when the eventID came first and ends with ":" and the same text.
func (d *eventDecoder) sequenceNumber(p *parser, r, first *events.KinesisEventRecord, ids *idPair) bool {
	if ids.eventID {
		// Mostly the record's eventID has the first one's shard prefix: its
		// tail from there is compared without a search for the closing quote.
		if id := r.EventID; d.idColon >= 0 && d.idColon < len(id) && id[d.idColon] == ':' && p.same(id[d.idColon+1:]) {
			r.Kinesis.SequenceNumber = id[d.idColon+1:]
			return true
		}
		start := p.i
		// An eventID is a validated string, so text equal to its tail needs no
		// checks of its own.
		if s, ok := p.rawStr(); ok {
			if id := r.EventID; len(id) > len(s) && id[len(id)-len(s)-1] == ':' && id[len(id)-len(s):] == string(s) {
				r.Kinesis.SequenceNumber = id[len(id)-len(s):]
				return true
			}
		}
		p.i = start
		return d.varString(p, vSequenceNumber, &r.Kinesis.SequenceNumber)
	}
	colon := strings.LastIndexByte(first.EventID, ':')
	if colon < 0 {
		return d.varString(p, vSequenceNumber, &r.Kinesis.SequenceNumber)
	}
	s, ok := p.str()
	if !ok {
		return false
	}
	ids.joined = d.str.join(first.EventID[:colon+1], s)
	r.Kinesis.SequenceNumber = ids.joined[colon+1:]
	return true
}

// eventID decodes a record's eventID: the string that holds its shard prefix
// and sequence number already when it is the same text.
func (d *eventDecoder) eventID(p *parser, r *events.KinesisEventRecord, ids *idPair) bool {
	ids.eventID = true
	// Both parts of joined are validated strings.
	if p.same(ids.joined) {
		r.EventID = ids.joined
		return true
	}
	return d.varString(p, vEventID, &r.EventID)
}

// mark notes, while the first record is decoded, where a variable value was.
func (d *eventDecoder) mark(f varField, start, end int) {
	if !d.learned {
		d.marks = append(d.marks, mark{field: f, start: start, end: end})
	}
}

// varString decodes a string value that differs from record to record.
func (d *eventDecoder) varString(p *parser, f varField, dst *string) bool {
	start := p.i
	s, ok := p.str()
	if ok {
		*dst = d.str.make(s)
		d.mark(f, start, p.i)
	}
	return ok
}

// varArrival decodes approximateArrivalTimestamp.
func (d *eventDecoder) varArrival(p *parser, dst *events.SecondsEpochTime) bool {
	start := p.i
	num, ok := p.number()
	if !ok {
		return false
	}
	t, ok := secondsEpoch(num)
	if !ok {
		return false
	}
	*dst = events.SecondsEpochTime{Time: t}
	d.mark(vArrival, start, p.i)
	return true
}

// varData decodes a record's base64 data into d.data and sets sp to where it is.
func (d *eventDecoder) varData(p *parser, sp *span) bool {
	start := p.i
	s, ok := p.rawStr()
	if !ok {
		return false
	}
	n := len(d.data)
	d.data = growTo(d.data, n+base64.StdEncoding.DecodedLen(len(s)))
	m, ok := decodeBase64(d.data[n:cap(d.data)], s)
	if !ok {
		return false
	}
	d.data = d.data[:n+m]
	*sp = span{start: n, end: n + m}
	d.mark(vData, start, p.i)
	return true
}

// decodeBase64 decodes the standard base64 text s (a JSON string's contents,
// unchecked) into dst, which has room for DecodedLen(len(s)) bytes, and
// reports whether s is base64 that encoding/base64's StdEncoding decodes to
// the same bytes with no byte skipped.
//
// It uses github.com/segmentio/asm/base64, whose AVX2 (amd64) and NEON (arm64)
// decoder reads a record's data about three times as fast as encoding/base64
// (base64 was the largest part of the decoding of a sensor record): it decodes
// the whole 32-byte blocks of valid base64 with vector instructions and
// leaves the rest, from the first block that is not, to encoding/base64, so
// that its results and errors are encoding/base64's. FuzzDecodeBase64 checks
// that against encoding/base64.
func decodeBase64(dst, s []byte) (int, bool) {
	m, err := asmbase64.StdEncoding.Decode(dst, s)
	// The base64 decoder rejects every byte a JSON string cannot hold
	// unescaped (and '\\') except '\r' and '\n', which it skips: the
	// length check rejects those, as no byte was skipped only if every 4
	// characters made 3 bytes (less the padding).
	if err != nil || len(s)%4 != 0 || m != len(s)/4*3-padding(s) {
		return 0, false
	}
	return m, true
}

// secondsEpoch converts a JSON number the way events.SecondsEpochTime's
// UnmarshalJSON does (json.Unmarshal into a float64, then the same arithmetic,
// truncation of the fraction included), without its allocations.
func secondsEpoch(num []byte) (time.Time, bool) {
	epoch, ok := exactFloat(num)
	if !ok {
		f, err := strconv.ParseFloat(unsafe.String(&num[0], len(num)), 64)
		if err != nil {
			return time.Time{}, false
		}
		epoch = f
	}
	epochSec := int64(epoch)
	epochNano := int64((epoch - float64(epochSec)) * float64(time.Second))
	return time.Unix(epochSec, epochNano), true
}

// exactFloat converts the JSON number digits[.digits] of at most 15 digits (what
// Lambda sends as approximateArrivalTimestamp: epoch seconds with a millisecond
// fraction) as strconv.ParseFloat does, without its general machinery: the
// digits make an integer below 2^52 and the fraction a power of ten up to 1e15,
// both exact in a float64, so their IEEE quotient is the correctly rounded value
// of the number, which is what ParseFloat returns (its own exact fast path is
// this division). It reports false for other numbers.
func exactFloat(num []byte) (float64, bool) {
	var mant uint64
	digits, frac := 0, -1
	for _, c := range num {
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(mant)
	if frac > 0 {
		f /= pow10[frac]
	}
	return f, true
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

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

// literal consumes lit if the text continues with it.
func (p *parser) literal(lit []byte) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != string(lit) {
		return false
	}
	p.i += len(lit)
	return true
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
