package record_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/record"
)

func TestParseEventTime(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		in   string // the raw JSON value
		want string // RFC 3339 in UTC, "" for rejected
	}{
		// RFC 3339.
		{`"2025-07-12T14:03:05Z"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12T14:03:05.123Z"`, "2025-07-12T14:03:05.123Z"},
		{`"2025-07-12T16:03:05+02:00"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12T00:30:00-05:30"`, "2025-07-12T06:00:00Z"},
		{`"2025-07-12t14:03:05z"`, "2025-07-12T14:03:05Z"},
		// The recipe's generator: Python datetime.utcnow().isoformat().
		{`"2025-07-12T14:03:05.123456"`, "2025-07-12T14:03:05.123456Z"},
		{`"2025-07-12T14:03:05"`, "2025-07-12T14:03:05Z"},
		// A space instead of T, any fraction digits, ISO offsets without colon.
		{`"2025-07-12 14:03:05"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12 14:03:05.5+0000"`, "2025-07-12T14:03:05.5Z"},
		{`"2025-07-12T14:03:05.1234567891234Z"`, "2025-07-12T14:03:05.123456789Z"},
		{`"2025-07-12T14:03:05,25Z"`, "2025-07-12T14:03:05.25Z"},
		{`"2025-07-12T14:03:05+01"`, "2025-07-12T13:03:05Z"},
		{`"2025-07-12T14:03"`, "2025-07-12T14:03:00Z"},
		{`"2024-02-29T23:59:59.999999999-00:01"`, "2024-03-01T00:00:59.999999999Z"},
		{`"0001-01-01T00:00:00Z"`, "0001-01-01T00:00:00Z"},
		// The UTC instant must be in years 0000–9999.
		{`"0000-01-01T00:00:00Z"`, "0000-01-01T00:00:00Z"},
		{`"0000-01-01T00:30:00-01:00"`, "0000-01-01T01:30:00Z"},
		{`"0000-01-01T01:00:00+01:00"`, "0000-01-01T00:00:00Z"},
		{`"9999-12-31T23:59:59.999999999Z"`, "9999-12-31T23:59:59.999999999Z"},
		{`"9999-12-31T23:59:59.999999999+00:00"`, "9999-12-31T23:59:59.999999999Z"},
		{`"9999-12-31T22:59:59-01:00"`, "9999-12-31T23:59:59Z"},
		{`"9999-12-31T23:30:00-01:00"`, ""},
		{`"9999-12-31T23:00:00-01:00"`, ""},
		{`"9999-12-31T23:59:59.999999999-23:59"`, ""},
		{`"9999-12-31 23:30-0100"`, ""},
		{`"0000-01-01T00:30:00+01:00"`, ""},
		{`"0000-01-01T00:59:59.999+01:00"`, ""},
		{`"0000-01-01T00:00:00+23:59"`, ""},
		// Epoch numbers cannot leave the range: the largest of each unit.
		{`99999999999.999999999`, "5138-11-16T09:46:39.999999999Z"},
		{`99999999999999.999`, "5138-11-16T09:46:39.999999Z"},
		{`9999999999999999999`, "2286-11-20T17:46:39.999999999Z"},
		{`"99999999999"`, ""}, // a string of digits: only 2001–2286 (below)
		{`1e10`, "2286-11-20T17:46:40Z"},
		// Epoch numbers, by magnitude.
		{`1752329000`, "2025-07-12T14:03:20Z"},
		{`1752329000.25`, "2025-07-12T14:03:20.25Z"},
		{`1752329000123`, "2025-07-12T14:03:20.123Z"},
		{`1752329000123.5`, "2025-07-12T14:03:20.1235Z"},
		{`1752329000123456`, "2025-07-12T14:03:20.123456Z"},
		{`1752329000123456789`, "2025-07-12T14:03:20.123456789Z"},
		{`1.752329e9`, "2025-07-12T14:03:20Z"},
		// Exponents are read exactly: the unit is the value's.
		{`99999999999.9999999e0`, "5138-11-16T09:46:39.9999999Z"},
		{`9.99999999999999999e10`, "5138-11-16T09:46:39.9999999Z"},
		{`9999999999999.99999e1`, "5138-11-16T09:46:39.9999999Z"},
		{`99999999999999999.9e-3`, "5138-11-16T09:46:39.9999999Z"},
		{`1.545084650987E9`, "2018-12-17T22:10:50.987Z"},
		{`1545084650987e-3`, "2018-12-17T22:10:50.987Z"},
		{`1.0E-5`, "1970-01-01T00:00:00.00001Z"},
		{`1e-400`, "1970-01-01T00:00:00Z"},
		{`0e99999999999`, "1970-01-01T00:00:00Z"},
		{`0.000e5`, "1970-01-01T00:00:00Z"},
		{`1e11`, "1973-03-03T09:46:40Z"},
		{`"1.752329E+9"`, "2025-07-12T14:03:20Z"},
		{`1e99999999999`, ""},
		// More than 19 digits before an exponent, and an exponent that its
		// fraction's leading zeros take back.
		{`12345678901234567890e-5`, "1973-11-29T21:33:09.012345678Z"}, // µs
		{`17523290001234567890e-10`, "2025-07-12T14:03:20.123456789Z"},
		{"0." + strings.Repeat("0", 1100) + "1e1105", "1970-01-01T02:46:40Z"}, // 1e4 s
		{"1" + strings.Repeat("0", 1100) + "e-1091", "2001-09-09T01:46:40Z"},  // 1e9 s
		{"1e-99999999999999999999", "1970-01-01T00:00:00Z"},
		{`1e`, ""},
		{`1e+`, ""},
		{`1.e5`, ""},
		{`01e5`, ""},
		{`0`, "1970-01-01T00:00:00Z"},
		{`99999999999`, "5138-11-16T09:46:39Z"},
		{`100000000000`, "1973-03-03T09:46:40Z"},
		{`"1752329000"`, "2025-07-12T14:03:20Z"},
		{`"1752329000123"`, "2025-07-12T14:03:20.123Z"},
		{`"1752329000123456"`, "2025-07-12T14:03:20.123456Z"},
		{`"1752329000123456789"`, "2025-07-12T14:03:20.123456789Z"},
		{`"1752329000.25"`, "2025-07-12T14:03:20.25Z"},
		{`"1000000000"`, "2001-09-09T01:46:40Z"},
		{`"9999999999.999999999"`, "2286-11-20T17:46:39.999999999Z"},
		// A string of digits whose epoch reading falls outside 2001-09-09 –
		// 2286-11-20 is more likely a year or an ISO 8601 basic-format date
		// ("2025", "20250712", Python's fromisoformat reads the latter as a date)
		// or a compact date-time ("20250712140305"), none of which has an hour to
		// read: rejected. The same values as JSON numbers are epoch times.
		{`"2025"`, ""},
		{`"202507"`, ""},
		{`"20250712"`, ""},
		{`"202507121403"`, ""},
		{`"20250712140305"`, ""},
		{`"20250712140305123"`, ""},
		{`"0"`, ""},
		{`"999999999"`, ""},
		{`"10000000000"`, ""},
		{`"1e3"`, ""},
		// A compact date and hour has the digits of epoch seconds in the
		// window: it cannot be told from them (documented, not rejected).
		{`"2025071214"`, "2034-03-04T07:46:54Z"},
		{`20250712`, "1970-08-23T09:11:52Z"},
		{`20250712140305`, "2611-09-21T05:49:00.305Z"},
		// RFC 9557's suffix tags, as Java's ZonedDateTime.toString() writes a
		// time: the offset fixes the instant, the time zone name adds nothing to it.
		{`"2025-07-12T16:03:05.123456789+02:00[Europe/Berlin]"`, "2025-07-12T14:03:05.123456789Z"},
		{`"2025-07-12T14:03:05Z[UTC]"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12T14:03:05Z[Etc/UTC][u-ca=iso8601]"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12T09:03:05-05:00[America/New_York]"`, "2025-07-12T14:03:05Z"},
		// Without an offset the instant depends on the zone's rules, which the
		// parser does not have; a critical tag ("!") must be checked, and cannot be.
		{`"2025-07-12T16:03:05[Europe/Berlin]"`, ""},
		{`"2025-07-12T16:03:05+02:00[!Europe/Berlin]"`, ""},
		{`"2025-07-12T16:03:05+02:00[]"`, ""},
		{`"2025-07-12T16:03:05+02:00[Europe/Berlin"`, ""},
		{`"2025-07-12T16:03:05+02:00Europe/Berlin]"`, ""},
		{`"2025-07-12T16:03:05+02:00[a]b]"`, ""},
		{`"2025-07-12[Europe/Berlin]"`, ""},
		// A zone after a space: Ruby's Time#to_s, Go's Time.String (the zone
		// abbreviation after the offset adds nothing to it).
		{`"2025-07-12 14:03:05 +0000"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12 16:03:05 +0200"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12 14:03:05 UTC"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12 14:03:05 GMT"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12T14:03:05.5 Z"`, "2025-07-12T14:03:05.5Z"},
		{`"2025-07-12 14:03:05.123456789 +0000 UTC"`, "2025-07-12T14:03:05.123456789Z"},
		{`"2025-07-12 16:03:05.1 +0200 CEST"`, "2025-07-12T14:03:05.1Z"},
		{`"2025-07-12 17:03:05 +0300 +03"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12 19:33:05 +0530 +0530"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12 11:03:05 -03:00 -03"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12 14:03:05 +0000 UTC+0"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12 14:03:05 +0000 -00"`, "2025-07-12T14:03:05Z"}, // tzdata's Factory zone
		// What follows the offset is a zone's name, not more of the offset: a
		// numeric abbreviation that is another offset, or digits alone, make
		// the offset ambiguous (+05 30 may be +05:30).
		{`"2025-07-12 14:03:05 +05 30"`, ""},
		{`"2025-07-12 14:03:05 +05 3000"`, ""},
		{`"2025-07-12 14:03:05 +0000 +05"`, ""},
		{`"2025-07-12 14:03:05 +0530 +05"`, ""},
		{`"2025-07-12 14:03:05 +05 +0530"`, ""},
		{`"2025-07-12 14:03:05 +0300 -03"`, ""},
		{`"2025-07-12 14:03:05 +0300 +3"`, ""},
		{`"2025-07-12 16:03:05.123456789 +0200 CEST m=+0.000012345"`, "2025-07-12T14:03:05.123456789Z"},
		{`"2025-07-12 14:03:05 +0000 UTC m=-12.500000000"`, "2025-07-12T14:03:05Z"},
		{`"2025-07-12 14:03:05.` + strings.Repeat("9", 80) + ` UTC"`, "2025-07-12T14:03:05.999999999Z"},
		{`"2025-07-12 14:03:05.` + strings.Repeat("9", 80) + `x UTC"`, ""},
		{`"2025-07-12 14:03.` + strings.Repeat("9", 80) + ` UTC"`, ""},
		{`"2025-07-12 14:03:05 +0000 m=+0.000012345"`, ""},
		{`"2025-07-12 14:03:05 +0000 UTC m=+0.0000123"`, ""},
		{`"2025-07-12 14:03:05 +0000 UTC m=0.000012345"`, ""},
		{`"2025-07-12 09:03 -05:00"`, "2025-07-12T14:03:00Z"},
		{`"2025-07-12 14:03:05 +01"`, "2025-07-12T13:03:05Z"},
		{`"2025-07-12 14:03:05 EST"`, ""},  // names more than one offset
		{`"2025-07-12 14:03:05 CEST"`, ""}, // an abbreviation alone
		{`"2025-07-12 14:03:05Z UTC"`, ""}, // two zones
		{`"2025-07-12 14:03:05 +0000 Europe/Berlin"`, ""},
		{`"2025-07-12 14:03:05 +0000 "`, ""},
		{`"2025-07-12 14:03:05  +0000"`, ""},
		{`"2025-07-12 14:03:05 +2400"`, ""},
		{`"2025-02-29 14:03:05 +0000"`, ""},
		{`"9999-12-31 23:30:00 -0100"`, ""},
		// RFC 5322 (RFC 1123 in HTTP): JavaScript's toUTCString(), Python's
		// email.utils.format_datetime.
		{`"Sat, 12 Jul 2025 14:03:05 GMT"`, "2025-07-12T14:03:05Z"},
		{`"Sat, 12 Jul 2025 16:03:05 +0200"`, "2025-07-12T14:03:05Z"},
		{`"Sat, 12 Jul 2025 14:03:05 -0000"`, "2025-07-12T14:03:05Z"},
		{`"12 Jul 2025 10:03:05 -0400"`, "2025-07-12T14:03:05Z"},
		{`"Wed, 1 Jan 2025 00:00 -0800"`, "2025-01-01T08:00:00Z"},
		{`"sat, 12 jul 2025 14:03:05 z"`, "2025-07-12T14:03:05Z"},
		// RFC 5322's obsolete North American names are rejected: Go's
		// time.RFC1123 and Java's "z" write the local zone's abbreviation, and
		// CST is +0800 in Shanghai and Taipei, PST +0800 in Manila, CDT -0400
		// in Havana (RFC 5322 section 4.3 has -0600, -0800, -0500).
		{`"Sat, 12 Jul 2025 22:03:05 CST"`, ""},
		{`"Sat, 12 Jul 2025 22:03:05 PST"`, ""},
		{`"Sat, 12 Jul 2025 10:03:05 CDT"`, ""},
		{`"12 Jul 2025 10:03:05 EDT"`, ""},
		{`"Wed, 1 Jan 2025 00:00 pst"`, ""},
		{`"Sat, 12 Jul 2025 08:03:05 MDT"`, ""},
		{`"sat, 12 JUL 2025 14:03:05 utc"`, "2025-07-12T14:03:05Z"},
		{`"Mon, 12 Jul 2025 14:03:05 GMT"`, "2025-07-12T14:03:05Z"}, // the weekday is not checked
		{`"Sat, 12 Jul 2025 14:03:05 CET"`, ""},
		{`"Sat, 12 Jul 25 14:03:05 GMT"`, ""},
		{`"Sat, 31 Jun 2025 14:03:05 GMT"`, ""},
		{`"Sat, 12 Jul 2025 14:03:05"`, ""},
		{`"Sat, 12 Jul 2025 14:03:05.123 GMT"`, ""},
		{`"Sat, 12 Jul 2025 14:03:05 +02:00"`, ""},
		{`"Xyz, 12 Jul 2025 14:03:05 GMT"`, ""},
		{`"Saturday, 12-Jul-25 14:03:05 GMT"`, ""},
		{`"Sat, 012 Jul 2025 14:03:05 GMT"`, ""},
		// The date command's and Java's Date.toString() layout, in UTC or GMT.
		{`"Sat Jul 12 14:03:05 UTC 2025"`, "2025-07-12T14:03:05Z"},
		{`"Wed Jul  2 14:03:05 GMT 2025"`, "2025-07-02T14:03:05Z"},
		{`"Wed Jul 02 14:03:05 UTC 2025"`, "2025-07-02T14:03:05Z"},
		{`"Sat Jul 12 14:03:05 CST 2025"`, ""}, // Chicago or Shanghai
		{`"Sat Jul 12 14:03:05 2025"`, ""},     // asctime: no zone
		{`"Sat Jul 31 14:03:05 UTC 2025"`, "2025-07-31T14:03:05Z"},
		{`"Sat Jun 31 14:03:05 UTC 2025"`, ""},
		{`"Sat Jul 2 14:03:05 UTC 2025"`, ""},
		{`"Sat Jul 12 14:03 UTC 2025"`, ""},
		{`"Sat Jul 12 14:03:05 utc 2025"`, ""},
		// JavaScript's Date.prototype.toString().
		{`"Sat Jul 12 2025 16:03:05 GMT+0200 (Central European Summer Time)"`, "2025-07-12T14:03:05Z"},
		{`"Sat Jul 12 2025 14:03:05 GMT+0000 (Coordinated Universal Time)"`, "2025-07-12T14:03:05Z"},
		{`"Sat Jul 12 2025 09:03:05 GMT-0500"`, "2025-07-12T14:03:05Z"},
		{`"Sat Jul 12 2025 16:03:05 GMT+0200 (Mitteleuropäische Sommerzeit)"`, "2025-07-12T14:03:05Z"},
		{`"Sat Jul 12 2025 16:03:05 GMT+0200 ()"`, ""},
		{`"Sat Jul 12 2025 16:03:05 GMT+0200 (a (b))"`, ""},
		{`"Sat Jul 12 2025 16:03:05 GMT+0200 (\n)"`, ""},
		{"\"Sat Jul 12 2025 16:03:05 GMT+0200 (\x02)\"", ""}, // not a JSON string
		{`"Sat Jul 12 2025 16:03:05 GMT+0200 CEST"`, ""},
		{`"Sat Jul 12 2025 16:03:05 GMT"`, ""},
		{`"Sat Jul 32 2025 16:03:05 GMT+0200"`, ""},
		{`"Sat Jul 12 2025 16:03:05 GMT+2400"`, ""},
		// Not a JSON string: a quote inside is not escaped.
		{`"2025-07-12T14:03:05Z["]"`, ""},
		{`"2025-07-12T14:03:05Z[Europe/Berlin]"x"`, ""},
		// Escaped, the same tag is a tag.
		{`"2025-07-12T14:03:05Z[\"]"`, "2025-07-12T14:03:05Z"},
		// Escapes are decoded.
		{`"2025-07-12T14:03:05\u002B02:00"`, "2025-07-12T12:03:05Z"},
		// Rejected.
		{`"unknown"`, ""},
		{`""`, ""},
		{`"2025-07-12"`, ""},
		{`"2025-07-12T14"`, ""},
		{`"2025-07-12T24:00:00Z"`, ""},
		{`"2025-07-12T14:60:00Z"`, ""},
		{`"2025-07-12T14:03:60Z"`, ""},
		{`"2025-02-29T14:03:05Z"`, ""},
		{`"2025-13-01T14:03:05Z"`, ""},
		{`"2025-00-01T14:03:05Z"`, ""},
		{`"2025-07-00T14:03:05Z"`, ""},
		{`"2025-07-12T14:03:05."`, ""},
		{`"2025-07-12T14:03:05+24:00"`, ""},
		{`"2025-07-12T14:03:05+02:60"`, ""},
		{`"2025-07-12T14:03:05+2"`, ""},
		{`"2025-07-12T14:03:05Z "`, ""},
		{`"2025-07-12X14:03:05"`, ""},
		{`"25-07-12T14:03:05"`, ""},
		{`"2025-7-12T14:03:05"`, ""},
		{`"12/07/2025 14:03:05"`, ""},
		{`"Sat Jul 12 14:03:05 2025"`, ""},
		{`-1`, ""},
		{`01752329000`, ""},
		{`10000000000000000000`, ""},
		{`1e19`, ""},
		{`1752329000.`, ""},
		{`null`, ""},
		{`true`, ""},
		{`{"s":1}`, ""},
		{`[1]`, ""},
		{`"\u00zz"`, ""},
		{``, ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := record.ParseEventTime([]byte(tc.in))
			if tc.want == "" {
				if ok {
					t.Fatalf("ParseEventTime(%s) = %v, true; want rejected", tc.in, got)
				}
				return
			}
			if !ok || !got.Equal(utc(tc.want)) || got.Location() != time.UTC {
				t.Fatalf("ParseEventTime(%s) = %v, %v; want %s", tc.in, got, ok, tc.want)
			}
		})
	}
}

