package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/renameio/v2"
)

// checkpointVersion is the format version of checkpoint files.
const checkpointVersion = 1

// Checkpoints is the content of a checkpoint file (Config.CheckpointFile): where
// each shard of one mapping resumes. Tools may read it with ReadCheckpoints.
type Checkpoints struct {
	Version     int                        `json:"version"`
	StreamARN   string                     `json:"streamArn"`
	FunctionARN string                     `json:"functionArn"`
	Shards      map[string]ShardCheckpoint `json:"shards"`
}

// ShardCheckpoint is the resume point of one shard.
type ShardCheckpoint struct {
	// SequenceNumber is the last record of the shard that is done (succeeded,
	// filtered out or discarded) together with every record before it; reading
	// resumes AFTER_SEQUENCE_NUMBER. "" if no record is done yet.
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	// StartingPosition is where the shard was first read from, used while
	// SequenceNumber is "": TRIM_HORIZON or AT_TIMESTAMP. The mapping's
	// StartingPosition applies only to a shard's first read [S1]; a LATEST start
	// is stored as AT_TIMESTAMP of the moment it started, so that a restart does
	// not skip records written while the mapping was down.
	StartingPosition string `json:"startingPosition,omitempty"`
	// StartingPositionTimestamp goes with StartingPosition AT_TIMESTAMP.
	StartingPositionTimestamp time.Time `json:"startingPositionTimestamp,omitzero"`
	// Done lists records after SequenceNumber that are done as well: records
	// of another lane (ParallelizationFactor > 1) or of a batch that finished
	// before an earlier one. A restart does not deliver them again, so that a
	// lane resumes with the batch it was processing, not with records another
	// lane already stored.
	Done []string `json:"done,omitempty"`
	// Finished reports that the shard was closed by resharding, read to its end
	// and every record of it is done (Lambda's SHARD_END): it is not read
	// again, and its children may be read.
	Finished bool `json:"finished,omitempty"`
}

// ReadCheckpoints reads a checkpoint file. A missing file is an error wrapping
// fs.ErrNotExist.
func ReadCheckpoints(path string) (Checkpoints, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Checkpoints{}, fmt.Errorf("read checkpoint file: %w", err)
	}
	var cp Checkpoints
	if err := json.Unmarshal(b, &cp); err != nil {
		return Checkpoints{}, fmt.Errorf("decode checkpoint file %s: %w", path, err)
	}
	if cp.Version != checkpointVersion {
		return Checkpoints{}, fmt.Errorf("checkpoint file %s has version %d; want %d", path, cp.Version, checkpointVersion)
	}
	for id, sc := range cp.Shards {
		if sc.SequenceNumber != "" && !storedSeq(sc.SequenceNumber) {
			return Checkpoints{}, fmt.Errorf("checkpoint file %s: shard %s: %q is not a sequence number (0 or up to 129 digits without leading zeros)", path, id, sc.SequenceNumber)
		}
		for _, seq := range sc.Done {
			if !storedSeq(seq) {
				return Checkpoints{}, fmt.Errorf("checkpoint file %s: shard %s: done %q is not a sequence number (0 or up to 129 digits without leading zeros)", path, id, seq)
			}
		}
		switch sc.StartingPosition {
		case "", StartingPositionTrimHorizon:
		case StartingPositionAtTimestamp:
			if sc.StartingPositionTimestamp.IsZero() {
				return Checkpoints{}, fmt.Errorf("checkpoint file %s: shard %s: AT_TIMESTAMP without startingPositionTimestamp", path, id)
			}
		default:
			return Checkpoints{}, fmt.Errorf("checkpoint file %s: shard %s: starting position %q is not TRIM_HORIZON or AT_TIMESTAMP", path, id, sc.StartingPosition)
		}
	}
	return cp, nil
}

// storedSeq reports whether s is a sequence number as Kinesis writes it, and so
// as a checkpoint file holds it: 0|([1-9]\d{0,128}) (the SequenceNumber shape of
// the Kinesis API). Records are matched with the file's done list by their text,
// so a number edited into another form ("011" for "11") would not be skipped.
func storedSeq(s string) bool {
	return validSeq(s) && len(s) <= 129 && (s == "0" || s[0] != '0')
}

