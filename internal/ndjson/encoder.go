package ingest

import (
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is the output encoding of objects. The zero value is not valid; use
// ParseCompression or a constant.
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

// gzipLevel trades a little ratio for speed: level 1 of klauspost/compress still
// stores a sensor line in well under 100 bytes (see `make bench`).
const gzipLevel = gzip.BestSpeed

// encoder compresses a stream of lines into a reusable buffer. One encoder serves
// one batch at a time; encoders are pooled by the Processor.
type encoder struct {
	c   Compression
	out bytes.Buffer
	gz  *gzip.Writer
	zs  *zstd.Encoder
	w   io.Writer
}

func newEncoder(c Compression) *encoder {
	e := &encoder{c: c}
	switch c {
	case Gzip:
		e.gz, _ = gzip.NewWriterLevel(&e.out, gzipLevel) // the level is a valid constant
	case Zstd:
		// A single-goroutine encoder: a Lambda has little CPU to spare for more.
		e.zs, _ = zstd.NewWriter(&e.out, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	}
	return e
}

// reset starts a new object.
func (e *encoder) reset() {
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

func (e *encoder) write(p []byte) error {
	_, err := e.w.Write(p)
	return err
}

// finish flushes the compressor and returns the object body, which aliases the
// encoder's buffer until the next reset.
func (e *encoder) finish() ([]byte, error) {
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
