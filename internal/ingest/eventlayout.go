package ingest

import (
	"encoding/base64"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

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
	// d.idColon is where first's eventID has its last ':' (nextRecord finds
	// it once per event).
	colon := d.idColon
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

// epochTime is what events.SecondsEpochTime's UnmarshalJSON makes of the
// float64 that json.Unmarshal decodes (truncation of the fraction included).
func epochTime(epoch float64) time.Time {
	epochSec := int64(epoch)
	epochNano := int64((epoch - float64(epochSec)) * float64(time.Second))
	return time.Unix(epochSec, epochNano)
}

// varArrival decodes approximateArrivalTimestamp.
func (d *eventDecoder) varArrival(p *parser, dst *events.SecondsEpochTime) bool {
	start := p.i
	epoch, ok := p.float()
	if !ok {
		return false
	}
	*dst = events.SecondsEpochTime{Time: epochTime(epoch)}
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
