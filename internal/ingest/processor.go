package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/record"
)

// Object is one S3 object to store.
type Object struct {
	Key         string
	Body        []byte
	ContentType string
	// Metadata becomes x-amz-meta-* headers.
	Metadata map[string]string
}

// Sink stores objects durably. Put must return only once the object is stored (an S3
// PutObject that returned 200), or an error. Body is only valid during the call.
type Sink interface {
	Put(ctx context.Context, obj Object) error
}

// Metadata keys set on every object.
const (
	MetaRecordCount         = "record-count"
	MetaFirstSequenceNumber = "first-sequence-number"
	MetaLastSequenceNumber  = "last-sequence-number"
)

// Config configures a Processor. The zero value is valid: default prefixes, gzip,
// ValidateEventTime, time.Now, slog.Default.
type Config struct {
	ProcessedPrefix  string
	QuarantinePrefix string
	// KeyByRange keys both of a batch's objects, processed and quarantine, by
	// its first and last records (ndjson.RangeKey) instead of by the first
	// record and the first quarantined record (see the package documentation).
	// For callers whose batches are fixed cuts of contiguous records that are
	// never retried from a later record but can overlap other batches' records
	// (redrive's chunks of overlapping ranges): two batches then share a key
	// only when they hold the same records, so neither replaces records only
	// the other holds.
	KeyByRange bool
	// SkipUser, if not nil, reports the user records of KPL aggregates that
	// are not to be written (by sequence number and index): for a caller that
	// stores again the rest of an aggregate some of whose user records are
	// stored already (redrive). The function leaves it nil.
	SkipUser    func(sequenceNumber string, sub int) bool
	Compression ndjson.Compression
	Transform   Transform
	// Now returns the processing time stamped on every line of a batch.
	Now func() time.Time
	// Logger receives one record per failure; use the request-scoped logger of
	// lambdacontext.NewLogger in the function.
	Logger *slog.Logger
	// Observe, if not nil, is called once per valid batch, after Handle is done
	// with it and on its goroutine, with what the batch did (for metrics). It is
	// not called for an invalid event (Handle returns an *EventError).
	Observe func(ctx context.Context, s BatchStats)
}

// BatchStats is what Handle did with one batch.
type BatchStats struct {
	// ShardID is the batch's shard ("" for an empty batch).
	ShardID string
	// Records is the number of records in the batch, BytesIn the sum of their data.
	Records, BytesIn int
	// Written is the number of records in the stored processed object (0 if it was
	// not stored); Quarantined is the number of records in the stored quarantine
	// object (a batch has at most one).
	Written, Quarantined int
	// Objects counts the objects stored and BytesOut their encoded sizes.
	Objects, BytesOut int
	// Failed reports that the response names a batch item failure: Lambda retries
	// the batch from its first record.
	Failed bool
	// FirstArrival is the approximate arrival time of the batch's first record.
	FirstArrival time.Time
	// Start is when Handle began the batch; Duration is how long it took.
	Start    time.Time
	Duration time.Duration
}

func (s *BatchStats) stored(records, quarantined, size int) {
	if s != nil {
		s.Written += records
		s.Quarantined += quarantined
		s.Objects++
		s.BytesOut += size
	}
}

// Processor processes Kinesis batches. It is safe for concurrent use; its buffers
// are pooled so that steady-state batches allocate little.
type Processor struct {
	sink Sink
	cfg  Config
	pool sync.Pool // *batchState
	// spare keeps one batch state out of pool, which drops what it holds at
	// garbage collections: a new state (its compressor's tables, its line
	// buffer) is a few hundred KiB of garbage that brings the next collection
	// nearer, and in a benchmark of 1,000-record batches the pool lost its
	// state at two collections in three. A function instance handles one
	// batch at a time, so one spare serves every batch; the pool serves
	// concurrent callers.
	spare atomic.Pointer[batchState]
	// timeCheck: the transform is ValidateEventTime(At), which the processor
	// runs on the member it finds while scanning the payload (nil otherwise).
	timeCheck *eventTimeCheck
}

