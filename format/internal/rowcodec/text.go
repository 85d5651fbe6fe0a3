package rowcodec

import (
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// AppendTimestamp writes v (a count of unit since the epoch) as RFC 3339 in
// UTC with the shortest fraction that is exact (time.RFC3339Nano's layout),
// without going through time.Time's layout interpreter.
func AppendTimestamp(dst []byte, v int64, unit arrow.TimeUnit) []byte {
	var days Days
	return days.AppendTimestamp(dst, v, unit)
}

// Days is the date text of the last timestamp a writer wrote. Timestamps
// in a batch mostly share their day (a day of events is thousands of
// rows), and the calendar arithmetic and digits of the date were a third
// of writing one (civilFromDays's divisions). The zero value is empty;
// one per goroutine.
type Days struct {
	day  int64
	text [10]byte
	ok   bool
}

// AppendTimestamp is the package's AppendTimestamp, reusing the date text
// when v falls on the same day as the timestamp before.
func (c *Days) AppendTimestamp(dst []byte, v int64, unit arrow.TimeUnit) []byte {
	per := unitPerSec[unit]
	secs, sub := v/per, v%per
	if sub < 0 {
		secs--
		sub += per
	}
	nanos := sub * (1e9 / per)
	days, sod := secs/86400, secs%86400
	if sod < 0 {
		days--
		sod += 86400
	}
	if !c.ok || c.day != days {
		y, m, d := civilFromDays(days)
		if y < 0 || y > 9999 {
			// RFC 3339 has four-digit years; let time say what it can.
			return time.Unix(secs, nanos).UTC().AppendFormat(dst, time.RFC3339Nano)
		}
		appendDateParts(c.text[:0], y, m, d)
		c.day, c.ok = days, true
	}
	dst = append(dst, c.text[:]...)
	dst = append(dst, 'T',
		byte('0'+sod/36000), byte('0'+sod/3600%10), ':',
		byte('0'+sod%3600/600), byte('0'+sod%3600/60%10), ':',
		byte('0'+sod%60/10), byte('0'+sod%10))
	if nanos != 0 {
		var fr [10]byte
		fr[0] = '.'
		for i := 9; i >= 1; i-- {
			fr[i] = byte('0' + nanos%10)
			nanos /= 10
		}
		n := 10
		for fr[n-1] == '0' {
			n--
		}
		dst = append(dst, fr[:n]...)
	}
	return append(dst, 'Z')
}

// AppendDate writes days since the epoch as 2006-01-02.
func AppendDate(dst []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	if y < 0 || y > 9999 {
		return time.Unix(days*86400, 0).UTC().AppendFormat(dst, time.DateOnly)
	}
	return appendDateParts(dst, y, m, d)
}

func appendDateParts(dst []byte, y, m, d int64) []byte {
	return append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d/10), byte('0'+d%10))
}

// AppendDecimal writes n with scale digits after the point, exactly
// (decimal128.Num.ToString goes through a 128-bit float and can round).
func AppendDecimal(dst []byte, n decimal128.Num, scale int32) []byte {
	if n.Sign() < 0 {
		dst = append(dst, '-')
		n = n.Negate()
	}
	s := n.BigInt().String()
	if scale <= 0 {
		return append(dst, s...)
	}
	for len(s) <= int(scale) {
		s = "0" + s
	}
	k := len(s) - int(scale)
	dst = append(dst, s[:k]...)
	dst = append(dst, '.')
	return append(dst, s[k:]...)
}

// AppendCents writes f as "[-]int.d[d]" when f is exactly the double
// nearest to a decimal with at most two fraction digits (prices, amounts)
// and |f| < limit (at most 1e13); ok is false otherwise and nothing is
// written. Below 2^46 doubles are closer together than 0.01, so no other
// decimal with two or fewer fraction digits reads back as f: the text is the
// shortest round-trip form, the one strconv's -1 precision gives, at a
// fraction of its cost, with ".0" after a whole number as FloatText adds.
// TestAppendCents holds it to strconv's output.
func AppendCents(dst []byte, f, limit float64) ([]byte, bool) {
	if f == 0 || !(f > -limit && f < limit) {
		return dst, false // also keeps -0 and NaN away
	}
	c := math.Round(f * 100)
	if c/100 != f {
		return dst, false
	}
	k := int64(c)
	if k < 0 {
		dst = append(dst, '-')
		k = -k
	}
	dst = appendUint(dst, uint64(k/100))
	switch r := k % 100; {
	case r == 0:
		dst = append(dst, '.', '0')
	case r%10 == 0:
		dst = append(dst, '.', byte('0'+r/10))
	default:
		dst = append(dst, '.', byte('0'+r/10), byte('0'+r%10))
	}
	return dst, true
}

// FloatText makes the number strconv appended at dst[start:] read back as a
// float: a whole number ("461", "-0", "100000000000000000000") gets ".0".
// Without it a float column written as text is inferred as int64 when read
// back (issue 10), and -0 loses its sign. Text with a point, an exponent,
// NaN or Inf is left alone.
func FloatText(dst []byte, start int) []byte {
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' || c == 'E' || c == 'N' || c == 'I' {
			return dst
		}
	}
	return append(dst, '.', '0')
}

func appendUint(dst []byte, v uint64) []byte {
	var b [20]byte
	i := len(b)
	for v >= 10 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	b[i] = byte('0' + v)
	return append(dst, b[i:]...)
}
