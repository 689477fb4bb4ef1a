package ndjson

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestCompressionNames(t *testing.T) {
	for _, tc := range []struct {
		name, ext, contentType string
		c                      Compression
	}{
		{"gzip", ".ndjson.gz", "application/gzip", Gzip},
		{"zstd", ".ndjson.zst", "application/zstd", Zstd},
		{"none", ".ndjson", "application/x-ndjson", None},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCompression(tc.name)
			if err != nil || c != tc.c {
				t.Fatalf("ParseCompression(%q) = %q, %v; want %q", tc.name, c, err, tc.c)
			}
			if got := c.Extension(); got != tc.ext {
				t.Errorf("Extension() = %q; want %q", got, tc.ext)
			}
			if got := c.ContentType(); got != tc.contentType {
				t.Errorf("ContentType() = %q; want %q", got, tc.contentType)
			}
			if got, ok := CompressionOf("processed/x/shardId-1-2" + tc.ext); !ok || got != c {
				t.Errorf("CompressionOf(*%s) = %q, %v; want %q", tc.ext, got, ok, c)
			}
		})
	}
	for _, bad := range []string{"", "lz4", "GZIP"} {
		if _, err := ParseCompression(bad); err == nil || !strings.Contains(err.Error(), "unknown compression") {
			t.Errorf("ParseCompression(%q) = %v; want an unknown-compression error", bad, err)
		}
	}
	for _, key := range []string{"x.csv", "x.gz", "x.ndjson.gz.tmp", "x.json"} {
		if c, ok := CompressionOf(key); ok {
			t.Errorf("CompressionOf(%q) = %q, true; want false", key, c)
		}
	}
}

func TestObjectKey(t *testing.T) {
	at := time.Date(2026, 11, 21, 13, 41, 5, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		prefix string
		c      Compression
		want   string
	}{
		{DefaultProcessedPrefix, Gzip, "processed/year=2026/month=11/day=21/hour=12/shardId-000000000001-49590.ndjson.gz"},
		{"processed/", Zstd, "processed/year=2026/month=11/day=21/hour=12/shardId-000000000001-49590.ndjson.zst"},
		{DefaultQuarantinePrefix, None, "quarantine/year=2026/month=11/day=21/hour=12/shardId-000000000001-49590.ndjson"},
		{QuarantinePrefixFor("redriven/"), Gzip, "redriven-quarantine/year=2026/month=11/day=21/hour=12/shardId-000000000001-49590.ndjson.gz"},
	} {
		if got := ObjectKey(tc.prefix, at, "shardId-000000000001", "49590", tc.c); got != tc.want {
			t.Errorf("ObjectKey(%q, …, %q) = %q; want %q", tc.prefix, tc.c, got, tc.want)
		}
	}
}

func TestRangeKey(t *testing.T) {
	at := time.Date(2026, 11, 21, 13, 41, 5, 0, time.UTC)
	want := "redriven/year=2026/month=11/day=21/hour=13/shardId-000000000001-49590-49599.ndjson.gz"
	if got := RangeKey("redriven", at, "shardId-000000000001", "49590", "49599", Gzip); got != want {
		t.Errorf("RangeKey = %q; want %q", got, want)
	}
}

// TestRoundTrip writes objects with a reused Encoder and reads them back by key.
func TestRoundTrip(t *testing.T) {
	lines := []byte("{\"a\":1}\n{\"b\":\"two\"}\n")
	for _, c := range []Compression{Gzip, Zstd, None} {
		t.Run(string(c), func(t *testing.T) {
			enc := NewEncoder(c)
			for i := range 3 { // a reset encoder leaves nothing of the previous object
				enc.Reset()
				if err := enc.Write(bytes.Repeat(lines, i+1)); err != nil {
					t.Fatal(err)
				}
				body, err := enc.Finish()
				if err != nil {
					t.Fatal(err)
				}
				if c == None && !bytes.Equal(body, bytes.Repeat(lines, i+1)) {
					t.Errorf("Finish() = %q; want the lines unchanged", body)
				}
				r, err := NewReader("k"+c.Extension(), bytes.Clone(body))
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(got, bytes.Repeat(lines, i+1)) {
					t.Errorf("object %d read back = %q, %v; want %q", i, got, err, bytes.Repeat(lines, i+1))
				}
			}
		})
	}
}

func TestNewReaderErrors(t *testing.T) {
	enc := NewEncoder(Gzip)
	enc.Reset()
	_ = enc.Write([]byte("{}\n"))
	gz, _ := enc.Finish()
	gz = bytes.Clone(gz)
	for _, tc := range []struct {
		name, key string
		body      []byte
		want      string
	}{
		{"unknown extension", "x.csv", nil, ErrUnsupportedObject.Error()},
		{"plain text named .gz", "a.ndjson.gz", []byte("{}\n"), "not gzip"},
		{"empty gzip", "a.ndjson.gz", nil, "not gzip"},
		{"gzip named .zst", "a.ndjson.zst", gz, "not zstd"},
		{"empty zstd", "a.ndjson.zst", nil, "not zstd: empty body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(tc.key, tc.body)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewReader(%q) = %v; want an error containing %q", tc.key, err, tc.want)
			}
		})
	}
	if _, err := NewReader("x.csv", nil); !errors.Is(err, ErrUnsupportedObject) {
		t.Errorf("NewReader(x.csv) = %v; want ErrUnsupportedObject", err)
	}
	// A truncated gzip body fails when read.
	r, err := NewReader("a.ndjson.gz", gz[:len(gz)/2])
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading a truncated gzip object = %v; want io.ErrUnexpectedEOF", err)
	}
}

func TestScannerLineLimit(t *testing.T) {
	ok := strings.Repeat("x", MaxLineBytes-1) + "\n"
	sc := NewScanner(strings.NewReader(ok + "y\n"))
	n := 0
	for sc.Scan() {
		n++
	}
	if sc.Err() != nil || n != 2 {
		t.Errorf("scanning a line of MaxLineBytes-1 = %d lines, %v; want 2, nil", n, sc.Err())
	}
	sc = NewScanner(strings.NewReader(strings.Repeat("x", MaxLineBytes+1) + "\n"))
	for sc.Scan() {
	}
	if !errors.Is(sc.Err(), bufio.ErrTooLong) {
		t.Errorf("scanning a line over MaxLineBytes = %v; want bufio.ErrTooLong", sc.Err())
	}
}
