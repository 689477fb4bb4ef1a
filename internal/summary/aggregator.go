package summary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Object is one version of a processed object, as read from S3.
type Object struct {
	Bucket string
	Key    string
	// ETag identifies the content (without the quotes S3 puts around it).
	ETag string
	Body []byte
}

// ErrNotFound is what an ObjectSource returns (wrapped) for a key that does not
// exist.
var ErrNotFound = errors.New("object not found")

// ObjectSource reads the current version of processed objects. Implementations
// must be safe for concurrent use and strongly consistent (as S3 is): a read after
// a write returns that write or a later one.
type ObjectSource interface {
	// GetObject returns the current version of the object.
	GetObject(ctx context.Context, bucket, key string) (*Object, error)
	// ObjectETag returns the ETag of the current version of the object.
	ObjectETag(ctx context.Context, bucket, key string) (string, error)
}

// Store keeps summaries and applies an object's contribution to them with an
// exactly-once effect (see the package documentation for the protocol).
// Implementations must be safe for concurrent use, also by several processes.
type Store interface {
	// Apply makes the summaries reflect c as the contribution of objectKey at
	// etag, replacing whatever contribution of objectKey they reflected before.
	// Applying the same (objectKey, etag) again changes nothing.
	Apply(ctx context.Context, objectKey, etag string, c *Contribution) (ApplyResult, error)
}

// ApplyResult says what Store.Apply did.
type ApplyResult struct {
	// Duplicate is true when the contribution for that ETag was found applied
	// (a duplicate or stale notification) and this call committed nothing.
	Duplicate bool
	// Unconfirmed goes with Duplicate when this call's own write failed with a
	// conflict before it found the ETag applied: another writer applied it, or
	// this call's write committed unseen. It is counted as a duplicate (the
	// likelier case), and the Aggregator checks the object's ETag again, as
	// after a write of its own.
	Unconfirmed bool
	// Resumed counts unfinished transitions (left by a crashed or concurrent
	// aggregator) that this call completed first.
	Resumed int
	// Changes is the number of summary items the new contribution changed.
	Changes int
	// Transactions and WriteActions count the DynamoDB writes made by this call
	// (a transaction counts each of its actions).
	Transactions int
	WriteActions int
}

// Defaults of the Aggregator.
const (
	DefaultConcurrency = 4
	// DefaultMaxRounds bounds how often one notification re-reads an object that
	// keeps changing while it is being aggregated before it gives up (the message
	// is then retried by SQS).
	DefaultMaxRounds = 5
)

// deadlineMargin is the time Handle keeps for answering before the invocation's
// deadline.
const deadlineMargin = 2 * time.Second

// Aggregator is the AggregatorFunction's handler: it consumes S3 ObjectCreated
// notifications delivered by SQS, reads each object's current version, and has
// the Store apply its contribution. Delivery is at least once and in any order;
// the effect on the summaries is exactly once. An Aggregator is safe for
// concurrent use.
type Aggregator struct {
	src         ObjectSource
	store       Store
	cfg         Config
	bucket      string
	prefix      string
	logger      *slog.Logger
	concurrency int
	maxRounds   int
	observe     func(context.Context, BatchStats)
}

// BatchStats is what Handle did with one SQS batch.
type BatchStats struct {
	// Messages is the number of messages in the batch; Failed is the number
	// reported in batchItemFailures (all of them when Handle returns an error).
	Messages, Failed int
	// Objects counts the object versions whose contribution was applied, and
	// Duplicates those whose contribution was already applied (their lines are
	// not counted again). Items is the number of summary items changed.
	Objects, Duplicates, Items int
	// Lines sums the line statistics of the applied object versions.
	Lines Stats
	// Start is when Handle began the batch; Duration is how long it took.
	Start    time.Time
	Duration time.Duration
}

// batchTally collects a batch's BatchStats from the goroutines aggregating its
// objects.
type batchTally struct {
	mu sync.Mutex
	s  BatchStats
}

