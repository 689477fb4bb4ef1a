package summary

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// The aggregator's parsers see data from outside: processed objects (anything a
// writer to the bucket put there), SQS message bodies, and stored contribution
// items. These fuzz targets check that none of them panics and that what they
// accept is consistent. Seeds are in testdata/fuzz/<FuzzName>.

// FuzzParseObject aggregates arbitrary object bodies. Nothing is dropped
// silently (Lines = Records + Skipped, Lines = non-blank lines), the fleet summary
// of each hour is the sum of the device summaries of that hour, extremes bound
// each other, and a gzip body aggregates like the same plain body.
func FuzzParseObject(f *testing.F) {
	f.Add([]byte(testRecord{device: "sensor-0001", at: time.Date(2026, 11, 21, 13, 40, 5, 0, time.UTC), temp: "21.5"}.line(1) + "\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cfg := Config{}
		c, err := cfg.ParseObject("processed/x.ndjson", body)
		if err != nil {
			t.Fatalf("ParseObject(plain) = %v; only lines over ndjson.MaxLineBytes may fail", err)
		}
		nonBlank := int64(0)
		for _, l := range bytes.Split(body, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				nonBlank++
			}
		}
		// bufio.Scanner also ends lines at "\r\n"; TrimSpace covers the "\r".
		if s := c.Stats; s.Lines != nonBlank || s.Lines != s.Records+s.Skipped() {
			t.Fatalf("stats %+v for %d non-blank lines; want Lines = Records + Skipped = %d", s, nonBlank, nonBlank)
		}
		checkContribution(t, c)

		gz, err := cfg.ParseObject("processed/x.ndjson.gz", gzipped(body))
		if err != nil {
			t.Fatalf("ParseObject(gzip) = %v", err)
		}
		if a, b := c.Keys(), gz.Keys(); fmt.Sprint(a) != fmt.Sprint(b) || c.Stats.Lines != gz.Stats.Lines || c.Stats.Records != gz.Stats.Records {
			t.Fatalf("gzip body aggregates to %v %+v; plain to %v %+v", b, gz.Stats, a, c.Stats)
		}
		// A body that is not what its key says is an error, not a panic.
		if _, err := cfg.ParseObject("processed/x.ndjson.gz", body); err == nil && !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
			t.Fatalf("ParseObject(.gz) accepted a body without the gzip magic")
		}
		_, _ = cfg.ParseObject("processed/x.ndjson.zst", body)
	})
}

// checkContribution checks the internal consistency of c.
func checkContribution(t *testing.T, c *Contribution) {
	t.Helper()
	type hourSum struct {
		count  int64
		fields map[string]Field
	}
	devices := map[string]*hourSum{}
	var records int64
	for _, k := range c.Keys() {
		s := c.Summaries[k]
		if s.Count <= 0 || s.First.After(s.Last) {
			t.Fatalf("summary %s = %+v: want a positive count and First <= Last", k, s)
		}
		if len(k.PK) > MaxPartitionKeyBytes || len(k.SK) > MaxSortKeyBytes || !utf8.ValidString(k.PK) {
			t.Fatalf("key %q: %d/%d bytes, valid UTF-8 %v; DynamoDB takes at most %d/%d bytes of UTF-8",
				k, len(k.PK), len(k.SK), utf8.ValidString(k.PK), MaxPartitionKeyBytes, MaxSortKeyBytes)
		}
		hour, err := k.Hour()
		if err != nil {
			t.Fatalf("key %s: %v", k, err)
		}
		if s.First.Before(hour) || !s.Last.Before(hour.Add(time.Hour)) {
			t.Fatalf("summary %s spans %s..%s, outside its hour", k, s.First, s.Last)
		}
		for name, fl := range s.Fields {
			if fl.N <= 0 || fl.N > s.Count || fl.Min.Cmp(fl.Max) > 0 {
				t.Fatalf("summary %s field %s = %+v: want 0 < N <= Count and Min <= Max", k, name, fl)
			}
			if !fl.Min.summable() || !fl.Max.summable() || fl.Sum.SignificantDigits() > 38 {
				t.Fatalf("summary %s field %s = %+v: want Min and Max in the summable domain and a Sum of at most 38 digits", k, name, fl)
			}
		}
		if _, isDevice := k.Device(); !isDevice {
			records += s.Count
			continue
		}
		hs := devices[k.SK]
		if hs == nil {
			hs = &hourSum{fields: map[string]Field{}}
			devices[k.SK] = hs
		}
		hs.count += s.Count
		for name, fl := range s.Fields {
			m := hs.fields[name]
			m.merge(fl)
			hs.fields[name] = m
		}
	}
	if records != c.Stats.Records {
		t.Fatalf("fleet summaries count %d records; stats say %d", records, c.Stats.Records)
	}
	for _, k := range c.Keys() {
		if _, isDevice := k.Device(); isDevice {
			continue
		}
		s, hs := c.Summaries[k], devices[k.SK]
		if hs == nil || hs.count != s.Count || len(hs.fields) != len(s.Fields) {
			t.Fatalf("fleet %s = %+v; the devices of that hour add up to %+v", k, s, hs)
		}
		for name, fl := range s.Fields {
			d := hs.fields[name]
			if d.N != fl.N || d.Sum.Cmp(fl.Sum) != 0 || d.Min.Cmp(fl.Min) != 0 || d.Max.Cmp(fl.Max) != 0 {
				t.Fatalf("fleet %s field %s = %+v; devices give %+v", k, name, fl, d)
			}
		}
	}
}

