package record

import (
	"bytes"
	"encoding/json"
	"time"
	"unsafe"
)

// ParseEventTime reads a record's event time from the raw JSON value v of its time
// member (a JSON string or number, as TopLevelMember returns it). It is the one
// reading of event times: the processor's default transform quarantines a record
// only when ParseEventTime rejects its time, and the aggregator groups a record by
// the hour of the time ParseEventTime returns, so a record's summary hour is the hour
// the processor checked. The result is in UTC.
//
// Strings: a date and a time of day in ISO 8601's extended format,
//
//	YYYY-MM-DD[T|t| ]hh:mm[:ss[(.|,)fraction]][Z|z|±hh:mm|±hhmm|±hh]
//
// which covers RFC 3339 (2025-07-12T14:03:05.123Z, 2025-07-12T16:03:05+02:00), what
// Python's datetime.isoformat() writes for a naive UTC time (2025-07-12T14:03:05.123456,
// or 2025-07-12T14:03:05 when the microseconds are 0), str(datetime) and SQL
// (2025-07-12 14:03:05.123), and Java's Instant.toString(). A time without an offset is
// taken as UTC: that is what the classic recipe's generator means by
// datetime.utcnow().isoformat(), and UTC is the only reading that does not depend on
// where the function runs. The fraction may have any number of digits (digits past
// nanoseconds are truncated). Fields are range-checked as time.Parse does (month
// 01–12, the day within its month, hour 00–23, minute and second 00–59: a leap second
// 60 is rejected, as Go's time package rejects it); an offset's hours are 00–23 and its
// minutes 00–59.
//
// Numbers (and strings holding only such a number, see below): seconds, milliseconds,
// microseconds or nanoseconds since the Unix epoch, told apart by magnitude, because
// producers commonly send Python's time.time() (seconds with a fraction), JavaScript's
// Date.now() or Java's System.currentTimeMillis() (milliseconds), and the magnitudes
// of these units do not overlap for any date between 1973 and 5138:
//
//	v < 1e11          seconds       (1e11 s is the year 5138)
//	1e11 ≤ v < 1e14   milliseconds  (1e11 ms is 1973-03-03)
//	1e14 ≤ v < 1e17   microseconds
//	1e17 ≤ v < 1e19   nanoseconds  (int64 nanoseconds end in 2262)
//
// Fractions and exponents are allowed (1.7520e9), and read exactly: the unit
// is that of the number's value, however it is written. Negative numbers and 1e19 or more
// are rejected: no unit makes them a plausible event time. Every accepted number is
// therefore between 1970 and 5138. A string holding a number is read only when the
// time is from 2001-09-09T01:46:40Z (10^9 s) up to 2286-11-20T17:46:40Z (10^10 s):
// 10-digit seconds, 13-digit milliseconds, 16-digit microseconds, 19-digit
// nanoseconds, with or without a fraction. Other strings of digits ("2025",
// "20250712", "20250712140305") are rejected: they are more often a year, an ISO
// 8601 basic-format date or a compact date-time than a time in the 1970s or after
// 2286, and reading them as epoch numbers would file them in an hour no reader of
// the producer's data would expect. A compact date and hour ("2025071214") has
// the digits of epoch seconds in the window, and is read as them (2034-03-04).
//
// The result is always in years 0000–9999 of UTC, from 0000-01-01T00:00:00Z up to
// but excluding 10000-01-01T00:00:00Z: a string whose offset moves its instant out
// of them (9999-12-31T23:30:00-01:00 is 10000-01-01T00:30Z; 0000-01-01T00:30:00+01:00
// is in the year -1) is rejected, because its UTC hour has no four-digit year and
// the summaries' keys (HOUR#2006-01-02T15) could not hold it.
//
// A date-time with an offset may be followed by RFC 9557 suffix tags, as Java's
// ZonedDateTime.toString() writes it (2025-07-12T16:03:05+02:00[Europe/Berlin]):
// the offset fixes the instant and the tags are read past; a time zone name
// without an offset, and a critical tag ([!Europe/Berlin]), are rejected.
//
// A zone may also follow the date-time after a space: UTC, GMT, Z, or an offset
// that a zone abbreviation may follow, as Ruby's Time#to_s and Go's Time.String
// write it (2025-07-12 14:03:05 +0000, 2025-07-12 14:03:05 UTC,
// 2025-07-12 16:03:05.1 +0200 CEST; see parseSpacedZone). RFC 5322's date-time,
// as JavaScript's toUTCString() and HTTP's Date header write it (Sat, 12 Jul
// 2025 14:03:05 GMT), is read too (see parseRFC5322), and so is the layout of the
// Unix date command and Java's Date.toString() when its zone is UTC or GMT (Sat
// Jul 12 14:03:05 UTC 2025; see parseDateCommand), and JavaScript's
// Date.prototype.toString() (Sat Jul 12 2025 16:03:05 GMT+0200 (Central European
// Summer Time); see parseJSDate). A zone abbreviation without an offset (EST,
// CET, IST, CST) is rejected in every form: several name more than one offset.
//
// Rejected too: a date without a time of day (it has no hour to group by), other
// JSON values (null, booleans, objects, arrays), and any other text. ParseEventTime
// does not allocate unless the string has JSON escapes. It is safe for concurrent use.
func ParseEventTime(v []byte) (time.Time, bool) {
	if len(v) == 0 {
		return time.Time{}, false
	}
	switch c := v[0]; {
	case c == '"':
		s, ok := jsonStringBytes(v)
		if !ok {
			return time.Time{}, false
		}
		if t, ok := parseISOTime(s); ok {
			return t, true
		}
		return parseOtherString(s)
	case c >= '0' && c <= '9':
		return parseEpoch(v)
	}
	return time.Time{}, false
}

