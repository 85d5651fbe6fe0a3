package rowcodec

import (
	"encoding/base64"
	"math"
	"math/bits"
	"strconv"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// The parsers below take the cell bytes in place and never allocate: the
// strconv equivalents need a string, and the time package needs a layout
// walk per value, which costs more than the rest of the row.

// ParseInt parses an optionally signed decimal integer.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	u, ok := ParseUint(b)
	if !ok {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// ParseUint parses unsigned decimal digits (no sign).
func ParseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var u uint64
	if len(b) < 20 {
		// 19 digits cannot overflow uint64.
		for _, c := range b {
			d := c - '0'
			if d > 9 {
				return 0, false
			}
			u = u*10 + uint64(d)
		}
		return u, true
	}
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		hi, lo := bits.Mul64(u, 10)
		if hi != 0 {
			return 0, false
		}
		lo, carry := bits.Add64(lo, uint64(d), 0)
		if carry != 0 {
			return 0, false
		}
		u = lo
	}
	return u, true
}

var pow10f = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// ParseFloat parses a decimal float. Plain "[-]digits[.digits]" with at most
// 15 significant digits takes Clinger's exact fast path (mantissa and power
// of ten are both exact doubles, so one division rounds correctly); anything
// else goes to strconv, which accepts exponents, NaN and Inf.
func ParseFloat(b []byte) (float64, bool) {
	i := 0
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i++
	}
	var mant uint64
	digits, frac := 0, 0
	start := i
	for ; i < len(b) && b[i]-'0' <= 9; i++ {
		mant = mant*10 + uint64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
			mant = mant*10 + uint64(b[i]-'0')
			digits++
			frac++
		}
	}
	if i == len(b) && digits > 0 && digits <= 15 && i > start+boolInt(frac > 0) {
		f := float64(mant) / pow10f[frac]
		if neg {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil {
		// strconv reports overflow as ±Inf with ErrRange; that is a value
		// the column cannot hold faithfully, so it is rejected.
		return 0, false
	}
	return f, true
}

// ParseFloat32 rounds straight to float32: going through float64 first
// would round twice and could miss the shortest text a writer produced.
func ParseFloat32(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 32)
	return f, err == nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ParseBool accepts what strconv.ParseBool accepts.
func ParseBool(b []byte) (bool, bool) {
	switch string(b) {
	case "true", "TRUE", "True", "t", "T", "1":
		return true, true
	case "false", "FALSE", "False", "f", "F", "0":
		return false, true
	}
	return false, false
}

// daysFromCivil returns days since 1970-01-01 for a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
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

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func digits2(b []byte, i int) (int64, bool) {
	d0, d1 := b[i]-'0', b[i+1]-'0'
	if d0 > 9 || d1 > 9 {
		return 0, false
	}
	return int64(d0)*10 + int64(d1), true
}

var daysIn = [13]int64{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// ParseDate parses "YYYY-MM-DD" into days since the epoch.
func ParseDate(b []byte) (int64, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y1, ok1 := digits2(b, 0)
	y2, ok2 := digits2(b, 2)
	m, ok3 := digits2(b, 5)
	d, ok4 := digits2(b, 8)
	if !(ok1 && ok2 && ok3 && ok4) || m < 1 || m > 12 || d < 1 || d > daysIn[m] {
		return 0, false
	}
	y := y1*100 + y2
	if m == 2 && d == 29 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

var unitDigits = [...]int{arrow.Second: 0, arrow.Millisecond: 3, arrow.Microsecond: 6, arrow.Nanosecond: 9}
var unitPerSec = [...]int64{arrow.Second: 1, arrow.Millisecond: 1e3, arrow.Microsecond: 1e6, arrow.Nanosecond: 1e9}

// ParseTimestamp parses "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM:SS[.fraction]"
// with an optional "Z" or "±HH:MM" zone (none means UTC) into a count of
// unit since the epoch. strict asks for RFC 3339 exactly (T and a zone), as
// schema inference wants. A fraction finer than unit is accepted only when
// the extra digits are zero: a value is rejected rather than altered.
func ParseTimestamp(b []byte, unit arrow.TimeUnit, strict bool) (int64, bool) {
	if len(b) < 10 {
		return 0, false
	}
	days, ok := ParseDate(b[:10])
	if !ok {
		return 0, false
	}
	return parseTime(b, days, unit, strict)
}

// ParseTimestamp is the package's ParseTimestamp, taking the day from the
// timestamp before when b starts with the same date text: parsing and
// checking the date and the calendar arithmetic were a third of parsing
// one, and rows in a batch mostly share their day.
func (c *Days) ParseTimestamp(b []byte, unit arrow.TimeUnit, strict bool) (int64, bool) {
	if len(b) < 10 {
		return 0, false
	}
	if !c.ok || string(b[:10]) != string(c.text[:]) {
		days, ok := ParseDate(b[:10])
		if !ok {
			return 0, false
		}
		c.day, c.ok = days, true
		copy(c.text[:], b[:10])
	}
	return parseTime(b, c.day, unit, strict)
}

// parseTime is ParseTimestamp after the date: the rest of b, on the given
// day.
func parseTime(b []byte, days int64, unit arrow.TimeUnit, strict bool) (int64, bool) {
	if len(b) == 10 {
		if strict {
			return 0, false
		}
		return mulAdd(days, 86400*unitPerSec[unit], 0)
	}
	if len(b) < 19 || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	switch b[10] {
	case 'T', 't':
	case ' ':
		if strict {
			return 0, false
		}
	default:
		return 0, false
	}
	hh, ok1 := digits2(b, 11)
	mm, ok2 := digits2(b, 14)
	ss, ok3 := digits2(b, 17)
	if !(ok1 && ok2 && ok3) || hh > 23 || mm > 59 || ss > 59 {
		return 0, false
	}
	i := 19
	var frac int64
	if i < len(b) && b[i] == '.' {
		i++
		n := 0
		want := unitDigits[unit]
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
			d := int64(b[i] - '0')
			if n < want {
				frac = frac*10 + d
			} else if d != 0 {
				return 0, false
			}
			n++
		}
		if n == 0 {
			return 0, false
		}
		for ; n < want; n++ {
			frac *= 10
		}
	}
	var off int64
	switch {
	case i == len(b):
		if strict {
			return 0, false
		}
	case b[i] == 'Z' || b[i] == 'z':
		if i+1 != len(b) {
			return 0, false
		}
	case b[i] == '+' || b[i] == '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return 0, false
		}
		oh, ok1 := digits2(b, i+1)
		om, ok2 := digits2(b, i+4)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		off = oh*3600 + om*60
		if b[i] == '-' {
			off = -off
		}
	default:
		return 0, false
	}
	secs := days*86400 + hh*3600 + mm*60 + ss - off
	return mulAdd(secs, unitPerSec[unit], frac)
}

// mulAdd returns a*b+c, or false on int64 overflow (nanosecond timestamps
// only cover the years 1677..2262).
func mulAdd(a, b, c int64) (int64, bool) {
	if a < 0 && c > 0 {
		// Fold the positive fraction into a so that the product of a value
		// near the minimum does not overflow before c brings it back.
		a, c = a+1, c-b
	}
	hi, lo := bits.Mul64(uint64(absI(a)), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	v := int64(lo)
	if a < 0 {
		v = -v
	}
	r := v + c
	if (c > 0 && r < v) || (c < 0 && r > v) {
		return 0, false
	}
	return r, true
}

func absI(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}

// ParseDecimal parses "[-+]digits[.digits]" into a decimal128 with scale
// digits after the point. More fraction digits than scale are accepted
// only when zero, and more than prec digits overall are rejected.
func ParseDecimal(b []byte, prec, scale int32) (decimal128.Num, bool) {
	if len(b) == 0 {
		return decimal128.Num{}, false
	}
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
	}
	var hi, lo uint64
	ndig, nfrac := int32(0), int32(0)
	seenPoint, sawDigit := false, false
	mul := func(d uint64) bool {
		// (hi,lo) = (hi,lo)*10 + d over 128 bits.
		h1, l1 := bits.Mul64(lo, 10)
		h2, l2 := bits.Mul64(hi, 10)
		if h2 != 0 {
			return false
		}
		h, c := bits.Add64(h1, l2, 0)
		if c != 0 {
			return false
		}
		l, c2 := bits.Add64(l1, d, 0)
		h, c = bits.Add64(h, 0, c2)
		if c != 0 {
			return false
		}
		hi, lo = h, l
		return true
	}
	for _, ch := range b {
		switch {
		case ch == '.' && !seenPoint:
			seenPoint = true
		case ch-'0' <= 9:
			sawDigit = true
			if seenPoint {
				if nfrac >= scale {
					if ch != '0' {
						return decimal128.Num{}, false
					}
					continue
				}
				nfrac++
			}
			if ndig > 0 || ch != '0' {
				ndig++
			}
			if !mul(uint64(ch - '0')) {
				return decimal128.Num{}, false
			}
		default:
			return decimal128.Num{}, false
		}
	}
	if !sawDigit {
		return decimal128.Num{}, false
	}
	for ; nfrac < scale; nfrac++ {
		if ndig > 0 {
			ndig++
		}
		if !mul(0) {
			return decimal128.Num{}, false
		}
	}
	if ndig > prec || hi>>63 != 0 {
		return decimal128.Num{}, false
	}
	n := decimal128.New(int64(hi), lo)
	if neg {
		n = n.Negate()
	}
	return n, true
}

// AppendBase64 decodes standard base64 (padding optional) onto dst.
func AppendBase64(dst, src []byte) ([]byte, bool) {
	enc := base64.StdEncoding
	if len(src)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	n := len(dst)
	need := enc.DecodedLen(len(src))
	dst = grow(dst, need)
	m, err := enc.Decode(dst[n:n+need], src)
	if err != nil {
		return dst[:n], false
	}
	return dst[:n+m], true
}

// grow returns dst with room for n more bytes past len(dst), len unchanged.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), 2*cap(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	return dst
}
