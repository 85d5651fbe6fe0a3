package gather

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The gathers copy runs of consecutive rows at once: the selections they
// serve are mostly a filter's kept rows, where a run is tens of rows long
// (W2's two filters keep ~98%), so one memmove per run replaces a load
// and store per row, and per string a memmove call of a few bytes. A
// selection is split into runs once (Rows) and every column gathered with
// it walks the same runs. A negative index (a null, when decoding a
// dictionary) is a run of its own.

// Run is N rows starting at row I of the source, going to positions
// J..J+N-1 of the selection; I < 0 is one null row.
type Run struct{ J, I, N int }

// Rows is a selection of rows, split into runs when a gather that gains
// from them first asks (a string column's values, a bitmap), then shared
// by every later column. A fixed-width column alone is gathered row by
// row: listing the runs costs as much as its load and store per row.
// A selection whose runs are short (random rows, or a filter dropping
// every few rows) is gathered row by row throughout: there the runs cost
// more to list and walk than they save (BenchmarkTake).
type Rows struct {
	idx     []int
	runs    []Run
	buf     []Run // storage for runs kept by Reset
	neg     bool
	tried   bool // split was tried: runs, or rowwise
	rowwise bool
}

// NewRows makes a selection of the rows idx, which are not negative
// (Take takes -1 for a null). A selection's rows are: no pass over them
// is needed to find out.
func NewRows(idx []int) *Rows { return &Rows{idx: idx} }

// Reset makes r the selection of the rows idx (as NewRows), keeping the
// storage of its runs for the new ones: a stage splits a selection per
// batch, and a fresh list of runs for each was a quarter of the
// allocation behind W2's stages (BENCHMARKS.md, "Allocation on the stage
// path"). The runs are r's own scratch; nothing it gathered refers to them.
func (r *Rows) Reset(idx []int) {
	buf := r.buf
	if cap(r.runs) > cap(buf) {
		buf = r.runs
	}
	*r = Rows{idx: idx, buf: buf[:0]}
}

// withNulls is NewRows for indices that may be -1 (a null).
func withNulls(idx []int) *Rows {
	r := &Rows{idx: idx}
	if len(idx) > 0 {
		r.neg = slices.Min(idx) < 0
	}
	return r
}

// useRuns splits the selection into runs on first use, giving up as soon
// as they average fewer than shortRun rows, and reports whether the
// gathers go by runs.
func (r *Rows) useRuns() bool {
	if !r.tried {
		r.tried = true
		if !r.split(len(r.idx)/shortRun + 1) {
			r.rowwise, r.runs = true, nil
		}
	}
	return !r.rowwise
}

// split lists the runs, up to limit of them (reporting false past it).
func (r *Rows) split(limit int) bool {
	idx := r.idx
	if r.runs != nil {
		// Listed already (Runs): the same test over the same runs, so
		// that they are listed once and their storage is not rewritten
		// under the caller.
		for c, run := range r.runs {
			if c == limit || c > run.J/shortRun+16 && limit < len(idx) {
				return false
			}
		}
		return true
	}
	runs := r.buf[:0]
	if cap(runs) == 0 {
		runs = make([]Run, 0, min(limit, len(idx)))
	}
	defer func() { r.buf = runs[:0] }()
	for j := 0; j < len(idx); {
		// Give up early, not only at the limit: the runs so far already
		// average under shortRun rows (past a first few).
		if len(runs) == limit || len(runs) > j/shortRun+16 && limit < len(idx) {
			return false
		}
		i := idx[j]
		if i < 0 {
			runs = append(runs, Run{j, i, 1})
			j++
			continue
		}
		e := j + 1
		for e < len(idx) && idx[e] == i+e-j {
			e++
		}
		runs = append(runs, Run{j, i, e - j})
		j = e
	}
	r.runs = runs
	return true
}

// Len is the number of rows selected.
func (r *Rows) Len() int { return len(r.idx) }

// Runs are the selection's runs, in order (listed on first use for a
// selection gathered row by row).
func (r *Rows) Runs() []Run {
	if r.runs == nil && len(r.idx) > 0 {
		r.split(len(r.idx))
	}
	return r.runs
}

// Record gathers the rows of every column of rec into a new record.
func (r *Rows) Record(mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range rec.Columns() {
		t, err := r.Take(mem, c)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", rec.ColumnName(i), err)
		}
		cols[i] = t
	}
	return array.NewRecordBatch(rec.Schema(), cols, int64(r.Len())), nil
}

// shortRun is the run length below which copying element by element is
// cheaper than a call to copy or CopyBitmap.
const shortRun = 8

