package esm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTrackerCheckpointIsLowestUnfinished(t *testing.T) {
	tr := newTracker("")
	recs := testRecords("1", "2", "3", "4", "5", "6")
	tr.add(recs)
	steps := []struct {
		done     []int
		wantCP   string
		advanced bool
		pending  int
	}{
		{done: []int{1, 3}, wantCP: "", pending: 6},               // lanes finished 2 and 4, 1 is unfinished
		{done: []int{0}, wantCP: "2", advanced: true, pending: 4}, // 1 done: 1,2 are done, 3 is not
		{done: []int{5}, wantCP: "2", pending: 4},
		{done: []int{2}, wantCP: "4", advanced: true, pending: 2},
		{done: []int{4}, wantCP: "6", advanced: true, pending: 0},
	}
	for i, st := range steps {
		var batch []*record
		for _, j := range st.done {
			batch = append(batch, recs[j])
		}
		cp, advanced := tr.done(batch)
		if advanced != st.advanced || (advanced && cp != st.wantCP) {
			t.Errorf("step %d: done(%v) = %q, %v; want %q, %v", i, st.done, cp, advanced, st.wantCP, st.advanced)
		}
		if got, _ := tr.state(); got != st.wantCP {
			t.Errorf("step %d: checkpoint = %q; want %q", i, got, st.wantCP)
		}
		if got := tr.pending(); got != st.pending {
			t.Errorf("step %d: pending() = %d; want %d", i, got, st.pending)
		}
	}
	more := testRecords("7", "8")
	tr.add(more)
	if cp, ok := tr.done(more); !ok || cp != "8" {
		t.Errorf("done(7, 8) = %q, %v; want 8, true", cp, ok)
	}
}

func TestCheckpointStorePersistsAtomically(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "cp.json") // the directory is created
	s, err := openCheckpointStore(path, "arn:aws:kinesis:us-east-1:1:stream/s", testFunctionARN)
	if err != nil {
		t.Fatalf("openCheckpointStore(new file) = %v", err)
	}
	latest := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	s.advance("shardId-1", "10")
	s.advance("shardId-1", "9") // never backwards
	s.setStart("shardId-2", StartingPositionAtTimestamp, latest)
	s.setStart("shardId-3", StartingPositionTrimHorizon, latest)
	s.setStart("shardId-1", StartingPositionTrimHorizon, latest) // ignored: shard 1 has a checkpoint
	s.setStart("shardId-3", StartingPositionAtTimestamp, latest) // ignored: shard 3 has a start
	if err := s.flush(); err != nil {
		t.Fatalf("flush() = %v", err)
	}
	got, err := ReadCheckpoints(path)
	if err != nil {
		t.Fatalf("ReadCheckpoints = %v", err)
	}
	want := Checkpoints{Version: 1, StreamARN: "arn:aws:kinesis:us-east-1:1:stream/s", FunctionARN: testFunctionARN,
		Shards: map[string]ShardCheckpoint{
			"shardId-1": {SequenceNumber: "10"},
			"shardId-2": {StartingPosition: StartingPositionAtTimestamp, StartingPositionTimestamp: latest},
			"shardId-3": {StartingPosition: StartingPositionTrimHorizon},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checkpoint file (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files; want only the checkpoint file (no temp files left)", len(entries))
	}

	// A reopened store resumes from the file.
	s2, err := openCheckpointStore(path, want.StreamARN, testFunctionARN)
	if err != nil {
		t.Fatalf("reopen = %v", err)
	}
	if got := s2.shard("shardId-1").SequenceNumber; got != "10" {
		t.Errorf("reopened shard checkpoint = %q; want 10", got)
	}
	if _, err := openCheckpointStore(path, "arn:aws:kinesis:us-east-1:1:stream/other", testFunctionARN); err == nil ||
		!strings.Contains(err.Error(), "belongs to stream") {
		t.Errorf("open for another stream = %v; want a 'belongs to stream' error", err)
	}
}

func TestReadCheckpointsRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, wantErr string }{
		{"not json", "{", "decode checkpoint file"},
		{"wrong version", `{"version":2}`, "has version 2"},
		{"bad sequence", `{"version":1,"shards":{"s":{"sequenceNumber":"x1"}}}`, `"x1" is not a sequence number`},
		{"leading zero", `{"version":1,"shards":{"s":{"sequenceNumber":"010"}}}`, `"010" is not a sequence number`},
		{"done with a leading zero", `{"version":1,"shards":{"s":{"sequenceNumber":"10","done":["12","011"]}}}`, `done "011" is not a sequence number`},
		{"too long", `{"version":1,"shards":{"s":{"sequenceNumber":"1` + strings.Repeat("0", 129) + `"}}}`, `is not a sequence number`},
		{"bad position", `{"version":1,"shards":{"s":{"startingPosition":"LATEST"}}}`, `starting position "LATEST"`},
		{"timestamp missing", `{"version":1,"shards":{"s":{"startingPosition":"AT_TIMESTAMP"}}}`, `AT_TIMESTAMP without`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadCheckpoints(path); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ReadCheckpoints(%s) = %v; want an error containing %q", tc.content, err, tc.wantErr)
			}
		})
	}
}