func TestParseEventTimeString(t *testing.T) {
	got, ok := record.ParseEventTimeString("2025-07-12T14:03:05.123456")
	if want := time.Date(2025, 7, 12, 14, 3, 5, 123456000, time.UTC); !ok || !got.Equal(want) {
		t.Fatalf("ParseEventTimeString = %v, %v; want %v", got, ok, want)
	}
	if _, ok := record.ParseEventTimeString("yesterday"); ok {
		t.Fatal(`ParseEventTimeString("yesterday") accepted`)
	}
}

func TestParseEventTimeAllocs(t *testing.T) {
	for _, in := range []string{`"2025-07-12T14:03:05.123456"`, `"2025-07-12T16:03:05+02:00"`, `1752329000123`, `"unknown"`,
		`1.752329e9`, `"1.752329E+9"`, `17523290001234567890e-10`, "0." + strings.Repeat("0", 100) + "1752329e107",
		`"2025-07-12T16:03:05+02:00[Europe/Berlin]"`, `"20250712"`,
		`"2025-07-12 16:03:05.123456789 +0200 CEST m=+0.000012345"`, `"2025-07-12 14:03:05 UTC"`,
		`"Sat, 12 Jul 2025 14:03:05 GMT"`, `"Sat Jul 12 14:03:05 UTC 2025"`,
		`"Sat Jul 12 2025 16:03:05 GMT+0200 (Central European Summer Time)"`,
		`"2025-07-12 14:03:05.` + strings.Repeat("1", 100) + ` +0000 UTC"`, `"2025-07-12 19:33:05 +05:30 +0530"`, `"2025-07-12 14:03:05 +0000 -00"`, `"2025-07-12 14:03:05` + strings.Repeat("x", 100) + ` UTC"`} {
		b := []byte(in)
		if n := testing.AllocsPerRun(100, func() { record.ParseEventTime(b) }); n != 0 {
			t.Errorf("ParseEventTime(%s) allocates %v times; want 0", in, n)
		}
	}
}

