package summary

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// FromObjects recomputes, from scratch, the summaries that the table must hold
// once the given objects (the latest versions of every processed object) are
// aggregated: the sum of their contributions. It is the reference a local
// pipeline report or a test compares the table with (see Compare). Stats adds up
// the objects' line statistics.
func FromObjects(cfg Config, objects []Object) (map[Key]*Summary, Stats, error) {
	if err := cfg.Validate(); err != nil {
		return nil, Stats{}, err
	}
	cfg = cfg.withDefaults()
	out := map[Key]*Summary{}
	var stats Stats
	for _, o := range objects {
		c, err := cfg.ParseObject(o.Key, o.Body)
		if err != nil {
			return nil, Stats{}, err
		}
		stats.Add(c.Stats)
		for k, s := range c.Summaries {
			cur, ok := out[k]
			if !ok {
				cur = &Summary{}
				out[k] = cur
			}
			cur.Merge(s)
		}
	}
	return out, stats, nil
}

// Difference is one disagreement found by Compare.
type Difference struct {
	Key Key
	// What names the attribute: "item" (missing or unexpected), "count", "first",
	// "last", or "<field>.n", "<field>.sum", "<field>.min", "<field>.max".
	What string
	// Want and Got are the values compared ("" for absent).
	Want, Got string
}

// String describes the difference on one line.
func (d Difference) String() string {
	return fmt.Sprintf("%s %s: got %q, want %q", d.Key, d.What, d.Got, d.Want)
}

// Compare lists how got (e.g. read from the table) differs from want (e.g. from
// FromObjects), in key order. An item in got with a zero count and no field
// values counts as absent: it is what remains of summaries whose records all left
// their objects. Extremes are compared exactly; see the package documentation for
// when a stored extreme can legitimately be wider than the recomputed one.
func Compare(want, got map[Key]*Summary) []Difference {
	keys := map[Key]struct{}{}
	for k := range want {
		keys[k] = struct{}{}
	}
	for k, s := range got {
		if !s.isEmpty() {
			keys[k] = struct{}{}
		}
	}
	var out []Difference
	for _, k := range slices.SortedFunc(maps.Keys(keys), compareKeys) {
		w, g := want[k], got[k]
		switch {
		case w == nil:
			out = append(out, Difference{Key: k, What: "item", Got: "present"})
			continue
		case g == nil:
			out = append(out, Difference{Key: k, What: "item", Want: "present"})
			continue
		}
		add := func(what, want, got string) {
			if want != got {
				out = append(out, Difference{Key: k, What: what, Want: want, Got: got})
			}
		}
		add("count", strconv.FormatInt(w.Count, 10), strconv.FormatInt(g.Count, 10))
		// A first or last time of Go's zero time and a missing one both read
		// as the zero time (dynamostore's tests check the attribute itself).
		add("first", formatTime(w.First), formatTime(g.First))
		add("last", formatTime(w.Last), formatTime(g.Last))
		names := map[string]struct{}{}
		for n, f := range w.Fields {
			if f.N != 0 {
				names[n] = struct{}{}
			}
		}
		for n, f := range g.Fields {
			if f.N != 0 || !f.Sum.IsZero() {
				names[n] = struct{}{}
			}
		}
		for _, n := range slices.Sorted(maps.Keys(names)) {
			wf, gf := w.Fields[n], g.Fields[n]
			add(n+".n", strconv.FormatInt(wf.N, 10), strconv.FormatInt(gf.N, 10))
			add(n+".sum", wf.Sum.String(), gf.Sum.String())
			if wf.N > 0 {
				add(n+".min", wf.Min.String(), gf.Min.String())
				add(n+".max", wf.Max.String(), gf.Max.String())
			}
		}
	}
	return out
}

// isEmpty reports whether s has no records and no field values.
func (s *Summary) isEmpty() bool {
	if s.Count != 0 {
		return false
	}
	for _, f := range s.Fields {
		if f.N != 0 || !f.Sum.IsZero() {
			return false
		}
	}
	return true
}
