package ndjson

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// MaxLineBytes bounds one NDJSON line. A Kinesis record holds at most 10 MiB, which
// base64 and the line's metadata grow by about a third.
const MaxLineBytes = 16 << 20

// ErrUnsupportedObject is returned for an object whose key has none of the
// extensions the pipeline writes (.ndjson.gz, .ndjson.zst, .ndjson).
var ErrUnsupportedObject = errors.New("unsupported object: want a .ndjson.gz, .ndjson.zst or .ndjson key")

// NewReader returns the lines of the object stored under key with body,
// decompressed as key's extension says (CompressionOf). A body that is not in
// that compression is an error, wrapping ErrUnsupportedObject for a key of no
// known extension, and so is an empty body, except for a plain .ndjson key (no
// lines). A zstd body is decoded at once; a gzip body is decoded as it
// is read, so a corrupt end shows up as a read error.
func NewReader(key string, body []byte) (io.Reader, error) {
	c, ok := CompressionOf(key)
	if !ok {
		return nil, ErrUnsupportedObject
	}
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("not gzip: %w", err)
		}
		return zr, nil
	case Zstd:
		if len(body) == 0 {
			// The decoder reads no frame as no data; no writer of this format
			// makes an empty zstd object (an empty one is a 13-byte frame).
			return nil, errors.New("not zstd: empty body (a zstd object holds at least one frame)")
		}
		dec, err := zstdDecoder()
		if err != nil {
			return nil, err
		}
		out, err := dec.DecodeAll(body, nil)
		if err != nil {
			return nil, fmt.Errorf("not zstd: %w", err)
		}
		return bytes.NewReader(out), nil
	}
	return bytes.NewReader(body), nil
}

// NewScanner returns a line scanner over r that accepts lines of up to
// MaxLineBytes; a longer line stops it with bufio.ErrTooLong.
func NewScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	return sc
}

var (
	zstdOnce sync.Once
	zstdDec  *zstd.Decoder
	zstdErr  error
)

// zstdDecoder returns a shared decoder; DecodeAll is safe for concurrent use.
func zstdDecoder() (*zstd.Decoder, error) {
	zstdOnce.Do(func() {
		zstdDec, zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if zstdErr != nil {
			zstdErr = fmt.Errorf("zstd decoder: %w", zstdErr)
		}
	})
	return zstdDec, zstdErr
}