// applied counts one successful Store.Apply.
func (t *batchTally) applied(c *Contribution, res ApplyResult) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if res.Duplicate {
		t.s.Duplicates++
		return
	}
	t.s.Objects++
	t.s.Items += res.Changes
	t.s.Lines.Add(c.Stats)
}

// Option configures an Aggregator.
type Option func(*Aggregator)

// WithPrefix makes the Aggregator ignore (with a log line) objects whose key is not
// under prefix + "/". The default "" accepts every key.
func WithPrefix(prefix string) Option {
	return func(a *Aggregator) { a.prefix = strings.TrimSuffix(prefix, "/") }
}

// WithBucket makes Handle acknowledge without work (with a warning log) the
// notifications of objects in any bucket but name. Contributions are kept per
// object key alone, so an object of another bucket under a processed key would
// replace the contribution of that key's object in this bucket. The default ""
// accepts every bucket. Aggregator.Object reads the bucket it is given.
func WithBucket(name string) Option {
	return func(a *Aggregator) { a.bucket = name }
}

// WithObserve makes Handle call observe once per invocation, on its goroutine,
// before it returns, with what the batch did (for metrics), also when Handle
// returns an error. Objects aggregated through Aggregator.Object are not observed.
//
// This is the metering style of both functions (ingest.Config.Observe is the
// processor's): the handler reports a value once it is done, and the function
// turns it into its metric line. Counting through a wrapper of the Store that
// finds a tally in the context would pass a value through context.Context as an
// out-parameter, invisible in any signature, and count nothing when a caller
// forgets to put the tally there.
func WithObserve(observe func(ctx context.Context, s BatchStats)) Option {
	return func(a *Aggregator) { a.observe = observe }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(a *Aggregator) { a.logger = l } }

// WithConcurrency sets how many objects of one batch are aggregated at once
// (default DefaultConcurrency).
func WithConcurrency(n int) Option {
	return func(a *Aggregator) {
		if n > 0 {
			a.concurrency = n
		}
	}
}

// NewAggregator returns an Aggregator reading objects from src and writing through
// store. cfg's zero fields take their defaults.
func NewAggregator(src ObjectSource, store Store, cfg Config, opts ...Option) (*Aggregator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Aggregator{src: src, store: store, cfg: cfg.withDefaults(), logger: slog.Default(),
		concurrency: DefaultConcurrency, maxRounds: DefaultMaxRounds}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// objectRef names one object of one bucket.
type objectRef struct{ bucket, key string }

// Handle processes an SQS batch and reports each message that failed in
// batchItemFailures (by message ID), so that SQS redelivers only those; after the
// queue's maxReceiveCount they go to its dead-letter queue. A message fails when
// its body is not an S3 notification or when one of its objects could not be read,
// decoded or applied. S3 test events, events other than ObjectCreated and
// objects of another bucket (WithBucket) or outside the prefix (WithPrefix) are
// acknowledged. An event that is not an SQS event is a function error.
//
// See https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html.
func (a *Aggregator) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	if a.observe == nil {
		return a.handle(ctx, ev, nil)
	}
	t := &batchTally{s: BatchStats{Messages: len(ev.Records), Start: time.Now()}}
	resp, err := a.handle(ctx, ev, t) // returns once every object's goroutine is done
	t.s.Duration = time.Since(t.s.Start)
	t.s.Failed = len(resp.BatchItemFailures)
	if err != nil {
		t.s.Failed = len(ev.Records)
	}
	a.observe(ctx, t.s)
	return resp, err
}

