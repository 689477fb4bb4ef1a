package producer

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/time/rate"
)

// Limits and defaults. See the package documentation for where they come from.
const (
	// MaxRecordsPerCall is the PutRecords limit on entries per request.
	MaxRecordsPerCall = 500
	// DefaultMaxBytesPerCall bounds the data plus partition keys of one request.
	DefaultMaxBytesPerCall = 5 << 20
	// MaxBytesPerCallLimit is the largest request AWS accepts (10 MiB).
	MaxBytesPerCallLimit = 10 << 20
	// DefaultMaxRecordSize is a stream's maximum record size (data plus partition
	// key) when DescribeStreamSummary reports none.
	DefaultMaxRecordSize = 1 << 20
	// MaxPartitionKeyLength is the longest partition key, in Unicode characters.
	MaxPartitionKeyLength = 256
	// DefaultMaxAttempts is how many times a record is sent before it is given up.
	DefaultMaxAttempts = 10
	// DefaultBackoffBase is the backoff ceiling after the first failed attempt; it
	// doubles with each further attempt up to DefaultBackoffMax.
	DefaultBackoffBase = 100 * time.Millisecond
	// DefaultBackoffMax caps the backoff ceiling.
	DefaultBackoffMax = 5 * time.Second
)

// Errors that Put wraps; compare with errors.Is.
var (
	// ErrUndelivered means some records were still not accepted after their last
	// attempt, or were refused with a non-retryable per-entry error code.
	ErrUndelivered = errors.New("records not delivered")
	// ErrRecordTooLarge means a record exceeds the stream's maximum record size or
	// the request size limit; nothing was sent.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrInvalidPartitionKey means a partition key is empty or longer than 256
	// characters; nothing was sent.
	ErrInvalidPartitionKey = errors.New("invalid partition key")
	// ErrInvalidExplicitHashKey means an explicit hash key is not a decimal number
	// from 0 to 2^128-1 without leading zeros; nothing was sent.
	ErrInvalidExplicitHashKey = errors.New("invalid explicit hash key")
)

// API is the part of the Kinesis client that the producer calls. *kinesis.Client
// satisfies it; unit tests fake it.
type API interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

// Record is one record to put. Data may be empty; PartitionKey must have 1 to 256
// characters. The producer never modifies Data.
type Record struct {
	PartitionKey string
	Data         []byte
	// ExplicitHashKey, when not empty, chooses the shard instead of the hash of
	// the partition key: a decimal number from 0 to 2^128-1, without leading zeros
	// (PutRecords' pattern 0|([1-9]\d{0,38})).
	ExplicitHashKey string
}

// Size is what Kinesis counts against the record and request limits: the data plus
// the partition key, in bytes.
func (r Record) Size() int { return len(r.Data) + len(r.PartitionKey) }

// Stats counts what a producer did. The zero value is all zeros.
type Stats struct {
	// Sent is the number of records Kinesis accepted.
	Sent int64 `json:"sent"`
	// Failed is the number of records not delivered (given up on, rejected before
	// sending, or left unsent when Put stopped early).
	Failed int64 `json:"failed"`
	// Retries is the number of times a record was sent again after a failure.
	Retries int64 `json:"retries"`
	// Calls is the number of PutRecords calls made, failed ones included.
	Calls int64 `json:"calls"`
	// Bytes is the data plus partition key bytes of the records accepted.
	Bytes int64 `json:"bytes"`
}

// Result is the outcome of one Put. Sent+Failed always equals the number of records
// given to Put.
type Result struct {
	Stats
	// Undelivered lists the records not delivered, in index order.
	Undelivered []Undelivered
}

// Undelivered describes a record that Put did not deliver.
type Undelivered struct {
	// Index is the record's position in the slice given to Put.
	Index int
	// PartitionKey is the record's partition key.
	PartitionKey string
	// ErrorCode is the last Kinesis error code for the record (per entry or for the
	// whole call); empty when the record was never sent.
	ErrorCode string
	// ErrorMessage is the last error message for the record.
	ErrorMessage string
	// Attempts is how many times the record was sent.
	Attempts int
}

// Delivery describes a record Kinesis accepted; see WithDeliveryFunc.
type Delivery struct {
	// Index is the record's position in the slice given to Put.
	Index          int
	PartitionKey   string
	ShardID        string
	SequenceNumber string
	// Attempts is how many times the record was sent (1 when it went through first time).
	Attempts int
}

