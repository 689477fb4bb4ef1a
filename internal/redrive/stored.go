package redrive

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/record"
	"github.com/streamlake/streamlake/internal/s3store"
)

// StoredAPI is the part of the S3 client that Stored uses.
type StoredAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// DefaultStoredLookback is how long before a record's arrival Stored looks for
// the object that holds it: the arrival time of the first record of the batch
// that stored it can be earlier by as much as that batch spans.
const DefaultStoredLookback = 24 * time.Hour

// DefaultStoredObjects is how many of a shard's objects starting at or before a
// record Stored looks into: a batch bisected down to single records leaves at
// most two objects per level (14 levels for 10,000 records) starting between
// its first record and any of its records.
const DefaultStoredObjects = 32

// Stored tells which records of a range the processor's latest objects already
// hold, so that a redrive does not store them a second time.
//
// A failed batch's range can name records that are stored: the processor reports
// a whole batch failed when one of its two objects (processed, quarantine) could
// not be written, so that Lambda's retry rewrites the same keys, and the retries
// can then run out with the other object stored; and after a bisect, the object an
// earlier attempt of the whole batch stored keeps the records of a half that then
// failed until its retries ran out. Stored reads, for each record, the objects of
// each of the processor's prefixes that can hold it: of the shard's objects whose
// key hour is at most Lookback before the record's arrival, the MaxObjects whose
// first sequence numbers are the greatest not above the record's (the processor
// keys a batch's objects by their first record), and of those the ones whose
// first-sequence-number to last-sequence-number metadata includes it. More than
// one can: the objects of the sub-batches that bisects made start between an
// earlier attempt's first record and the record. A record counts as stored when
// every line it makes is in one of them, with the record's shard, sequence
// number and arrival time (to the millisecond; so another stream's objects in
// the bucket, whose sequence numbers can be the same, do not count): its one
// line, or each user record of a KPL aggregate. Only the processor's keys
// (<shardId>-<first>) are read, never a redrive's or a replay's chunks
// (<shardId>-<first>-<last>), even when written under the processor's prefix.
// Listings, metadata and objects are read once per message (Run calls Forget).
type Stored struct {
	API    StoredAPI
	Bucket string
	// Prefixes are the processor's processed and quarantine prefixes.
	Prefixes []string
	// Lookback: 0 means DefaultStoredLookback.
	Lookback time.Duration
	// MaxObjects: 0 means DefaultStoredObjects.
	MaxObjects int

	cache *storedCache // what the current message read (Forget drops it)
}

// storedCache is what Stored read for one message.
type storedCache struct {
	listed  map[storedHour]bool             // hours listed
	objects map[storedShard][]storedObject  // sorted by first
	spans   map[string][2]string            // per object key, its first and last sequence numbers
	lines   map[string]map[storedLine]int64 // per object key, its lines
}

// storedShard is a shard's objects under one of the processor's prefixes;
// storedHour those of one hour (the hour's Unix time).
type storedShard struct{ prefix, shard string }

type storedHour struct {
	storedShard
	hour int64
}

type storedObject struct {
	first, key string
}

// storedLine identifies a line: a record's shard and sequence number and, for a
// user record of a KPL aggregate, its index (-1 for a record that is not an
// aggregate).
type storedLine struct {
	shard, seq string
	sub        int
}

// Held is what the processor's latest objects hold of a record.
type Held struct {
	// All reports whether they hold every line the record makes.
	All bool
	// Users are, for a KPL aggregate, the indexes of the user records they
	// hold (nil when none, or when the record is not an aggregate).
	Users map[int]bool
}

// Holds reports what the latest objects hold of rec.
func (s *Stored) Holds(ctx context.Context, rec Record) (Held, error) {
	if s.cache == nil {
		s.cache = &storedCache{listed: map[storedHour]bool{}, objects: map[storedShard][]storedObject{},
			spans: map[string][2]string{}, lines: map[string]map[storedLine]int64{}}
	}
	want := []storedLine{{rec.ShardID, rec.SequenceNumber, -1}}
	if kpl.IsCandidate(rec.Data) {
		if users, ok := kpl.Parse(nil, rec.Data); ok {
			want = want[:0]
			for i := range users {
				want = append(want, storedLine{rec.ShardID, rec.SequenceNumber, i})
			}
		}
	}
	have := map[storedLine]bool{}
	for _, prefix := range s.Prefixes {
		keys, err := s.objectsFor(ctx, prefix, rec)
		if err != nil {
			return Held{}, err
		}
		for _, key := range keys {
			lines, err := s.read(ctx, key)
			if err != nil {
				return Held{}, err
			}
			// The same shard and sequence number, and the same arrival time:
			// another stream's records (a bucket shared with another stream, an
			// emulator's small sequence numbers) are not this one's.
			ms := rec.ArrivalTime.UnixMilli()
			for _, l := range want {
				if at, ok := lines[l]; ok && at >= ms-1 && at <= ms+1 {
					have[l] = true
				}
			}
		}
	}
	h := Held{All: len(have) == len(want)}
	if !h.All && want[0].sub >= 0 {
		for l := range have {
			if h.Users == nil {
				h.Users = map[int]bool{}
			}
			h.Users[l.sub] = true
		}
	}
	return h, nil
}

