package record

import (
	"bytes"
	"time"
)

// This file reads the textual date-times that producers write with their
// languages' default formatting rather than ISO 8601's: a zone after a space
// (Ruby's Time#to_s, Go's Time.String) and the RFC 5322 date of e-mail and HTTP
// (JavaScript's Date.prototype.toUTCString, Python's email.utils). Each is
// rewritten as the ISO 8601 form it stands for and read by parseISOTime, so
// that range checks and the instant are computed in one place.

// parseSpacedZone reads a date-time in parseISOTime's layout, without an
// offset, followed by a space and a zone:
//
//	2025-07-12 14:03:05 +0000                  Ruby's Time#to_s
//	2025-07-12 14:03:05 UTC                    Ruby's Time#to_s of a UTC time
//	2025-07-12 14:03:05.123456789 +0200 CEST   Go's Time.String
//
// The zone is UTC, GMT or Z, or a numeric offset (±hh, ±hhmm, ±hh:mm) that may
// be followed by a space and a zone abbreviation (isZoneAbbreviation: a letter
// and at most five more letters, digits, + or -, or the offset again, as Go
// writes it for a zone without a name), which the offset makes redundant and
// which is read past (as RFC 9557 tags are), and then by Go's monotonic clock
// reading (m=±s.nnnnnnnnn), read past too. An abbreviation alone (EST, CET,
// IST) is rejected: several of them name more than one offset.
func parseSpacedZone(b []byte) (time.Time, bool) {
	j := bytes.IndexByte(b[16:], ' ')
	if j < 0 {
		return time.Time{}, false
	}
	base, zone := b[:16+j], b[16+j+1:]
	if hasOffset(base) {
		return time.Time{}, false
	}
	// parseISOTime truncates a fraction past nanoseconds: its further digits
	// are dropped here, so that base and the offset fit buf below (no
	// allocation). A longer base is not a date-time.
	if len(base) > 29 && (base[19] == '.' || base[19] == ',') && allDigits(base[20:]) {
		base = base[:29] // YYYY-MM-DD hh:mm:ss.nnnnnnnnn
	}
	if len(base) > 29 {
		return time.Time{}, false
	}
	var off []byte
	switch string(zone) {
	case "UTC", "GMT", "Z":
		off = []byte("Z")
	default:
		n := numericOffsetLen(zone)
		if n == 0 {
			return time.Time{}, false
		}
		off, zone = zone[:n], zone[n:]
		if k := bytes.Index(zone, []byte(" m=")); k > 0 && isMonotonicReading(zone[k+3:]) {
			zone = zone[:k] // Go's monotonic clock reading, after the abbreviation
		}
		if len(zone) > 0 && !isZoneAbbreviation(zone, off) {
			return time.Time{}, false
		}
	}
	var buf [40]byte
	return parseISOTime(append(append(buf[:0], base...), off...))
}

// numericOffsetLen returns the length of the offset ±hh, ±hhmm or ±hh:mm at the
// start of b when the offset is all of b or is followed by a space, else 0.
// parseISOTime checks the offset's range.
func numericOffsetLen(b []byte) int {
	if len(b) < 3 || (b[0] != '+' && b[0] != '-') || !isDigit(b[1]) || !isDigit(b[2]) {
		return 0
	}
	n := 3
	switch {
	case len(b) >= 6 && b[3] == ':' && isDigit(b[4]) && isDigit(b[5]):
		n = 6
	case len(b) >= 5 && isDigit(b[3]) && isDigit(b[4]):
		n = 5
	}
	if n < len(b) && b[n] != ' ' {
		return 0
	}
	return n
}

// isMonotonicReading reports whether b is the monotonic clock reading that Go's
// Time.String appends to a time from time.Now after " m=": a sign, digits, a
// point and nine digits (+0.000012345).
func isMonotonicReading(b []byte) bool {
	if len(b) < 12 || (b[0] != '+' && b[0] != '-') || b[len(b)-10] != '.' {
		return false
	}
	return allDigits(b[1:len(b)-10]) && allDigits(b[len(b)-9:])
}