// checkpointStore holds the checkpoints of a mapping and persists them to a file
// (when it has a path) with an atomic write: temp file, fsync, rename. Writes are
// coalesced by a writer goroutine (run), so a fast stream does not wait on the
// disk; a crash may lose the latest advances, which only causes redelivery.
// Safe for concurrent use.
type checkpointStore struct {
	path string

	mu      sync.Mutex
	cp      Checkpoints
	changes uint64 // incremented on every change
	dirty   chan struct{}
	// doneAbove returns, per shard being read, the records done after its
	// checkpoint (tracker.doneAbove); flush stores them as ShardCheckpoint.Done.
	doneAbove map[string]func() []string

	writeMu sync.Mutex // serialises file writes
	written uint64     // changes value of the last successful write
}

// openCheckpointStore loads path (if it exists) and checks that it belongs to
// this mapping. path "" keeps checkpoints in memory only.
func openCheckpointStore(path, streamARN, functionARN string) (*checkpointStore, error) {
	s := &checkpointStore{
		path:      path,
		cp:        Checkpoints{Version: checkpointVersion, StreamARN: streamARN, FunctionARN: functionARN, Shards: map[string]ShardCheckpoint{}},
		dirty:     make(chan struct{}, 1),
		doneAbove: map[string]func() []string{},
	}
	if path == "" {
		return s, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create checkpoint directory: %w", err)
	}
	cp, err := ReadCheckpoints(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, err
	case cp.StreamARN != streamARN || cp.FunctionARN != functionARN:
		return nil, fmt.Errorf("checkpoint file %s belongs to stream %s and function %s, not to stream %s and function %s: use another CheckpointFile or remove it",
			path, cp.StreamARN, cp.FunctionARN, streamARN, functionARN)
	}
	if cp.Shards == nil {
		cp.Shards = map[string]ShardCheckpoint{}
	}
	s.cp = cp
	return s, nil
}

// empty reports whether no shard has a checkpoint or starting position yet.
func (s *checkpointStore) empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cp.Shards) == 0
}

// shard returns the stored checkpoint of a shard.
func (s *checkpointStore) shard(id string) ShardCheckpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cp.Shards[id]
}

// advance moves a shard's checkpoint forward to seq; it never moves backwards,
// so callers need not order their calls.
func (s *checkpointStore) advance(id, seq string) {
	s.mu.Lock()
	cur := s.cp.Shards[id]
	if cur.SequenceNumber != "" && compareSeq(seq, cur.SequenceNumber) <= 0 {
		s.mu.Unlock()
		return
	}
	cur.SequenceNumber = seq
	cur.StartingPosition, cur.StartingPositionTimestamp = "", time.Time{}
	s.cp.Shards[id] = cur
	s.changes++
	s.mu.Unlock()
	s.markDirty()
}

// finish marks a shard finished (see ShardCheckpoint.Finished) and writes the
// checkpoints at once: a child must never be read before its parent's end is
// persisted, or a crash could make a restart read the parent again after the
// child.
func (s *checkpointStore) finish(id string) error {
	s.mu.Lock()
	cur := s.cp.Shards[id]
	cur.Finished = true
	s.cp.Shards[id] = cur
	s.changes++
	s.mu.Unlock()
	return s.flush()
}

// setStart records where a shard seen for the first time starts; it does
// nothing if the shard already has a checkpoint or a starting position.
func (s *checkpointStore) setStart(id, position string, ts time.Time) {
	s.mu.Lock()
	if _, ok := s.cp.Shards[id]; ok {
		s.mu.Unlock()
		return
	}
	sc := ShardCheckpoint{StartingPosition: position}
	if position == StartingPositionAtTimestamp {
		sc.StartingPositionTimestamp = ts.UTC()
	}
	s.cp.Shards[id] = sc
	s.changes++
	s.mu.Unlock()
	s.markDirty()
}

// track registers the tracker of a shard being read, whose records done after
// the checkpoint are persisted with it.
func (s *checkpointStore) track(id string, t *tracker) {
	s.mu.Lock()
	s.doneAbove[id] = t.doneAbove
	s.mu.Unlock()
}

// changed records that records of a shard were done without moving its
// checkpoint, so that the next write persists them.
func (s *checkpointStore) changed() {
	s.mu.Lock()
	s.changes++
	s.mu.Unlock()
	s.markDirty()
}

func (s *checkpointStore) markDirty() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// run writes changes until ctx is done. Write errors are reported to onErr and
// retried with the next change; flush reports the final state.
func (s *checkpointStore) run(ctx context.Context, onErr func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.dirty:
			if err := s.flush(); err != nil {
				onErr(err)
			}
		}
	}
}

