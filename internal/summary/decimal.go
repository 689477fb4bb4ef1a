package summary

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Decimal is an exact decimal number, coefficient × 10^-scale, so that sums of
// readings such as 21.43 add up without binary rounding, the way DynamoDB's own
// number type (38 significant digits, decimal) adds them. The zero value is 0.
// Decimals are immutable values and safe for concurrent use.
type Decimal struct {
	small int64
	big   *big.Int // when non-nil, the coefficient (small is unused); never mutated
	scale int32    // ≥ 0
}

// Bounds of the numbers Decimal parses: DynamoDB stores magnitudes from 1e-130 to
// 1e126 with 38 significant digits.
const (
	maxScale    = 130
	maxExponent = 126
)

// The summable domain: a numeric field's value is summed only when it is 0 or its
// significant digits lie between 10^-summableMinExponent and below
// 10^summableMaxExponent, that is |v| < 1e12 and v is an exact multiple of 1e-21.
// Such a value has at most 12 + 21 = 33 significant digits, and so does any sum of
// such values below 1e12. DynamoDB numbers hold 38 (and DynamoDB rejects an update
// whose result needs more, which would fail the object's transaction), which leaves
// 5 digits of headroom: a sum stays storable exactly as long as it is below 1e17,
// which takes more than 100,000 values at the extreme magnitude, and about 10^13
// readings of realistic sizes (|v| < 1e4). Sums and the deltas of overwritten
// objects are multiples of 1e-21 too, so they never need more fraction digits.
// Python float reprs (0.30000000000000004, 23.456789012345678, 1.5e-07) are inside.
const (
	summableMaxExponent = 12
	summableMinExponent = 21
)

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// errNumber is returned for text that is not a number.
var errNumber = errors.New("not a decimal number")

// ParseDecimal parses a JSON number or a DynamoDB number (which may carry a leading
// '+' and an exponent, e.g. "1E+3").
func ParseDecimal(s string) (Decimal, error) {
	d, ok := parseNumber([]byte(strings.TrimPrefix(s, "+")))
	if !ok {
		return Decimal{}, fmt.Errorf("parse decimal %q: %w", s, errNumber)
	}
	return d, nil
}

// parseNumber parses b, which must be exactly one JSON number
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; leading zeros are tolerated). It
// reports false for anything else and for magnitudes outside DynamoDB's range.
func parseNumber(b []byte) (Decimal, bool) {
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	var c coefficient
	frac := 0
	start := i
	sawDigit := false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sawDigit = true
		c.add(b[i])
	}
	intEnd := i
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			c.add(b[i])
			frac++
		}
		if i == fs {
			return Decimal{}, false
		}
	}
	if !sawDigit {
		return Decimal{}, false
	}
	exp := 0
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		es := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if exp < 100000 {
				exp = exp*10 + int(b[i]-'0')
			}
		}
		if i == es {
			return Decimal{}, false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(b) {
		return Decimal{}, false
	}
	scale := frac - exp
	if c.overflow {
		// Rare: more than 18 significant digits. Rebuild the coefficient exactly.
		var sb strings.Builder
		for _, c := range b[start:intEnd] {
			sb.WriteByte(c)
		}
		if intEnd < len(b) && b[intEnd] == '.' {
			for j := intEnd + 1; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
				sb.WriteByte(b[j])
			}
		}
		digits := sb.String()
		if scale > maxScale {
			// Trailing zeros are no digits (21.5 written with 140 fraction digits
			// is 21.5): drop them from the text, before the conversion, whose cost
			// grows with the square of the digits.
			n := len(digits) - len(strings.TrimRight(digits, "0"))
			n = min(n, scale-maxScale)
			digits, scale = digits[:len(digits)-n], scale-n
		}
		bi, ok := new(big.Int).SetString(digits, 10)
		if !ok {
			return Decimal{}, false
		}
		if neg {
			bi.Neg(bi)
		}
		if bi.IsInt64() {
			return normalizeScale(Decimal{small: bi.Int64()}, scale)
		}
		return normalizeScale(Decimal{big: bi}, scale)
	}
	if c.v == 0 {
		return Decimal{}, true
	}
	small := int64(c.v)
	if neg {
		small = -small
	}
	return normalizeScale(Decimal{small: small}, scale)
}

