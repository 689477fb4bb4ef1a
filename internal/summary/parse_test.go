package summary

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/streamlake/streamlake/internal/ndjson"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestParseMixedGolden(t *testing.T) {
	body, err := os.ReadFile("testdata/mixed.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Config{}.ParseObject("processed/x.ndjson", body)
	if err != nil {
		t.Fatal(err)
	}
	wantStats := Stats{
		Lines: 15, Records: 6, Malformed: 4, NoDevice: 4, NoTime: 1,
		TimeFallback: 1, InvalidTime: 1, NonNumeric: map[string]int64{"battery_level": 1},
	}
	if diff := cmp.Diff(wantStats, c.Stats); diff != "" {
		t.Errorf("Stats mismatch (-want +got):\n%s", diff)
	}
	if got := c.Stats.Records + c.Stats.Skipped(); got != c.Stats.Lines {
		t.Errorf("Records + Skipped = %d; want Lines = %d", got, c.Stats.Lines)
	}
	got, err := json.MarshalIndent(goldenView(c), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/mixed.golden.json"
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), string(got)); diff != "" {
		t.Errorf("contribution of testdata/mixed.ndjson differs from %s (-want +got):\n%s", golden, diff)
	}
}

// goldenView is a readable, ordered form of a contribution.
func goldenView(c *Contribution) []map[string]any {
	var out []map[string]any
	for _, k := range c.Keys() {
		s := c.Summaries[k]
		m := map[string]any{"key": k.String(), "count": s.Count, "first": FormatTime(s.First), "last": FormatTime(s.Last)}
		for _, n := range s.FieldNames() {
			f := s.Fields[n]
			m[n] = map[string]any{"n": f.N, "sum": f.Sum.String(), "min": f.Min.String(), "max": f.Max.String()}
		}
		out = append(out, m)
	}
	return out
}

func TestParseKeysAndFields(t *testing.T) {
	body, err := os.ReadFile("testdata/mixed.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Config{}.ParseObject("k.ndjson", body)
	if err != nil {
		t.Fatal(err)
	}
	h13 := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	s1 := c.Summary(DeviceKey("sensor-0001", h13))
	if s1 == nil {
		t.Fatalf("no summary for sensor-0001 at 13h; keys %v", c.Keys())
	}
	temp := s1.Fields["temperature"]
	if s1.Count != 2 || temp.N != 2 || temp.Sum.String() != "17.93" || temp.Min.String() != "-3.5" || temp.Max.String() != "21.43" {
		t.Errorf("sensor-0001 13h = %+v; want count 2, temperature n 2 sum 17.93 min -3.5 max 21.43", s1)
	}
	if want := time.Date(2026, 11, 21, 13, 59, 59, 999e6, time.UTC); !s1.Last.Equal(want) {
		t.Errorf("sensor-0001 last = %v; want %v", s1.Last, want)
	}
	// A numeric device ID is taken as text, and a time with an offset lands in its
	// UTC hour.
	if s := c.Summary(DeviceKey("42", h13)); s == nil || s.Count != 1 {
		t.Errorf("device 42 at 13h UTC = %+v; want one record", s)
	}
	// Escapes in member names and values are decoded.
	if s := c.Summary(DeviceKey("sensor-0003", h13)); s == nil || s.Fields["temperature"].Sum.String() != "1.25" {
		t.Errorf("sensor-0003 = %+v; want temperature 1.25", s)
	}
	// The invalid time fell back to the arrival time, in hour 13.
	if s := c.Summary(DeviceKey("sensor-0002", h13)); s == nil || s.Fields["humidity"].Sum.String() != "10" {
		t.Errorf("sensor-0002 at 13h = %+v; want the fallback record with humidity 10", s)
	}
	fleet := c.Summary(FleetKey(h13))
	if fleet == nil || fleet.Count != 5 {
		t.Errorf("fleet 13h = %+v; want 5 records", fleet)
	}
}

func TestParseConfiguredFields(t *testing.T) {
	lines := `{"original_data":{"meta":{"id":"a"},"at":"2026-01-02T03:04:05Z","location":{"lat":52.5,"lon":13.4}},"approximate_arrival_timestamp":"2026-01-01T00:00:00Z"}
{"original_data":{"meta":{"id":"a"},"at":"2026-01-02T03:59:00Z","location":{"lat":-10,"lon":"x"}}}
`
	cfg := Config{DeviceField: "meta.id", TimeField: "at", NumericFields: []string{"location.lat", "location.lon"}}
	c, err := cfg.ParseObject("k.ndjson", []byte(lines))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Summary(DeviceKey("a", time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)))
	if s == nil || s.Count != 2 {
		t.Fatalf("summary = %+v; want 2 records for device a at 03h", s)
	}
	if lat := s.Fields["location.lat"]; lat.Sum.String() != "42.5" || lat.Min.String() != "-10" {
		t.Errorf("location.lat = %+v; want sum 42.5 min -10", lat)
	}
	if c.Stats.NonNumeric["location.lon"] != 1 {
		t.Errorf("NonNumeric = %v; want location.lon: 1", c.Stats.NonNumeric)
	}
}