// ParseEventTimeString is ParseEventTime for the contents of a JSON string.
func ParseEventTimeString(s string) (time.Time, bool) {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	if t, ok := parseISOTime(b); ok {
		return t, true
	}
	return parseOtherString(b)
}

// parseOtherString reads the string forms that parseISOTime does not: an epoch
// number, a date-time with RFC 9557 suffix tags, one with its zone after a space
// (parseSpacedZone), RFC 5322's date-time (parseRFC5322), the date command's
// (parseDateCommand) and JavaScript's Date.prototype.toString() (parseJSDate).
func parseOtherString(b []byte) (time.Time, bool) {
	if len(b) == 0 {
		return time.Time{}, false
	}
	if c := b[0]; c < '0' || c > '9' {
		if len(b) == 28 && b[3] == ' ' {
			return parseDateCommand(b) // Sat Jul 12 14:03:05 UTC 2025
		}
		if len(b) > 3 && b[3] == ' ' {
			return parseJSDate(b) // Sat Jul 12 2025 14:03:05 GMT+0000 (…)
		}
		return parseRFC5322(b) // Sat, 12 Jul 2025 …
	}
	switch {
	case b[len(b)-1] == ']':
		return parseSuffixed(b)
	case len(b) > 16 && b[4] == '-':
		return parseSpacedZone(b)
	case len(b) > 2 && (b[1] == ' ' || b[2] == ' '):
		return parseRFC5322(b) // 12 Jul 2025 …
	}
	return parseEpochString(b)
}

// parseSuffixed reads a date-time with an offset followed by RFC 9557 suffix tags
// (https://www.rfc-editor.org/rfc/rfc9557#section-4.1), as Java's
// ZonedDateTime.toString() writes one: 2025-07-12T16:03:05+02:00[Europe/Berlin],
// 2025-07-12T14:03:05Z[UTC], …[u-ca=iso8601]. The offset fixes the instant, so
// the tags are read past. A time zone without an offset is rejected (its instant
// depends on the zone's rules), and so is a critical tag ([!…]), which RFC 9557
// (section 3.3) requires a reader to act on or refuse.
func parseSuffixed(b []byte) (time.Time, bool) {
	i := bytes.IndexByte(b, '[')
	if i < 16 || !hasOffset(b[:i]) {
		return time.Time{}, false
	}
	for rest := b[i:]; len(rest) > 0; {
		j := bytes.IndexByte(rest, ']')
		if rest[0] != '[' || j < 2 || rest[1] == '!' {
			return time.Time{}, false
		}
		for _, c := range rest[1:j] {
			if c <= ' ' || c > '~' || c == '[' {
				return time.Time{}, false
			}
		}
		rest = rest[j+1:]
	}
	return parseISOTime(b[:i])
}

// hasOffset reports whether the date-time b (at least 16 bytes) ends in Z or an
// offset.
func hasOffset(b []byte) bool {
	if c := b[len(b)-1]; c == 'Z' || c == 'z' {
		return true
	}
	return bytes.ContainsAny(b[16:], "+-")
}

// The epoch times a string of digits may hold, in Unix seconds: from
// 2001-09-09T01:46:40Z (10^9 s) up to but excluding 2286-11-20T17:46:40Z (10^10 s),
// the times whose seconds, milliseconds, microseconds and nanoseconds have 10, 13, 16
// and 19 integer digits.
const (
	epochStringFrom  = 1e9
	epochStringUntil = 1e10
)

