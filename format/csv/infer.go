package csv

import (
	"bytes"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// observe classifies one non-null cell.
func observe(g *rowcodec.Guess, f []byte) {
	if g.Strs {
		return
	}
	if g.Integer(f) {
		return
	}
	if isDecimalText(f) {
		if _, ok := rowcodec.ParseFloat(f); ok {
			g.Floats = true
			return
		}
	}
	if bytes.EqualFold(f, []byte("true")) || bytes.EqualFold(f, []byte("false")) {
		g.Bools = true
		return
	}
	if g.Timestamp(f) {
		return
	}
	g.Strs = true
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

// infer guesses column types from the sampled rows; rowcodec.Guess turns
// what the cells looked like into a type, by the same rules as JSONL's.
// ncols < 0 means there is no header and the first row decides the column
// count. Rows with the wrong number of fields or a broken quote are skipped
// here; decoding rejects them.
func infer(sample []byte, rl *rules, ncols int, nullOther [][]byte) []arrow.DataType {
	delim := rl.delim
	var gs []rowcodec.Guess
	if ncols >= 0 {
		gs = make([]rowcodec.Guess, ncols)
	}
	var scratch []byte
	for pos := 0; pos < len(sample); {
		// The sample ends where the pipeline's rows end, and a row the
		// pipeline found broken is broken here too (at the latest the end
		// of the sample is inside its quote), so both agree on every row.
		next, _, st := rl.rowEnd(sample, pos, true, nil)
		if st != rowcodec.Complete && st != rowcodec.Broken {
			break // not reached: the sample holds no row over the limit
		}
		row := rowcodec.TrimEOL(sample[pos:next])
		if bytes.IndexByte(row, '"') < 0 {
			row = bytes.TrimSuffix(row, []byte{'\r'})
		}
		pos = next
		if st != rowcodec.Complete || len(row) == 0 {
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
			gs = make([]rowcodec.Guess, len(cells))
		}
		if len(cells) != len(gs) {
			continue
		}
		for i, c := range cells {
			if len(c.f) == 0 || (!c.quoted && isNullText(c.f, nullOther)) {
				continue
			}
			observe(&gs[i], c.f)
		}
	}
	out := make([]arrow.DataType, len(gs))
	for i := range gs {
		out[i] = gs[i].Type()
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