// New returns a Processor writing to sink, or an error if cfg is invalid.
func New(sink Sink, cfg Config) (*Processor, error) {
	if sink == nil {
		return nil, errors.New("ingest: nil sink")
	}
	if cfg.ProcessedPrefix == "" {
		cfg.ProcessedPrefix = ndjson.DefaultProcessedPrefix
	}
	if cfg.QuarantinePrefix == "" {
		cfg.QuarantinePrefix = ndjson.DefaultQuarantinePrefix
	}
	if strings.Trim(cfg.ProcessedPrefix, "/") == strings.Trim(cfg.QuarantinePrefix, "/") {
		return nil, fmt.Errorf("ingest: processed and quarantine prefixes must differ, both are %q", cfg.ProcessedPrefix)
	}
	if cfg.Compression == "" {
		cfg.Compression = ndjson.Gzip
	}
	if _, err := ndjson.ParseCompression(string(cfg.Compression)); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if cfg.Transform == nil {
		cfg.Transform = ValidateEventTime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Processor{sink: sink, cfg: cfg}
	p.timeCheck, _ = cfg.Transform.(*eventTimeCheck)
	p.pool.New = func() any { return &batchState{enc: ndjson.NewEncoder(cfg.Compression)} }
	return p, nil
}

// lineChunk is how many bytes of lines the processor collects before it hands
// them to the compressor.
const lineChunk = 32 << 10

// batchState is the reusable scratch space of one batch.
type batchState struct {
	enc     *ndjson.Encoder
	payload []byte // the buffer of payloads that are not their data
	cur     []byte // the current record's payload: in payload, or its data
	// line holds processed lines not yet given to enc: the compressor's cost
	// per Write call is worth paying once per lineChunk bytes, not once per
	// line (the compressed bytes do not depend on how the lines are split
	// into writes).
	line  []byte
	qline []byte // one quarantine line
	tout  []byte // a custom transform's output, compacted
	lines record.LineFormat
	scan  record.PayloadScanner // with the default transform
	meta  record.Meta
	rec   Record
	agg   kpl.Reader // the user records of a KPL aggregated record
	// qenc holds the batch's quarantined lines; it is made on first use, since
	// most batches quarantine nothing.
	qenc *ndjson.Encoder
	q    quarantine
}

// getState returns a batch state: the spare, or one from the pool.
func (p *Processor) getState() *batchState {
	if st := p.spare.Swap(nil); st != nil {
		return st
	}
	return p.pool.Get().(*batchState)
}

// putState gives back a state that getState returned.
func (p *Processor) putState(st *batchState) {
	if !p.spare.CompareAndSwap(nil, st) {
		p.pool.Put(st)
	}
}

// quarantine is what a batch quarantined so far.
type quarantine struct {
	count       int
	first, last string    // sequence numbers of the first and last quarantined record
	arrival     time.Time // arrival time of the first quarantined record
}

// EventError is returned for an event that is not a valid Kinesis event. It is a
// function error: nothing of the batch was stored.
type EventError struct{ Reason string }

func (e *EventError) Error() string { return "invalid Kinesis event: " + e.Reason }

// HandleJSON decodes a raw Lambda event and handles it. It is the function's
// handler: it rejects, with an *EventError, JSON that is not a Kinesis event (no
// "Records" key, a record whose eventSource is not aws:kinesis, a bad sequence
// number or eventID, records of different shards, a member such as "Records" or
// "data" twice in one object, in any case) instead of mistaking it for an empty
// batch or reading one of its members only.
func (p *Processor) HandleJSON(ctx context.Context, payload json.RawMessage) (events.KinesisEventResponse, error) {
	var probe struct {
		Records *json.RawMessage `json:"Records"`
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return events.KinesisEventResponse{}, &EventError{Reason: "event is not a JSON object"}
	}
	// The shape Lambda delivers takes the fast decoder (event.go); everything else,
	// errors included, encoding/json.
	d := decoderPool.Get().(*eventDecoder)
	defer d.release()
	if ev, ok := d.decode(payload); ok {
		return p.Handle(ctx, ev)
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return events.KinesisEventResponse{}, &EventError{Reason: "decode: " + err.Error()}
	}
	if probe.Records == nil {
		return events.KinesisEventResponse{}, &EventError{Reason: `no "Records" array (is this an event from another source?)`}
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return events.KinesisEventResponse{}, decodeError(*probe.Records, err)
	}
	if msg := ambiguousMember(payload); msg != "" {
		return events.KinesisEventResponse{}, &EventError{Reason: msg}
	}
	return p.Handle(ctx, &ev)
}

// decodeError is the EventError of an event that encoding/json could not
// decode, err, naming the record at fault when it is one of them: encoding/json's
// errors name a Go type, and those of a field's own UnmarshalJSON (the arrival
// time's) not even the field.
func decodeError(records json.RawMessage, err error) *EventError {
	var recs []json.RawMessage
	if json.Unmarshal(records, &recs) == nil {
		for i, r := range recs {
			var rec events.KinesisEventRecord
			if e := json.Unmarshal(r, &rec); e != nil {
				return &EventError{Reason: fmt.Sprintf("decode: record %d: %v", i, e)}
			}
		}
	}
	return &EventError{Reason: "decode: " + err.Error()}
}

// Handle processes one batch. See the package documentation for the contract. The
// returned error is non-nil only for an invalid event; storage failures are
// reported in the response (partial batch response), never as an error, so that the
// event source mapping retries from the right record without bisecting.
func (p *Processor) Handle(ctx context.Context, ev *events.KinesisEvent) (events.KinesisEventResponse, error) {
	if p.cfg.Observe == nil {
		return p.handle(ctx, ev, nil)
	}
	s := BatchStats{Records: len(ev.Records), Start: time.Now()}
	resp, err := p.handle(ctx, ev, &s)
	if err != nil {
		return resp, err
	}
	s.Duration = time.Since(s.Start)
	s.Failed = len(resp.BatchItemFailures) > 0
	if len(ev.Records) > 0 {
		s.ShardID, _, _ = strings.Cut(ev.Records[0].EventID, ":")
		s.FirstArrival = ev.Records[0].Kinesis.ApproximateArrivalTimestamp.Time
	}
	for i := range ev.Records {
		s.BytesIn += len(ev.Records[i].Kinesis.Data)
	}
	p.cfg.Observe(ctx, s)
	return resp, nil
}

func (p *Processor) handle(ctx context.Context, ev *events.KinesisEvent, stats *BatchStats) (events.KinesisEventResponse, error) {
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	if len(ev.Records) == 0 {
		return resp, nil
	}
	shardID, err := validate(ev.Records)
	if err != nil {
		return events.KinesisEventResponse{}, err
	}

	ctx, cancel := beforeDeadline(ctx)
	defer cancel()

	st := p.getState()
	defer p.putState(st)
	st.enc.Reset()
	st.line = st.line[:0]
	if p.timeCheck != nil {
		st.scan.Reset(p.timeCheck.path[0])
	}
	st.q = quarantine{}
	st.lines.Reset(p.cfg.Now().UTC().Format(record.TimeLayout), shardID)
	first := &ev.Records[0].Kinesis
	last := &ev.Records[len(ev.Records)-1].Kinesis

	lines := 0
	for i := range ev.Records {
		r := &ev.Records[i]
		st.meta = record.Meta{
			PartitionKey:   r.Kinesis.PartitionKey,
			SequenceNumber: r.Kinesis.SequenceNumber,
			EventID:        r.EventID,
			ShardID:        shardID,
			ArrivalTime:    arrival(r),
		}
		var (
			n   int
			err error
		)
		if data := r.Kinesis.Data; kpl.IsCandidate(data) && st.agg.Open(data) {
			n, err = p.addUsers(ctx, st) // a line for each of its user records
		} else {
			n, err = p.add(ctx, st, data)
		}
		if err != nil {
			return failAt(resp, first.SequenceNumber), nil
		}
		lines += n
	}
	if err := st.enc.Write(st.line); err != nil {
		return failAt(resp, first.SequenceNumber), nil
	}

	body, err := st.enc.Finish()
	if err != nil {
		p.cfg.Logger.ErrorContext(ctx, "encode batch", "shardId", shardID, "error", err)
		return failAt(resp, first.SequenceNumber), nil
	}
	at := arrival(&ev.Records[0])
	key := p.batchKey(p.cfg.ProcessedPrefix, at, shardID, first.SequenceNumber, last.SequenceNumber)
	// The processed object is written even when every record was quarantined (it is
	// then empty): a retry that starts at this batch's first record must overwrite
	// whatever an earlier attempt stored under the same key.
	obj := Object{
		Key:         key,
		Body:        body,
		ContentType: p.cfg.Compression.ContentType(),
		Metadata: map[string]string{
			MetaRecordCount:         strconv.Itoa(lines),
			MetaFirstSequenceNumber: first.SequenceNumber,
			MetaLastSequenceNumber:  last.SequenceNumber,
		},
	}
	if err := p.sink.Put(ctx, obj); err != nil {
		p.cfg.Logger.ErrorContext(ctx, "store batch", "objectKey", key, "shardId", shardID,
			"sequenceNumber", first.SequenceNumber, "recordCount", len(ev.Records), "error", err)
		return failAt(resp, first.SequenceNumber), nil
	}
	stats.stored(lines, 0, len(body))
	if st.q.count > 0 {
		// Keyed by the first quarantined record, or with KeyByRange as the
		// processed object is.
		qat, qfirst := st.q.arrival, st.q.first
		if p.cfg.KeyByRange {
			qat, qfirst = at, first.SequenceNumber
		}
		key := p.batchKey(p.cfg.QuarantinePrefix, qat, shardID, qfirst, last.SequenceNumber)
		n, err := p.putQuarantine(ctx, st, key)
		if err != nil {
			p.cfg.Logger.ErrorContext(ctx, "store quarantined records", "objectKey", key, "shardId", shardID,
				"sequenceNumber", st.q.first, "recordCount", st.q.count, "error", err)
			return failAt(resp, first.SequenceNumber), nil
		}
		stats.stored(0, st.q.count, n)
	}
	return resp, nil
}

// batchKey returns the key of an object under prefix whose first record arrived
// at and has sequence number first: ndjson.ObjectKey, or with KeyByRange
// ndjson.RangeKey with last, the sequence number of its last record.
func (p *Processor) batchKey(prefix string, at time.Time, shardID, first, last string) string {
	if p.cfg.KeyByRange {
		return ndjson.RangeKey(prefix, at, shardID, first, last, p.cfg.Compression)
	}
	return ndjson.ObjectKey(prefix, at, shardID, first, p.cfg.Compression)
}

// add puts the line of one record (its metadata in st.meta) into the batch's
// processed lines, and returns 1, or into its quarantine object, and returns 0.
// An error is the encoder's: the batch cannot be stored.
func (p *Processor) add(ctx context.Context, st *batchState, data []byte) (int, error) {
	out, terr := p.payload(st, data)
	if terr != nil {
		return 0, p.addQuarantine(ctx, st, terr)
	}
	return 1, st.addLine(out)
}

// addLine appends the line of the current record (st.meta) with payload out,
// and hands the lines to the encoder once they fill a chunk.
func (st *batchState) addLine(out []byte) error {
	st.line = st.lines.Append(st.line, out, &st.meta, "")
	if len(st.line) < lineChunk {
		return nil
	}
	err := st.enc.Write(st.line)
	st.line = st.line[:0]
	return err
}

// addUsers adds the user records of the KPL aggregated record that st.agg has
// opened (st.meta holds the Kinesis record's metadata) as add does, and returns
// how many lines it added.
func (p *Processor) addUsers(ctx context.Context, st *batchState) (int, error) {
	lines := 0
	st.meta.Aggregated = true
	for j := 0; ; j++ {
		u, ok := st.agg.Next()
		if !ok {
			return lines, nil
		}
		if p.cfg.SkipUser != nil && p.cfg.SkipUser(st.meta.SequenceNumber, j) {
			continue
		}
		st.meta.PartitionKey, st.meta.SubSequenceNumber = u.PartitionKey, j
		n, err := p.add(ctx, st, u.Data)
		if err != nil {
			return 0, err
		}
		lines += n
	}
}

// DeadlineMargin is how long before the invocation's deadline the processor
// gives up its S3 writes (at most a quarter of the time left when the batch
// starts): a write still failing or slow by then is reported as a batch item
// failure, which Lambda retries from the batch's first record, instead of
// running into the function timeout, a function error that costs a retry
// attempt, bisects the batch and restarts the execution environment, and that
// can strike after the object was stored (see the package documentation).
const DeadlineMargin = 2 * time.Second

// beforeDeadline returns ctx with its deadline moved DeadlineMargin earlier
// (or by a quarter of the time left, if less); ctx unchanged if it has none.
func beforeDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	margin := min(DeadlineMargin, time.Until(dl)/4)
	return context.WithDeadline(ctx, dl.Add(-max(margin, 0)))
}

