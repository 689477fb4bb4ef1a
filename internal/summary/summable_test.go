package summary

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecimalSummable(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0", true},
		{"-0.000", true},
		{"0e-500", true},
		{"21.43", true},
		{"-40", true},
		{"0.30000000000000004", true},
		{"23.456789012345678", true},
		{"1.5e-07", true},
		{"5e-324", false},                            // Python's smallest float: below 1e-21
		{"1e-21", true},                              // the smallest step
		{"-1e-21", true},                             //
		{"1e-22", false},                             // a digit below 1e-21
		{"1.5e-21", false},                           //
		{"1.0000000000000000000000000", true},        // trailing zeros past 1e-21 are no digits
		{"1.0000000000000000000000001", false},       // …but a 1 at 1e-25 is
		{"999999999999.999999999999999999999", true}, // 33 digits, the most
		{"-999999999999.999999999999999999999", true},
		{"999999999999.9999999999999999999999", false}, // 34 digits, the last at 1e-22
		{"1e12", false},
		{"-1e12", false},
		{"1000000000000", false},
		{"999999999999", true},
		{"9223372036854775807", false},
		{"1e37", false},
		{"1234567890123456789012345678901234567890", false}, // 40 digits
		{"0.1234567890123456789012345678901234567890", false},
		{"123456789.012345678901234567890", true},
		{"1.7976931348623157e308", false}, // not even parsed (beyond DynamoDB's range)
		// Trailing zeros are no digits however many there are: 21.5 written with
		// more fraction digits than DynamoDB's 130 is still 21.5.
		{"21.5" + strings.Repeat("0", 140), true},
		{"-0.5" + strings.Repeat("0", 200), true},
		{"215" + strings.Repeat("0", 140) + "e-141", true},
		{"5" + strings.Repeat("0", 3) + "e-134", false}, // 5e-131: below DynamoDB's 1e-130
		{"21.5" + strings.Repeat("0", 140) + "1", false},
	}
	for _, tc := range tests {
		d, ok := parseNumber([]byte(tc.in))
		if got := ok && d.summable(); got != tc.want {
			t.Errorf("summable(%s) = %v (parsed %v); want %v", tc.in, got, ok, tc.want)
		}
	}
}

// TestParseSummableDomain checks that values outside the summable domain are
// neither summed nor counted in n/min/max, that they are counted per field in
// Stats.OutOfRange, and that their records still count.
func TestParseSummableDomain(t *testing.T) {
	var b strings.Builder
	for i, temp := range []string{"21.43", "1e37", "1234567890123456789012345678901234567890", "0.30000000000000004", "-1e12", "1e-22", "1.5e-07", "1e400", "\"hot\""} {
		fmt.Fprintf(&b, `{"original_data":{"device_id":"d","timestamp":"2026-11-21T13:%02d:00Z","temperature":%s,"humidity":1e15}}`+"\n", i, temp)
	}
	c, err := Config{}.ParseObject("k.ndjson", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	wantStats := Stats{Lines: 9, Records: 9,
		NonNumeric: map[string]int64{"temperature": 1},
		OutOfRange: map[string]int64{"temperature": 5, "humidity": 9}}
	if diff := cmp.Diff(wantStats, c.Stats); diff != "" {
		t.Errorf("Stats mismatch (-want +got):\n%s", diff)
	}
	h := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	for _, k := range []Key{DeviceKey("d", h), FleetKey(h)} {
		s := c.Summary(k)
		if s == nil || s.Count != 9 {
			t.Fatalf("%s = %+v; want 9 records", k, s)
		}
		temp := s.Fields["temperature"]
		if temp.N != 3 || temp.Sum.String() != "21.73000015000000004" || temp.Min.String() != "0.00000015" || temp.Max.String() != "21.43" {
			t.Errorf("%s temperature = n %d sum %s min %s max %s; want n 3 sum 21.73000015000000004 min 0.00000015 max 21.43",
				k, temp.N, temp.Sum, temp.Min, temp.Max)
		}
		if _, ok := s.Fields["humidity"]; ok {
			t.Errorf("%s has humidity %+v; want none (every value out of range)", k, s.Fields["humidity"])
		}
	}
}

// TestStatsAddOutOfRange checks that Stats.Add folds the per-field counts.
func TestStatsAddOutOfRange(t *testing.T) {
	var s Stats
	s.Add(Stats{OutOfRange: map[string]int64{"temperature": 2}})
	s.Add(Stats{OutOfRange: map[string]int64{"temperature": 1, "humidity": 4}})
	if want := map[string]int64{"temperature": 3, "humidity": 4}; !cmp.Equal(s.OutOfRange, want) {
		t.Errorf("OutOfRange = %v; want %v", s.OutOfRange, want)
	}
}

// TestContributionDecodesWithoutOutOfRange checks that a contribution stored
// before Stats had OutOfRange (no "outOfRange" member) still decodes, and that
// the field round-trips.
func TestContributionDecodesWithoutOutOfRange(t *testing.T) {
	old := `{"v":1,"stats":{"lines":2,"records":2,"malformed":0,"noDevice":0,"noTime":0,"timeFallback":0,"invalidTime":0,"nonNumeric":{"humidity":1}},` +
		`"items":[{"pk":"DEVICE#d","sk":"HOUR#2026-11-21T13","c":2,"f":"2026-11-21T13:00:00.000000000Z","l":"2026-11-21T13:01:00.000000000Z","x":{"temperature":{"n":2,"s":"43","lo":"21.5","hi":"21.5"}}}]}`
	var c Contribution
	if err := c.UnmarshalBinary(gzipped([]byte(old))); err != nil {
		t.Fatalf("UnmarshalBinary(stored before OutOfRange) = %v", err)
	}
	if c.Stats.Records != 2 || c.Stats.OutOfRange != nil || c.Stats.NonNumeric["humidity"] != 1 {
		t.Errorf("stats = %+v; want 2 records, nonNumeric humidity 1, no OutOfRange", c.Stats)
	}
	c.Stats.OutOfRange = map[string]int64{"temperature": 3}
	back := roundTrip(t, &c)
	if diff := cmp.Diff(c.Stats, back.Stats); diff != "" {
		t.Errorf("stats do not round-trip (-want +got):\n%s", diff)
	}
}

// BenchmarkParseNumberTrailingZeros is a number of 200,000 digits, its trailing
// zeros past DynamoDB's scale: parseNumber drops them before the conversion.
func BenchmarkParseNumberTrailingZeros(b *testing.B) {
	n := []byte("21.5" + strings.Repeat("0", 200000))
	for b.Loop() {
		if _, ok := parseNumber(n); !ok {
			b.Fatal("not parsed")
		}
	}
}
