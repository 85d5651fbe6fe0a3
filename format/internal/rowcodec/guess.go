package rowcodec

import "github.com/apache/arrow/go/v15/arrow"

// Guess records which kinds of scalar value one column's inference sample
// held, so that CSV and JSONL infer the same type from the same values.
// Each format decides what kind a value is (a CSV cell is text, a JSON value
// has a syntax of its own) and sets the fields, with Integer and Timestamp
// for the parts both share.
type Guess struct {
	Ints     bool // integers that fit int64
	Negs     bool // some of them negative
	BigUints bool // integers above MaxInt64 that fit uint64
	Floats   bool // other numbers
	Bools    bool
	Times    bool // RFC 3339 timestamps with "T" and a zone
	TimesNs  bool // some of them with sub-microsecond digits
	Strs     bool // anything else
}

// Integer records the integer text b as int64 or, above MaxInt64, uint64;
// false means it fits neither (the caller decides what else it is).
func (g *Guess) Integer(b []byte) bool {
	if v, ok := ParseInt(b); ok {
		g.Ints = true
		g.Negs = g.Negs || v < 0
		return true
	}
	if _, ok := ParseUint(b); ok {
		g.BigUints = true
		return true
	}
	return false
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
	return g.Ints || g.BigUints || g.Floats || g.Bools || g.Times || g.Strs
}

// Type is the narrowest type that holds every recorded value. Numbers widen
// (int64, then uint64 for big non-negative values, then float64); any
// other mix, or no value at all (a column seen only as null), is utf8.
func (g *Guess) Type() arrow.DataType {
	numeric := g.Ints || g.BigUints || g.Floats
	switch {
	case g.Strs || (numeric && (g.Bools || g.Times)) || (g.Bools && g.Times):
		return arrow.BinaryTypes.String
	case g.Bools:
		return arrow.FixedWidthTypes.Boolean
	case g.Times && g.TimesNs:
		return &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
	case g.Times:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case g.Floats || (g.BigUints && g.Negs):
		return arrow.PrimitiveTypes.Float64
	case g.BigUints:
		return arrow.PrimitiveTypes.Uint64
	case g.Ints:
		return arrow.PrimitiveTypes.Int64
	}
	return arrow.BinaryTypes.String
}
