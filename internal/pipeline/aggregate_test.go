package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/summary"
)

func summaryObjects(lines ...string) []summary.Object {
	return []summary.Object{{Key: "processed/x.ndjson", Body: []byte(strings.Join(lines, "\n") + "\n"), ETag: "e"}}
}

func recompute(t *testing.T, objects []summary.Object) (map[summary.Key]*summary.Summary, summary.Stats) {
	t.Helper()
	cfg, err := summary.ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want, st, err := summary.FromObjects(cfg, objects)
	if err != nil {
		t.Fatal(err)
	}
	return want, st
}

// TestSummaryReportAccountsForEveryWrittenLine: a written line the
// recomputation does not aggregate fails the report, even though the table and
// the recomputation agree, unless it has no device when read with
// encoding/json: the aggregator leaves such records out by design (README
// "Hourly summaries"), and other producers send them (text, binary, readings of
// another shape).
func TestSummaryReportAccountsForEveryWrittenLine(t *testing.T) {
	const ts = `"timestamp":"2026-01-01T00:00:00Z"`
	arrival := `,"approximate_arrival_timestamp":"2026-01-01T00:00:00.000Z"`
	for _, tc := range []struct {
		name    string
		lines   []string
		fail    string // a phrase of the failure; "" when the report is OK
		tamper  bool   // the recomputation claims one device record had none
		written int
	}{
		{"no device member", []string{`{"original_data":{"temperature":1,` + ts + `}` + arrival + `}`}, "", false, 1},
		{"other payloads without a device", []string{
			`{"original_data":{"message":"not JSON"}` + arrival + `}`,
			`{"original_data":{"data_base64":"/w=="}` + arrival + `}`,
			`{"original_data":[1,2,3]` + arrival + `}`,
			`{"original_data":null` + arrival + `}`,
			`{"original_data":{"device_id":"",` + ts + `}` + arrival + `}`,
			`{"original_data":{"device_id":null,` + ts + `}` + arrival + `}`,
			`{"original_data":{"device_id":{"id":"d"},` + ts + `}` + arrival + `}`,
			`{"original_data":{"device_id":"` + strings.Repeat("d", summary.MaxDeviceIDBytes+1) + `",` + ts + `}` + arrival + `}`,
			`{"original_data":{"device_id":"d","device_id":"",` + ts + `}` + arrival + `}`,
			`{"original_data":{"device_id":"d",` + ts + `}` + arrival + `}`,
		}, "", false, 10},
		{"malformed", []string{`not an output line`}, "1 malformed", false, 1},
		{"no time", []string{`{"original_data":{"device_id":"d"}}`}, "1 without a time", false, 1},
		{"device left out", []string{`{"original_data":{"device_id":"d",` + ts + `}` + arrival + `}`}, "1 without a device", true, 1},
		{"a line not written", []string{`{"original_data":{"device_id":"d",` + ts + `}` + arrival + `}`}, "of the 2 written", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objects := summaryObjects(tc.lines...)
			want, st := recompute(t, objects)
			if tc.tamper {
				st.Records--
				st.NoDevice++
				want = map[summary.Key]*summary.Summary{}
			}
			got := map[summary.Key]*summary.Summary{}
			for k, s := range want {
				c := *s
				got[k] = &c
			}
			rep := &Report{Written: tc.written, Summaries: summaryReport(want, st, got, objects, summary.DefaultDeviceField)}
			failures := strings.Join(rep.Failures(), ", ")
			if tc.fail == "" && !rep.OK() {
				t.Errorf("failures %q; want none", failures)
			}
			if tc.fail != "" && !strings.Contains(failures, tc.fail) {
				t.Errorf("failures %q; want one naming %q", failures, tc.fail)
			}
		})
	}
}