// parseEpochString reads the contents of a JSON string as an epoch number, as
// parseEpoch does, but only when the time is in [epochStringFrom, epochStringUntil).
// A string of digits outside that window is more often something else: a year
// ("2025"), an ISO 8601 basic-format date ("20250712", which Python's
// datetime.fromisoformat reads as 2025-07-12) or a compact date-time
// ("20250712140305"), which as epoch numbers would be silently filed in 1970 or
// in 2611. A JSON number is a count, and is read over parseEpoch's whole range.
func parseEpochString(b []byte) (time.Time, bool) {
	t, ok := parseEpoch(b)
	if !ok {
		return time.Time{}, false
	}
	if u := t.Unix(); u < epochStringFrom || u >= epochStringUntil {
		return time.Time{}, false
	}
	return t, true
}

// jsonStringBytes returns the contents of the JSON string v: aliasing v when it has
// no escapes, decoded by encoding/json (which allocates) when it has. A quote
// inside v that is not escaped ends the string before v's end: v is not one
// JSON string (RFC 3339 and epoch strings cannot hold a quote, but a suffix
// tag's characters could).
func jsonStringBytes(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return nil, false
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '"' {
			return nil, false
		}
		if c == '\\' {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, false
			}
			return []byte(s), true
		}
	}
	return inner, true
}

// digits2 reads two ASCII digits at b[i:i+2].
func digits2(b []byte, i int) (int, bool) {
	if i+2 > len(b) {
		return 0, false
	}
	d0, d1 := b[i]-'0', b[i+1]-'0'
	if d0 > 9 || d1 > 9 {
		return 0, false
	}
	return int(d0)*10 + int(d1), true
}

var daysBefore = [...]int{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// parseISOTime parses the string grammar of ParseEventTime.
func parseISOTime(b []byte) (time.Time, bool) {
	// YYYY-MM-DD?hh:mm is the shortest accepted form.
	if len(b) < 16 || b[4] != '-' || b[7] != '-' || b[13] != ':' {
		return time.Time{}, false
	}
	if sep := b[10]; sep != 'T' && sep != 't' && sep != ' ' {
		return time.Time{}, false
	}
	hi, ok1 := digits2(b, 0)
	lo, ok2 := digits2(b, 2)
	mon, ok3 := digits2(b, 5)
	day, ok4 := digits2(b, 8)
	hour, ok5 := digits2(b, 11)
	min, ok6 := digits2(b, 14)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	year := hi*100 + lo
	if mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 {
		return time.Time{}, false
	}
	dim := daysBefore[mon] - daysBefore[mon-1]
	if mon == 2 && isLeap(year) {
		dim++
	}
	if day > dim {
		return time.Time{}, false
	}
	i := 16
	sec, nsec := 0, 0
	if i < len(b) && b[i] == ':' {
		s, ok := digits2(b, i+1)
		if !ok || s > 59 {
			return time.Time{}, false
		}
		sec = s
		i += 3
		if i < len(b) && (b[i] == '.' || b[i] == ',') {
			i++
			start := i
			scale := 100000000
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				nsec += int(b[i]-'0') * scale
				scale /= 10
				i++
			}
			if i == start {
				return time.Time{}, false
			}
		}
	}
	offset := 0
	if i < len(b) {
		switch b[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			sign := 1
			if b[i] == '-' {
				sign = -1
			}
			oh, ok := digits2(b, i+1)
			if !ok || oh > 23 {
				return time.Time{}, false
			}
			i += 3
			om := 0
			if i < len(b) {
				if b[i] == ':' {
					i++
				}
				m, ok := digits2(b, i)
				if !ok || m > 59 {
					return time.Time{}, false
				}
				om = m
				i += 2
			}
			offset = sign * (oh*3600 + om*60)
		default:
			return time.Time{}, false
		}
	}
	if i != len(b) {
		return time.Time{}, false
	}
	// Days since 1970-01-01 of the date (proleptic Gregorian, as package time).
	days := daysSinceEpoch(year, mon, day)
	unix := int64(days)*86400 + int64(hour*3600+min*60+sec) - int64(offset)
	if unix < minEventUnix || unix >= maxEventUnix {
		// An offset moved the instant out of years 0000–9999 (9999-12-31T23:30-01:00).
		return time.Time{}, false
	}
	return time.Unix(unix, int64(nsec)).UTC(), true
}

// The accepted instants, [0000-01-01T00:00:00Z, 10000-01-01T00:00:00Z) in Unix
// seconds: a UTC time outside them has no four-digit year, and the hour of every
// accepted time must fit layouts such as the summaries' HOUR#2006-01-02T15.
const (
	minEventUnix = -62167219200
	maxEventUnix = 253402300800
)