func (a *Aggregator) handle(ctx context.Context, ev events.SQSEvent, tally *batchTally) (events.SQSEventResponse, error) {
	if len(ev.Records) == 0 {
		return events.SQSEventResponse{}, errors.New("aggregator: event has no SQS Records: not an SQS event")
	}
	for i, m := range ev.Records {
		// Another source's event (a Kinesis batch, say) is a function error,
		// not a batch of failed messages: its records have no message ID that
		// batchItemFailures could name, and an empty itemIdentifier fails the
		// whole batch anyway.
		if m.EventSource != "aws:sqs" {
			return events.SQSEventResponse{}, fmt.Errorf("aggregator: record %d: eventSource is %q, want \"aws:sqs\": not an SQS event", i, m.EventSource)
		}
		if m.MessageId == "" {
			return events.SQSEventResponse{}, fmt.Errorf("aggregator: record %d has no messageId: not an SQS event", i)
		}
	}
	failed := make([]bool, len(ev.Records))
	users := map[objectRef][]int{}
	var order []objectRef
	for i, m := range ev.Records {
		refs, err := a.parseMessage(ctx, m)
		if err != nil {
			a.logger.ErrorContext(ctx, "bad message", "messageId", m.MessageId, "error", err)
			failed[i] = true
			continue
		}
		for _, r := range refs {
			if _, seen := users[r]; !seen {
				order = append(order, r)
			}
			users[r] = append(users[r], i)
		}
	}

	// Stop working a little before the function's deadline, so that the
	// response (and its batchItemFailures) is still delivered: unfinished objects
	// are reported and redelivered, and a transition left half done is finished
	// by whoever handles the object next.
	work := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	sem := make(chan struct{}, a.concurrency)
	gate := newKeyGate()
	for i, r := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = a.object(work, r.bucket, r.key, gate, tally)
		}()
	}
	wg.Wait()
	for i, r := range order {
		if errs[i] == nil {
			continue
		}
		a.logger.ErrorContext(ctx, "object not aggregated", "bucket", r.bucket, "objectKey", r.key, "error", errs[i])
		for _, m := range users[r] {
			failed[m] = true
		}
	}

	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// s3TestEvent is the message S3 sends when a notification is configured.
type s3TestEvent struct {
	Service string `json:"Service"`
	Event   string `json:"Event"`
	Bucket  string `json:"Bucket"`
}

// parseMessage returns the objects an SQS message notifies; nil for messages to
// acknowledge without work.
func (a *Aggregator) parseMessage(ctx context.Context, m events.SQSMessage) ([]objectRef, error) {
	if !json.Valid([]byte(m.Body)) {
		return nil, errors.New("message body is not JSON")
	}
	var test s3TestEvent
	if json.Unmarshal([]byte(m.Body), &test) == nil && test.Event == "s3:TestEvent" {
		a.logger.InfoContext(ctx, "ignoring S3 test event", "messageId", m.MessageId, "bucket", test.Bucket)
		return nil, nil
	}
	var n events.S3Event
	if err := json.Unmarshal([]byte(m.Body), &n); err != nil {
		return nil, fmt.Errorf("message body is not an S3 event notification: %w", err)
	}
	if len(n.Records) == 0 {
		return nil, errors.New("message body is not an S3 event notification: no Records")
	}
	var refs []objectRef
	for i, r := range n.Records {
		if r.EventSource != "aws:s3" {
			return nil, fmt.Errorf("record %d: eventSource %q is not aws:s3", i, r.EventSource)
		}
		if r.S3.Bucket.Name == "" || r.S3.Object.Key == "" {
			return nil, fmt.Errorf("record %d: no bucket name or object key", i)
		}
		key := r.S3.Object.URLDecodedKey // query-unescaped by events.S3Object
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			a.logger.InfoContext(ctx, "ignoring event", "messageId", m.MessageId, "eventName", r.EventName, "objectKey", key)
			continue
		}
		if a.bucket != "" && r.S3.Bucket.Name != a.bucket {
			a.logger.WarnContext(ctx, "ignoring object of another bucket", "messageId", m.MessageId, "bucket", r.S3.Bucket.Name, "objectKey", key, "outputBucket", a.bucket)
			continue
		}
		if a.prefix != "" && !strings.HasPrefix(key, a.prefix+"/") {
			a.logger.WarnContext(ctx, "ignoring object outside the processed prefix", "messageId", m.MessageId, "objectKey", key, "prefix", a.prefix)
			continue
		}
		refs = append(refs, objectRef{bucket: r.S3.Bucket.Name, key: key})
	}
	return refs, nil
}

