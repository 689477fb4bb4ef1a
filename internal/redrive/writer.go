package redrive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/producer"
)

// Writer stores the records of a range durably. Write is called with consecutive
// chunks of one range at a time (records in sequence order, one shard) and returns
// only once the chunk is stored, with the keys of the objects it wrote (none for a
// stream). Implementations must be safe to call again with the same chunk.
type Writer interface {
	Write(ctx context.Context, rng Range, chunk []Record) (keys []string, err error)
	// String describes the destination for reports, e.g. "s3://bucket/redriven/".
	String() string
}

// Planner is implemented by writers that can tell, without writing, which objects
// a chunk would become. Run uses it in dry-run mode.
type Planner interface {
	Plan(ctx context.Context, rng Range, chunk []Record) (keys []string, err error)
}

// Default key prefixes of the objects written by Run (DefaultPrefix) and Replay
// (DefaultReplayPrefix).
const (
	DefaultPrefix       = "redriven"
	DefaultReplayPrefix = "replayed"
)

// S3Config configures ToS3. The zero value writes gzip objects under DefaultPrefix
// with ingest's default transform.
type S3Config struct {
	// Bucket names the bucket in String; the sink decides where objects go.
	Bucket string
	// Prefix is the key prefix; "" means DefaultPrefix.
	Prefix string
	// QuarantinePrefix receives the records the transform rejects; "" means
	// Prefix + "-quarantine".
	QuarantinePrefix string
	// Compression of the objects; "" means gzip.
	Compression ndjson.Compression
	// Transform is the processor's business logic; nil means ingest's default. Use
	// the same one as the processor function, so redriven records are shaped alike.
	Transform ingest.Transform
	// Logger receives ingest's per-failure records; nil discards them (Write
	// returns the error anyway).
	Logger *slog.Logger
}

// S3Writer writes ranges to S3 as the processor would, under its own prefix. It is
// safe for concurrent use if its sink is.
type S3Writer struct {
	sink ingest.Sink
	cfg  S3Config
}

// ToS3 returns a Writer that stores chunks through package ingest into sink (an
// s3store.Store), one object per chunk under a deterministic key, so that writing a
// chunk again overwrites the same object.
func ToS3(sink ingest.Sink, cfg S3Config) (*S3Writer, error) {
	if sink == nil {
		return nil, errors.New("redrive: nil sink")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	cfg.Prefix = strings.Trim(cfg.Prefix, "/")
	if cfg.Prefix == "" {
		return nil, errors.New("redrive: the prefix must not be empty")
	}
	if cfg.QuarantinePrefix == "" {
		cfg.QuarantinePrefix = ndjson.QuarantinePrefixFor(cfg.Prefix)
	}
	if cfg.Compression == "" {
		cfg.Compression = ndjson.Gzip
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &S3Writer{sink: sink, cfg: cfg}
	if _, err := w.processor(&recordingSink{}, nil); err != nil { // validates the rest of cfg
		return nil, fmt.Errorf("redrive: %w", err)
	}
	return w, nil
}

func (w *S3Writer) processor(sink ingest.Sink, skip func(string, int) bool) (*ingest.Processor, error) {
	return ingest.New(sink, ingest.Config{
		ProcessedPrefix: w.cfg.Prefix, QuarantinePrefix: w.cfg.QuarantinePrefix, KeyByRange: true,
		Compression: w.cfg.Compression, Transform: w.cfg.Transform, Logger: w.cfg.Logger, SkipUser: skip,
	})
}

// storedUsers returns the SkipUser function that leaves out the user records
// the chunk's records say are stored, or nil when none are.
func storedUsers(chunk []Record) func(string, int) bool {
	var stored map[string]map[int]bool
	for _, r := range chunk {
		if len(r.StoredUsers) > 0 {
			if stored == nil {
				stored = map[string]map[int]bool{}
			}
			stored[r.SequenceNumber] = r.StoredUsers
		}
	}
	if stored == nil {
		return nil
	}
	return func(seq string, sub int) bool { return stored[seq][sub] }
}

// String returns s3://bucket/prefix/.
func (w *S3Writer) String() string {
	return "s3://" + w.cfg.Bucket + "/" + w.cfg.Prefix + "/"
}

// Write stores chunk as one object (plus one per record the transform rejects).
func (w *S3Writer) Write(ctx context.Context, rng Range, chunk []Record) ([]string, error) {
	return w.handle(ctx, rng, chunk, &recordingSink{sink: w.sink})
}

// Plan returns the keys Write would write, without writing.
func (w *S3Writer) Plan(ctx context.Context, rng Range, chunk []Record) ([]string, error) {
	return w.handle(ctx, rng, chunk, &recordingSink{})
}

func (w *S3Writer) handle(ctx context.Context, rng Range, chunk []Record, sink *recordingSink) ([]string, error) {
	if len(chunk) == 0 {
		return nil, nil
	}
	p, err := w.processor(sink, storedUsers(chunk))
	if err != nil {
		return nil, err
	}
	ev := kinesisEvent(rng, chunk)
	resp, err := p.Handle(ctx, &ev)
	if err != nil {
		return nil, err
	}
	if len(resp.BatchItemFailures) > 0 {
		if sink.err != nil {
			return sink.keys, sink.err
		}
		return sink.keys, errors.New("encode the records failed")
	}
	return sink.keys, nil
}

// kinesisEvent builds the event the processor would have received for chunk.
func kinesisEvent(rng Range, chunk []Record) events.KinesisEvent {
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, len(chunk))}
	for i, r := range chunk {
		data := r.Data
		if data == nil {
			data = []byte{}
		}
		ev.Records[i] = events.KinesisEventRecord{
			AwsRegion:      rng.Region,
			EventID:        r.ShardID + ":" + r.SequenceNumber,
			EventName:      "aws:kinesis:record",
			EventSource:    "aws:kinesis",
			EventSourceArn: rng.StreamARN,
			EventVersion:   "1.0",
			Kinesis: events.KinesisRecord{
				// Lambda delivers arrival times with millisecond precision.
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: r.ArrivalTime.Truncate(time.Millisecond)},
				Data:                        data,
				PartitionKey:                r.PartitionKey,
				SequenceNumber:              r.SequenceNumber,
				KinesisSchemaVersion:        "1.0",
			},
		}
	}
	return ev
}

