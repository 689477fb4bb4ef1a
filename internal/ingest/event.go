package ingest

import (
	"strings"
	"sync"
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
//
// Files: event.go has the decoder and its member-by-member path, eventlayout.go
// the path for records laid out as the batch's first record (most of them),
// jsonscan.go the cursor over the JSON text that both use.

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

// growTo returns b with at least n bytes of capacity, keeping its contents.
func growTo(b []byte, n int) []byte {
	if n <= cap(b) {
		return b
	}
	nb := make([]byte, len(b), max(n, 2*cap(b), 4096))
	copy(nb, b)
	return nb
}