// coefficient accumulates the significant digits of a number's integer and
// fraction parts: leading zeros are skipped, and past 18 digits (what an int64
// holds for sure) it only records overflow.
type coefficient struct {
	v        uint64
	digits   int
	overflow bool
}

// add appends decimal digit d.
func (c *coefficient) add(d byte) {
	if c.v == 0 && d == '0' {
		return
	}
	if c.digits < 18 {
		c.v = c.v*10 + uint64(d-'0')
	} else {
		c.overflow = true
	}
	c.digits++
}

// normalizeScale gives d the given scale, turning a negative scale into a larger
// coefficient, and rejects magnitudes DynamoDB cannot store. Trailing zeros of
// the coefficient are no digits: a scale past maxScale is first reduced by them,
// so that 21.5 written with 140 fraction digits is 21.5.
func normalizeScale(d Decimal, scale int) (Decimal, bool) {
	if scale > maxScale {
		d, scale = trimZeros(d, scale)
	}
	if scale > maxScale || -scale > maxExponent {
		return Decimal{}, false
	}
	if scale >= 0 {
		d.scale = int32(scale)
		return d, true
	}
	return d.rescale(int32(-scale)), true
}

// trimZeros divides d's coefficient by 10 for each trailing zero while scale is
// above maxScale, and returns the coefficient and the scale it leaves. A
// coefficient of more than 18 digits has lost its trailing zeros in parseNumber.
func trimZeros(d Decimal, scale int) (Decimal, int) {
	for d.big == nil && scale > maxScale && d.small != 0 && d.small%10 == 0 {
		d.small /= 10
		scale--
	}
	return d, scale
}

// summable reports whether d is in the summable domain (see summableMaxExponent):
// 0, or |d| < 10^summableMaxExponent and d a multiple of 10^-summableMinExponent.
func (d Decimal) summable() bool {
	if d.big == nil {
		if d.small == 0 {
			return true
		}
		if d.scale <= summableMinExponent {
			// |coefficient| < 10^(12+scale); an int64 is below 10^19.
			if e := summableMaxExponent + int(d.scale); e < len(pow10) {
				return d.small < pow10[e] && d.small > -pow10[e]
			}
			return true
		}
	}
	c := d.coefBig()
	if c.Sign() == 0 {
		return true
	}
	scale := int64(d.scale)
	if scale > summableMinExponent {
		// Digits below 10^-21 must all be zeros.
		m := new(big.Int).Exp(big.NewInt(10), big.NewInt(scale-summableMinExponent), nil)
		q, r := new(big.Int).QuoRem(c, m, new(big.Int))
		if r.Sign() != 0 {
			return false
		}
		c, scale = q, summableMinExponent
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(summableMaxExponent+scale), nil)
	return c.CmpAbs(limit) < 0
}

// coefBig returns the coefficient as a new big.Int.
func (d Decimal) coefBig() *big.Int {
	if d.big != nil {
		return new(big.Int).Set(d.big)
	}
	return big.NewInt(d.small)
}

// rescale multiplies the coefficient by 10^by (the value changes unless the caller
// adjusts the scale; callers use it to align scales).
func (d Decimal) rescale(by int32) Decimal {
	if by == 0 {
		return d
	}
	if d.big == nil && by < int32(len(pow10)) {
		p := pow10[by]
		if d.small == 0 {
			return Decimal{scale: d.scale}
		}
		if d.small <= math.MaxInt64/p && d.small >= math.MinInt64/p {
			return Decimal{small: d.small * p, scale: d.scale}
		}
	}
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(by)), nil)
	return Decimal{big: m.Mul(m, d.coefBig()), scale: d.scale}
}