// Option configures a Producer.
type Option func(*Producer)

// WithOrdered keeps per-partition-key order exactly, even across retries, at the cost
// of throughput: see the package documentation. Default false.
func WithOrdered(ordered bool) Option {
	return func(p *Producer) { p.ordered = ordered }
}

// WithMaxAttempts sets how many times a record is sent before it is given up (at
// least 1). Default DefaultMaxAttempts.
func WithMaxAttempts(n int) Option {
	return optionIf(n >= 1, func(p *Producer) { p.maxAttempts = n },
		"max attempts must be at least 1, got %d", n)
}

// WithBackoff sets the backoff after a failed attempt: a random duration between 0
// and min(max, base×2^(attempt-1)) (full jitter). Defaults DefaultBackoffBase and
// DefaultBackoffMax.
func WithBackoff(base, max time.Duration) Option {
	return optionIf(base > 0 && max >= base, func(p *Producer) { p.backoffBase, p.backoffMax = base, max },
		"backoff needs 0 < base <= max, got base %s max %s", base, max)
}

// WithRate limits the records sent per second (retries included); 0 means
// unlimited, the default.
func WithRate(recordsPerSecond float64) Option {
	ok := recordsPerSecond >= 0 && !math.IsInf(recordsPerSecond, 0) // NaN is not >= 0
	return optionIf(ok, func(p *Producer) { p.rate = recordsPerSecond },
		"rate must be a finite number >= 0, got %v", recordsPerSecond)
}

// WithMaxRecordsPerCall caps the records per PutRecords call (1 to 500, default 500).
func WithMaxRecordsPerCall(n int) Option {
	return optionIf(n >= 1 && n <= MaxRecordsPerCall, func(p *Producer) { p.maxRecords = n },
		"records per call must be between 1 and %d, got %d", MaxRecordsPerCall, n)
}

// WithMaxBytesPerCall caps the data plus partition keys of one call (1 byte to
// 10 MiB). Default DefaultMaxBytesPerCall (5 MiB).
func WithMaxBytesPerCall(n int) Option {
	return optionIf(n >= 1 && n <= MaxBytesPerCallLimit, func(p *Producer) { p.maxBytes = n },
		"bytes per call must be between 1 and %d, got %d", MaxBytesPerCallLimit, n)
}

// WithMaxRecordSize sets the stream's maximum record size (data plus partition key,
// in bytes) instead of asking DescribeStreamSummary for it.
func WithMaxRecordSize(n int) Option {
	return optionIf(n >= 1, func(p *Producer) { p.recordLimit = n },
		"max record size must be positive, got %d", n)
}

// optionIf returns an Option that calls set when ok, else records the error
// fmt.Errorf(format, a...), which every Put then reports.
func optionIf(ok bool, set func(*Producer), format string, a ...any) Option {
	return func(p *Producer) {
		if !ok {
			p.optErr = fmt.Errorf(format, a...)
			return
		}
		set(p)
	}
}

// WithDeliveryFunc calls f for every record Kinesis accepts, with its shard and
// sequence number, from the goroutine running Put, in the order responses arrive.
// Concurrent Put calls call f concurrently. f must not call the producer.
func WithDeliveryFunc(f func(Delivery)) Option {
	return func(p *Producer) { p.onDelivery = f }
}

// Producer puts records into one stream. Create it with New. It is safe for
// concurrent use, but order is kept (WithOrdered) only within one Put call and
// between Put calls made one after the other.
type Producer struct {
	client      API
	stream      string
	ordered     bool
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	maxRecords  int
	maxBytes    int
	recordLimit int
	rate        float64
	limiter     *rate.Limiter
	onDelivery  func(Delivery)
	optErr      error

	mu             sync.Mutex // guards describedLimit
	describedLimit int

	sent, failed, retries, calls, bytes atomic.Int64
}