// isoGrammar is the documented string grammar; referenceISO parses what it
// matches with time.Parse, the reference the fast parser must agree with.
var isoGrammar = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$`)

func referenceISO(s string) (time.Time, bool) {
	if !isoGrammar.MatchString(s) {
		return time.Time{}, false
	}
	// Normalize to RFC 3339 with seconds and an offset, then let time.Parse
	// range-check and compute.
	s = s[:10] + "T" + s[11:]
	s = strings.Map(func(r rune) rune {
		if r == 'z' {
			return 'Z'
		}
		return r
	}, s)
	rest := s[16:]
	if !strings.HasPrefix(rest, ":") {
		s, rest = s[:16]+":00"+rest, ":00"+rest
	}
	zone := ""
	if i := strings.IndexAny(rest, "Z+-"); i >= 0 {
		zone, s = rest[i:], s[:16+i]
	}
	switch {
	case zone == "":
		zone = "Z"
	case zone == "Z":
	case len(zone) == 3:
		zone += ":00"
	case len(zone) == 5:
		zone = zone[:3] + ":" + zone[3:]
	}
	if zone != "Z" {
		// RFC 3339's offset range, stricter than time.Parse's.
		h, _ := strconv.Atoi(zone[1:3])
		m, _ := strconv.Atoi(zone[4:6])
		if h > 23 || m > 59 {
			return time.Time{}, false
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s+zone)
	if err != nil {
		return time.Time{}, false
	}
	// ParseEventTime's instants are in years 0000–9999 of UTC.
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// suffixGrammar is a date-time followed by RFC 9557 suffix tags: elective (no
// "!"), printable ASCII without brackets.
var suffixGrammar = regexp.MustCompile(`^([^\[]*)(\[[\x22-\x5a\x5c\x5e-\x7e][\x21-\x5a\x5c\x5e-\x7e]*\])+$`)

// spacedZoneGrammar is a date-time without a zone, a space and a zone: UTC,
// GMT, Z, or an offset and, after a space, an abbreviation.
var spacedZoneGrammar = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (UTC|GMT|Z|[+-]\d{2}(?::?\d{2})?(?: (?:[A-Za-z][A-Za-z0-9+-]{0,5}|[+-]\d{2}(?:\d{2})?)(?: m=[+-]\d+\.\d{9})?)?)$`)

