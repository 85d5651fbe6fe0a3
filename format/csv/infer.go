package csv

import (
	"bytes"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// guess collects what the sampled cells of one column looked like.
type guess struct {
	ints, negs, bigUints, floats, bools, times, timesNs, strs bool
}

// observe classifies one non-null cell.
func (g *guess) observe(f []byte) {
	if g.strs {
		return
	}
	if v, ok := rowcodec.ParseInt(f); ok {
		g.ints = true
		g.negs = g.negs || v < 0
		return
	}
	if _, ok := rowcodec.ParseUint(f); ok {
		g.bigUints = true
		return
	}
	if isDecimalText(f) {
		if _, ok := rowcodec.ParseFloat(f); ok {
			g.floats = true
			return
		}
	}
	if bytes.EqualFold(f, []byte("true")) || bytes.EqualFold(f, []byte("false")) {
		g.bools = true
		return
	}
	if _, ok := rowcodec.ParseTimestamp(f, arrow.Microsecond, true); ok {
		g.times = true
		return
	}
	if _, ok := rowcodec.ParseTimestamp(f, arrow.Nanosecond, true); ok {
		g.times, g.timesNs = true, true
		return
	}
	g.strs = true
}

// isDecimalText accepts what a person writes as a number ("1.5", "-2e10",
// "NaN", "Inf"), not the hex and underscore forms strconv also takes, so
// that a column of words like "0x1p3" stays a string.
func isDecimalText(f []byte) bool {
	switch string(bytes.TrimLeft(f, "+-")) {
	case "NaN", "nan", "Inf", "inf", "Infinity", "infinity":
		return true
	}
	for _, c := range f {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

// dataType is the narrowest type that holds every sampled value. Numbers
// widen (int64, then uint64 for big non-negative values, then float64);
// any other mix, or a column with only nulls, is utf8.
func (g *guess) dataType() arrow.DataType {
	numeric := g.ints || g.bigUints || g.floats
	switch {
	case g.strs || (numeric && (g.bools || g.times)) || (g.bools && g.times):
		return arrow.BinaryTypes.String
	case g.bools:
		return arrow.FixedWidthTypes.Boolean
	case g.times && g.timesNs:
		return &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
	case g.times:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case g.floats || (g.bigUints && g.negs):
		return arrow.PrimitiveTypes.Float64
	case g.bigUints:
		return arrow.PrimitiveTypes.Uint64
	case g.ints:
		return arrow.PrimitiveTypes.Int64
	}
	return arrow.BinaryTypes.String
}

// infer guesses column types from the sampled rows. ncols < 0 means there is
// no header and the first row decides the column count. Rows with the wrong
// number of fields or a broken quote are skipped here; decoding rejects them.
func infer(sample []byte, delim byte, ncols int, nullOther [][]byte) []arrow.DataType {
	var gs []guess
	if ncols >= 0 {
		gs = make([]guess, ncols)
	}
	var scratch []byte
	for pos := 0; pos < len(sample); {
		next, _, st := rowEnd(sample, pos, delim, true)
		row := rowcodec.TrimEOL(sample[pos:next])
		if bytes.IndexByte(row, '"') < 0 {
			row = bytes.TrimSuffix(row, []byte{'\r'})
		}
		pos = next
		if st != rowComplete || len(row) == 0 {
			continue
		}
		type cell struct {
			f      []byte
			quoted bool
		}
		var cells []cell
		ok := true
		for i := 0; i >= 0; {
			f, q, nx, s, err := nextField(row, i, delim, scratch)
			scratch = s
			if err != nil {
				ok = false
				break
			}
			cells = append(cells, cell{bytes.Clone(f), q})
			i = nx
		}
		if !ok {
			continue
		}
		if gs == nil {
			gs = make([]guess, len(cells))
		}
		if len(cells) != len(gs) {
			continue
		}
		for i, c := range cells {
			if len(c.f) == 0 || (!c.quoted && isNullText(c.f, nullOther)) {
				continue
			}
			gs[i].observe(c.f)
		}
	}
	out := make([]arrow.DataType, len(gs))
	for i := range gs {
		out[i] = gs[i].dataType()
	}
	return out
}

func isNullText(f []byte, nullOther [][]byte) bool {
	for _, nv := range nullOther {
		if bytes.Equal(f, nv) {
			return true
		}
	}
	return false
}
