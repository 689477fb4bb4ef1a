package record

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestAppendTimeMatchesAppendFormat(t *testing.T) {
	times := []time.Time{
		{},
		time.Date(2026, 11, 21, 13, 40, 5, 123456789, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 2, 30, 0, 5e6, time.FixedZone("X", 5*3600+1800)),
		time.Unix(1795268400, 221999999),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		times = append(times, time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)))
	}
	for _, tm := range times {
		want := tm.UTC().AppendFormat([]byte("x"), TimeLayout)
		if got := appendTime([]byte("x"), tm); string(got) != string(want) {
			t.Fatalf("appendTime(%v) = %s; want %s", tm, got, want)
		}
	}
}

func TestIsPlainASCII(t *testing.T) {
	naive := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				return false
			}
		}
		return true
	}
	base := "shardId-000000000000:49590338271490256608559692538361571095921575989136588898"
	for pos := 0; pos < len(base); pos++ {
		for _, c := range []byte{0, 0x1f, 0x20, '!', '"', '#', '[', '\\', ']', 0x7f, 0x80, 0xff} {
			s := base[:pos] + string([]byte{c}) + base[pos+1:]
			if got, want := isPlainASCII(s), naive(s); got != want {
				t.Fatalf("isPlainASCII(%q) = %v; want %v", s, got, want)
			}
		}
	}
	for _, s := range []string{"", "a", strings.Repeat("x", 8), strings.Repeat("x", 15) + "\""} {
		if got, want := isPlainASCII(s), naive(s); got != want {
			t.Errorf("isPlainASCII(%q) = %v; want %v", s, got, want)
		}
	}
}

// TestDigits8 checks digits8 against a byte loop for every byte value at every
// position among digits.
func TestDigits8(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("01234567")
			b[pos] = byte(c)
			want := c >= '0' && c <= '9'
			if got := digits8(string(b)); got != want {
				t.Fatalf("digits8(%q) = %v; want %v", b, got, want)
			}
			if got := ValidSequenceNumber(string(b) + "123"); got != want {
				t.Fatalf("ValidSequenceNumber(%q) = %v; want %v", string(b)+"123", got, want)
			}
		}
	}
}
