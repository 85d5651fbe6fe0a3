package rowcodec

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		unit   arrow.TimeUnit
		strict bool
		want   int64
		ok     bool
	}{
		{"RFC 3339 Z", "2024-02-29T23:59:59Z", arrow.Second, true, time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC).Unix(), true},
		{"offset", "2024-03-01T01:00:00+02:00", arrow.Second, true, time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC).Unix(), true},
		{"negative offset", "2024-02-29T23:00:00-01:30", arrow.Second, true, time.Date(2024, 3, 1, 0, 30, 0, 0, time.UTC).Unix(), true},
		{"space, no zone", "2024-02-29 23:59:59.5", arrow.Millisecond, false, time.Date(2024, 2, 29, 23, 59, 59, 5e8, time.UTC).UnixMilli(), true},
		{"space is not strict", "2024-02-29 23:59:59Z", arrow.Second, true, 0, false},
		{"no zone is not strict", "2024-02-29T23:59:59", arrow.Second, true, 0, false},
		{"date only", "1969-12-31", arrow.Microsecond, false, -86400e6, true},
		{"min int64 ns", "1677-09-21T00:12:43.145224192Z", arrow.Nanosecond, true, math.MinInt64, true},
		{"max int64 ns", "2262-04-11T23:47:16.854775807Z", arrow.Nanosecond, true, math.MaxInt64, true},
		{"past max int64 ns", "2262-04-11T23:47:16.854775808Z", arrow.Nanosecond, true, 0, false},
		{"before min int64 ns", "1677-09-21T00:12:43.145224191Z", arrow.Nanosecond, true, 0, false},
		{"year 9999 in us", "9999-12-31T23:59:59.999999Z", arrow.Microsecond, true, time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro(), true},
		{"trailing zeros past the unit", "2000-01-01T00:00:00.500000Z", arrow.Millisecond, true, time.Date(2000, 1, 1, 0, 0, 0, 5e8, time.UTC).UnixMilli(), true},
		{"digits past the unit", "2000-01-01T00:00:00.5001Z", arrow.Millisecond, true, 0, false},
		{"not a leap year", "2023-02-29T00:00:00Z", arrow.Second, true, 0, false},
		{"hour 24", "2023-01-01T24:00:00Z", arrow.Second, true, 0, false},
		{"empty fraction", "2023-01-01T00:00:00.Z", arrow.Second, true, 0, false},
		{"junk after zone", "2023-01-01T00:00:00Zx", arrow.Second, true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseTimestamp([]byte(tt.in), tt.unit, tt.strict)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("ParseTimestamp(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if ok {
				// The writer's text must read back to the same value.
				text := AppendTimestamp(nil, got, tt.unit)
				if back, ok := ParseTimestamp(text, tt.unit, true); !ok || back != got {
					t.Errorf("AppendTimestamp(%d) = %s, which reads back as %d, %v", got, text, back, ok)
				}
			}
		})
	}
}

func TestParseNumbers(t *testing.T) {
	ints := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"-9223372036854775808", math.MinInt64, true}, {"9223372036854775807", math.MaxInt64, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false}, {"+7", 7, true},
		{"", 0, false}, {"-", 0, false}, {"1.0", 0, false}, {" 1", 0, false}, {"00012", 12, true},
	}
	for _, tt := range ints {
		if got, ok := ParseInt([]byte(tt.in)); ok != tt.ok || got != tt.want {
			t.Errorf("ParseInt(%q) = %d, %v", tt.in, got, ok)
		}
	}
	if u, ok := ParseUint([]byte("18446744073709551615")); !ok || u != math.MaxUint64 {
		t.Errorf("ParseUint(max) = %d, %v", u, ok)
	}
	if _, ok := ParseUint([]byte("18446744073709551616")); ok {
		t.Error("ParseUint(max+1) accepted")
	}
	floats := []struct {
		in   string
		want float64
	}{
		{"0.1", 0.1}, {"-0", math.Copysign(0, -1)}, {"123456789012345", 123456789012345}, {"1234567890123456789", 1234567890123456789},
		{"0.30000000000000004", 0.30000000000000004}, {"1e-7", 1e-7}, {"5e-324", 5e-324}, {".5", 0.5}, {"5.", 5},
	}
	for _, tt := range floats {
		if got, ok := ParseFloat([]byte(tt.in)); !ok || math.Float64bits(got) != math.Float64bits(tt.want) {
			t.Errorf("ParseFloat(%q) = %v, %v; want %v", tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []string{"", ".", "-", "1e999", "1,5", "0x"} {
		if got, ok := ParseFloat([]byte(bad)); ok {
			t.Errorf("ParseFloat(%q) = %v, accepted", bad, got)
		}
	}
	decs := []struct {
		in         string
		prec, scal int32
		want       string
		ok         bool
	}{
		{"12.345", 5, 3, "12.345", true}, {"-0.5", 3, 2, "-0.50", true}, {"12.3450", 5, 3, "12.345", true},
		{"12.3456", 6, 3, "", false}, {"123.4", 4, 2, "", false}, {"1.", 3, 1, "1.0", true}, {".", 3, 1, "", false},
		{"99999999999999999999999999999999999999", 38, 0, "99999999999999999999999999999999999999", true},
		{"999999999999999999999999999999999999999", 38, 0, "", false},
	}
	for _, tt := range decs {
		n, ok := ParseDecimal([]byte(tt.in), tt.prec, tt.scal)
		if ok != tt.ok || (ok && string(AppendDecimal(nil, n, tt.scal)) != tt.want) {
			t.Errorf("ParseDecimal(%q, %d, %d) = %s, %v; want %s, %v", tt.in, tt.prec, tt.scal, AppendDecimal(nil, n, tt.scal), ok, tt.want, tt.ok)
		}
	}
}

// TestAppendCents checks the fast float form against strconv (with
// FloatText's ".0" after a whole number), which it must match byte for byte
// whenever it applies.
func TestAppendCents(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := []float64{0.01, -0.01, 0.1, 0.3, 1, 100, 999999.99, 1e6, 12.345, 0.005, math.Copysign(0, -1), 0, 90071992547409.91, 1e-7}
	for range 50000 {
		switch rng.IntN(3) {
		case 0:
			vals = append(vals, float64(rng.Int64N(2e8)-1e8)/100)
		case 1:
			vals = append(vals, float64(rng.Int64N(1e15))/100)
		default:
			vals = append(vals, rng.NormFloat64()*1e4)
		}
	}
	applied := 0
	for _, f := range vals {
		for _, limit := range []float64{1e6, 1e13} {
			got, ok := AppendCents(nil, f, limit)
			if !ok {
				continue
			}
			applied++
			want := strconv.AppendFloat(nil, f, 'f', -1, 64)
			if limit == 1e6 {
				want = strconv.AppendFloat(nil, f, 'g', -1, 64)
			}
			if want = FloatText(want, 0); string(got) != string(want) {
				t.Fatalf("AppendCents(%v, %g) = %s, strconv says %s", f, limit, got, want)
			}
		}
	}
	if applied < len(vals)/2 {
		t.Errorf("fast form applied to only %d of %d values", applied, 2*len(vals))
	}
}
