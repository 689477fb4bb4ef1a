package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// holdReceipts adds msgs to (hold) or removes them from the ReceiptFile.
// Write errors are logged: they only cost a wait for the visibility timeout
// after a crash.
func (m *SQSMapping) holdReceipts(msgs []*sqsMessage, hold bool) {
	if m.receipts.path == "" || len(msgs) == 0 {
		return
	}
	if err := m.receipts.update(msgs, hold); err != nil {
		m.ctr.receiptFileErrors.Add(1)
		m.log.Warn("receipt file write failed", "error", err)
	}
}

// recoverReceipts makes visible again the messages a previous process held
// when it stopped without settling them, as its ReceiptFile records.
func (m *SQSMapping) recoverReceipts(ctx context.Context) error {
	handles, err := m.receipts.load()
	if err != nil {
		return fmt.Errorf("esm: %w", err)
	}
	if len(handles) == 0 {
		return nil
	}
	n := m.makeVisible(ctx, handles)
	m.ctr.recovered.Add(int64(n))
	m.log.Info("messages held by a previous run made visible again", "messageCount", n, "recorded", len(handles))
	if err := m.receipts.update(nil, false); err != nil {
		return fmt.Errorf("esm: %w", err)
	}
	return nil
}

// receiptFileVersion is the format version of receipt files.
const receiptFileVersion = 1

// receiptFileContent is the content of a ReceiptFile.
type receiptFileContent struct {
	Version        int      `json:"version"`
	QueueARN       string   `json:"queueArn"`
	ReceiptHandles []string `json:"receiptHandles"`
}

// receiptFile persists the receipt handles a mapping holds, with an atomic
// write (temp file, fsync, rename: writeFileAtomic) after every change. Safe
// for concurrent use.
type receiptFile struct {
	path     string
	queueARN string

	mu   sync.Mutex
	held map[string]bool
}

// load reads the handles a previous process left; a missing file holds none.
func (f *receiptFile) load() ([]string, error) {
	if f.path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read receipt file: %w", err)
	}
	var c receiptFileContent
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode receipt file %s: %w", f.path, err)
	}
	switch {
	case c.Version != receiptFileVersion:
		return nil, fmt.Errorf("receipt file %s has version %d; want %d", f.path, c.Version, receiptFileVersion)
	case c.QueueARN != f.queueARN:
		return nil, fmt.Errorf("receipt file %s belongs to queue %s, not %s", f.path, c.QueueARN, f.queueARN)
	}
	return c.ReceiptHandles, nil
}

// update adds or removes msgs and rewrites the file.
func (f *receiptFile) update(msgs []*sqsMessage, hold bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, msg := range msgs {
		if hold {
			f.held[msg.receipt] = true
		} else {
			delete(f.held, msg.receipt)
		}
	}
	c := receiptFileContent{Version: receiptFileVersion, QueueARN: f.queueARN, ReceiptHandles: slices.Sorted(maps.Keys(f.held))}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode receipt file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return fmt.Errorf("write receipt file: %w", err)
	}
	if err := writeFileAtomic(f.path, b, 0o644); err != nil {
		return fmt.Errorf("write receipt file: %w", err)
	}
	return nil
}