// rfc5322Grammar is RFC 5322's date-time in lower case (asciiLower): weekday,
// day, month, year, hh:mm, :ss, zone.
var rfc5322Grammar = regexp.MustCompile(`^(?:(mon|tue|wed|thu|fri|sat|sun), )?(\d{1,2}) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (\d{4}) (\d{2}:\d{2})(:\d{2})? (ut|utc|gmt|z|[+-]\d{4})$`)

// dateCommandGrammar is the date command's layout with UTC or GMT: weekday,
// month (any case), day (a space for a leading zero), time, zone, year.
var dateCommandGrammar = regexp.MustCompile(`^([A-Za-z]{3}) ([A-Za-z]{3}) (\d\d| \d) (\d{2}:\d{2}:\d{2}) (UTC|GMT) (\d{4})$`)

// jsDateGrammar is JavaScript's Date.prototype.toString(): weekday, month,
// day, year, time, offset, and the zone's name in parentheses.
var jsDateGrammar = regexp.MustCompile(`^([A-Za-z]{3}) ([A-Za-z]{3}) (\d\d) (\d{4}) (\d{2}:\d{2}:\d{2}) GMT([+-]\d{4})(?: \([^()\x00-\x1f]+\))?$`)

var rfc5322Zones = map[string]string{"ut": "Z", "utc": "Z", "gmt": "Z", "z": "Z"}

