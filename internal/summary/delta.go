package summary

import (
	"maps"
	"slices"
	"time"
)

// MaxTransactionActions is DynamoDB's limit of actions in one TransactWriteItems
// call. A chunk of changes leaves room for the one action on the contribution item
// that guards it.
const MaxTransactionActions = 100

// ChunkSize is the number of summary changes per transaction.
const ChunkSize = MaxTransactionActions - 1

// Change is the update one summary item needs when an object's applied
// contribution is replaced by a new one: additive deltas for the count and for
// each field's N and Sum, and idempotent lower/raise operations for the extremes.
// The zero value changes nothing.
type Change struct {
	Key Key
	// Count is added to the item's record count (it is negative when records left
	// the object).
	Count int64
	// Fields holds the per-field changes; fields without any change are absent.
	Fields map[string]FieldChange
	// First lowers the item's first event time when HasFirst, and Last raises its
	// last event time when HasLast. (Flags rather than the zero time: Go's zero
	// time, 0001-01-01T00:00:00Z, is an event time a record may carry.)
	First, Last       time.Time
	HasFirst, HasLast bool
}

// FieldChange is the change of one numeric field of a summary item.
type FieldChange struct {
	// N and Sum are added.
	N   int64
	Sum Decimal
	// Min lowers the item's minimum when HasMin; Max raises its maximum when HasMax.
	Min, Max       Decimal
	HasMin, HasMax bool
}

// IsZero reports whether c changes nothing.
func (c *Change) IsZero() bool {
	return c.Count == 0 && len(c.Fields) == 0 && !c.HasFirst && !c.HasLast
}

// Diff returns the changes that turn summaries holding old (the contribution
// applied so far for an object; nil for none) into summaries holding new instead,
// sorted by key. Counts and sums change by new − old. Extremes only ever widen:
// new's minimum, maximum, first and last time are applied where they go beyond
// old's (old's are already in the table, and an extreme that leaves with removed
// records cannot be retracted; see the package documentation). Keys with nothing
// to change are left out, so rewriting an object with the same records changes
// nothing. The result depends on old and new only: every aggregator computes the
// same changes, which is what lets them share the work of one transition.
func Diff(old, new *Contribution) []Change {
	keys := map[Key]struct{}{}
	for k := range old.summaries() {
		keys[k] = struct{}{}
	}
	for k := range new.summaries() {
		keys[k] = struct{}{}
	}
	sorted := slices.SortedFunc(maps.Keys(keys), compareKeys)
	out := make([]Change, 0, len(sorted))
	for _, k := range sorted {
		ch := diffSummary(k, old.Summary(k), new.Summary(k))
		if !ch.IsZero() {
			out = append(out, ch)
		}
	}
	return out
}

func (c *Contribution) summaries() map[Key]*Summary {
	if c == nil {
		return nil
	}
	return c.Summaries
}

func diffSummary(k Key, o, n *Summary) Change {
	if o == nil {
		o = &Summary{}
	}
	if n == nil {
		n = &Summary{}
	}
	ch := Change{Key: k, Count: n.Count - o.Count}
	if n.Count > 0 {
		if o.Count == 0 || n.First.Before(o.First) {
			ch.First, ch.HasFirst = n.First, true
		}
		if o.Count == 0 || n.Last.After(o.Last) {
			ch.Last, ch.HasLast = n.Last, true
		}
	}
	names := map[string]struct{}{}
	for name := range o.Fields {
		names[name] = struct{}{}
	}
	for name := range n.Fields {
		names[name] = struct{}{}
	}
	for name := range names {
		of, nf := o.Fields[name], n.Fields[name]
		fc := FieldChange{N: nf.N - of.N, Sum: nf.Sum.Sub(of.Sum)}
		if nf.N > 0 {
			if of.N == 0 || nf.Min.Cmp(of.Min) < 0 {
				fc.Min, fc.HasMin = nf.Min, true
			}
			if of.N == 0 || nf.Max.Cmp(of.Max) > 0 {
				fc.Max, fc.HasMax = nf.Max, true
			}
		}
		if fc.N != 0 || !fc.Sum.IsZero() || fc.HasMin || fc.HasMax {
			if ch.Fields == nil {
				ch.Fields = map[string]FieldChange{}
			}
			ch.Fields[name] = fc
		}
	}
	return ch
}

// Chunks splits changes (in Diff's order) into consecutive chunks of at most size
// changes. Chunk i is the same for everyone who computes it from the same
// contributions.
func Chunks(changes []Change, size int) [][]Change {
	if size < 1 {
		size = ChunkSize
	}
	return slices.Collect(slices.Chunk(changes, size))
}
