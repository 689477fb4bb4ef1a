package kpl

import (
	"crypto/md5"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
)

func TestParseRoundTrip(t *testing.T) {
	in := []Record{
		{PartitionKey: "sensor-0001", Data: []byte(`{"a":1}`)},
		{PartitionKey: "sensor-0002", Data: []byte("text")},
		{PartitionKey: "sensor-0001", Data: []byte{}},
		{PartitionKey: "", Data: []byte{0xff, 0x00}},
	}
	got, ok := Parse(nil, Aggregate(in))
	if !ok {
		t.Fatal("Parse(Aggregate(records)) is not an aggregate")
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("Parse(Aggregate(records)) (-want +got):\n%s", diff)
	}
	// Records are appended to dst.
	got, _ = Parse([]Record{{PartitionKey: "x"}}, Aggregate(in[:1]))
	if len(got) != 2 || got[0].PartitionKey != "x" || got[1].PartitionKey != "sensor-0001" {
		t.Errorf("Parse(dst, …) = %+v; want dst followed by the record", got)
	}
}

// withDigest frames msg as an aggregate with a correct digest.
func withDigest(msg []byte) []byte {
	sum := md5.Sum(msg)
	return append(append(append([]byte{}, Magic...), msg...), sum[:]...)
}

func TestParseRefusesWhatIsNotAnAggregate(t *testing.T) {
	good := Aggregate([]Record{{PartitionKey: "k", Data: []byte("d")}})
	badDigest := append([]byte{}, good...)
	badDigest[len(badDigest)-1] ^= 1
	record := func(fields ...[]byte) []byte {
		var m []byte
		m = protowire.AppendTag(m, 1, protowire.BytesType)
		m = protowire.AppendString(m, "k")
		var r []byte
		for _, f := range fields {
			r = append(r, f...)
		}
		m = protowire.AppendTag(m, 3, protowire.BytesType)
		return protowire.AppendBytes(m, r)
	}
	keyIndex := func(i uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), i)
	}
	data := protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), []byte("d"))
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"JSON", []byte(`{"device_id":"sensor-0001","temperature":21.5}`)},
		{"magic only", Magic},
		{"magic and a short digest", append(append([]byte{}, Magic...), make([]byte, md5.Size)...)},
		{"digest does not match", badDigest},
		{"no user record", withDigest(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "k"))},
		{"truncated message", withDigest([]byte{0x0a, 0x05, 'k'})},
		{"key index out of range", withDigest(record(keyIndex(1), data))},
		{"no key index", withDigest(record(data))},
		{"no data", withDigest(record(keyIndex(0)))},
		{"record not a message", withDigest(record([]byte{0xff}))},
		{"bad tag", withDigest([]byte{0xff})},
		{"field number 0 after a record", withDigest(append(record(keyIndex(0), data), 0x00))},
		{"truncated field after a record", withDigest(append(record(keyIndex(0), data), 0x12, 0x05, 'x'))},
		{"field number 0 in a record", withDigest(record(keyIndex(0), data, []byte{0x00}))},
		{"truncated field in a record", withDigest(record(keyIndex(0), data, []byte{0x22, 0x09, 't'}))},
		{"truncated key index", withDigest(record(data, []byte{0x08, 0xff}))},
		{"truncated data", withDigest(record(keyIndex(0), []byte{0x1a, 0x09, 'd'}))},
		{"partition key too long", Aggregate([]Record{{PartitionKey: strings.Repeat("\x01", MaxPartitionKeyBytes+1), Data: []byte("d")}})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []Record{{PartitionKey: "before"}}
			got, ok := Parse(dst, tc.data)
			if ok || len(got) != 1 {
				t.Errorf("Parse(%x) = %+v, %v; want dst unchanged and false", tc.data, got, ok)
			}
		})
	}
}

// TestParseKeepsLongPartitionKeys checks that keys longer than Kinesis allows
// (256 characters), which the kinesis-aggregation libraries write, are taken up
// to MaxPartitionKeyBytes.
func TestParseKeepsLongPartitionKeys(t *testing.T) {
	in := []Record{{PartitionKey: strings.Repeat("\U0001F600", 300), Data: []byte("d")}, {PartitionKey: strings.Repeat("k", MaxPartitionKeyBytes), Data: []byte("e")}}
	got, ok := Parse(nil, Aggregate(in))
	if !ok || !cmp.Equal(got, in) {
		t.Errorf("Parse(aggregate with long keys) = %d records, %v; want them, true", len(got), ok)
	}
}