// New returns a producer for stream, a stream name or a stream ARN. It does no I/O:
// the stream's maximum record size is looked up on the first Put. An invalid option
// makes every Put fail with a clear error.
func New(client API, stream string, opts ...Option) *Producer {
	p := &Producer{
		client:      client,
		stream:      stream,
		maxAttempts: DefaultMaxAttempts,
		backoffBase: DefaultBackoffBase,
		backoffMax:  DefaultBackoffMax,
		maxRecords:  MaxRecordsPerCall,
		maxBytes:    DefaultMaxBytesPerCall,
	}
	for _, o := range opts {
		o(p)
	}
	if stream == "" && p.optErr == nil {
		p.optErr = errors.New("stream name or ARN is required")
	}
	if p.rate > 0 {
		// About ten calls per second: smooth, yet batches stay large at high rates.
		burst := int(math.Ceil(p.rate / 10))
		burst = max(1, min(burst, p.maxRecords))
		p.limiter = rate.NewLimiter(rate.Limit(p.rate), burst)
		p.maxRecords = burst
	}
	return p
}

// Stats returns the counts over every Put so far. Safe to call while Put runs (a
// progress display does); the counts are read one by one, not as one snapshot.
func (p *Producer) Stats() Stats {
	return Stats{
		Sent:    p.sent.Load(),
		Failed:  p.failed.Load(),
		Retries: p.retries.Load(),
		Calls:   p.calls.Load(),
		Bytes:   p.bytes.Load(),
	}
}

// streamRef returns the StreamName and StreamARN parameters for p.stream.
func (p *Producer) streamRef() (name, arn *string) {
	if strings.HasPrefix(p.stream, "arn:") {
		return nil, aws.String(p.stream)
	}
	return aws.String(p.stream), nil
}

// maxRecordSize returns the stream's record size limit, asking DescribeStreamSummary
// once unless WithMaxRecordSize set it. Without permission to describe the stream
// the default 1 MiB applies (a producer's role may allow PutRecords only).
func (p *Producer) maxRecordSize(ctx context.Context) (int, error) {
	if p.recordLimit > 0 {
		return p.recordLimit, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.describedLimit > 0 {
		return p.describedLimit, nil
	}
	name, arn := p.streamRef()
	out, err := p.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name, StreamARN: arn})
	switch {
	case err != nil && errorCode(err) == "AccessDeniedException":
		p.describedLimit = DefaultMaxRecordSize
	case err != nil:
		return 0, fmt.Errorf("describe stream %s: %w", p.stream, err)
	case out.StreamDescriptionSummary != nil && out.StreamDescriptionSummary.MaxRecordSizeInKiB != nil &&
		*out.StreamDescriptionSummary.MaxRecordSizeInKiB > 0:
		p.describedLimit = int(*out.StreamDescriptionSummary.MaxRecordSizeInKiB) << 10
	default:
		p.describedLimit = DefaultMaxRecordSize
	}
	return p.describedLimit, nil
}

// validate checks every record before anything is sent.
func (p *Producer) validate(ctx context.Context, records []Record) error {
	for i, r := range records {
		if n := utf8.RuneCountInString(r.PartitionKey); n < 1 || n > MaxPartitionKeyLength {
			return fmt.Errorf("record %d: partition key %q has %d characters, want 1 to %d: %w",
				i, truncate(r.PartitionKey, 40), n, MaxPartitionKeyLength, ErrInvalidPartitionKey)
		}
		if !utf8.ValidString(r.PartitionKey) {
			return fmt.Errorf("record %d: partition key %q is not valid UTF-8: %w", i, truncate(r.PartitionKey, 40), ErrInvalidPartitionKey)
		}
		if r.ExplicitHashKey != "" && !validHashKey(r.ExplicitHashKey) {
			return fmt.Errorf("record %d (partition key %q): explicit hash key %q is not a decimal number from 0 to 2^128-1 without leading zeros: %w",
				i, truncate(r.PartitionKey, 40), truncate(r.ExplicitHashKey, 45), ErrInvalidExplicitHashKey)
		}
	}
	limit, err := p.maxRecordSize(ctx)
	if err != nil {
		return err
	}
	for i, r := range records {
		switch s := r.Size(); {
		case s > limit:
			return fmt.Errorf("record %d (partition key %q): %d bytes (data + partition key) exceeds the stream's maximum record size of %d bytes: %w",
				i, truncate(r.PartitionKey, 40), s, limit, ErrRecordTooLarge)
		case s > p.maxBytes:
			return fmt.Errorf("record %d (partition key %q): %d bytes (data + partition key) exceeds the request limit of %d bytes: %w",
				i, truncate(r.PartitionKey, 40), s, p.maxBytes, ErrRecordTooLarge)
		}
	}
	return nil
}

// record states during a Put.
const (
	pending uint8 = iota
	delivered
	givenUp
)

