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

// MaxSequenceNumberDigits is the most digits a Kinesis sequence number has: the
// API's pattern is 0|([1-9]\d{0,128})
// (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_SequenceNumberRange.html).
const MaxSequenceNumberDigits = 129

// ValidSequenceNumber reports whether s is a Kinesis sequence number: 1 to
// MaxSequenceNumberDigits decimal digits (leading zeros are allowed, as a
// number's value does not change with them).
func ValidSequenceNumber(s string) bool {
	if s == "" || len(s) > MaxSequenceNumberDigits {
		return false
	}
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !digits8(s[i : i+8]) {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// digits8 reports whether the eight bytes of t are all decimal digits, in one
// 64-bit test: with no byte >= 0x80, adding 0x50 to a byte sets its high bit
// exactly when the byte is >= '0', and adding 0x46 exactly when it is > '9',
// and neither sum carries into the next byte.
func digits8(t string) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	x := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
	return x&highs == 0 && (x+0x50*ones)&highs == highs && (x+0x46*ones)&highs == 0
}

func parseSequenceNumber(s string) (*big.Int, error) {
	if !ValidSequenceNumber(s) {
		return nil, fmt.Errorf("invalid sequence number %q: want 1 to %d decimal digits", s, MaxSequenceNumberDigits)
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
