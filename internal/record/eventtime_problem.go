package record

import (
	"bytes"
	"fmt"
	"time"
)

// EventTimeProblem says, for a quarantine reason, why ParseEventTime rejects the
// JSON string v and what to send instead: a field out of range, a date without a
// time of day, ISO 8601's basic format, spaces around the time, a number in a
// string outside the epoch times strings are read as, RFC 9557 suffix tags
// after a time without an offset, or critical ones, or a zone name that is not
// read (EST, CET). It returns "" when
// ParseEventTime accepts v, when v is not a JSON string, and when there is nothing
// more specific to say than that v is not a date-time (text such as "yesterday").
// It is for the rejection path: unlike ParseEventTime it allocates.
func EventTimeProblem(v []byte) string {
	if len(v) == 0 || v[0] != '"' {
		return ""
	}
	if _, ok := ParseEventTime(v); ok {
		return ""
	}
	s, ok := jsonStringBytes(v)
	if !ok {
		return ""
	}
	if t := bytes.TrimSpace(s); len(t) != len(s) {
		if _, ok := ParseEventTimeString(string(t)); ok {
			return "it has spaces around it; send the time alone"
		}
		return ""
	}
	if t, ok := parseEpoch(s); ok {
		// parseEpochString rejected it: outside the window of digit strings.
		what := "a string of digits"
		if !allDigits(s) {
			what = "a number in a string" // with a fraction or an exponent
		}
		return fmt.Sprintf("%s is read as an epoch time only from 2001-09-09 to 2286-11-20 "+
			"(as one, it would be %s); send a date-time such as 2025-07-12T14:03:05Z, or the epoch time as a JSON number",
			what, t.Format(time.RFC3339Nano))
	}
	if i := bytes.IndexByte(s, '['); i >= 16 && s[len(s)-1] == ']' {
		base := s[:i]
		if _, ok := ParseEventTimeString(string(base)); !ok {
			return isoProblem(base)
		}
		first := s[i : i+bytes.IndexByte(s[i:], ']')] // s ends in ]
		switch {
		case !hasOffset(base) && bytes.IndexByte(first, '=') >= 0:
			// The first tag is a suffix-key tag ([u-ca=iso8601]), not a time
			// zone (RFC 9557 section 4.1).
			return "a suffix tag after a date-time without an offset is not read; " +
				"send the offset (Z for UTC) before the tags, as in 2025-07-12T14:03:05Z[u-ca=iso8601]"
		case !hasOffset(base):
			return "a time zone name without an offset is not read (the instant depends on the zone's rules); " +
				"send the offset too, as Java's ZonedDateTime.toString() does: 2025-07-12T16:03:05+02:00[Europe/Berlin]"
		case bytes.Contains(s[i:], []byte("[!")):
			return "a critical suffix tag ([!…]) is not read; send it without the !"
		}
		return ""
	}
	if ext, ok := basicToExtended(s); ok {
		return "ISO 8601's basic format (without - and :) is not read; send the extended format, " + ext
	}
	if why := textZoneProblem(s); why != "" {
		return why
	}
	return isoProblem(s)
}

// basicToExtended rewrites an ISO 8601 basic-format date-time
// (YYYYMMDDThhmm[ss[.fraction]][zone]) in the extended format, when that is an
// event time.
func basicToExtended(b []byte) (string, bool) {
	if len(b) < 13 || (b[8] != 'T' && b[8] != 't') || !allDigits(b[:8]) || !allDigits(b[9:13]) {
		return "", false
	}
	ext := string(b[0:4]) + "-" + string(b[4:6]) + "-" + string(b[6:8]) + "T" + string(b[9:11]) + ":" + string(b[11:13])
	rest := b[13:]
	if len(rest) >= 2 && allDigits(rest[:2]) {
		ext += ":" + string(rest[:2])
		rest = rest[2:]
	}
	ext += string(rest)
	if _, ok := ParseEventTimeString(ext); !ok {
		return "", false
	}
	return ext, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isoProblem names the field of a string in ParseEventTime's ISO 8601 layout
// that is out of range, or says that the string is a date alone. It returns ""
// for strings of another layout.
func isoProblem(b []byte) string {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' || !allDigits(b[0:4]) || !allDigits(b[5:7]) || !allDigits(b[8:10]) {
		return ""
	}
	year, _ := digits2(b, 0)
	lo, _ := digits2(b, 2)
	year = year*100 + lo
	mon, _ := digits2(b, 5)
	day, _ := digits2(b, 8)
	if len(b) > 10 {
		if sep := b[10]; (sep != 'T' && sep != 't' && sep != ' ') || len(b) < 16 || b[13] != ':' ||
			!allDigits(b[11:13]) || !allDigits(b[14:16]) {
			return ""
		}
	}
	if mon < 1 || mon > 12 {
		return fmt.Sprintf("month %02d is out of range 01–12", mon)
	}
	dim := daysBefore[mon] - daysBefore[mon-1]
	if mon == 2 && isLeap(year) {
		dim++
	}
	if day < 1 || day > dim {
		return fmt.Sprintf("day %02d is out of range for %04d-%02d (01–%02d)", day, year, mon, dim)
	}
	if len(b) == 10 {
		return "a date without a time of day has no hour; add one, as in " + string(b) + "T00:00:00Z"
	}
	hour, _ := digits2(b, 11)
	min, _ := digits2(b, 14)
	if hour > 23 {
		if hour == 24 {
			return "hour 24 is out of range 00–23 (write the end of a day as 00:00 of the next)"
		}
		return fmt.Sprintf("hour %02d is out of range 00–23", hour)
	}
	if min > 59 {
		return fmt.Sprintf("minute %02d is out of range 00–59", min)
	}
	i := 16
	if i < len(b) && b[i] == ':' {
		sec, ok := digits2(b, i+1)
		if !ok {
			return ""
		}
		if sec > 59 {
			if sec == 60 {
				return "second 60 is out of range 00–59 (leap seconds are not read)"
			}
			return fmt.Sprintf("second %02d is out of range 00–59", sec)
		}
		i += 3
		if i < len(b) && (b[i] == '.' || b[i] == ',') {
			i++
			start := i
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				i++
			}
			if i == start {
				return ""
			}
		}
	}
	if i < len(b) {
		switch b[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			start := i
			oh, ok := digits2(b, i+1)
			if !ok {
				return ""
			}
			i += 3
			om := 0
			if i < len(b) {
				if b[i] == ':' {
					i++
				}
				if om, ok = digits2(b, i); !ok {
					return ""
				}
				i += 2
			}
			if oh > 23 || om > 59 {
				return fmt.Sprintf("offset %s is out of range (hours 00–23, minutes 00–59)", b[start:i])
			}
		default:
			return ""
		}
	}
	if i != len(b) {
		return ""
	}
	// Every field is in range: what parseISOTime rejected is the instant.
	return "in UTC it is outside years 0000–9999"
}