// flush writes the current checkpoints if they changed since the last write.
func (s *checkpointStore) flush() error {
	if s.path == "" {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	changes := s.changes
	if changes == s.written {
		s.mu.Unlock()
		return nil
	}
	for id, sc := range s.cp.Shards {
		switch f := s.doneAbove[id]; {
		case sc.Finished:
			sc.Done = nil
		case f != nil:
			// Done past the tracker's checkpoint, so past this one too (the
			// store's checkpoint never runs ahead of the tracker's).
			sc.Done = f()
		default:
			continue
		}
		s.cp.Shards[id] = sc
	}
	b, err := json.MarshalIndent(s.cp, "", "  ")
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode checkpoints: %w", err)
	}
	if err := writeFileAtomic(s.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write checkpoint file %s: %w", s.path, err)
	}
	s.written = changes
	return nil
}

// tracker follows the records of one shard from the moment they are read until
// they are done (succeeded, filtered out or discarded), possibly out of order
// when lanes (ParallelizationFactor > 1) or bisected halves finish at different
// times. The shard checkpoint is the last record before the lowest record not yet
// done, so a restart never skips an unfinished record. Safe for concurrent use.
type tracker struct {
	mu         sync.Mutex
	base       uint64 // idx of entries[0]
	entries    []bool // done flags of the records from base on
	seqs       []string
	checkpoint string
	lastRead   string
	// skip holds records after the checkpoint that an earlier run finished
	// (ShardCheckpoint.Done) and that are not read again yet: they are done as
	// soon as they are read, and listed as done until then.
	skip  map[string]bool
	space chan struct{} // signalled when records are done
}

func newTracker(checkpoint string) *tracker {
	return &tracker{checkpoint: checkpoint, lastRead: checkpoint, space: make(chan struct{}, 1)}
}

// skipAlso adds records an earlier run finished (see tracker.skip).
func (t *tracker) skipAlso(seqs []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, seq := range seqs {
		if t.skip == nil {
			t.skip = map[string]bool{}
		}
		t.skip[seq] = true
	}
}

// skipped reports whether seq, being read, was finished by an earlier run; it
// is then no longer listed in skip (the caller adds it and marks it done).
func (t *tracker) skipped(seq string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.skip[seq] {
		return false
	}
	delete(t.skip, seq)
	return true
}

// add registers freshly read records, in sequence order, and numbers them.
func (t *tracker) add(recs []*record) {
	if len(recs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range recs {
		r.idx = t.base + uint64(len(t.entries))
		t.entries = append(t.entries, false)
		t.seqs = append(t.seqs, r.seq)
	}
	t.lastRead = recs[len(recs)-1].seq
}

// done marks records done and returns the new checkpoint if it advanced.
func (t *tracker) done(recs []*record) (checkpoint string, advanced bool) {
	if len(recs) == 0 {
		return "", false
	}
	t.mu.Lock()
	for _, r := range recs {
		t.entries[r.idx-t.base] = true
	}
	n := 0
	for n < len(t.entries) && t.entries[n] {
		n++
	}
	if n > 0 {
		t.checkpoint = t.seqs[n-1]
		t.entries = t.entries[n:]
		t.seqs = t.seqs[n:]
		t.base += uint64(n)
		checkpoint, advanced = t.checkpoint, true
	}
	t.mu.Unlock()
	select {
	case t.space <- struct{}{}:
	default:
	}
	return checkpoint, advanced
}

// doneAbove returns the records after the checkpoint that are done, in order:
// those read and done, then those an earlier run finished that are not read
// again yet (a skipped record at or before the last read is not in the shard
// any more, and is dropped).
func (t *tracker) doneAbove() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var seqs []string
	for i, done := range t.entries {
		if done {
			seqs = append(seqs, t.seqs[i])
		}
	}
	var unread []string
	for seq := range t.skip {
		if t.lastRead == "" || compareSeq(seq, t.lastRead) > 0 {
			unread = append(unread, seq)
		}
	}
	slices.SortFunc(unread, compareSeq)
	return append(seqs, unread...)
}

// pending is the number of records after the checkpoint (read, some possibly
// done out of order); it bounds the reader's buffer.
func (t *tracker) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// state returns the checkpoint and the last sequence number read.
func (t *tracker) state() (checkpoint, lastRead string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checkpoint, t.lastRead
}

// writeFileAtomic replaces path with data so that readers (and a restart after a
// crash) see either the old or the new content, never a torn file: renameio
// writes a temporary file in path's directory, fsyncs it and renames it over
// path. perm applies to a new file; an existing file keeps its permissions.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	return renameio.WriteFile(path, data, perm, renameio.WithTempDir(filepath.Dir(path)))
}