// recordingSink passes objects to sink (or, if nil, only records them) and keeps
// the keys written and the first error.
type recordingSink struct {
	sink ingest.Sink
	mu   sync.Mutex
	keys []string
	err  error
}

func (s *recordingSink) Put(ctx context.Context, obj ingest.Object) error {
	if s.sink != nil {
		if err := s.sink.Put(ctx, obj); err != nil {
			s.mu.Lock()
			if s.err == nil {
				s.err = err
			}
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Lock()
	s.keys = append(s.keys, obj.Key)
	s.mu.Unlock()
	return nil
}

// StreamClients returns the Kinesis client for a region.
type StreamClients func(region string) (producer.API, error)

// StreamWriter puts records back into a stream with their partition keys, and a
// KPL aggregate also with the explicit hash key the KPL gives it. Delivery
// is at-least-once (see the package documentation). It is safe for concurrent use.
type StreamWriter struct {
	clients StreamClients
	stream  string
	opts    []producer.Option
}

// ToStream returns a Writer that puts chunks into stream (a name or an ARN; ""
// means back into the stream each range came from) through package producer,
// which retries the entries Kinesis refuses. clients gives the client of a region.
func ToStream(clients StreamClients, stream string, opts ...producer.Option) *StreamWriter {
	return &StreamWriter{clients: clients, stream: stream, opts: opts}
}

// String names the target stream.
func (w *StreamWriter) String() string {
	if w.stream == "" {
		return "the source stream of each range"
	}
	return "stream " + w.stream
}

// Write puts chunk and returns once every record was accepted, or an error that
// says how many were not.
func (w *StreamWriter) Write(ctx context.Context, rng Range, chunk []Record) ([]string, error) {
	target, region := w.stream, rng.Region
	if target == "" {
		target = rng.StreamARN
	}
	if strings.HasPrefix(target, "arn:") {
		r, _, err := parseStreamARN(target)
		if err != nil {
			return nil, err
		}
		region = r
	}
	client, err := w.clients(region)
	if err != nil {
		return nil, err
	}
	recs := make([]producer.Record, len(chunk))
	for i, r := range chunk {
		recs[i] = producer.Record{PartitionKey: r.PartitionKey, Data: r.Data}
		// A KPL aggregate's partition key is a placeholder: put it where its
		// user records belong, as the KPL did.
		if kpl.IsCandidate(r.Data) {
			recs[i].ExplicitHashKey, _ = kpl.HashKey(r.Data)
		}
	}
	res, err := producer.New(client, target, w.opts...).Put(ctx, recs)
	if err != nil {
		return nil, fmt.Errorf("put %d records into %s (%d accepted): %w", len(recs), target, res.Sent, err)
	}
	return nil, nil
}
