package summary

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestParseDeviceIDLimit checks that a device ID whose partition key would exceed
// DynamoDB's 2048 bytes is counted as no device instead of making a key DynamoDB
// rejects (which would fail the object's every record), and that the length is
// measured in the bytes DynamoDB receives.
func TestParseDeviceIDLimit(t *testing.T) {
	at := time.Date(2026, 11, 21, 13, 40, 5, 0, time.UTC)
	line := func(device string) string {
		return fmt.Sprintf(`{"original_data":{"device_id":%s,"timestamp":"2026-11-21T13:40:05Z","temperature":1}}`, device)
	}
	quote := func(s string) string { return `"` + s + `"` }
	tests := []struct {
		name   string
		device string // the raw JSON value
		want   string // the device ID; "" for no device
	}{
		{"longest", quote(strings.Repeat("d", MaxDeviceIDBytes)), strings.Repeat("d", MaxDeviceIDBytes)},
		{"one byte too long", quote(strings.Repeat("d", MaxDeviceIDBytes+1)), ""},
		{"2100 characters", quote(strings.Repeat("x", 2100)), ""},
		{"escaped, too long once decoded", quote(strings.Repeat(`\u00e9`, MaxDeviceIDBytes/2+1)), ""},
		{"multi-byte, fits", quote(strings.Repeat("é", MaxDeviceIDBytes/2)), strings.Repeat("é", MaxDeviceIDBytes/2)},
		{"multi-byte, fewer characters than the limit but more bytes", quote(strings.Repeat("é", MaxDeviceIDBytes/2+1)), ""},
		{"number, too long", strings.Repeat("7", MaxDeviceIDBytes+1), ""},
		{"number, longest", strings.Repeat("7", MaxDeviceIDBytes), strings.Repeat("7", MaxDeviceIDBytes)},
		// Each byte that is not UTF-8 is sent to DynamoDB as U+FFFD (3 bytes).
		{"not UTF-8, fits", quote("a\xffb"), "a\uFFFDb"},
		{"not UTF-8, too long once sent", quote(strings.Repeat("\xff", 700)), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := line(tc.device) + "\n" + line(`"ok"`) + "\n"
			c, err := Config{}.ParseObject("k.ndjson", []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			wantRecords, wantNoDevice := int64(2), int64(0)
			if tc.want == "" {
				wantRecords, wantNoDevice = 1, 1
			}
			if c.Stats.Records != wantRecords || c.Stats.NoDevice != wantNoDevice {
				t.Fatalf("stats = %+v; want Records %d, NoDevice %d", c.Stats, wantRecords, wantNoDevice)
			}
			if s := c.Summary(DeviceKey("ok", at)); s == nil || s.Count != 1 {
				t.Errorf("device ok = %+v; want its record summarized", s)
			}
			for _, k := range c.Keys() {
				if len(k.PK) > MaxPartitionKeyBytes || len(k.SK) > MaxSortKeyBytes || !utf8.ValidString(k.PK) {
					t.Errorf("key %q: %d/%d bytes (valid UTF-8: %v); want at most %d/%d and valid",
						k, len(k.PK), len(k.SK), utf8.ValidString(k.PK), MaxPartitionKeyBytes, MaxSortKeyBytes)
				}
			}
			if tc.want != "" {
				k := DeviceKey(tc.want, at)
				if s := c.Summary(k); s == nil || s.Count != 1 {
					t.Errorf("summary %.40q… = %+v; want one record", k.PK, s)
				}
			}
		})
	}
}

// TestParseDeviceIDNotUTF8 checks that device IDs differing only in bytes that
// are not UTF-8 are one device: DynamoDB receives both as the same key, and two
// actions on one item make a transaction fail.
func TestParseDeviceIDNotUTF8(t *testing.T) {
	body := "{\"original_data\":{\"device_id\":\"d\xff\",\"timestamp\":\"2026-11-21T13:40:05Z\"}}\n" +
		"{\"original_data\":{\"device_id\":\"d\xfe\",\"timestamp\":\"2026-11-21T13:41:05Z\"}}\n" +
		"{\"original_data\":{\"device_id\":\"d\\ufffd\",\"timestamp\":\"2026-11-21T13:42:05Z\"}}\n"
	c, err := Config{}.ParseObject("k.ndjson", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Keys(); len(got) != 2 || got[0] != DeviceKey("d\uFFFD", time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)) || c.Summaries[got[0]].Count != 3 {
		t.Errorf("keys = %q; want DEVICE#d\uFFFD with 3 records, and the fleet", got)
	}
	// The encoded contribution (what the store keeps) decodes to the same keys.
	back := roundTrip(t, c)
	if a, b := fmt.Sprint(c.Keys()), fmt.Sprint(back.Keys()); a != b {
		t.Errorf("decoded keys %s; parsed %s", b, a)
	}
}