// addQuarantine appends the current record (st.meta, st.cur) to the batch's
// quarantine object with reason's text. An error is the encoder's (logged).
func (p *Processor) addQuarantine(ctx context.Context, st *batchState, reason error) error {
	if st.q.count == 0 {
		if st.qenc == nil {
			st.qenc = ndjson.NewEncoder(p.cfg.Compression)
		}
		st.qenc.Reset()
		st.q.first, st.q.arrival = st.meta.SequenceNumber, st.meta.ArrivalTime
	}
	st.q.count++
	st.q.last = st.meta.SequenceNumber
	st.qline = st.lines.Append(st.qline[:0], st.cur, &st.meta, truncate(reason.Error(), maxReasonBytes))
	if err := st.qenc.Write(st.qline); err != nil {
		p.cfg.Logger.ErrorContext(ctx, "encode quarantine", "shardId", st.meta.ShardID, "error", err)
		return err
	}
	return nil
}

// payload sets st.cur to the JSON representation of a record's data and
// returns what the transform makes of it. With the default transform, the event
// time is found while the payload is scanned, the payloads of a batch that
// share a shape are checked against it (record.PayloadScanner), and a payload
// that is its own representation is not copied: st.cur is data then.
func (p *Processor) payload(st *batchState, data []byte) ([]byte, error) {
	if c := p.timeCheck; c != nil {
		var (
			kind record.Kind
			v    []byte
			ok   bool
		)
		st.cur, kind, v, ok = st.scan.Payload(st.payload[:0], data)
		if len(st.cur) > 0 && (len(data) == 0 || &st.cur[0] != &data[0]) {
			st.payload = st.cur // keep the grown buffer
		}
		if kind != record.JSON {
			ok = false
		}
		if ok && len(c.path) > 1 {
			v, ok = record.Lookup(v, c.path[1:])
		}
		if err := c.check(v, ok); err != nil {
			return nil, err
		}
		return st.cur, nil
	}
	var kind record.Kind
	st.payload, kind = record.AppendPayload(st.payload[:0], data)
	st.cur = st.payload
	return p.transform(st, kind)
}

