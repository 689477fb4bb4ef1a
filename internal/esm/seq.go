package esm

import "strings"

// validSeq reports whether s is a Kinesis sequence number: a non-empty string of
// decimal digits [S8].
func validSeq(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compareSeq compares two valid sequence numbers as unbounded integers (AWS
// sequence numbers have about 56 digits, moto's are small: "9" < "10"). It
// returns -1, 0 or +1.
func compareSeq(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return strings.Compare(a, b)
}