// TestStartPosition: StartingPosition applies to a shard's first read only; a
// checkpoint or a stored start wins, and a shard new to a resumed mapping (a
// child after resharding) starts at TRIM_HORIZON [S1].
func TestStartPosition(t *testing.T) {
	stamp := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name     string
		position string
		stored   *ShardCheckpoint
		resumed  bool
		want     string // type and sequence number or time
		wantSave ShardCheckpoint
	}{
		{"trim horizon", StartingPositionTrimHorizon, nil, false, "TRIM_HORIZON",
			ShardCheckpoint{StartingPosition: StartingPositionTrimHorizon}},
		{"latest", StartingPositionLatest, nil, false, "LATEST", ShardCheckpoint{StartingPosition: StartingPositionAtTimestamp}},
		{"at timestamp", StartingPositionAtTimestamp, nil, false, "AT_TIMESTAMP " + stamp.String(),
			ShardCheckpoint{StartingPosition: StartingPositionAtTimestamp, StartingPositionTimestamp: stamp}},
		{"checkpoint wins", StartingPositionLatest, &ShardCheckpoint{SequenceNumber: "42"}, true, "AFTER_SEQUENCE_NUMBER 42",
			ShardCheckpoint{SequenceNumber: "42"}},
		{"stored trim horizon wins", StartingPositionLatest, &ShardCheckpoint{StartingPosition: StartingPositionTrimHorizon}, true, "TRIM_HORIZON",
			ShardCheckpoint{StartingPosition: StartingPositionTrimHorizon}},
		{"stored latest time wins", StartingPositionTrimHorizon,
			&ShardCheckpoint{StartingPosition: StartingPositionAtTimestamp, StartingPositionTimestamp: stamp}, true, "AT_TIMESTAMP " + stamp.String(),
			ShardCheckpoint{StartingPosition: StartingPositionAtTimestamp, StartingPositionTimestamp: stamp}},
		{"child shard", StartingPositionLatest, nil, true, "TRIM_HORIZON", ShardCheckpoint{StartingPosition: StartingPositionTrimHorizon}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{FunctionARN: testFunctionARN, StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
				StartingPosition: tc.position, InvokeIdentityArn: testRoleARN}
			if tc.position == StartingPositionAtTimestamp {
				cfg.StartingPositionTimestamp = stamp
			}
			m, err := New(cfg, nopKinesis{}, nil, newFake(t, nil))
			if err != nil {
				t.Fatal(err)
			}
			store, _ := openCheckpointStore("", cfg.StreamARN, cfg.FunctionARN)
			if tc.stored != nil {
				store.cp.Shards["shardId-1"] = *tc.stored
			}
			sh := m.newShard("shardId-1", store, tc.resumed)
			pos := sh.startPosition()
			got := string(pos.typ)
			switch {
			case pos.seq != "":
				got += " " + pos.seq
			case pos.typ == "AT_TIMESTAMP":
				got += " " + pos.ts.UTC().String()
			}
			if got != tc.want {
				t.Errorf("startPosition() = %s; want %s", got, tc.want)
			}
			saved := store.shard("shardId-1")
			if tc.position == StartingPositionLatest && tc.stored == nil && !tc.resumed {
				if saved.StartingPositionTimestamp.IsZero() {
					t.Error("LATEST start saved no timestamp; want the start time")
				}
				saved.StartingPositionTimestamp = time.Time{}
			}
			if diff := cmp.Diff(tc.wantSave, saved); diff != "" {
				t.Errorf("stored start (-want +got):\n%s", diff)
			}
		})
	}
}

// A checkpoint file takes sequence numbers in Kinesis's form, 0|([1-9]\d{0,128}):
// done entries are matched with the records read by their text.
func TestReadCheckpointsTakesKinesisSequenceNumbers(t *testing.T) {
	long := "9" + strings.Repeat("0", 128)
	path := filepath.Join(t.TempDir(), "cp.json")
	content := `{"version":1,"shards":{"s":{"sequenceNumber":"0","done":["` + long + `","7"]}}}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := ReadCheckpoints(path)
	if err != nil {
		t.Fatalf("ReadCheckpoints(%s) = %v", content, err)
	}
	if got := cp.Shards["s"].Done; len(got) != 2 || got[0] != long {
		t.Errorf("done = %v; want [%s 7]", got, long)
	}
}
