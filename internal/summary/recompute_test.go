package summary

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromObjectsAndCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	recs := randomRecords(r, 300, 8, 3)
	objs := []Object{
		{Key: "processed/a.ndjson.gz", Body: gzipped(ndBody(recs[:100]))},
		{Key: "processed/b.ndjson", Body: ndBody(recs[100:])},
	}
	got, stats, err := FromObjects(Config{}, objs)
	if err != nil {
		t.Fatal(err)
	}
	want := parse(t, recs).Summaries
	if diffs := Compare(want, got); len(diffs) != 0 {
		t.Errorf("FromObjects(two halves) differs from the whole: %v", diffs)
	}
	if stats.Records != 300 || stats.Lines != 300 {
		t.Errorf("stats = %+v; want 300 lines and records", stats)
	}

	// Compare names what differs.
	k := parse(t, recs[:1]).Keys()[0]
	changed := map[Key]*Summary{}
	for key, s := range want {
		changed[key] = s.Clone()
	}
	s := changed[k]
	s.Count++
	f := s.Fields["temperature"]
	f.Sum = f.Sum.Add(mustDecimal(t, "0.01"))
	s.Fields["temperature"] = f
	extra := FleetKey(s.First.AddDate(1, 0, 0))
	changed[extra] = &Summary{Count: 1}
	changed[FleetKey(s.First.AddDate(2, 0, 0))] = &Summary{} // empty: ignored
	var whats []string
	for _, d := range Compare(want, changed) {
		whats = append(whats, d.Key.String()+" "+d.What)
		if !strings.Contains(d.String(), d.What) {
			t.Errorf("Difference.String() = %q; want it to name %q", d, d.What)
		}
	}
	wantWhats := []string{k.String() + " count", k.String() + " temperature.sum", extra.String() + " item"}
	if diff := cmp.Diff(wantWhats, whats); diff != "" {
		t.Errorf("Compare (-want +got):\n%s", diff)
	}
	delete(changed, k)
	if d := Compare(want, changed); len(d) == 0 || d[0].What != "item" || d[0].Want != "present" {
		t.Errorf("Compare with a missing item = %v; want it reported first", d)
	}

	if _, _, err := FromObjects(Config{}, []Object{{Key: "processed/x.ndjson.gz", Body: []byte("plain")}}); err == nil {
		t.Errorf("FromObjects(corrupt object) succeeded; want an error")
	}
}

func TestKeys(t *testing.T) {
	k := DeviceKey("sensor-1", mustTime(t, "2026-11-21T13:59:59.999Z"))
	if k.PK != "DEVICE#sensor-1" || k.SK != "HOUR#2026-11-21T13" {
		t.Errorf("DeviceKey = %v; want DEVICE#sensor-1/HOUR#2026-11-21T13", k)
	}
	if id, ok := k.Device(); !ok || id != "sensor-1" {
		t.Errorf("Device() = %q, %v; want sensor-1", id, ok)
	}
	if _, ok := FleetKey(mustTime(t, "2026-11-21T13:00:00Z")).Device(); ok {
		t.Errorf("FleetKey.Device() ok; want false")
	}
	if h, err := k.Hour(); err != nil || !h.Equal(mustTime(t, "2026-11-21T13:00:00Z")) {
		t.Errorf("Hour() = %v, %v; want 13:00", h, err)
	}
	if _, err := (Key{PK: "FLEET", SK: "DAY#x"}).Hour(); err == nil {
		t.Errorf("Hour() of a bad sort key succeeded")
	}
}
