package pipeline

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/kpl"
)

// accountOf runs account on hand-built stream records and stored lines, with
// every record passing the filter and no failure queue.
func accountOf(t *testing.T, stream []streamRecord, processed, quarantine map[string][]objectLine) *Report {
	t.Helper()
	return accountWith(t, stream, processed, quarantine, placement{})
}

// accountWith is accountOf with what the run knows of its poison records.
func accountWith(t *testing.T, stream []streamRecord, processed, quarantine map[string][]objectLine, pl placement) *Report {
	t.Helper()
	byShard := map[string][]streamRecord{}
	var ids []string
	for _, r := range stream {
		if _, ok := byShard[r.shard]; !ok {
			ids = append(ids, r.shard)
		}
		byShard[r.shard] = append(byShard[r.shard], r)
	}
	rep := &Report{}
	passes := func([]byte) bool { return true }
	if err := account(context.Background(), nil, "", byShard, ids, processed, quarantine, nil, passes, pl, rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestOriginalDataMatches(t *testing.T) {
	long := strings.Repeat("\x01", maxMessageBytes/6+1) // escapes to more than maxMessageBytes
	for _, tc := range []struct {
		name         string
		data, stored string
		want         bool
	}{
		{"json compacted", `{ "a": 1, "b": [1.50, "x"] }`, `{"a":1,"b":[1.50,"x"]}`, true},
		{"json reordered members", `{"a":1,"b":2}`, `{"b":2,"a":1}`, true},
		{"json other value", `{"a":1}`, `{"a":2}`, false},
		{"json number as written", `{"a":1.0}`, `{"a":1}`, false},
		{"json scalar", `42`, `42`, true},
		{"text", `hello "world"`, `{"message":"hello \"world\""}`, true},
		{"text other", `hello`, `{"message":"hell"}`, false},
		{"text as base64", `hello`, `{"data_base64":"aGVsbG8="}`, false},
		{"empty", ``, `{"message":""}`, true},
		{"binary", "\xff\x00", `{"data_base64":"/wA="}`, true},
		{"binary wrong", "\xff\x00", `{"data_base64":"/wE="}`, false},
		{"binary as message", "\xff", `{"message":"\ufffd"}`, false},
		{"long text as base64", long, `{"data_base64":"` + b64(long) + `"}`, true},
		{"stored not JSON", `{"a":1}`, `{"a":1`, false},
		{"stored missing", `{"a":1}`, ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := originalDataMatches([]byte(tc.data), []byte(tc.stored)); got != tc.want {
				t.Errorf("originalDataMatches(%.40q, %.40q) = %v; want %v", tc.data, tc.stored, got, tc.want)
			}
		})
	}
}

// TestAccountChecksContent: a stored line whose original_data is not its
// record's payload, or that stands for no record of the stream, fails the
// report and is named.
func TestAccountChecksContent(t *testing.T) {
	stream := []streamRecord{
		{shard: "s0", seq: "1", data: []byte(`{"device_id":"a","temperature":1}`)},
		{shard: "s0", seq: "2", data: []byte(`{"device_id":"a","temperature":2}`)},
	}
	good := map[string][]objectLine{"processed/o1": {
		{Shard: "s0", Seq: "1", Data: []byte(`{"device_id":"a","temperature":1}`)},
		{Shard: "s0", Seq: "2", Data: []byte(`{"temperature":2,"device_id":"a"}`)},
	}}
	if rep := accountOf(t, stream, good, nil); !rep.OK() || rep.ContentChecked != 2 {
		t.Errorf("correct lines: failures %q, %d lines checked; want OK, 2 checked", rep.Failures(), rep.ContentChecked)
	}

	wrong := map[string][]objectLine{"processed/o1": {
		{Shard: "s0", Seq: "1", Data: []byte(`{"device_id":"a","temperature":1}`)},
		{Shard: "s0", Seq: "2", Data: []byte(`{"device_id":"a","temperature":1}`)}, // 1's payload
		{Shard: "s0", Seq: "999", Data: []byte(`{}`)},
		{Shard: "sX", Seq: "1", Data: []byte(`{}`)},
	}}
	rep := accountOf(t, stream, wrong, nil)
	if rep.OK() || rep.ContentMismatches != 1 || rep.Phantoms != 2 || rep.Lost != 0 {
		t.Errorf("wrong lines: OK %v, %d content mismatches, %d phantom lines, %d lost; want failed, 1, 2, 0", rep.OK(), rep.ContentMismatches, rep.Phantoms, rep.Lost)
	}
	if want := []string{"processed/o1 s0:2"}; strings.Join(rep.ContentSample, ",") != strings.Join(want, ",") {
		t.Errorf("content sample = %q; want %q", rep.ContentSample, want)
	}
	if want := "processed/o1 s0:999,processed/o1 sX:1"; strings.Join(rep.PhantomSample, ",") != want {
		t.Errorf("phantom sample = %q; want %q", rep.PhantomSample, want)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestAccountChecksPlacement: a record the run made poison in a processed
// object, or a valid one in a quarantine object, fails the report; when the
// run does not know every record's kind (a part that could not save what it
// put), only the known poison records are checked.
func TestAccountChecksPlacement(t *testing.T) {
	rec := func(seq, data string) streamRecord { return streamRecord{shard: "s0", seq: seq, data: []byte(data)} }
	line := func(seq, data string) objectLine { return objectLine{Shard: "s0", Seq: seq, Data: []byte(data)} }
	const valid1, valid2, poison3 = `{"v":1}`, `{"v":2}`, `{"v":3,"timestamp":"yesterday"}`
	stream := []streamRecord{rec("1", valid1), rec("2", valid2), rec("3", poison3)}
	poison := map[string]bool{"s0:3": true}
	right := func() (map[string][]objectLine, map[string][]objectLine) {
		return map[string][]objectLine{"processed/o1": {line("1", valid1), line("2", valid2)}},
			map[string][]objectLine{"quarantine/q1": {line("3", poison3)}}
	}
	wrong := func() (map[string][]objectLine, map[string][]objectLine) {
		return map[string][]objectLine{"processed/o1": {line("1", valid1), line("3", poison3)}},
			map[string][]objectLine{"quarantine/q1": {line("2", valid2)}}
	}
	for _, tc := range []struct {
		name          string
		objects       func() (map[string][]objectLine, map[string][]objectLine)
		pl            placement
		wantMisplaced int
		wantUnchecked int
		wantSample    string
	}{
		{"right, exact", right, placement{poison: poison, complete: true}, 0, 0, ""},
		{"wrong, exact", wrong, placement{poison: poison, complete: true}, 2, 0, "s0:2 (valid) in quarantine,s0:3 (poison) in processed"},
		{"wrong, poison only", wrong, placement{poison: poison}, 1, 1, "s0:3 (poison) in processed"},
		{"right, poison only", right, placement{poison: map[string]bool{}}, 0, 1, ""},
		{"wrong, unknown", wrong, placement{}, 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			processed, quarantine := tc.objects()
			rep := accountWith(t, stream, processed, quarantine, tc.pl)
			if rep.Misplaced != tc.wantMisplaced || rep.PlacementUnchecked != tc.wantUnchecked || strings.Join(rep.MisplacedSample, ",") != tc.wantSample {
				t.Errorf("misplaced %d %q, %d unchecked; want %d %q, %d", rep.Misplaced, rep.MisplacedSample, rep.PlacementUnchecked, tc.wantMisplaced, tc.wantSample, tc.wantUnchecked)
			}
			if rep.OK() != (tc.wantMisplaced == 0) {
				t.Errorf("OK() = %v with %d misplaced (failures %q)", rep.OK(), rep.Misplaced, rep.Failures())
			}
		})
	}
}

// TestPoisonRecordsSurviveParts: the poison records an interrupted part put
// are saved with its counters and added up on resume.
func TestPoisonRecordsSurviveParts(t *testing.T) {
	dir := t.TempDir()
	first := partCounters{Parts: 1, Producer: ProducerReport{Sent: 10}, Poison: []string{"s0:3"}}
	if err := saveParts(dir, partCounters{}.add(first)); err != nil {
		t.Fatal(err)
	}
	earlier, err := loadParts(dir)
	if err != nil {
		t.Fatal(err)
	}
	both := earlier.add(partCounters{Parts: 1, Producer: ProducerReport{Sent: 5}, Poison: []string{"s1:9"}})
	if got := strings.Join(both.Poison, ","); got != "s0:3,s1:9" || both.Producer.Sent != 15 {
		t.Errorf("two parts: poison %q, %d sent; want \"s0:3,s1:9\", 15", got, both.Producer.Sent)
	}
}

// TestAccountKPLAggregates: the user records of a KPL aggregate in the stream
// are records of their own, each expected in its own line (shard, sequence
// number, sub_sequence_number) with its own payload.
func TestAccountKPLAggregates(t *testing.T) {
	agg := kpl.Aggregate([]kpl.Record{
		{PartitionKey: "a", Data: []byte(`{"device_id":"a","temperature":1}`)},
		{PartitionKey: "b", Data: []byte(`{"device_id":"b","temperature":2}`)},
	})
	stream := []streamRecord{
		{shard: "s0", seq: "1", data: []byte(`{"device_id":"a","temperature":0}`)},
		{shard: "s0", seq: "2", data: agg},
	}
	sub := func(i int) *int { return &i }
	line := func(seq string, s *int, data string) objectLine {
		return objectLine{Shard: "s0", Seq: seq, Sub: s, Data: []byte(data)}
	}
	good := map[string][]objectLine{"processed/o1": {
		line("1", nil, `{"device_id":"a","temperature":0}`),
		line("2", sub(0), `{"device_id":"a","temperature":1}`),
		line("2", sub(1), `{"device_id":"b","temperature":2}`),
	}}
	if rep := accountOf(t, stream, good, nil); !rep.OK() || rep.Sent != 3 || rep.Written != 3 || rep.ContentChecked != 3 {
		t.Errorf("deaggregated lines: failures %q, sent %d, written %d, checked %d; want OK, 3, 3, 3", rep.Failures(), rep.Sent, rep.Written, rep.ContentChecked)
	}
	// The aggregate stored whole (as a processor that does not take it apart
	// writes it): both user records are lost, and the line is no record's.
	whole := map[string][]objectLine{"processed/o1": {
		line("1", nil, `{"device_id":"a","temperature":0}`),
		line("2", nil, `{"data_base64":"`+base64.StdEncoding.EncodeToString(agg)+`"}`),
	}}
	rep := accountOf(t, stream, whole, nil)
	if rep.OK() || rep.Lost != 2 || rep.Phantoms != 1 {
		t.Errorf("aggregate stored whole: OK %v, lost %d (%q), phantoms %d; want failed, 2, 1", rep.OK(), rep.Lost, rep.LostSample, rep.Phantoms)
	}
	if want := "s0:2/0,s0:2/1"; strings.Join(rep.LostSample, ",") != want {
		t.Errorf("lost sample %q; want %s", rep.LostSample, want)
	}
	// One user record twice, the other in a line with the wrong payload.
	dup := map[string][]objectLine{"processed/o1": {
		line("1", nil, `{"device_id":"a","temperature":0}`),
		line("2", sub(0), `{"device_id":"a","temperature":1}`),
		line("2", sub(0), `{"device_id":"a","temperature":1}`),
		line("2", sub(1), `{"device_id":"a","temperature":1}`),
	}}
	rep = accountOf(t, stream, dup, nil)
	if rep.OK() || rep.Duplicates != 1 || rep.ContentMismatches != 1 {
		t.Errorf("duplicate and wrong user record: OK %v, duplicates %d, content mismatches %d; want failed, 1, 1", rep.OK(), rep.Duplicates, rep.ContentMismatches)
	}
}