// isZoneAbbreviation reports whether b is a space followed by a zone
// abbreviation as Go's Time.String writes one after the offset off: a letter
// and at most five more letters, digits, + or - ("CEST", "UTC"), or, for a
// zone without a name, the offset again as ±hh or ±hhmm ("+03" after +0300,
// "+0530" after +0530). A number that is not the offset, or digits alone
// ("+0000 +05", "+05 30"), are rejected: they make the offset ambiguous.
func isZoneAbbreviation(b, off []byte) bool {
	if len(b) < 2 || len(b) > 7 || b[0] != ' ' {
		return false
	}
	name := b[1:]
	if c := name[0]; c == '+' || c == '-' {
		return isSameOffset(name, off)
	}
	if c := name[0]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
		return false
	}
	for _, c := range name[1:] {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

// isSameOffset reports whether the numeric abbreviation name (±hh or ±hhmm)
// is the offset off (±hh, ±hhmm or ±hh:mm, as numericOffsetLen read it).
func isSameOffset(name, off []byte) bool {
	if (len(name) != 3 && len(name) != 5) || !allDigits(name[1:]) || string(name[1:3]) != string(off[1:3]) {
		return false
	}
	offMin, nameMin := "00", "00"
	switch len(off) {
	case 5:
		offMin = string(off[3:5])
	case 6:
		offMin = string(off[4:6])
	}
	if len(name) == 5 {
		nameMin = string(name[3:5])
	}
	// A zero offset has either sign: tzdata's "-00" (an unknown local time,
	// the Factory zone) is written +0000 -00.
	return nameMin == offMin && (name[0] == off[0] || string(name[1:3])+nameMin == "0000")
}

// parseRFC5322 reads the date-time of RFC 5322 (section 3.3; RFC 1123 for
// HTTP), as JavaScript's Date.prototype.toUTCString(), Python's
// email.utils.format_datetime and HTTP's Date header write it:
//
//	Sat, 12 Jul 2025 14:03:05 GMT
//	Sat, 12 Jul 2025 16:03:05 +0200
//	12 Jul 2025 14:03 -0000
//
// The day of the week is optional, and is checked for its form only, as Go's
// time.Parse and Python's email.utils do; the day has one or two digits; the
// seconds are optional; names are read without regard to case. The zone is
// a numeric offset (±hhmm), UT, UTC, GMT or Z; other names are rejected, the
// North American ones RFC 5322's obsolete syntax gives offsets for (EST -0500
// … PDT -0700) among them: a program that writes a name writes its local
// zone's abbreviation, and CST is also +0800 in Shanghai. Comments, folding
// white space and two-digit years (obsolete syntax too) are not read.
func parseRFC5322(b []byte) (time.Time, bool) {
	if len(b) >= 5 && b[3] == ',' && b[4] == ' ' {
		if lookupName(b[:3], weekdayNames) < 0 {
			return time.Time{}, false
		}
		b = b[5:]
	}
	// d[d] Mon YYYY hh:mm[:ss] zone
	dayLen := 1
	if len(b) > 1 && isDigit(b[1]) {
		dayLen = 2
	}
	if len(b) < dayLen+1 || !isDigit(b[0]) || b[dayLen] != ' ' {
		return time.Time{}, false
	}
	day := int(b[0] - '0')
	if dayLen == 2 {
		day = day*10 + int(b[1]-'0')
	}
	b = b[dayLen+1:]
	// Mon YYYY hh:mm: 3+1+4+1+5 bytes, then [:ss], a space and the zone.
	if len(b) < 16 || b[3] != ' ' || b[8] != ' ' || b[11] != ':' {
		return time.Time{}, false
	}
	mon := lookupName(b[:3], monthNames) + 1
	if mon == 0 || !allDigits(b[4:8]) || !allDigits(b[9:11]) || !allDigits(b[12:14]) {
		return time.Time{}, false
	}
	var buf [32]byte
	iso := append(buf[:0], b[4:8]...) // YYYY
	iso = append(iso, '-', byte('0'+mon/10), byte('0'+mon%10), '-', byte('0'+day/10), byte('0'+day%10), 'T')
	iso = append(iso, b[9:14]...) // hh:mm
	rest := b[14:]
	if len(rest) >= 3 && rest[0] == ':' {
		if !allDigits(rest[1:3]) {
			return time.Time{}, false
		}
		iso = append(iso, rest[:3]...)
		rest = rest[3:]
	}
	if len(rest) < 2 || rest[0] != ' ' {
		return time.Time{}, false
	}
	zone := rest[1:]
	if len(zone) == 5 && (zone[0] == '+' || zone[0] == '-') && allDigits(zone[1:]) {
		return parseISOTime(append(iso, zone...))
	}
	if lookupName(zone, zoneNames) < 0 {
		return time.Time{}, false
	}
	return parseISOTime(append(iso, 'Z'))
}

// parseDateCommand reads the layout of the Unix date command and Java's
// Date.toString(), when its zone is UTC or GMT:
//
//	Sat Jul 12 14:03:05 UTC 2025    Java, and date with TZ=UTC
//	Sat Jul  2 14:03:05 GMT 2025    date pads a one-digit day with a space
//
// Other zone names are rejected: these programs print the local zone's
// abbreviation, and the same one names different offsets (CST is -0600 in
// Chicago and +0800 in Shanghai). Without a zone (C's asctime, Python's
// time.ctime()) the layout has no instant, and is rejected too. UTC and GMT are
// taken as offset 0, which they are but for a POSIX TZ that names another
// offset so (TZ=UTC-3 date prints the time three hours east of UTC with "UTC");
// nothing in the text tells the two apart.
func parseDateCommand(b []byte) (time.Time, bool) {
	// Www Mmm dd hh:mm:ss ZZZ yyyy: 28 bytes.
	if len(b) != 28 || b[3] != ' ' || b[7] != ' ' || b[10] != ' ' || b[19] != ' ' || b[23] != ' ' {
		return time.Time{}, false
	}
	if lookupName(b[:3], weekdayNames) < 0 {
		return time.Time{}, false
	}
	mon := lookupName(b[4:7], monthNames) + 1
	if mon == 0 || !isDigit(b[9]) || !(isDigit(b[8]) || b[8] == ' ') || !allDigits(b[24:28]) {
		return time.Time{}, false
	}
	if z := string(b[20:23]); z != "UTC" && z != "GMT" {
		return time.Time{}, false
	}
	d0 := b[8]
	if d0 == ' ' {
		d0 = '0'
	}
	var buf [24]byte
	iso := append(buf[:0], b[24:28]...)
	iso = append(iso, '-', byte('0'+mon/10), byte('0'+mon%10), '-', d0, b[9], 'T')
	iso = append(iso, b[11:19]...)
	return parseISOTime(append(iso, 'Z'))
}

// parseJSDate reads the layout of JavaScript's Date.prototype.toString(), which
// a Date put into a string by concatenation or a template literal gets:
//
//	Sat Jul 12 2025 16:03:05 GMT+0200 (Central European Summer Time)
//
// read by its offset; the zone's name in parentheses, whose text depends on the
// engine and the locale, is read past, and may be missing.
func parseJSDate(b []byte) (time.Time, bool) {
	// Www Mmm dd yyyy hh:mm:ss GMT±hhmm: 33 bytes.
	if len(b) < 33 || b[3] != ' ' || b[7] != ' ' || b[10] != ' ' || b[15] != ' ' || b[24] != ' ' ||
		string(b[25:28]) != "GMT" || (b[28] != '+' && b[28] != '-') || !allDigits(b[29:33]) {
		return time.Time{}, false
	}
	if rest := b[33:]; len(rest) > 0 {
		// " (name)", the name without parentheses or control characters
		// (which a JSON string holds only escaped).
		if len(rest) < 4 || rest[0] != ' ' || rest[1] != '(' || rest[len(rest)-1] != ')' {
			return time.Time{}, false
		}
		for _, c := range rest[2 : len(rest)-1] {
			if c < ' ' || c == '(' || c == ')' {
				return time.Time{}, false
			}
		}
	}
	if lookupName(b[:3], weekdayNames) < 0 {
		return time.Time{}, false
	}
	mon := lookupName(b[4:7], monthNames) + 1
	if mon == 0 || !allDigits(b[8:10]) || !allDigits(b[11:15]) {
		return time.Time{}, false
	}
	var buf [32]byte
	iso := append(buf[:0], b[11:15]...)
	iso = append(iso, '-', byte('0'+mon/10), byte('0'+mon%10), '-', b[8], b[9], 'T')
	iso = append(iso, b[16:24]...)
	return parseISOTime(append(iso, b[28:33]...))
}

var (
	weekdayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	monthNames   = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	// The zone names that RFC 5322 section 4.3 reads as offset 0, and UTC.
	// Its North American names (EST -0500 … PDT -0700) are not read: programs
	// that write names write the local zone's abbreviation, and Go's
	// time.RFC1123 writes CST for Shanghai and Taipei (+0800), PST for Manila
	// (+0800), CDT for Havana (-0400).
	zoneNames = []string{"ut", "utc", "gmt", "z"}
)

// lookupName returns the index of b in names (lower-case ASCII), comparing
// without regard to case, or -1.
func lookupName(b []byte, names []string) int {
	for k, name := range names {
		if len(b) != len(name) {
			continue
		}
		same := true
		for i := range len(b) {
			if b[i]|0x20 != name[i] { // ASCII letters only: names hold nothing else
				same = false
				break
			}
		}
		if same {
			return k
		}
	}
	return -1
}

// textZoneProblem is EventTimeProblem for the forms of this file: a zone name
// other than those read, where the same time with GMT (UTC in the date
// command's layout) is read, and a field or an offset out of range in a
// date-time with its zone after a space. It returns "" for anything else. The
// reasons show the form to send rather than an offset, which would be another
// zone's.
func textZoneProblem(s []byte) string {
	if i := bytes.LastIndexByte(s, ' '); i > 0 && i+1 < len(s) && len(s)-i-1 <= 6 && allLetters(s[i+1:]) {
		withGMT := string(s[:i]) + " GMT"
		if _, ok := ParseEventTimeString(withGMT); ok {
			if why := zoneNameProblem(s[i+1:], string(s[:i])+" ", ""); why != "" {
				return why
			}
			return "zone " + string(s[i+1:]) + " is not read (a zone abbreviation can name more than one offset); " +
				"send the zone's numeric offset instead (" + string(s[:i]) + " ±hhmm), or the time in UTC followed by UTC"
		}
	}
	if n := len(s); n >= 26 && n <= 31 && s[19] == ' ' && s[n-5] == ' ' && allLetters(s[20:n-5]) {
		// The date command's layout, with a zone name of one to six letters
		// (CET, CEST, AEST).
		withUTC := string(s[:20]) + "UTC" + string(s[n-5:])
		if _, ok := ParseEventTimeString(withUTC); ok {
			if why := zoneNameProblem(s[20:n-5], string(s[:20]), string(s[n-5:])); why != "" {
				return why
			}
			return "zone " + string(s[20:n-5]) + " is not read (a zone abbreviation can name more than one offset); " +
				"send the time in UTC, as TZ=UTC date writes it (Www Mmm dd hh:mm:ss UTC yyyy), " +
				"or with the offset, as date -R writes it (Www, dd Mmm yyyy hh:mm:ss ±hhmm)"
		}
	}
	if len(s) > 16 && s[4] == '-' {
		if j := bytes.IndexByte(s[16:], ' '); j >= 0 {
			if base := s[:16+j]; !hasOffset(base) {
				if _, ok := ParseEventTimeString(string(base)); !ok {
					return isoProblem(base)
				}
				// An offset out of range, or one that moves the instant out
				// of years 0000–9999, as ISO 8601's form with it is told.
				zone := s[16+j+1:]
				if n := numericOffsetLen(zone); n > 0 {
					iso := string(base) + string(zone[:n])
					if _, ok := ParseEventTimeString(iso); !ok {
						return isoProblem([]byte(iso))
					}
				}
			}
		}
	}
	return ""
}

// zoneNameProblem is textZoneProblem's reason for a zone name that is not an
// abbreviation: UTC, GMT or Z in lower or mixed case (read in capitals only,
// as Go's time.Parse reads them), with the value to send (before, the name in
// capitals, after), and AM or PM, a 12-hour clock. It returns "" for other
// names.
func zoneNameProblem(name []byte, before, after string) string {
	upper := make([]byte, len(name))
	for i, c := range name {
		upper[i] = c &^ 0x20 // ASCII letters only: name holds nothing else
	}
	switch u := string(upper); u {
	case "UTC", "GMT", "Z":
		if u == string(name) {
			return "" // Z in the date command's layout
		}
		return "zone " + string(name) + " is read in capitals only; send " + before + u + after
	case "AM", "PM":
		return "a 12-hour clock (AM, PM) is not read; send the hour 00–23 (14 for 2 PM, 00 for 12 AM) and the offset"
	}
	return ""
}

func allLetters(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