// asciiLower lowers A–Z only (regexp's (?i) would also fold ſ to s and K to k).
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

var epochGrammar = regexp.MustCompile(`^(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$`)

// referenceEpoch computes the epoch reading exactly with big.Rat.
func referenceEpoch(s string) (time.Time, bool) {
	if !epochGrammar.MatchString(s) {
		return time.Time{}, false
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return time.Time{}, false
	}
	var perSec int64
	switch {
	case r.Cmp(big.NewRat(1e11, 1)) < 0:
		perSec = 1
	case r.Cmp(big.NewRat(1e14, 1)) < 0:
		perSec = 1e3
	case r.Cmp(big.NewRat(1e17, 1)) < 0:
		perSec = 1e6
	case r.Cmp(new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(19), nil))) < 0:
		perSec = 1e9
	default:
		return time.Time{}, false
	}
	ns := new(big.Rat).Mul(r, big.NewRat(1e9, perSec))
	q := new(big.Int).Quo(ns.Num(), ns.Denom()) // truncated nanoseconds
	sec, rem := new(big.Int).QuoRem(q, big.NewInt(1e9), new(big.Int))
	return time.Unix(sec.Int64(), rem.Int64()).UTC(), true
}

// reference is ParseEventTime built from time.Parse and big.Rat (exponents
// included, exactly). skip is true for an exponent too large for big.Rat to
// expand in reasonable time, which the caller does not compare.
func reference(v []byte) (t time.Time, ok bool, skip bool) {
	s := string(v)
	if strings.HasPrefix(s, `"`) {
		if !strings.HasSuffix(s, `"`) || json.Unmarshal(v, &s) != nil {
			return time.Time{}, false, false
		}
		if t, ok := referenceISO(s); ok {
			return t, true, false
		}
		if m := suffixGrammar.FindStringSubmatch(s); m != nil {
			if !isoGrammar.MatchString(m[1]) || isoGrammar.FindStringSubmatch(m[1])[3] == "" {
				return time.Time{}, false, false // no offset
			}
			t, ok := referenceISO(m[1])
			return t, ok, false
		}
		if m := spacedZoneGrammar.FindStringSubmatch(s); m != nil {
			zone := m[2]
			switch zone {
			case "UTC", "GMT":
				zone = "Z"
			default:
				// The abbreviation (and monotonic reading) after an offset; a
				// numeric one must be the same offset.
				f := strings.Fields(zone)
				zone = f[0]
				if len(f) > 1 && (f[1][0] == '+' || f[1][0] == '-') {
					t1, ok1 := referenceISO(m[1] + zone)
					t2, ok2 := referenceISO(m[1] + f[1])
					if !ok1 || !ok2 || !t1.Equal(t2) {
						return time.Time{}, false, false
					}
				}
			}
			t, ok := referenceISO(m[1] + zone)
			return t, ok, false
		}
		if m := rfc5322Grammar.FindStringSubmatch(asciiLower(s)); m != nil {
			zone, ok := rfc5322Zones[m[7]]
			if !ok {
				zone = m[7]
			}
			sec := m[6]
			if sec == "" {
				sec = ":00"
			}
			mon := strings.Index("janfebmaraprmayjunjulaugsepoctnovdec", m[3])/3 + 1
			day, _ := strconv.Atoi(m[2])
			t, ok := referenceISO(fmt.Sprintf("%s-%02d-%02dT%s:%s%s%s", m[4], mon, day, m[5][:2], m[5][3:], sec, zone))
			return t, ok, false
		}
		if m := dateCommandGrammar.FindStringSubmatch(s); m != nil {
			day := strings.Replace(m[3], " ", "0", 1)
			mon := slices.Index(strings.Fields("jan feb mar apr may jun jul aug sep oct nov dec"), asciiLower(m[2])) + 1
			if mon == 0 || !slices.Contains(strings.Fields("mon tue wed thu fri sat sun"), asciiLower(m[1])) {
				return time.Time{}, false, false
			}
			t, ok := referenceISO(fmt.Sprintf("%s-%02d-%sT%sZ", m[6], mon, day, m[4]))
			return t, ok, false
		}
		if m := jsDateGrammar.FindStringSubmatch(s); m != nil {
			mon := slices.Index(strings.Fields("jan feb mar apr may jun jul aug sep oct nov dec"), asciiLower(m[2])) + 1
			if mon == 0 || !slices.Contains(strings.Fields("mon tue wed thu fri sat sun"), asciiLower(m[1])) {
				return time.Time{}, false, false
			}
			t, ok := referenceISO(fmt.Sprintf("%s-%02d-%sT%s%s", m[4], mon, m[3], m[5], m[6]))
			return t, ok, false
		}
		if s == "" || s[0] < '0' || s[0] > '9' {
			return time.Time{}, false, false
		}
		// A string holding an epoch number: only times in [1e9 s, 1e10 s).
		t, ok, skip = referenceNumber(s)
		if ok && (t.Unix() < 1e9 || t.Unix() >= 1e10) {
			ok = false
		}
		return t, ok, skip
	}
	return referenceNumber(s)
}