func TestParseObjectCompression(t *testing.T) {
	plain, err := os.ReadFile("testdata/mixed.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	enc, _ := zstd.NewWriter(nil)
	zst := enc.EncodeAll(plain, nil)

	want, err := Config{}.ParseObject("a.ndjson", plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		body []byte
	}{{"a.ndjson.gz", gz.Bytes()}, {"a.ndjson.zst", zst}} {
		got, err := Config{}.ParseObject(tc.key, tc.body)
		if err != nil {
			t.Errorf("ParseObject(%s) error %v", tc.key, err)
			continue
		}
		if diff := cmp.Diff(goldenView(want), goldenView(got)); diff != "" {
			t.Errorf("ParseObject(%s) differs from plain (-want +got):\n%s", tc.key, diff)
		}
	}

	bad := []struct {
		name, key string
		body      []byte
		wantErr   string
	}{
		{"plain text named .gz", "processed/a.ndjson.gz", plain, "not gzip"},
		{"truncated gzip", "processed/a.ndjson.gz", gz.Bytes()[:gz.Len()/2], "unexpected EOF"},
		{"gzip named .zst", "processed/a.ndjson.zst", gz.Bytes(), "not zstd"},
		{"unknown extension", "processed/a.csv", plain, "unsupported object"},
		{"empty gzip body", "processed/a.ndjson.gz", nil, "not gzip"},
		{"empty zstd body", "processed/a.ndjson.zst", nil, "not zstd"},
	}
	for _, tc := range bad {
		_, err := Config{}.ParseObject(tc.key, tc.body)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: ParseObject(%s) = %v; want an error naming the key and containing %q", tc.name, tc.key, err, tc.wantErr)
		}
	}
	if _, err := (Config{}).ParseObject("x.csv", nil); !errors.Is(err, ndjson.ErrUnsupportedObject) {
		t.Errorf("ParseObject(x.csv) = %v; want ndjson.ErrUnsupportedObject", err)
	}
}

func TestParseEmptyAndLongLines(t *testing.T) {
	c, err := Config{}.ParseObject("e.ndjson", nil)
	if err != nil || len(c.Summaries) != 0 || c.Stats.Lines != 0 {
		t.Errorf("ParseObject(empty) = %+v, %v; want an empty contribution", c, err)
	}
	long := strings.Repeat("x", ndjson.MaxLineBytes+1)
	if _, err := (Config{}).Parse(strings.NewReader(long)); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("Parse(line over MaxLineBytes) = %v; want a line-too-long error", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{"defaults", nil, Config{DeviceField: "device_id", TimeField: "timestamp", NumericFields: DefaultNumericFields}, ""},
		{"custom", map[string]string{"DEVICE_FIELD": "meta.id", "TIME_FIELD": "ts", "NUMERIC_FIELDS": " a , b.c "},
			Config{DeviceField: "meta.id", TimeField: "ts", NumericFields: []string{"a", "b.c"}}, ""},
		{"none", map[string]string{"NUMERIC_FIELDS": "-"}, Config{DeviceField: "device_id", TimeField: "timestamp", NumericFields: []string{}}, ""},
		{"repeated", map[string]string{"NUMERIC_FIELDS": "a,a"}, Config{}, "listed twice"},
		{"empty name", map[string]string{"NUMERIC_FIELDS": "a,,b"}, Config{}, "invalid field name"},
		{"bad path", map[string]string{"DEVICE_FIELD": "a..b"}, Config{}, "invalid field name"},
		{"overlap", map[string]string{"NUMERIC_FIELDS": "device_id"}, Config{}, "also the device or time field"},
		{"too many", map[string]string{"NUMERIC_FIELDS": manyFields(MaxNumericFields + 1)}, Config{}, "at most 32"},
		{"most", map[string]string{"NUMERIC_FIELDS": manyFields(MaxNumericFields)},
			Config{DeviceField: "device_id", TimeField: "timestamp", NumericFields: strings.Split(manyFields(MaxNumericFields), ",")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ConfigFromEnv(%v) error = %v; want %q", tc.env, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ConfigFromEnv(%v) mismatch (-want +got):\n%s", tc.env, diff)
			}
		})
	}
}

// manyFields returns n numeric field names, comma-separated.
func manyFields(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("metric_%02d", i)
	}
	return strings.Join(names, ",")
}

func TestOptionsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	opts, err := OptionsFromEnv(env(map[string]string{"OBJECT_CONCURRENCY": "7", "PROCESSED_PREFIX": "out"}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAggregator(nil, nil, Config{}, opts...)
	if err != nil || a.concurrency != 7 || a.prefix != "out" {
		t.Errorf("OptionsFromEnv = concurrency %d prefix %q, %v; want 7, out", a.concurrency, a.prefix, err)
	}
	opts, _ = OptionsFromEnv(env(nil))
	a, _ = NewAggregator(nil, nil, Config{}, opts...)
	if a.concurrency != DefaultConcurrency || a.prefix != "processed" {
		t.Errorf("defaults = %d, %q; want %d, processed", a.concurrency, a.prefix, DefaultConcurrency)
	}
	for _, bad := range []string{"0", "-1", "x"} {
		if _, err := OptionsFromEnv(env(map[string]string{"OBJECT_CONCURRENCY": bad})); err == nil {
			t.Errorf("OBJECT_CONCURRENCY=%s accepted", bad)
		}
	}
	if _, err := NewAggregator(nil, nil, Config{NumericFields: []string{"a", "a"}}); err == nil {
		t.Errorf("NewAggregator with a bad config succeeded")
	}
}