// fuzzSource serves one object for every key and records the keys asked for.
type fuzzSource struct {
	mu   sync.Mutex
	keys []string
}

func (s *fuzzSource) GetObject(_ context.Context, bucket, key string) (*Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, key)
	return &Object{Bucket: bucket, Key: key, ETag: "e1", Body: nil}, nil
}

func (s *fuzzSource) ObjectETag(context.Context, string, string) (string, error) { return "e1", nil }

type fuzzStore struct{}

func (fuzzStore) Apply(context.Context, string, string, *Contribution) (ApplyResult, error) {
	return ApplyResult{}, nil
}

// FuzzNotification hands arbitrary SQS message bodies to the aggregator, next to a
// valid notification. It must not panic or fail the invocation; a bad body fails
// only its own message; and for a body that is an S3 ObjectCreated notification
// under the prefix, the objects read are its (URL-decoded) keys.
func FuzzNotification(f *testing.F) {
	f.Add(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"processed/a%20b.ndjson"}}}]}`)
	good := `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"processed/good.ndjson"}}}]}`
	f.Fuzz(func(t *testing.T, body string) {
		src := &fuzzSource{}
		a, err := NewAggregator(src, fuzzStore{}, Config{}, WithPrefix("processed"), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := a.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
			{MessageId: "fuzz", Body: body, EventSource: "aws:sqs"},
			{MessageId: "good", Body: good, EventSource: "aws:sqs"},
		}})
		if err != nil {
			t.Fatalf("Handle = %v; a bad message must not fail the invocation", err)
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		if failed["good"] {
			t.Fatalf("the valid notification failed next to body %q", body)
		}
		want := map[string]bool{"processed/good.ndjson": true}
		var n events.S3Event
		if err := json.Unmarshal([]byte(body), &n); err == nil {
			for _, r := range n.Records {
				key, err := url.QueryUnescape(r.S3.Object.Key)
				if err == nil && strings.HasPrefix(r.EventName, "ObjectCreated:") && strings.HasPrefix(key, "processed/") {
					want[key] = true
				}
			}
		}
		for _, k := range src.keys {
			if !want[k] {
				t.Fatalf("read object %q, which body %q does not name", k, body)
			}
		}
	})
}

// FuzzDecimal checks ParseDecimal against math/big: a number it accepts has the
// value big.Rat gives the same text, and its String form parses back to it.
func FuzzDecimal(f *testing.F) {
	f.Add("21.43")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			if !errors.Is(err, errNumber) {
				t.Fatalf("ParseDecimal(%q) error %v does not wrap errNumber", s, err)
			}
			return
		}
		r, ok := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
		switch {
		case !ok && d.Sign() == 0:
			// Zero with an exponent beyond what math/big reads (0e9300000000000000000).
			r = new(big.Rat)
		case !ok:
			t.Fatalf("ParseDecimal(%q) = %s; math/big does not read it as a number", s, d)
		}
		back, err := ParseDecimal(d.String())
		if err != nil || back.Cmp(d) != 0 {
			t.Fatalf("ParseDecimal(%q).String() = %q, which parses to %v, %v", s, d, back, err)
		}
		got, ok := new(big.Rat).SetString(d.String())
		if !ok || got.Cmp(r) != 0 {
			t.Fatalf("ParseDecimal(%q) = %s; want %s", s, d, r.RatString())
		}
		if want := summableRat(r); d.summable() != want {
			t.Fatalf("ParseDecimal(%q).summable() = %v; want %v", s, !want, want)
		}
	})
}

// summableRat is Decimal.summable computed with math/big: 0, or |r| < 1e12 and
// r·1e21 an integer.
func summableRat(r *big.Rat) bool {
	if r.Sign() == 0 {
		return true
	}
	limit := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(12), nil))
	if new(big.Rat).Abs(r).Cmp(limit) >= 0 {
		return false
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil)))
	return scaled.IsInt()
}

// FuzzContributionBinary decodes arbitrary stored contribution items: no panic,
// and what decodes re-encodes to something that decodes to the same thing.
func FuzzContributionBinary(f *testing.F) {
	c, _ := Config{}.ParseObject("processed/x.ndjson", []byte(testRecord{device: "d", at: time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC), temp: "1.5"}.line(1)))
	b, _ := c.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Contribution
		if err := c.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := c.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded contribution: %v", err)
		}
		var again Contribution
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("decode what MarshalBinary wrote: %v", err)
		}
		enc2, _ := again.MarshalBinary()
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("contribution does not round-trip")
		}
	})
}
