package record

import (
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"
)

// CompareSequenceNumbers compares two Kinesis sequence numbers as the unsigned
// decimal integers they are (AWS's are about 56 digits, so they overflow every
// machine integer, and comparing them as strings is wrong when lengths differ). It
// returns -1, 0 or +1, or an error if either is not a decimal number.
func CompareSequenceNumbers(a, b string) (int, error) {
	na, err := parseSequenceNumber(a)
	if err != nil {
		return 0, err
	}
	nb, err := parseSequenceNumber(b)
	if err != nil {
		return 0, err
	}
	return na.Cmp(nb), nil
}

// ValidSequenceNumber reports whether s is a Kinesis sequence number: a non-empty
// string of decimal digits.
func ValidSequenceNumber(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseSequenceNumber(s string) (*big.Int, error) {
	if !ValidSequenceNumber(s) {
		return nil, fmt.Errorf("invalid sequence number %q: want decimal digits", s)
	}
	n, _ := new(big.Int).SetString(s, 10)
	return n, nil
}

func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