func gather[T any](dst, src []T, r *Rows) {
	if r.rowwise || r.runs == nil {
		for j, i := range r.idx {
			if i >= 0 {
				dst[j] = src[i]
			}
		}
		return
	}
	for _, r := range r.runs {
		if r.I < 0 {
			continue
		}
		if r.N < shortRun {
			for k := range r.N {
				dst[r.J+k] = src[r.I+k]
			}
		} else {
			copy(dst[r.J:r.J+r.N], src[r.I:r.I+r.N])
		}
	}
}

// Bits sets bit J+k of dst (zeroed first) to bit off+I+k of src for each
// run, leaving a null run's bit clear; src nil counts as all set.
func (r *Rows) Bits(dst, src []byte, off int) { gatherBits(dst, src, off, r) }

func gatherBits(dst, src []byte, off int, rows *Rows) {
	clear(dst)
	if !rows.useRuns() {
		for j, i := range rows.idx {
			if i >= 0 && (src == nil || bitutil.BitIsSet(src, off+i)) {
				bitutil.SetBit(dst, j)
			}
		}
		return
	}
	for _, r := range rows.runs {
		switch {
		case r.I < 0:
		case src == nil:
			bitutil.SetBitsTo(dst, int64(r.J), int64(r.N), true)
		case r.N < shortRun:
			for k := range r.N {
				if bitutil.BitIsSet(src, off+r.I+k) {
					bitutil.SetBit(dst, r.J+k)
				}
			}
		default:
			bitutil.CopyBitmap(src, off+r.I, r.N, dst, r.J)
		}
	}
}

// gatherValidity fills dst with the validity of the rows of data (a null
// run is null) and returns the null count.
func (r *Rows) gatherValidity(dst []byte, data arrow.ArrayData) int {
	var src []byte
	if b := data.Buffers()[0]; b != nil && data.NullN() > 0 {
		src = b.Bytes()
	}
	gatherBits(dst, src, data.Offset(), r)
	return r.Len() - bitutil.CountSetBits(dst, 0, r.Len())
}

func gatherVar[O int32 | int64](mem memory.Allocator, bufs []*memory.Buffer, off int, r *Rows, valid *memory.Buffer) []*memory.Buffer {
	so := AsT[O](bufs[1].Bytes())[off:]
	var sv []byte
	if bufs[2] != nil {
		sv = bufs[2].Bytes()
	}
	total := 0
	if !r.useRuns() {
		for _, i := range r.idx {
			if i >= 0 {
				total += int(so[i+1] - so[i])
			}
		}
	} else {
		for _, r := range r.runs {
			if r.I >= 0 {
				total += int(so[r.I+r.N] - so[r.I])
			}
		}
	}
	var z O
	offs := newBuf(mem, (r.Len()+1)*int(unsafe.Sizeof(z)))
	vals := newBuf(mem, total)
	gatherVarInto(AsT[O](offs.Bytes()), vals.Bytes(), so, sv, r)
	return []*memory.Buffer{valid, offs, vals}
}

// VarInto writes the rows of a var-width column (offsets so from its first
// row, values sv) as offsets from 0 into do (one per row and one more)
// and values into dv, which must hold them (VarSize).
func (r *Rows) VarInto(do, so []int32, dv, sv []byte) { gatherVarInto(do, dv, so, sv, r) }

// VarInto64 is VarInto for 64-bit offsets.
func (r *Rows) VarInto64(do, so []int64, dv, sv []byte) { gatherVarInto(do, dv, so, sv, r) }

// gatherVarInto writes the runs of the var-width column (so, sv) as
// offsets from 0 (one per row and one more) and values dv, which must
// hold them.
func gatherVarInto[O int32 | int64](do []O, dv []byte, so []O, sv []byte, rows *Rows) {
	pos := O(0)
	do[0] = 0
	if !rows.useRuns() {
		for j, i := range rows.idx {
			if i >= 0 {
				pos += O(copy(dv[pos:], sv[so[i]:so[i+1]]))
			}
			do[j+1] = pos
		}
		return
	}
	for _, r := range rows.runs {
		if r.I < 0 {
			do[r.J+1] = pos
			continue
		}
		copy(dv[pos:], sv[so[r.I]:so[r.I+r.N]])
		d := pos - so[r.I]
		src, dst := so[r.I+1:r.I+r.N+1], do[r.J+1:r.J+r.N+1]
		for k := range dst {
			dst[k] = src[k] + d
		}
		pos = dst[r.N-1]
	}
}
