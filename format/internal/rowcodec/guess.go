package rowcodec

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
)

// Guess records which kinds of scalar value one column's inference sample
// held, so that CSV and JSONL infer the same type from the same values.
// Each format decides what kind a value is (a CSV cell is text, a JSON value
// has a syntax of its own) and sets the fields, with Integer and Timestamp
// for the parts both share.
type Guess struct {
	Ints     bool // integers that fit int64
	Negs     bool // some of them negative
	BigUints bool // integers above MaxInt64 that fit uint64
	// BigInts: integers beyond int64 and uint64 with at most 38 digits
	// (decimal128(38,0) holds them).
	BigInts bool
	// HugeInts: integers of more than 38 digits, which no Arrow number holds.
	HugeInts bool
	// Inexact: some integer is not exactly a float64 (above 2^53 in
	// magnitude and not a multiple of the spacing there), so a float64
	// column would change it.
	Inexact bool
	Floats  bool // other numbers
	Bools   bool
	Times   bool // RFC 3339 timestamps with "T" and a zone
	TimesNs bool // some of them with sub-microsecond digits
	Strs    bool // anything else
}

// DecimalDigits is the precision of the decimal128 type integers beyond
// uint64 are inferred as: the most decimal128 holds.
const DecimalDigits = 38

// Integer records b if it is an integer: "[+-]digits". It returns false
// for anything else (the caller decides what else it is).
func (g *Guess) Integer(b []byte) bool {
	if v, ok := ParseInt(b); ok {
		g.Ints = true
		g.Negs = g.Negs || v < 0
		if v > 1<<53 || v < -(1<<53) {
			// float64(v) rounds to the nearest double; int64 of the
			// double is v again only if the conversion was exact. At
			// MaxInt64 the double is 2^63, out of int64 range.
			f := float64(v)
			g.Inexact = g.Inexact || f >= math.MaxInt64 || int64(f) != v
		}
		return true
	}
	if _, ok := ParseUint(b); ok {
		// Above MaxInt64: a double's spacing there is 2048, so nearly
		// every such value is inexact; the type (uint64, or a decimal
		// with negatives) never goes through float64 anyway.
		g.BigUints, g.Inexact = true, true
		return true
	}
	n := integerDigits(b)
	switch {
	case n < 0:
		return false
	case n <= DecimalDigits:
		g.BigInts = true
		g.Negs = g.Negs || b[0] == '-'
	default:
		g.HugeInts = true
	}
	g.Inexact = true
	return true
}

// integerDigits returns the significant digits of "[+-]digits" (leading
// zeros do not count, as in ParseDecimal), or -1 when b is not one.
func integerDigits(b []byte) int {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c-'0' > 9 {
			return -1
		}
		if n > 0 || c != '0' {
			n++
		}
	}
	return n
}

// Timestamp records s if it is a strict RFC 3339 timestamp, noting whether
// it needs nanoseconds.
func (g *Guess) Timestamp(s []byte) bool {
	if _, ok := ParseTimestamp(s, arrow.Microsecond, true); ok {
		g.Times = true
		return true
	}
	if _, ok := ParseTimestamp(s, arrow.Nanosecond, true); ok {
		g.Times, g.TimesNs = true, true
		return true
	}
	return false
}

// Scalar reports whether any value was recorded.
func (g *Guess) Scalar() bool {
	return g.Ints || g.BigUints || g.BigInts || g.HugeInts || g.Floats || g.Bools || g.Times || g.Strs
}

// InferredDecimal is the type of a column of integers some of which fit
// neither int64 nor uint64: decimal128 with 38 digits and no fraction.
var InferredDecimal = &arrow.Decimal128Type{Precision: DecimalDigits, Scale: 0}

// Type is the narrowest type that holds every recorded value exactly.
// Integers widen from int64 to uint64 (big, none negative) to
// decimal128(38,0) (beyond uint64, or big and negative); integers of more
// than 38 digits, and integers a float64 cannot hold exactly mixed with
// fractions, are utf8, so that no digit is lost: a float64 column would
// turn the id 9223372036854775807 into 9223372036854775808. Integers that
// are exact doubles mixed with fractions are float64. Any other mix, or no
// value at all (a column seen only as null), is utf8.
func (g *Guess) Type() arrow.DataType {
	numeric := g.Ints || g.BigUints || g.BigInts || g.HugeInts || g.Floats
	switch {
	case g.Strs || (numeric && (g.Bools || g.Times)) || (g.Bools && g.Times):
		return arrow.BinaryTypes.String
	case g.Bools:
		return arrow.FixedWidthTypes.Boolean
	case g.Times && g.TimesNs:
		return &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
	case g.Times:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case g.HugeInts, g.Floats && g.Inexact:
		return arrow.BinaryTypes.String
	case g.Floats:
		return arrow.PrimitiveTypes.Float64
	case g.BigInts || (g.BigUints && g.Negs):
		return InferredDecimal
	case g.BigUints:
		return arrow.PrimitiveTypes.Uint64
	case g.Ints:
		return arrow.PrimitiveTypes.Int64
	}
	return arrow.BinaryTypes.String
}