// objectsFor returns the keys of the objects of prefix that can hold rec.
func (s *Stored) objectsFor(ctx context.Context, prefix string, rec Record) ([]string, error) {
	lookback, most := s.Lookback, s.MaxObjects
	if lookback <= 0 {
		lookback = DefaultStoredLookback
	}
	if most <= 0 {
		most = DefaultStoredObjects
	}
	sh := storedShard{prefix, rec.ShardID}
	last := rec.ArrivalTime.UTC().Truncate(time.Hour)
	for h := rec.ArrivalTime.Add(-lookback).UTC().Truncate(time.Hour); !h.After(last); h = h.Add(time.Hour) {
		if s.cache.listed[storedHour{sh, h.Unix()}] {
			continue
		}
		if err := s.list(ctx, sh, h); err != nil {
			return nil, err
		}
	}
	objs := s.cache.objects[sh]
	// Past the objects whose first sequence number is not above the record's.
	n, _ := slices.BinarySearchFunc(objs, rec.SequenceNumber, func(o storedObject, seq string) int {
		if compareSequence(o.first, seq) <= 0 {
			return -1
		}
		return 1
	})
	var keys []string
	for i := n - 1; i >= 0 && i >= n-most; i-- {
		span, err := s.span(ctx, objs[i].key, objs[i].first)
		if err != nil {
			return nil, err
		}
		if compareSequence(span[1], rec.SequenceNumber) >= 0 {
			keys = append(keys, objs[i].key)
		}
	}
	return keys, nil
}

// span returns the first and last sequence numbers of the object at key, from
// its metadata (first, from its key, when the metadata has none).
func (s *Stored) span(ctx context.Context, key, first string) ([2]string, error) {
	if sp, ok := s.cache.spans[key]; ok {
		return sp, nil
	}
	out, err := s.API.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return [2]string{}, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	sp := [2]string{first, out.Metadata[ingest.MetaLastSequenceNumber]}
	if !record.ValidSequenceNumber(sp[1]) {
		// Not an object of the processor's: read it whole.
		sp[1] = strings.Repeat("9", record.MaxSequenceNumberDigits)
	}
	s.cache.spans[key] = sp
	return sp, nil
}

// list adds the shard's objects of hour h to the cache.
func (s *Stored) list(ctx context.Context, sh storedShard, h time.Time) error {
	// ObjectKey's layout up to the shard id; a key's time is its first record's.
	lp := strings.TrimSuffix(ndjson.ObjectKey(sh.prefix, h, sh.shard, "", ndjson.None), ndjson.None.Extension())
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(lp)}
	for {
		out, err := s.API.ListObjectsV2(ctx, in)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", s.Bucket, lp, err)
		}
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			rest, ok := strings.CutPrefix(key, lp)
			if !ok {
				continue
			}
			c, ok := ndjson.CompressionOf(key)
			if !ok {
				continue
			}
			// The processor keys its objects <shardId>-<first>; <first>-<last>
			// is a redrive's or a replay's chunk, written under a prefix of
			// its own or, if the user chose so, the processor's: never the
			// processor's record of having stored a record.
			first := strings.TrimSuffix(rest, c.Extension())
			if !record.ValidSequenceNumber(first) {
				continue
			}
			s.cache.objects[sh] = append(s.cache.objects[sh], storedObject{first: first, key: key})
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	slices.SortFunc(s.cache.objects[sh], func(a, b storedObject) int {
		if c := compareSequence(a.first, b.first); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	s.cache.listed[storedHour{sh, h.Unix()}] = true
	return nil
}

// Forget drops what Holds read: the processor's objects can change between two
// messages (with ParallelizationFactor > 1 a concurrent batch rewrites its
// objects), so each message is judged on what they hold when it is read.
func (s *Stored) Forget() { s.cache = nil }

// read returns the lines of the object at key, with their arrival times (Unix
// milliseconds).
func (s *Stored) read(ctx context.Context, key string) (map[storedLine]int64, error) {
	if lines, ok := s.cache.lines[key]; ok {
		return lines, nil
	}
	obj, err := s3store.NewReader(s.API).GetObject(ctx, s.Bucket, key) // the aggregator's reader
	if err != nil {
		return nil, err
	}
	r, err := ndjson.NewReader(key, obj.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	lines := map[storedLine]int64{}
	sc := ndjson.NewScanner(r)
	for sc.Scan() {
		var l struct {
			Shard   string `json:"shard_id"`
			Seq     string `json:"sequence_number"`
			Sub     *int   `json:"sub_sequence_number"`
			Arrival string `json:"approximate_arrival_timestamp"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Seq == "" {
			continue // not a line of the processor's: it holds no record
		}
		at, err := time.Parse(time.RFC3339Nano, l.Arrival)
		if err != nil {
			continue
		}
		id := storedLine{l.Shard, l.Seq, -1}
		if l.Sub != nil {
			id.sub = *l.Sub
		}
		lines[id] = at.UnixMilli()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	s.cache.lines[key] = lines
	return lines, nil
}

// compareSequence compares two valid sequence numbers.
func compareSequence(a, b string) int {
	c, _ := record.CompareSequenceNumbers(a, b)
	return c
}
