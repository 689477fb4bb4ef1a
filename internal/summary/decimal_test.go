package summary

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

func mustDecimal(tb testing.TB, s string) Decimal {
	tb.Helper()
	d, err := ParseDecimal(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"0", "0"},
		{"-0", "0"},
		{"0.00", "0"},
		{"21.43", "21.43"},
		{"21.40", "21.4"},
		{"-0.05", "-0.05"},
		{"1200", "1200"},
		{"1e3", "1000"},
		{"1E+3", "1000"},
		{"+7", "7"},
		{"1.5e-3", "0.0015"},
		{"0E-7", "0"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
		{"-1234567890.1234567890123", "-1234567890.1234567890123"},
		{"9223372036854775807", "9223372036854775807"},
		{"9223372036854775808", "9223372036854775808"},
		{"007", "7"},
	}
	for _, tc := range tests {
		got, err := ParseDecimal(tc.in)
		if err != nil {
			t.Errorf("ParseDecimal(%q) error %v", tc.in, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("ParseDecimal(%q) = %s; want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "-", "abc", "1.", ".5", "1e", "1e+", "--1", "1.2.3", "0x10", "1e400", "1e-400", "NaN", "Infinity", `"1"`} {
		if got, err := ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) = %s; want an error", bad, got)
		}
	}
}

func TestDecimalArithmetic(t *testing.T) {
	tests := []struct{ a, b, sum, diff string }{
		{"21.43", "0.57", "22", "20.86"},
		{"-1.5", "1.5", "0", "-3"},
		{"9223372036854775807", "1", "9223372036854775808", "9223372036854775806"},
		{"-9223372036854775808", "-1", "-9223372036854775809", "-9223372036854775807"},
		{"0.1", "0.2", "0.3", "-0.1"},
		{"1e-20", "1", "1.00000000000000000001", "-0.99999999999999999999"},
	}
	for _, tc := range tests {
		a, b := mustDecimal(t, tc.a), mustDecimal(t, tc.b)
		if got := a.Add(b).String(); got != tc.sum {
			t.Errorf("%s.Add(%s) = %s; want %s", tc.a, tc.b, got, tc.sum)
		}
		if got := a.Sub(b).String(); got != tc.diff {
			t.Errorf("%s.Sub(%s) = %s; want %s", tc.a, tc.b, got, tc.diff)
		}
	}
	if c := mustDecimal(t, "21.40").Cmp(mustDecimal(t, "21.4")); c != 0 {
		t.Errorf("Cmp(21.40, 21.4) = %d; want 0", c)
	}
	if c := mustDecimal(t, "-3").Cmp(mustDecimal(t, "2.5")); c != -1 {
		t.Errorf("Cmp(-3, 2.5) = %d; want -1", c)
	}
}

// TestDecimalAgainstRat adds random decimals and checks the result with
// math/big.Rat.
func TestDecimalAgainstRat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		var sum Decimal
		want := new(big.Rat)
		for j := 0; j < 20; j++ {
			var s string
			switch r.IntN(3) {
			case 0:
				s = strconv.FormatFloat((r.Float64()-0.5)*200, 'f', r.IntN(6), 64)
			case 1:
				s = strconv.FormatInt(r.Int64()-r.Int64(), 10)
			default:
				s = strconv.FormatFloat(r.Float64(), 'e', r.IntN(16), 64)
			}
			d := mustDecimal(t, s)
			if r.IntN(2) == 0 {
				sum = sum.Add(d)
				want.Add(want, ratOf(t, s))
			} else {
				sum = sum.Sub(d)
				want.Sub(want, ratOf(t, s))
			}
		}
		if got := ratOf(t, sum.String()); got.Cmp(want) != 0 {
			t.Fatalf("sum = %s; want %s", sum, want.FloatString(30))
		}
	}
}

func ratOf(t *testing.T, s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("big.Rat cannot parse %q", s)
	}
	return r
}

func TestDecimalJSON(t *testing.T) {
	in := mustDecimal(t, "-12.50")
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `"-12.5"` {
		t.Errorf("json.Marshal(-12.50) = %s; want \"-12.5\"", b)
	}
	for _, src := range []string{`"-12.5"`, `-12.5`} {
		var out Decimal
		if err := json.Unmarshal([]byte(src), &out); err != nil || out.Cmp(in) != 0 {
			t.Errorf("json.Unmarshal(%s) = %s, %v; want -12.5", src, out, err)
		}
	}
	var out Decimal
	if err := json.Unmarshal([]byte(`"x"`), &out); err == nil {
		t.Errorf("json.Unmarshal(\"x\") succeeded; want an error")
	}
	if got := mustDecimal(t, "-0.00123").SignificantDigits(); got != 3 {
		t.Errorf("SignificantDigits(-0.00123) = %d; want 3", got)
	}
}
