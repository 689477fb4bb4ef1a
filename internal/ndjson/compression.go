package ndjson

import (
	"fmt"
	"strings"
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