// Object aggregates the current version of one object: it reads it, computes its
// contribution and has the store apply it. After a change it checks that the
// object has not been overwritten meanwhile (a notification may be handled after
// a later one), and if it has, it aggregates the newer version too, so that the
// summaries end with the contribution of the latest version. A missing object is
// logged and skipped (its applied contribution, if any, stays).
func (a *Aggregator) Object(ctx context.Context, bucket, key string) error {
	return a.object(ctx, bucket, key, nil, nil)
}

// object is Object; with a gate, the store applies the contribution only while no
// other object of the batch is applying one with a summary key in common; with a
// tally, each contribution applied is counted in it.
func (a *Aggregator) object(ctx context.Context, bucket, key string, gate *keyGate, tally *batchTally) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("object %s: %w", key, err)
	}
	obj, err := a.src.GetObject(ctx, bucket, key)
	if errors.Is(err, ErrNotFound) {
		a.logger.WarnContext(ctx, "object no longer exists; nothing to aggregate", "bucket", bucket, "objectKey", key)
		return nil
	}
	if err != nil {
		return err
	}
	for round := 1; ; round++ {
		c, err := a.cfg.ParseObject(key, obj.Body)
		if err != nil {
			return fmt.Errorf("etag %s: %w", obj.ETag, err)
		}
		if gate != nil {
			gate.enter(c.Summaries)
		}
		res, err := a.store.Apply(ctx, key, obj.ETag, c)
		if gate != nil {
			gate.leave(c.Summaries)
		}
		if err != nil {
			return fmt.Errorf("apply object %s (etag %s): %w", key, obj.ETag, err)
		}
		a.log(ctx, obj, c, res, round)
		tally.applied(c, res)
		if res.Duplicate && res.Resumed == 0 && !res.Unconfirmed {
			return nil
		}
		etag, err := a.src.ObjectETag(ctx, bucket, key)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if etag == obj.ETag {
			return nil
		}
		if round >= a.maxRounds {
			return fmt.Errorf("object %s changed %d times while being aggregated; giving up for now", key, round)
		}
		if obj, err = a.src.GetObject(ctx, bucket, key); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			return err
		}
	}
}

func (a *Aggregator) log(ctx context.Context, obj *Object, c *Contribution, res ApplyResult, round int) {
	outcome := "applied"
	if res.Duplicate {
		outcome = "duplicate"
	}
	attrs := []any{
		"objectKey", obj.Key, "etag", obj.ETag, "outcome", outcome, "round", round,
		"lineCount", c.Stats.Lines, "recordCount", c.Stats.Records, "skippedCount", c.Stats.Skipped(),
		"summaryKeys", len(c.Summaries), "changes", res.Changes, "resumed", res.Resumed,
		"transactions", res.Transactions, "writeActions", res.WriteActions,
	}
	a.logger.InfoContext(ctx, "object aggregated", attrs...)
	if c.Stats.Skipped() > 0 || len(c.Stats.NonNumeric) > 0 || len(c.Stats.OutOfRange) > 0 || c.Stats.InvalidTime > 0 {
		a.logger.WarnContext(ctx, "object has records that could not be fully aggregated",
			"objectKey", obj.Key, "etag", obj.ETag,
			"malformedLines", c.Stats.Malformed, "noDevice", c.Stats.NoDevice, "noTime", c.Stats.NoTime,
			"invalidTime", c.Stats.InvalidTime, "timeFallback", c.Stats.TimeFallback, "nonNumeric", c.Stats.NonNumeric,
			"outOfRange", c.Stats.OutOfRange)
	}
}