// TestParseSkipsOtherFields checks that explicit hash keys and tags, which the
// pipeline does not use, are read past.
func TestParseSkipsOtherFields(t *testing.T) {
	var m []byte
	m = protowire.AppendString(protowire.AppendTag(m, 1, protowire.BytesType), "k")
	m = protowire.AppendString(protowire.AppendTag(m, 2, protowire.BytesType), "340282366920938463463374607431768211455")
	var r []byte
	r = protowire.AppendVarint(protowire.AppendTag(r, 1, protowire.VarintType), 0)
	r = protowire.AppendVarint(protowire.AppendTag(r, 2, protowire.VarintType), 0)
	r = protowire.AppendBytes(protowire.AppendTag(r, 3, protowire.BytesType), []byte("payload"))
	var tag []byte
	tag = protowire.AppendString(protowire.AppendTag(tag, 1, protowire.BytesType), "name")
	tag = protowire.AppendString(protowire.AppendTag(tag, 2, protowire.BytesType), "value")
	r = protowire.AppendBytes(protowire.AppendTag(r, 4, protowire.BytesType), tag)
	m = protowire.AppendBytes(protowire.AppendTag(m, 3, protowire.BytesType), r)
	got, ok := Parse(nil, withDigest(m))
	want := []Record{{PartitionKey: "k", Data: []byte("payload")}}
	if !ok || !cmp.Equal(got, want) {
		t.Errorf("Parse = %+v, %v; want %+v, true", got, ok, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Aggregate([]Record{{PartitionKey: "k", Data: []byte("d")}, {PartitionKey: "j", Data: nil}}))
	f.Add([]byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, ok := Parse(nil, data)
		if !ok {
			if len(recs) != 0 {
				t.Fatalf("Parse = %d records and false", len(recs))
			}
			return
		}
		if len(recs) == 0 {
			t.Fatal("Parse = no record and true")
		}
		// What Parse reads, Aggregate writes back as an aggregate of the same records.
		again, ok := Parse(nil, Aggregate(recs))
		if !ok || !cmp.Equal(recs, again, cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })) {
			t.Fatalf("Parse(Aggregate(%+v)) = %+v, %v", recs, again, ok)
		}
	})
}

// TestReaderReuse checks that a Reader opened again reads the new aggregate
// only, and nothing after data that is not one.
func TestReaderReuse(t *testing.T) {
	var r Reader
	read := func() []Record {
		var out []Record
		for rec, ok := r.Next(); ok; rec, ok = r.Next() {
			out = append(out, rec)
		}
		return out
	}
	first := []Record{{PartitionKey: "a", Data: []byte("1")}, {PartitionKey: "b", Data: []byte("2")}}
	second := []Record{{PartitionKey: "c", Data: []byte("3")}}
	if !r.Open(Aggregate(first)) {
		t.Fatal("Open(first aggregate) = false")
	}
	r.Next() // left half read
	if !r.Open(Aggregate(second)) || !cmp.Equal(read(), second) {
		t.Errorf("the second aggregate reads differently after the first")
	}
	if !r.Open(Aggregate(first)) || r.Open([]byte(`{"a":1}`)) {
		t.Fatal("Open(aggregate) = false or Open(JSON) = true")
	}
	if got := read(); len(got) != 0 {
		t.Errorf("Next after a refused Open = %+v; want nothing", got)
	}
	// Read to the end, a Reader holds neither the data nor the keys: the
	// processor's outlives the event.
	r.Open(Aggregate(first))
	read()
	if r.rest != nil || slices.ContainsFunc(r.keys[:cap(r.keys)], func(k string) bool { return k != "" }) {
		t.Errorf("a Reader read to the end holds %d bytes of data and keys %q", len(r.rest), r.keys[:cap(r.keys)])
	}
}

// withHashKeys is an aggregate of two user records with partition keys k0 and
// k1 whose explicit hash key indexes are ehk0 and ehk1 (none when negative) into
// table.
func withHashKeys(table []string, ehk0, ehk1 int) []byte {
	var msg []byte
	for _, k := range []string{"k0", "k1"} {
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendString(msg, k)
	}
	for _, k := range table {
		msg = protowire.AppendTag(msg, 2, protowire.BytesType)
		msg = protowire.AppendString(msg, k)
	}
	for i, ehk := range []int{ehk0, ehk1} {
		var rec []byte
		rec = protowire.AppendTag(rec, 1, protowire.VarintType)
		rec = protowire.AppendVarint(rec, uint64(i))
		if ehk >= 0 {
			rec = protowire.AppendTag(rec, 2, protowire.VarintType)
			rec = protowire.AppendVarint(rec, uint64(ehk))
		}
		rec = protowire.AppendTag(rec, 3, protowire.BytesType)
		rec = protowire.AppendBytes(rec, []byte("data"))
		msg = protowire.AppendTag(msg, 3, protowire.BytesType)
		msg = protowire.AppendBytes(msg, rec)
	}
	return withDigest(msg)
}

func TestHashKeyIsTheFirstUserRecords(t *testing.T) {
	top := "340282366920938463463374607431768211455" // 2^128-1
	for _, tc := range []struct {
		name string
		data []byte
		want string
		ok   bool
	}{
		// The KPL's aggregates have the partition key "a": the hash key is the
		// first user record's, that of its partition key when it has no explicit
		// one.
		{"partition key", Aggregate([]Record{{PartitionKey: "sensor-0002", Data: []byte("x")}, {PartitionKey: "a", Data: []byte("y")}}),
			"269721240976696183603568197086026895243", true},
		{"explicit hash key", withHashKeys([]string{"5", top}, 1, 0), top, true},
		{"second record's only", withHashKeys([]string{"5"}, -1, 0), "54280909868488310885655169584342319285", true},
		{"index out of range", withHashKeys([]string{"5"}, 1, 0), "", false},
		{"not a number", withHashKeys([]string{"0x10"}, 0, 0), "", false},
		{"above 2^128-1", withHashKeys([]string{"340282366920938463463374607431768211456"}, 0, 0), "", false},
		{"not an aggregate", []byte("plain data"), "", false},
		// Kinesis refuses an ExplicitHashKey with leading zeros (pattern
		// 0|([1-9]\d{0,38})); the KPL writes the number without them.
		{"leading zeros", withHashKeys([]string{"007"}, 0, 0), "7", true},
		{"zeros", withHashKeys([]string{"000"}, 0, 0), "0", true},
	} {
		got, ok := HashKey(tc.data)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: HashKey = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