// align returns a and b with equal scales.
func align(a, b Decimal) (Decimal, Decimal) {
	switch {
	case a.scale < b.scale:
		a = a.rescale(b.scale - a.scale)
		a.scale = b.scale
	case b.scale < a.scale:
		b = b.rescale(a.scale - b.scale)
		b.scale = a.scale
	}
	return a, b
}

// Add returns d + e exactly.
func (d Decimal) Add(e Decimal) Decimal {
	d, e = align(d, e)
	if d.big == nil && e.big == nil {
		s := d.small + e.small
		// Overflow iff both operands have the same sign and the sum's sign differs.
		if (d.small >= 0) != (e.small >= 0) || (s >= 0) == (d.small >= 0) {
			return Decimal{small: s, scale: d.scale}
		}
	}
	return Decimal{big: new(big.Int).Add(d.coefBig(), e.coefBig()), scale: d.scale}.shrink()
}

// Neg returns -d.
func (d Decimal) Neg() Decimal {
	if d.big == nil && d.small != math.MinInt64 {
		return Decimal{small: -d.small, scale: d.scale}
	}
	return Decimal{big: new(big.Int).Neg(d.coefBig()), scale: d.scale}.shrink()
}

// Sub returns d - e exactly.
func (d Decimal) Sub(e Decimal) Decimal { return d.Add(e.Neg()) }

// shrink turns a big coefficient that fits in an int64 back into the small form.
func (d Decimal) shrink() Decimal {
	if d.big != nil && d.big.IsInt64() {
		return Decimal{small: d.big.Int64(), scale: d.scale}
	}
	return d
}

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	if d.big != nil {
		return d.big.Sign()
	}
	switch {
	case d.small < 0:
		return -1
	case d.small > 0:
		return 1
	}
	return 0
}

// IsZero reports whether d == 0.
func (d Decimal) IsZero() bool { return d.Sign() == 0 }

// Cmp compares d and e: -1 if d < e, 0 if equal (whatever their trailing zeros),
// +1 if d > e.
func (d Decimal) Cmp(e Decimal) int {
	d, e = align(d, e)
	if d.big == nil && e.big == nil {
		switch {
		case d.small < e.small:
			return -1
		case d.small > e.small:
			return 1
		}
		return 0
	}
	return d.coefBig().Cmp(e.coefBig())
}

// Float64 returns the nearest float64 (for averages and display).
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// String returns the canonical plain notation: no exponent, no trailing fraction
// zeros, "0" for zero (e.g. "21.4", "-0.05", "1200"). DynamoDB accepts it as a
// number attribute value.
func (d Decimal) String() string {
	var digits string
	neg := false
	if d.big != nil {
		digits = d.big.String()
	} else {
		digits = strconv.FormatInt(d.small, 10)
	}
	if strings.HasPrefix(digits, "-") {
		neg = true
		digits = digits[1:]
	}
	if digits == "0" {
		return "0"
	}
	scale := int(d.scale)
	for scale > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		scale--
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case scale == 0:
		b.WriteString(digits)
	case scale >= len(digits):
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", scale-len(digits)))
		b.WriteString(digits)
	default:
		b.WriteString(digits[:len(digits)-scale])
		b.WriteByte('.')
		b.WriteString(digits[len(digits)-scale:])
	}
	return b.String()
}

// SignificantDigits returns the number of significant digits of d (DynamoDB stores
// at most 38).
func (d Decimal) SignificantDigits() int {
	s := strings.TrimLeft(strings.TrimPrefix(d.String(), "-"), "0.")
	return len(strings.ReplaceAll(s, ".", ""))
}

// MarshalJSON encodes d as a JSON string in String's notation, so that no JSON
// consumer rounds it through a float64.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, d.String()), nil
}

// UnmarshalJSON accepts a JSON string or number.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decode decimal: %w", err)
		}
	}
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