func (p *Processor) transform(st *batchState, kind record.Kind) ([]byte, error) {
	st.rec = Record{Payload: st.payload, Kind: kind, Meta: &st.meta}
	out, err := p.cfg.Transform.Transform(&st.rec)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("transform returned an empty payload")
	}
	if len(out) == len(st.payload) && &out[0] == &st.payload[0] {
		return out, nil // the payload itself: compact JSON already
	}
	// Anything else becomes original_data only as one compact JSON value, so
	// that the object stays one record per line (indented JSON would split a
	// record over lines) and readers get JSON: compacted if need be, and
	// quarantined if it is not JSON.
	var outKind record.Kind
	if st.tout, outKind = record.AppendPayload(st.tout[:0], out); outKind != record.JSON {
		return nil, fmt.Errorf("transform returned %d bytes that are not JSON", len(out))
	}
	return st.tout, nil
}

// putQuarantine stores the batch's quarantine object under key and returns its size.
func (p *Processor) putQuarantine(ctx context.Context, st *batchState, key string) (int, error) {
	body, err := st.qenc.Finish()
	if err != nil {
		return 0, err
	}
	return len(body), p.sink.Put(ctx, Object{
		Key:         key,
		Body:        body,
		ContentType: p.cfg.Compression.ContentType(),
		Metadata: map[string]string{
			MetaRecordCount:         strconv.Itoa(st.q.count),
			MetaFirstSequenceNumber: st.q.first,
			MetaLastSequenceNumber:  st.q.last,
		},
	})
}

