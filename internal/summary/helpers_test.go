package summary

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// testRecord is one sensor reading as a test generates it.
type testRecord struct {
	device string
	at     time.Time
	temp   string // decimal text, "" for absent
	hum    string
}

// line renders r as a processor output line.
func (r testRecord) line(seq int) string {
	od := fmt.Sprintf(`{"device_id":%q,"timestamp":%q`, r.device, r.at.Format(time.RFC3339Nano))
	if r.temp != "" {
		od += `,"temperature":` + r.temp
	}
	if r.hum != "" {
		od += `,"humidity":` + r.hum
	}
	od += `,"location":{"lat":1.5,"lon":2.5}}`
	return fmt.Sprintf(`{"original_data":%s,"processing_timestamp":"2026-11-21T13:40:06.000Z","partition_key":%q,"sequence_number":"%d","event_id":"shardId-000000000000:%d","processed":true,"shard_id":"shardId-000000000000","approximate_arrival_timestamp":%q}`,
		od, r.device, seq, seq, r.at.Add(time.Second).Format("2006-01-02T15:04:05.000Z"))
}

// randomRecords returns n readings from devices devices spread over hours hours.
func randomRecords(r *rand.Rand, n, devices, hours int) []testRecord {
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	out := make([]testRecord, n)
	for i := range out {
		out[i] = testRecord{
			device: fmt.Sprintf("sensor-%04d", r.IntN(devices)+1),
			at:     base.Add(time.Duration(r.Int64N(int64(hours) * int64(time.Hour)))).Truncate(time.Millisecond),
			temp:   fmt.Sprintf("%.2f", (r.Float64()-0.3)*40),
		}
		if r.IntN(4) > 0 {
			out[i].hum = fmt.Sprintf("%.1f", r.Float64()*100)
		}
	}
	return out
}

// ndBody renders records as a plain object body.
func ndBody(recs []testRecord) []byte {
	var b bytes.Buffer
	for i, r := range recs {
		b.WriteString(r.line(i + 1))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func gzipped(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// applyInMemory applies a change with the store's semantics (extremes only widen;
// they exist once set, even when their count drops to zero).
func applyInMemory(table map[Key]*Summary, ch Change) {
	s, ok := table[ch.Key]
	if !ok {
		s = &Summary{}
		table[ch.Key] = s
	}
	s.Count += ch.Count
	if !ch.First.IsZero() && (s.First.IsZero() || ch.First.Before(s.First)) {
		s.First = ch.First
	}
	if ch.Last.After(s.Last) {
		s.Last = ch.Last
	}
	for name, fc := range ch.Fields {
		if s.Fields == nil {
			s.Fields = map[string]Field{}
		}
		f, existed := s.Fields[name]
		f.N += fc.N
		f.Sum = f.Sum.Add(fc.Sum)
		if fc.HasMin && (!existed || fc.Min.Cmp(f.Min) < 0) {
			f.Min = fc.Min
		}
		if fc.HasMax && (!existed || fc.Max.Cmp(f.Max) > 0) {
			f.Max = fc.Max
		}
		s.Fields[name] = f
	}
}

// randomRecordsN returns n records of a fixed seed.
func randomRecordsN(n int) []testRecord {
	return randomRecords(rand.New(rand.NewPCG(uint64(n), 42)), n, 3, 1)
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// roundTrip encodes c as the store keeps it and decodes it again.
func roundTrip(t testing.TB, c *Contribution) *Contribution {
	t.Helper()
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := new(Contribution)
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return back
}
