package gather

import (
	"fmt"
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

// Rows is a selection of rows split into runs.
type Rows struct {
	idx  []int
	runs []Run
	neg  bool
}

// NewRows splits idx into runs.
func NewRows(idx []int) *Rows {
	r := &Rows{idx: idx}
	for j := 0; j < len(idx); {
		i := idx[j]
		if i < 0 {
			r.neg = true
			r.runs = append(r.runs, Run{j, i, 1})
			j++
			continue
		}
		e := j + 1
		for e < len(idx) && idx[e] == idx[e-1]+1 {
			e++
		}
		r.runs = append(r.runs, Run{j, i, e - j})
		j = e
	}
	return r
}

// Len is the number of rows selected.
func (r *Rows) Len() int { return len(r.idx) }

// Runs are the selection's runs, in order.
func (r *Rows) Runs() []Run { return r.runs }

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

func gather[T any](dst, src []T, runs []Run) {
	for _, r := range runs {
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
func (r *Rows) Bits(dst, src []byte, off int) { gatherBits(dst, src, off, r.runs) }

func gatherBits(dst, src []byte, off int, runs []Run) {
	clear(dst)
	for _, r := range runs {
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
	gatherBits(dst, src, data.Offset(), r.runs)
	return r.Len() - bitutil.CountSetBits(dst, 0, r.Len())
}

func gatherVar[O int32 | int64](mem memory.Allocator, bufs []*memory.Buffer, off int, r *Rows, valid *memory.Buffer) []*memory.Buffer {
	so := AsT[O](bufs[1].Bytes())[off:]
	var sv []byte
	if bufs[2] != nil {
		sv = bufs[2].Bytes()
	}
	total := 0
	for _, r := range r.runs {
		if r.I >= 0 {
			total += int(so[r.I+r.N] - so[r.I])
		}
	}
	var z O
	offs := newBuf(mem, (r.Len()+1)*int(unsafe.Sizeof(z)))
	vals := newBuf(mem, total)
	gatherVarInto(AsT[O](offs.Bytes()), vals.Bytes(), so, sv, r.runs)
	return []*memory.Buffer{valid, offs, vals}
}

// VarInto writes the rows of a var-width column (offsets so from its first
// row, values sv) as offsets from 0 into do (one per row and one more)
// and values into dv, which must hold them (VarSize).
func (r *Rows) VarInto(do, so []int32, dv, sv []byte) { gatherVarInto(do, dv, so, sv, r.runs) }

// VarInto64 is VarInto for 64-bit offsets.
func (r *Rows) VarInto64(do, so []int64, dv, sv []byte) { gatherVarInto(do, dv, so, sv, r.runs) }

// gatherVarInto writes the runs of the var-width column (so, sv) as
// offsets from 0 (one per row and one more) and values dv, which must
// hold them.
func gatherVarInto[O int32 | int64](do []O, dv []byte, so []O, sv []byte, runs []Run) {
	pos := O(0)
	do[0] = 0
	for _, r := range runs {
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