// daysSinceEpoch counts days from 1970-01-01 to the date (year 0 to 9999).
func daysSinceEpoch(y, m, d int) int {
	// Shift to a year starting on March 1 so the leap day is last
	// (H. Hinnant's days_from_civil).
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// Unit boundaries of epoch numbers, see ParseEventTime.
const (
	epochMillisFrom = 1e11
	epochMicrosFrom = 1e14
	epochNanosFrom  = 1e17
	epochNanosUntil = 1e19
)

// parseEpoch reads a JSON number (non-negative) as an epoch time.
func parseEpoch(b []byte) (time.Time, bool) {
	// Integer part: no leading zeros as in JSON, except a lone 0. Its value is
	// taken as it is scanned (wrapping past 19 digits, which only an exponent
	// can make a time).
	i := 0
	var ip uint64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		ip = ip*10 + uint64(b[i]-'0')
		i++
	}
	intEnd := i
	if intEnd == 0 || (intEnd > 1 && b[0] == '0') {
		return time.Time{}, false
	}
	fracStart, fracEnd := i, i
	if i < len(b) && b[i] == '.' {
		i++
		fracStart = i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		fracEnd = i
		if fracEnd == fracStart {
			return time.Time{}, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		return parseEpochExponent(b[:intEnd], b[fracStart:fracEnd], b[i+1:])
	}
	// At most 19 integer digits (< 1e19).
	if i != len(b) || intEnd > 19 {
		return time.Time{}, false
	}
	var perSec uint64 // units per second
	switch {
	case ip < epochMillisFrom:
		perSec = 1
	case ip < epochMicrosFrom:
		perSec = 1e3
	case ip < epochNanosFrom:
		perSec = 1e6
	default:
		perSec = 1e9
	}
	sec := ip / perSec
	nanoPerUnit := uint64(1e9) / perSec
	nsec := (ip % perSec) * nanoPerUnit
	// The fraction of one unit, in nanoseconds, truncated.
	scale := nanoPerUnit / 10
	for j := fracStart; j < fracEnd && scale > 0; j++ {
		nsec += uint64(b[j]-'0') * scale
		scale /= 10
	}
	return time.Unix(int64(sec), int64(nsec)).UTC(), true
}

// epochFractionDigits is how many digits after the point parseEpochExponent
// keeps: more than any unit's nanosecond needs (parseEpoch truncates past it).
const epochFractionDigits = 30

// parseEpochExponent reads the number intPart.frac e exp (digits, as parseEpoch
// checked them; frac may be empty) by writing it without an exponent, moving
// the decimal point, and reading that with parseEpoch: exactly, so that the
// unit a number is read in depends on its value alone (99999999999.9999999e0
// is seconds, as 99999999999.9999999 is, where a float64 would round it to
// 1e11, milliseconds). It does not allocate.
func parseEpochExponent(intPart, frac, exp []byte) (time.Time, bool) {
	neg := false
	if len(exp) > 0 && (exp[0] == '+' || exp[0] == '-') {
		neg = exp[0] == '-'
		exp = exp[1:]
	}
	if len(exp) == 0 {
		return time.Time{}, false
	}
	// The exponent saturates: beyond ±(digits + 50) every number is 0 to the
	// nanosecond, or 1e19 or more.
	n := len(intPart) + len(frac)
	limit := n + epochFractionDigits + 20
	x := 0
	for _, c := range exp {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		if x <= limit {
			x = x*10 + int(c-'0')
		}
	}
	x = min(x, limit)
	if neg {
		x = -x
	}
	digit := func(k int) byte {
		if k < len(intPart) {
			return intPart[k]
		}
		return frac[k-len(intPart)]
	}
	// z is the first significant digit; the decimal point is after point
	// digits counted from it.
	z := 0
	for z < n && digit(z) == '0' {
		z++
	}
	if z == n {
		return time.Unix(0, 0).UTC(), true // zero
	}
	point := len(intPart) + x - z
	if point > 19 {
		return time.Time{}, false // 1e19 or more
	}
	var buf [64]byte
	out := buf[:0]
	switch {
	case point <= 0:
		out = append(out, '0', '.')
		for range min(-point, epochFractionDigits) {
			out = append(out, '0')
		}
		for k := z; k < n && len(out) < 2+epochFractionDigits; k++ {
			out = append(out, digit(k))
		}
	default:
		for k := z; k < z+point; k++ {
			if k < n {
				out = append(out, digit(k))
			} else {
				out = append(out, '0')
			}
		}
		if z+point < n {
			out = append(out, '.')
			for k := z + point; k < n && k < z+point+epochFractionDigits; k++ {
				out = append(out, digit(k))
			}
		}
	}
	return parseEpoch(out)
}
