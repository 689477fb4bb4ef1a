package ndjson

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is the encoding of an object's body. The zero value is not valid;
// use ParseCompression, CompressionOf or a constant.
type Compression string

// Supported compressions.
const (
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
	None Compression = "none"
)

// ParseCompression returns the Compression named s.
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(s); c {
	case Gzip, Zstd, None:
		return c, nil
	}
	return "", fmt.Errorf("unknown compression %q: want gzip, zstd or none", s)
}

// Extension is the object key suffix for c.
func (c Compression) Extension() string {
	switch c {
	case Gzip:
		return ".ndjson.gz"
	case Zstd:
		return ".ndjson.zst"
	}
	return ".ndjson"
}

// ContentType is the object's Content-Type for c.
func (c Compression) ContentType() string {
	switch c {
	case Gzip:
		return "application/gzip"
	case Zstd:
		return "application/zstd"
	}
	return "application/x-ndjson"
}

// CompressionOf returns the compression named by key's extension, and false for
// a key with none of the extensions the pipeline writes.
func CompressionOf(key string) (Compression, bool) {
	for _, c := range []Compression{Gzip, Zstd, None} {
		if strings.HasSuffix(key, c.Extension()) {
			return c, true
		}
	}
	return "", false
}

// gzipLevel trades a little ratio for speed: level 1 of klauspost/compress still
// stores a sensor line in well under 100 bytes (see `make bench`).
const gzipLevel = gzip.BestSpeed

// Encoder compresses a stream of lines into a reusable buffer, one object at a
// time: Reset, Write the lines, Finish. It is not safe for concurrent use; keep
// one per goroutine (the processor pools them), since building a compressor
// costs far more than resetting one.
type Encoder struct {
	c   Compression
	out bytes.Buffer
	gz  *gzip.Writer
	zs  *zstd.Encoder
	w   io.Writer
}

// NewEncoder returns an Encoder for c (an unknown c writes plain lines, as None).
// Call Reset before the first object.
func NewEncoder(c Compression) *Encoder {
	e := &Encoder{c: c}
	switch c {
	case Gzip:
		e.gz, _ = gzip.NewWriterLevel(&e.out, gzipLevel) // the level is a valid constant
	case Zstd:
		// A single-goroutine encoder: a Lambda has little CPU to spare for more.
		e.zs, _ = zstd.NewWriter(&e.out, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	}
	return e
}

// Reset starts a new object, dropping what the previous one wrote.
func (e *Encoder) Reset() {
	e.out.Reset()
	switch e.c {
	case Gzip:
		e.gz.Reset(&e.out)
		e.w = e.gz
	case Zstd:
		e.zs.Reset(&e.out)
		e.w = e.zs
	default:
		e.w = &e.out
	}
}

// Write adds p, one or more whole lines each ending in a newline, to the object.
func (e *Encoder) Write(p []byte) error {
	_, err := e.w.Write(p)
	return err
}

// Finish flushes the compressor and returns the object body, which aliases the
// Encoder's buffer until the next Reset.
func (e *Encoder) Finish() ([]byte, error) {
	var err error
	switch e.c {
	case Gzip:
		err = e.gz.Close()
	case Zstd:
		err = e.zs.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("compress %s: %w", e.c, err)
	}
	return e.out.Bytes(), nil
}