// put is the state of one Put call.
type put struct {
	p        *Producer
	records  []Record
	res      Result
	attempts []int
	state    []uint8
	next     []int // ordered mode: index of the next record with the same key, or -1
	ready    indexHeap
}

// Put sends records and blocks until each one is accepted or given up. On return
// res.Sent+res.Failed == len(records) and res.Undelivered lists the failed ones.
//
// The error is nil when every record was delivered. It wraps ErrRecordTooLarge,
// ErrInvalidPartitionKey or ErrInvalidExplicitHashKey when validation refused the
// batch (nothing was sent),
// ErrUndelivered when some records ran out of attempts, or the cause when Put stopped
// early: a non-retryable error from Kinesis, or ctx being done.
//
// Delivery is at least once: a call that fails as a whole (a timeout, for instance)
// may have stored some records that are then sent again.
func (p *Producer) Put(ctx context.Context, records []Record) (Result, error) {
	u := &put{p: p, records: records}
	u.state = make([]uint8, len(records))
	if len(records) == 0 {
		return u.res, nil
	}
	if p.optErr != nil {
		return u.abort(fmt.Errorf("producer for %s: %w", p.stream, p.optErr))
	}
	if err := p.validate(ctx, records); err != nil {
		return u.abort(fmt.Errorf("put records to %s: %w", p.stream, err))
	}
	u.attempts = make([]int, len(records))
	u.schedule()
	if err := u.run(ctx); err != nil {
		return u.abort(fmt.Errorf("put records to %s: %w", p.stream, err))
	}
	if u.res.Failed > 0 {
		return u.finish(), u.undeliveredError()
	}
	return u.finish(), nil
}

// schedule fills the ready heap: every record, or in ordered mode the first record
// of each partition key, with the others chained behind it.
func (u *put) schedule() {
	n := len(u.records)
	if !u.p.ordered {
		u.ready = make(indexHeap, n)
		for i := range u.ready {
			u.ready[i] = i // ascending order is a valid heap
		}
		return
	}
	u.next = make([]int, n)
	last := make(map[string]int)
	for i := n - 1; i >= 0; i-- {
		k := u.records[i].PartitionKey
		if j, ok := last[k]; ok {
			u.next[i] = j
		} else {
			u.next[i] = -1
		}
		last[k] = i
	}
	u.ready = make(indexHeap, 0, len(last))
	for _, i := range last {
		u.ready = append(u.ready, i)
	}
	heap.Init(&u.ready)
}

// run sends calls until no record is ready.
func (u *put) run(ctx context.Context) error {
	p := u.p
	batch := make([]int, 0, p.maxRecords)
	entries := make([]types.PutRecordsRequestEntry, 0, p.maxRecords)
	name, arn := p.streamRef()
	for u.ready.Len() > 0 {
		batch, entries = batch[:0], entries[:0]
		size, worst := 0, 0
		for u.ready.Len() > 0 && len(batch) < p.maxRecords {
			i := u.ready[0]
			r := u.records[i]
			if size+r.Size() > p.maxBytes {
				break // validate guarantees the first record always fits
			}
			heap.Pop(&u.ready)
			batch = append(batch, i)
			size += r.Size()
			worst = max(worst, u.attempts[i])
			entry := types.PutRecordsRequestEntry{
				PartitionKey: aws.String(r.PartitionKey),
				Data:         nonNil(r.Data),
			}
			if r.ExplicitHashKey != "" {
				entry.ExplicitHashKey = aws.String(r.ExplicitHashKey)
			}
			entries = append(entries, entry)
		}
		if worst > 0 {
			if err := sleep(ctx, p.backoff(worst)); err != nil {
				return err
			}
		}
		if p.limiter != nil {
			if err := p.limiter.WaitN(ctx, len(batch)); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("rate limit: %w", err)
			}
		}
		out, err := p.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: name, StreamARN: arn, Records: entries})
		u.res.Calls++
		p.calls.Add(1)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !retryableCallError(err) {
				return err
			}
			code := errorCode(err)
			for _, i := range batch {
				u.retryOrGiveUp(i, code, err.Error())
			}
			continue
		}
		if len(out.Records) != len(batch) {
			return fmt.Errorf("PutRecords response has %d entries for %d records", len(out.Records), len(batch))
		}
		for j, e := range out.Records {
			i := batch[j]
			code := aws.ToString(e.ErrorCode)
			switch {
			case code == "":
				u.deliver(i, aws.ToString(e.ShardId), aws.ToString(e.SequenceNumber))
			case retryableEntryCode(code):
				u.retryOrGiveUp(i, code, aws.ToString(e.ErrorMessage))
			default:
				u.attempts[i]++
				u.giveUp(i, code, aws.ToString(e.ErrorMessage))
			}
		}
	}
	return nil
}