func failAt(resp events.KinesisEventResponse, seq string) events.KinesisEventResponse {
	resp.BatchItemFailures = append(resp.BatchItemFailures[:0], events.KinesisBatchItemFailure{ItemIdentifier: seq})
	return resp
}

// arrival returns a record's approximate arrival time rounded to the millisecond.
// Lambda sends it as epoch seconds with a millisecond fraction (1545084650.987),
// and aws-lambda-go's float decoding can land a hair below the millisecond it
// stands for (…650.986999…): rounding gives back the value Lambda sent.
func arrival(r *events.KinesisEventRecord) time.Time {
	return roundMillisecond(r.Kinesis.ApproximateArrivalTimestamp.Time)
}

// roundMillisecond is t.Round(time.Millisecond) without Round's general
// division, as it runs once per record: a millisecond divides a second, so the
// remainder is that of t's nanoseconds, and halves round up as in Round.
func roundMillisecond(t time.Time) time.Time {
	t = t.Round(0) // strips the monotonic reading, as Round does
	rem := time.Duration(t.Nanosecond()) % time.Millisecond
	if rem+rem < time.Millisecond {
		return t.Add(-rem)
	}
	return t.Add(time.Millisecond - rem)
}

// validate checks that records form one Kinesis batch and returns its shard id.
func validate(recs []events.KinesisEventRecord) (string, error) {
	var shardID string
	for i := range recs {
		r := &recs[i]
		if r.EventSource != "aws:kinesis" {
			return "", &EventError{Reason: fmt.Sprintf("record %d: eventSource is %q, want \"aws:kinesis\"", i, r.EventSource)}
		}
		seq := r.Kinesis.SequenceNumber
		if !record.ValidSequenceNumber(seq) {
			return "", &EventError{Reason: fmt.Sprintf("record %d: sequenceNumber %q is not a decimal number of 1 to %d digits", i, seq, record.MaxSequenceNumberDigits)}
		}
		shard, eventSeq, ok := strings.Cut(r.EventID, ":")
		if !ok || shard == "" || eventSeq != seq {
			return "", &EventError{Reason: fmt.Sprintf("record %d: eventID %q is not \"<shardId>:%s\"", i, r.EventID, seq)}
		}
		if i == 0 {
			shardID = shard
		} else if shard != shardID {
			return "", &EventError{Reason: fmt.Sprintf("record %d: shard %q differs from the batch's shard %q", i, shard, shardID)}
		} else if prev := recs[i-1].Kinesis.SequenceNumber; !sequenceAfter(seq, prev) {
			// Records of a shard arrive in sequence order, each once; a repeated
			// sequence number would make two records share one quarantine key.
			return "", &EventError{Reason: fmt.Sprintf("record %d: sequenceNumber %s is not after the previous record's %s", i, seq, prev)}
		}
		switch t := r.Kinesis.ApproximateArrivalTimestamp.Time; {
		case t.IsZero():
			return "", &EventError{Reason: fmt.Sprintf("record %d: approximateArrivalTimestamp is missing", i)}
		case t.Before(firstArrival) || t.After(lastArrival):
			// It names the object's hour once rounded to the millisecond
			// (arrival): a four-digit year from 1970.
			return "", &EventError{Reason: fmt.Sprintf("record %d: approximateArrivalTimestamp %s is not a time Kinesis gives (want one from 1970-01-01T00:00:01Z to 9999-12-31T23:59:59.999Z, rounded to the millisecond)",
				i, t.UTC().Format(time.RFC3339Nano))}
		}
	}
	return shardID, nil
}

// firstArrival and lastArrival bound the arrival times accepted, as they are
// rounded to the millisecond: from the first that rounds to the second after the
// epoch (0 and the times around it are what a missing or defaulted value looks
// like) to the last that rounds to a millisecond of the year 9999.
var (
	firstArrival = time.Unix(0, 999_500_000)
	lastArrival  = time.Unix(253402300799, 999_499_999)
)

// sequenceAfter reports whether decimal sequence number a is greater than b,
// comparing them as integers without allocating (both are validated digits).
func sequenceAfter(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}
