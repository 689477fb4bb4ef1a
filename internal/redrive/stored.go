package redrive

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/record"
)

// StoredAPI is the part of the S3 client that Stored uses.
type StoredAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// DefaultStoredLookback is how long before a record's arrival Stored looks for
// the object that holds it: the arrival time of the first record of the batch
// that stored it can be earlier by as much as that batch spans.
const DefaultStoredLookback = 24 * time.Hour

// Stored tells which records of a range the processor's latest objects already
// hold, so that a redrive does not store them a second time.
//
// A failed batch's range can name records that are stored: the processor reports
// a whole batch failed when one of its two objects (processed, quarantine) could
// not be written, so that Lambda's retry rewrites the same keys, and the retries
// can then run out with the other object stored; and after a bisect, the object an
// earlier attempt of the whole batch stored keeps the records of a half that then
// failed until its retries ran out. Stored reads, for each record, the object of
// each of the processor's prefixes that would hold it: of the shard's objects
// whose key hour is at most Lookback before the record's arrival, the one with the
// greatest first sequence number not above the record's (the processor keys a
// batch's objects by their first record; a later object of the shard starts after
// it). A record counts as stored when every line it makes is there: its one line,
// or each user record of a KPL aggregate. Listings and objects are read once per
// run.
type Stored struct {
	API    StoredAPI
	Bucket string
	// Prefixes are the processor's processed and quarantine prefixes.
	Prefixes []string
	// Lookback: 0 means DefaultStoredLookback.
	Lookback time.Duration

	listed  map[string]bool                // hour prefixes listed
	objects map[string][]storedObject      // per prefix and shard, sorted by first
	lines   map[string]map[storedLine]bool // per object key, its lines
}

type storedObject struct {
	first, key string
}

// storedLine identifies a line: a record's sequence number and, for a user record
// of a KPL aggregate, its index (-1 for a record that is not an aggregate).
type storedLine struct {
	seq string
	sub int
}

// Holds reports whether the latest objects hold every line that rec makes.
func (s *Stored) Holds(ctx context.Context, rec Record) (bool, error) {
	if s.listed == nil {
		s.listed, s.objects, s.lines = map[string]bool{}, map[string][]storedObject{}, map[string]map[storedLine]bool{}
	}
	want := []storedLine{{rec.SequenceNumber, -1}}
	if kpl.IsCandidate(rec.Data) {
		if users, ok := kpl.Parse(nil, rec.Data); ok {
			want = want[:0]
			for i := range users {
				want = append(want, storedLine{rec.SequenceNumber, i})
			}
		}
	}
	have := map[storedLine]bool{}
	for _, prefix := range s.Prefixes {
		key, err := s.objectFor(ctx, prefix, rec)
		if err != nil || key == "" {
			if err != nil {
				return false, err
			}
			continue
		}
		lines, err := s.read(ctx, key)
		if err != nil {
			return false, err
		}
		for _, l := range want {
			if lines[l] {
				have[l] = true
			}
		}
	}
	return len(have) == len(want), nil
}

// objectFor returns the key of the object of prefix that would hold rec, or "".
func (s *Stored) objectFor(ctx context.Context, prefix string, rec Record) (string, error) {
	lookback := s.Lookback
	if lookback <= 0 {
		lookback = DefaultStoredLookback
	}
	shardKey := prefix + "\x00" + rec.ShardID
	last := rec.ArrivalTime.UTC().Truncate(time.Hour)
	for h := rec.ArrivalTime.Add(-lookback).UTC().Truncate(time.Hour); !h.After(last); h = h.Add(time.Hour) {
		if err := s.list(ctx, prefix, rec.ShardID, h); err != nil {
			return "", err
		}
	}
	objs := s.objects[shardKey]
	// The greatest first sequence number not above the record's.
	i, _ := slices.BinarySearchFunc(objs, rec.SequenceNumber, func(o storedObject, seq string) int {
		return compareSequence(o.first, seq)
	})
	if i < len(objs) && compareSequence(objs[i].first, rec.SequenceNumber) == 0 {
		return objs[i].key, nil
	}
	if i == 0 {
		return "", nil
	}
	return objs[i-1].key, nil
}

// list adds the shard's objects of prefix in hour h to s.objects.
func (s *Stored) list(ctx context.Context, prefix, shardID string, h time.Time) error {
	// ObjectKey's layout up to the shard id; a key's time is its first record's.
	lp := strings.TrimSuffix(ndjson.ObjectKey(prefix, h, shardID, "", ndjson.None), ndjson.None.Extension())
	if s.listed[lp] {
		return nil
	}
	shardKey := prefix + "\x00" + shardID
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
			first, _, _ := strings.Cut(strings.TrimSuffix(rest, c.Extension()), "-") // <first> or <first>-<last>
			if !record.ValidSequenceNumber(first) {
				continue
			}
			s.objects[shardKey] = append(s.objects[shardKey], storedObject{first: first, key: key})
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	slices.SortFunc(s.objects[shardKey], func(a, b storedObject) int {
		if c := compareSequence(a.first, b.first); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	s.listed[lp] = true
	return nil
}

// read returns the lines of the object at key.
func (s *Stored) read(ctx context.Context, key string) (map[storedLine]bool, error) {
	if lines, ok := s.lines[key]; ok {
		return lines, nil
	}
	out, err := s.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	r, err := ndjson.NewReader(key, body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	lines := map[storedLine]bool{}
	sc := ndjson.NewScanner(r)
	for sc.Scan() {
		var l struct {
			Seq string `json:"sequence_number"`
			Sub *int   `json:"sub_sequence_number"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Seq == "" {
			continue // not a line of the processor's: it holds no record
		}
		id := storedLine{l.Seq, -1}
		if l.Sub != nil {
			id.sub = *l.Sub
		}
		lines[id] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	s.lines[key] = lines
	return lines, nil
}

// compareSequence compares two valid sequence numbers.
func compareSequence(a, b string) int {
	c, _ := record.CompareSequenceNumbers(a, b)
	return c
}