// referenceNumber is reference for the text of a JSON number.
func referenceNumber(s string) (t time.Time, ok bool, skip bool) {
	if m := floatGrammar.FindStringSubmatch(s); m != nil && m[3] != "" {
		if e, err := strconv.Atoi(strings.TrimLeft(m[3][1:], "+")); err != nil || e > 400 || e < -400 {
			return time.Time{}, false, true
		}
		t, ok = referenceEpoch(s)
		return t, ok, false
	}
	t, ok = referenceEpoch(s)
	return t, ok, false
}

var floatGrammar = regexp.MustCompile(`^(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$`)

func FuzzParseEventTime(f *testing.F) {
	for _, s := range []string{
		`"2025-07-12T14:03:05.123456"`, `"2025-07-12T14:03:05Z"`, `"2025-07-12 14:03:05+05:30"`,
		`"2024-02-29T23:59:59,5-0800"`, `"2025-07-12T14:03"`, `"2025-07-12T14:03:05+01"`,
		`1752329000`, `1752329000.123456`, `1752329000123`, `1752329000123456789`, `"1752329000"`,
		`"9999-12-31T23:59:59.999999999-23:59"`, `"0000-01-01T00:00:00+23:59"`, `"x"`, `-5`,
		`"2025-07-12T16:03:05+02:00[Europe/Berlin]"`, `"2025-07-12T14:03:05Z[UTC][u-ca=iso8601]"`,
		`"2025-07-12 14:03:05.123456789 +0200 CEST"`, `"2025-07-12 14:03:05.1 +0000 UTC m=+0.000012345"`, `"2025-07-12 14:03:05 UTC"`, `"Sat, 12 Jul 2025 14:03:05 GMT"`,
		`"1 jan 2025 00:00 -0830"`, `"Sun, 31 Dec 9999 23:59:59 PST"`, `"Sat Jul  2 14:03:05 UTC 2025"`,
		`"Sat Jul 12 2025 16:03:05 GMT+0200 (Central European Summer Time)"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		got, ok := record.ParseEventTime(v)
		want, wantOK, skip := reference(v)
		if skip {
			return
		}
		if ok != wantOK || (ok && !got.Equal(want)) {
			t.Fatalf("ParseEventTime(%q) = %v, %v; reference %v, %v", v, got, ok, want, wantOK)
		}
		// The explanation of a rejection never explains an accepted time.
		if why := record.EventTimeProblem(v); ok && why != "" {
			t.Fatalf("EventTimeProblem(%q) = %q for an accepted time", v, why)
		}
	})
}

// TestEventTimeProblem checks the reasons for strings whose form is close to an
// accepted one, and that odd short strings (a '[' or 'T' where a field would
// be) get no reason rather than a wrong one, or a panic.
func TestEventTimeProblem(t *testing.T) {
	// What a reason for the date command's layout advises.
	const dateLayoutAdvice = "send the time in UTC, as TZ=UTC date writes it (Www Mmm dd hh:mm:ss UTC yyyy), " +
		"or with the offset, as date -R writes it (Www, dd Mmm yyyy hh:mm:ss ±hhmm)"
	tests := []struct{ value, want string }{
		// A suffix tag that is not a time zone, after a time without an
		// offset: there is no zone name to blame.
		{`"2025-07-12T14:03:05[u-ca=iso8601]"`, "a suffix tag after a date-time without an offset is not read; " +
			"send the offset (Z for UTC) before the tags, as in 2025-07-12T14:03:05Z[u-ca=iso8601]"},
		{`"2025-07-12T14:03:05[Europe/Berlin][u-ca=iso8601]"`, "a time zone name without an offset is not read (the instant depends on the zone's rules); " +
			"send the offset too, as Java's ZonedDateTime.toString() does: 2025-07-12T16:03:05+02:00[Europe/Berlin]"},
		// A number in a string that is not only digits.
		{`"1e3"`, "a number in a string is read as an epoch time only from 2001-09-09 to 2286-11-20 " +
			"(as one, it would be 1970-01-01T00:16:40Z); send a date-time such as 2025-07-12T14:03:05Z, or the epoch time as a JSON number"},
		{`"0.5"`, "a number in a string is read as an epoch time only from 2001-09-09 to 2286-11-20 " +
			"(as one, it would be 1970-01-01T00:00:00.5Z); send a date-time such as 2025-07-12T14:03:05Z, or the epoch time as a JSON number"},
		{`"2025"`, "a string of digits is read as an epoch time only from 2001-09-09 to 2286-11-20 " +
			"(as one, it would be 1970-01-01T00:33:45Z); send a date-time such as 2025-07-12T14:03:05Z, or the epoch time as a JSON number"},
		// Zone names that are not read, and a field out of range before a zone.
		// The reason shows the form to send, not an offset that would be
		// another zone's (-0500 is not CET's).
		{`"2025-07-12 14:03:05 EST"`, "zone EST is not read (a zone abbreviation can name more than one offset); " +
			"send the zone's numeric offset instead (2025-07-12 14:03:05 ±hhmm), or the time in UTC followed by UTC"},
		{`"Sat, 12 Jul 2025 14:03:05 CET"`, "zone CET is not read (a zone abbreviation can name more than one offset); " +
			"send the zone's numeric offset instead (Sat, 12 Jul 2025 14:03:05 ±hhmm), or the time in UTC followed by UTC"},
		{`"Sat, 12 Jul 2025 22:03:05 CST"`, "zone CST is not read (a zone abbreviation can name more than one offset); " +
			"send the zone's numeric offset instead (Sat, 12 Jul 2025 22:03:05 ±hhmm), or the time in UTC followed by UTC"},
		// UTC, GMT and Z in lower case name one offset: the reason says to
		// write them in capitals, not that they are ambiguous.
		{`"2025-07-12 14:03:05 utc"`, "zone utc is read in capitals only; send 2025-07-12 14:03:05 UTC"},
		{`"2025-07-12 14:03:05.5 z"`, "zone z is read in capitals only; send 2025-07-12 14:03:05.5 Z"},
		{`"Sat Jul 12 14:03:05 Gmt 2025"`, "zone Gmt is read in capitals only; send Sat Jul 12 14:03:05 GMT 2025"},
		// AM and PM are not zones.
		{`"2025-07-12 02:03:05 PM"`, "a 12-hour clock (AM, PM) is not read; send the hour 00–23 (14 for 2 PM, 00 for 12 AM) and the offset"},
		{`"Sat, 12 Jul 2025 02:03:05 am"`, "a 12-hour clock (AM, PM) is not read; send the hour 00–23 (14 for 2 PM, 00 for 12 AM) and the offset"},
		{`"2025-02-29 14:03:05 +0000"`, "day 29 is out of range for 2025-02 (01–28)"},
		{`"2025-07-12 24:00:00 UTC"`, "hour 24 is out of range 00–23 (write the end of a day as 00:00 of the next)"},
		{`"Sat Jul 12 14:03:05 CST 2025"`, "zone CST is not read (a zone abbreviation can name more than one offset); " + dateLayoutAdvice},
		// date in Berlin in summer, Java in Sydney: zone names of other lengths.
		{`"Sat Jul 12 16:03:05 CEST 2025"`, "zone CEST is not read (a zone abbreviation can name more than one offset); " + dateLayoutAdvice},
		{`"Sat Jul 13 00:03:05 AEST 2025"`, "zone AEST is not read (a zone abbreviation can name more than one offset); " + dateLayoutAdvice},
		{`"Sat Jul 12 14:03:05 ABCDEFG 2025"`, ""},
		// An offset after a space that is out of range, or that moves the
		// instant out of years 0000–9999, is named as in ISO 8601's form.
		{`"2025-07-12 14:03:05 +2400"`, "offset +2400 is out of range (hours 00–23, minutes 00–59)"},
		{`"2025-07-12 14:03:05 -05:60 X"`, "offset -05:60 is out of range (hours 00–23, minutes 00–59)"},
		{`"9999-12-31 23:30:00 -0100 -01"`, "in UTC it is outside years 0000–9999"},
		{`"2025-07-12 14:03:05 +0000 +05"`, ""},
		{`"Sat Jul 12 14:03:05 Z 2025"`, "zone Z is not read (a zone abbreviation can name more than one offset); " + dateLayoutAdvice},
		{`"Sat Jul 12 14:03:05  2025"`, ""},
		{`"Sat, 31 Jun 2025 14:03:05 XYZ"`, ""},
		{`"2025-07-12 14:03:05 +0000 Europe/Berlin"`, ""},
		// Odd short strings.
		{`"2025-07-12T"`, ""},
		{`"2025-07-12["`, ""},
		{`"2025-07-12T14[]"`, ""},
		{`"2025-07-12T14:0["`, ""},
		{`"2025-07-12[abc]"`, ""},
		{`"[[[[[[[[[[[[[[[[]"`, ""},
		{`"20250712T"`, ""},
		{`"20250712T14"`, ""},
		{`"20250712T14[]"`, ""},
		{`"2025-07-12T14:03:05+"`, ""},
		{`"2025-07-12T14:03:05+0"`, ""},
		{`"2025-07-12T14:03:05+02:"`, ""},
		{`"2025-07-12T14:03:05+02:0"`, ""},
		{`"2025-07-12T14:03:"`, ""},
		{`"2025-07-12T14:03:05,"`, ""},
		{`"["`, ""},
		{`"T"`, ""},
		{`"`, ""},
		{``, ""},
	}
	for _, tc := range tests {
		if got := record.EventTimeProblem([]byte(tc.value)); got != tc.want {
			t.Errorf("EventTimeProblem(%s) = %q; want %q", tc.value, got, tc.want)
		}
	}
}

// FuzzEventTimeProblem checks EventTimeProblem on the JSON string of any text:
// no panic, no reason for an accepted time, and a reason that names a field
// out of range only for text in ParseEventTime's layout.
func FuzzEventTimeProblem(f *testing.F) {
	for _, s := range []string{
		"2025-07-12", "2025-02-30T10:00:00Z", "20250712T140305Z", " 2025-07-12T14:03:05Z", "20250712",
		"2025-07-12T16:03:05[Europe/Berlin]", "2025-07-12T16:03:05+02:00[!Europe/Berlin]", "9999-12-31T23:30:00-01:00",
		"2025-07-12T14:03:05[u-ca=iso8601]", "20250712T14[", "2025-07-12T1[", "1e3",
		"2025-07-12 14:03:05 EST", "Sat, 12 Jul 2025 14:03:05 CET", "2025-02-29 14:03:05 +0000 UTC",
		"Sat Jul 12 14:03:05 CST 2025",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := json.Marshal(s)
		if err != nil {
			return
		}
		why := record.EventTimeProblem(v)
		if _, ok := record.ParseEventTime(v); ok && why != "" {
			t.Fatalf("EventTimeProblem(%s) = %q for an accepted time", v, why)
		}
	})
}
