package summary

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func parse(t *testing.T, recs []testRecord) *Contribution {
	t.Helper()
	c, err := Config{}.ParseObject("k.ndjson", ndBody(recs))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDiffReplaysOverwrites applies the diffs of a sequence of overwrites of one
// object (the processor's retry patterns) and checks the result against the
// contribution of the last version.
func TestDiffReplaysOverwrites(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	all := randomRecords(r, 400, 30, 3)
	tests := []struct {
		name     string
		versions [][]testRecord
		// extremesExact is false when records leave for good: extremes may then be
		// wider than the last version's.
		extremesExact bool
	}{
		{"same records", [][]testRecord{all[:200], all[:200]}, true},
		{"superset", [][]testRecord{all[:100], all[:300]}, true},
		{"prefix after superset", [][]testRecord{all[:300], all[:150]}, false},
		{"grow shrink grow", [][]testRecord{all[:50], all[:400], all[:10], all[:400]}, true},
		{"to empty", [][]testRecord{all[:80], nil}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := map[Key]*Summary{}
			var applied *Contribution
			for _, v := range tc.versions {
				next := parse(t, v)
				for _, ch := range Diff(applied, next) {
					applyInMemory(table, ch)
				}
				applied = next
			}
			want := applied.Summaries
			diffs := Compare(want, table)
			for _, d := range diffs {
				isExtreme := d.What == "first" || d.What == "last" || len(d.What) > 4 && (d.What[len(d.What)-4:] == ".min" || d.What[len(d.What)-4:] == ".max")
				if tc.extremesExact || !isExtreme {
					t.Errorf("after replaying diffs: %s", d)
				}
			}
		})
	}
}

func TestDiffSameRecordsChangesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	recs := randomRecords(r, 100, 5, 2)
	a, b := parse(t, recs), parse(t, recs)
	if got := Diff(a, b); len(got) != 0 {
		t.Errorf("Diff(same records) = %d changes; want 0", len(got))
	}
	if got := Diff(nil, a); len(got) != len(a.Summaries) {
		t.Errorf("Diff(nil, a) = %d changes; want one per summary key (%d)", len(got), len(a.Summaries))
	}
}

func TestChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	recs := randomRecords(r, 2000, 249, 1) // 249 device-hours + 1 fleet-hour
	c := parse(t, recs)
	changes := Diff(nil, c)
	if len(changes) != 250 {
		t.Fatalf("Diff touched %d keys; want 250", len(changes))
	}
	chunks := Chunks(changes, ChunkSize)
	var sizes []int
	for _, ch := range chunks {
		sizes = append(sizes, len(ch))
	}
	if diff := cmp.Diff([]int{99, 99, 52}, sizes); diff != "" {
		t.Errorf("chunk sizes (-want +got):\n%s", diff)
	}
	for i := 1; i < len(changes); i++ {
		if !changes[i-1].Key.Less(changes[i].Key) {
			t.Fatalf("changes not in key order at %d: %s then %s", i, changes[i-1].Key, changes[i].Key)
		}
	}
	// Recomputing from the encoded form gives the same chunks.
	blob, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Contribution
	if err := back.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	again := Chunks(Diff(nil, &back), ChunkSize)
	if len(again) != len(chunks) {
		t.Fatalf("recomputed %d chunks; want %d", len(again), len(chunks))
	}
	for i := range chunks {
		for j := range chunks[i] {
			if chunks[i][j].Key != again[i][j].Key {
				t.Fatalf("chunk %d item %d: %s after decoding; want %s", i, j, again[i][j].Key, chunks[i][j].Key)
			}
		}
	}
	if got := Chunks(nil, ChunkSize); len(got) != 0 {
		t.Errorf("Chunks(nil) = %v; want none", got)
	}
}

func TestContributionEncoding(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	c := parse(t, randomRecords(r, 300, 20, 4))
	c.Stats.NonNumeric = map[string]int64{"humidity": 3}
	b1, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := c.MarshalBinary()
	if !bytes.Equal(b1, b2) {
		t.Errorf("MarshalBinary is not deterministic")
	}
	var back Contribution
	if err := back.UnmarshalBinary(b1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(goldenView(c), goldenView(&back)); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(c.Stats, back.Stats); diff != "" {
		t.Errorf("stats round trip (-want +got):\n%s", diff)
	}
	for _, bad := range [][]byte{nil, []byte("x"), gzipped([]byte(`{"v":9}`)), gzipped([]byte(`{`))} {
		if err := new(Contribution).UnmarshalBinary(bad); err == nil {
			t.Errorf("UnmarshalBinary(%q) succeeded; want an error", bad)
		}
	}
}

// TestContributionSize logs how large the encoding of a wide object is: the
// store keeps it in one DynamoDB item.
func TestContributionSize(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	recs := randomRecords(r, 10000, 10000, 1)
	c := parse(t, recs)
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10000 records, %d summary keys: %d bytes encoded (%.1f per key)", len(c.Summaries), len(b), float64(len(b))/float64(len(c.Summaries)))
	if len(b) > 380<<10 {
		t.Errorf("encoding of %d keys is %d bytes; want it to fit a DynamoDB item", len(c.Summaries), len(b))
	}
}

// TestZeroEventTime: Go's zero time, 0001-01-01T00:00:00Z, is an event time a
// record may carry; Diff and Merge keep it as a first or last time.
func TestZeroEventTime(t *testing.T) {
	zero, later := time.Time{}, time.Time{}.Add(30*time.Minute)
	year0 := time.Date(0, 6, 1, 0, 0, 0, 0, time.UTC)
	k := Key{PK: "FLEET", SK: "HOUR#0001-01-01T00"}
	next := &Contribution{Summaries: map[Key]*Summary{k: {Count: 1, First: zero, Last: zero}}}
	got := Diff(nil, next)
	want := []Change{{Key: k, Count: 1, First: zero, Last: zero, HasFirst: true, HasLast: true}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Diff of a record at the zero time (-want +got):\n%s", d)
	}
	// The same record again changes nothing.
	if got := Diff(next, next); len(got) != 0 {
		t.Errorf("Diff of the same records = %+v; want none", got)
	}

	for _, tc := range []struct {
		name   string
		s, o   Summary
		first  time.Time
		last   time.Time
		counts int64
	}{
		{"zero into later", Summary{Count: 1, First: later, Last: later}, Summary{Count: 1, First: zero, Last: zero}, zero, later, 2},
		{"later into zero", Summary{Count: 1, First: zero, Last: zero}, Summary{Count: 1, First: later, Last: later}, zero, later, 2},
		{"zero into empty", Summary{}, Summary{Count: 1, First: zero, Last: zero}, zero, zero, 1},
		{"empty into zero", Summary{Count: 1, First: zero, Last: zero}, Summary{}, zero, zero, 1},
		// Times before Go's zero time (year 0000 is valid).
		{"year 0 into empty", Summary{}, Summary{Count: 1, First: year0, Last: year0}, year0, year0, 1},
		{"year 0 into zero", Summary{Count: 1, First: zero, Last: zero}, Summary{Count: 1, First: year0, Last: year0}, year0, zero, 2},
	} {
		s := tc.s
		s.Merge(&tc.o)
		if !s.First.Equal(tc.first) || !s.Last.Equal(tc.last) || s.Count != tc.counts {
			t.Errorf("%s: Merge = count %d, %s .. %s; want %d, %s .. %s", tc.name, s.Count, s.First, s.Last, tc.counts, tc.first, tc.last)
		}
	}
}
