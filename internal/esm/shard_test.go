package esm

import "testing"

// TestAtEnd: a closed shard is read to its end when an empty, caught-up
// GetRecords comes back and the last record read is at or past the shard's
// EndingSequenceNumber (or nothing was read). Emulators that keep returning a
// NextShardIterator for a closed shard (moto sets EndingSequenceNumber to the
// shard's last record) rely on this; AWS ends the shard with a null iterator
// [S8].
func TestAtEnd(t *testing.T) {
	for _, tc := range []struct {
		name      string
		end, last string
		n         int
		behind    int64
		want      bool
	}{
		{"open shard", "", "5", 0, 0, false},
		{"records returned", "5", "5", 1, 0, false},
		{"behind", "5", "5", 0, 1000, false},
		{"nothing read", "5", "", 0, 0, true},
		{"before the end", "5", "4", 0, 0, false},
		{"at the end", "5", "5", 0, 0, true},
		{"past the end", "5", "6", 0, 0, true},
		{"numerically past the end", "9", "10", 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh := &shard{tr: newTracker("")}
			sh.endSeq.Store(tc.end)
			if tc.last != "" {
				sh.tr.add([]*record{{seq: tc.last}})
			}
			if got := sh.atEnd(tc.n, tc.behind); got != tc.want {
				t.Errorf("atEnd(%d, %d) with EndingSequenceNumber %q and last read %q = %v; want %v", tc.n, tc.behind, tc.end, tc.last, got, tc.want)
			}
		})
	}
}