func (u *put) deliver(i int, shardID, seq string) {
	p := u.p
	u.state[i] = delivered
	size := int64(u.records[i].Size())
	u.res.Sent++
	u.res.Bytes += size
	p.sent.Add(1)
	p.bytes.Add(size)
	if p.onDelivery != nil {
		p.onDelivery(Delivery{
			Index:          i,
			PartitionKey:   u.records[i].PartitionKey,
			ShardID:        shardID,
			SequenceNumber: seq,
			Attempts:       u.attempts[i] + 1,
		})
	}
	u.release(i)
}

// retryOrGiveUp records a failed attempt of record i and queues it again, unless it
// has used all its attempts.
func (u *put) retryOrGiveUp(i int, code, msg string) {
	u.attempts[i]++
	if u.attempts[i] >= u.p.maxAttempts {
		u.giveUp(i, code, msg)
		return
	}
	u.res.Retries++
	u.p.retries.Add(1)
	heap.Push(&u.ready, i)
}

func (u *put) giveUp(i int, code, msg string) {
	u.state[i] = givenUp
	u.res.Failed++
	u.p.failed.Add(1)
	u.res.Undelivered = append(u.res.Undelivered, Undelivered{
		Index:        i,
		PartitionKey: u.records[i].PartitionKey,
		ErrorCode:    code,
		ErrorMessage: msg,
		Attempts:     u.attempts[i],
	})
	u.release(i)
}

// release makes the next record of the same key ready (ordered mode).
func (u *put) release(i int) {
	if u.next != nil && u.next[i] >= 0 {
		heap.Push(&u.ready, u.next[i])
	}
}

// abort gives up every record still pending, because of err.
func (u *put) abort(err error) (Result, error) {
	for i, s := range u.state {
		if s != pending {
			continue
		}
		u.state[i] = givenUp
		u.res.Failed++
		u.p.failed.Add(1)
		a := 0
		if u.attempts != nil {
			a = u.attempts[i]
		}
		u.res.Undelivered = append(u.res.Undelivered, Undelivered{
			Index:        i,
			PartitionKey: u.records[i].PartitionKey,
			ErrorCode:    errorCode(err),
			ErrorMessage: err.Error(),
			Attempts:     a,
		})
	}
	res := u.finish()
	return res, fmt.Errorf("%w (%d of %d records not delivered)", err, res.Failed, len(u.records))
}

func (u *put) finish() Result {
	sort.Slice(u.res.Undelivered, func(a, b int) bool {
		return u.res.Undelivered[a].Index < u.res.Undelivered[b].Index
	})
	return u.res
}

func (u *put) undeliveredError() error {
	last := u.res.Undelivered[len(u.res.Undelivered)-1]
	return fmt.Errorf("put records to %s: %d of %d records not delivered (last error %s: %s): %w",
		u.p.stream, u.res.Failed, len(u.records), last.ErrorCode, last.ErrorMessage, ErrUndelivered)
}

// indexHeap is a min-heap of record indices: the earliest record goes first.
type indexHeap []int

func (h indexHeap) Len() int           { return len(h) }
func (h indexHeap) Less(a, b int) bool { return h[a] < h[b] }
func (h indexHeap) Swap(a, b int)      { h[a], h[b] = h[b], h[a] }
func (h *indexHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *indexHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// nonNil keeps an empty payload an empty blob rather than an absent one.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// maxHashKey is the largest hash key, 2^128-1.
var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// validHashKey reports whether s is an explicit hash key Kinesis accepts: it matches
// the API's pattern 0|([1-9]\d{0,38}) (else the call fails with
// ValidationException) and is at most 2^128-1 (else InvalidArgumentException).
func validHashKey(s string) bool {
	if s == "0" {
		return true
	}
	if len(s) < 1 || len(s) > 39 || s[0] < '1' || s[0] > '9' || strings.Trim(s, "0123456789") != "" {
		return false
	}
	n, ok := new(big.Int).SetString(s, 10)
	return ok && n.Cmp(maxHashKey) <= 0
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