// TestCrossCheck: the device items' counts are compared with counts made with
// encoding/json and time.Parse; records read otherwise are not cross-checked
// and relax the comparison to at least as many.
func TestCrossCheck(t *testing.T) {
	line := func(device, ts string) string {
		return `{"original_data":{"device_id":` + device + `,"timestamp":` + ts + `,"temperature":1}}`
	}
	h := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	item := func(n int64) *summary.Summary { return &summary.Summary{Count: n} }
	longest := strings.Repeat("d", summary.MaxDeviceIDBytes)
	for _, tc := range []struct {
		name           string
		lines          []string
		got            map[summary.Key]*summary.Summary
		wantChecked    int64
		wantNotChecked int64
		wantMismatches int
	}{
		{"counts agree", []string{line(`"a"`, `"2026-01-01T10:01:00Z"`), line(`"a"`, `"2026-01-01T12:59:00+02:00"`)},
			map[summary.Key]*summary.Summary{summary.DeviceKey("a", h): item(2), summary.FleetKey(h): item(2)}, 2, 0, 0},
		{"count differs", []string{line(`"a"`, `"2026-01-01T10:01:00Z"`)},
			map[summary.Key]*summary.Summary{summary.DeviceKey("a", h): item(2)}, 1, 0, 1},
		{"item of no record", []string{line(`"a"`, `"2026-01-01T10:01:00Z"`)},
			map[summary.Key]*summary.Summary{summary.DeviceKey("a", h): item(1), summary.DeviceKey("b", h): item(1)}, 1, 0, 1},
		{"item missing", []string{line(`"a"`, `"2026-01-01T10:01:00Z"`)}, map[summary.Key]*summary.Summary{}, 1, 0, 1},
		{"not read simply", []string{line(`"a"`, `"2026-01-01T10:01:00Z"`), line(`"a"`, `1767261660`)},
			map[summary.Key]*summary.Summary{summary.DeviceKey("a", h): item(2)}, 1, 1, 0},
		{"not read simply, fewer", []string{line(`"a"`, `"2026-01-01T10:01:00Z"`), line(`"a"`, `1767261660`)},
			map[summary.Key]*summary.Summary{}, 1, 1, 1},
		{"longest device", []string{line(`"`+longest+`"`, `"2026-01-01T10:01:00Z"`)},
			map[summary.Key]*summary.Summary{summary.DeviceKey(longest, h): item(1)}, 1, 0, 0},
		// A device too long for a partition key is in no device item, and
		// leaves the other devices' counts checked exactly.
		{"device too long", []string{line(`"a"`, `"2026-01-01T10:01:00Z"`), line(`"`+longest+`x"`, `"2026-01-01T10:01:00Z"`)},
			map[summary.Key]*summary.Summary{summary.DeviceKey("a", h): item(1)}, 1, 1, 0},
		{"device too long, count differs", []string{line(`"a"`, `"2026-01-01T10:01:00Z"`), line(`"`+longest+`x"`, `"2026-01-01T10:01:00Z"`)},
			map[summary.Key]*summary.Summary{summary.DeviceKey("a", h): item(2)}, 1, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &SummaryReport{}
			crossCheck(summaryObjects(tc.lines...), tc.got, rep)
			if rep.CrossChecked != tc.wantChecked || rep.NotCrossChecked != tc.wantNotChecked || rep.CrossMismatches != tc.wantMismatches {
				t.Errorf("crossCheck: %d checked, %d not, %d mismatches %q; want %d, %d, %d",
					rep.CrossChecked, rep.NotCrossChecked, rep.CrossMismatches, rep.CrossSample, tc.wantChecked, tc.wantNotChecked, tc.wantMismatches)
			}
		})
	}
}

// TestSimpleDeviceHour: the cross-check's reading of a line matches member
// names exactly, as the aggregator does, and wants RFC 3339 strings or the
// recipe generator's, without an offset (UTC).
func TestSimpleDeviceHour(t *testing.T) {
	hour := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		line   string
		device string
		ok     bool
	}{
		{`{"original_data":{"device_id":"d-1","timestamp":"2026-11-21T13:40:05Z"}}`, "d-1", true},
		{`{"original_data":{"device_id":"d-1","Device_ID":"x","timestamp":"2026-11-21T15:40:05+02:00"}}`, "d-1", true},
		{`{"original_data":{"Device_ID":"x","timestamp":"2026-11-21T13:40:05Z"}}`, "", false},
		{`{"original_data":{"device_id":"d-1","timestamp":1795268405}}`, "d-1", false},
		{`{"original_data": {"device_id": "d-1", "timestamp": "2026-11-21T13:40:01.357000"}}`, "d-1", true},
		{`{"original_data": {"device_id": "d-1", "timestamp": "2026-11-21T13:40:00"}}`, "d-1", true},
		{`{"original_data": {"device_id": "d-1", "timestamp": "2026-11-21 13:40:00"}}`, "d-1", false},
		{`{"original_data":[1,2]}`, "", false},
	} {
		device, h, ok := simpleDeviceHour([]byte(tc.line))
		if device != tc.device || ok != tc.ok || ok && !h.Equal(hour) {
			t.Errorf("simpleDeviceHour(%s) = %q, %v, %v; want %q, %v", tc.line, device, h, ok, tc.device, tc.ok)
		}
	}
}
