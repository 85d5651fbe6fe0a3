package gather

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The gathers below copy runs of consecutive rows at once: the selections
// they serve are mostly a filter's kept rows, where a run is tens of rows
// long (W2's two filters keep ~98%), so one memmove per run replaces a
// load and store per row, and per string a memmove call of a few bytes.
// A negative index (a null, when decoding a dictionary) is a run of its own.

// runEnd returns the end of the run of consecutive rows that starts at
// position j of idx (idx[j] >= 0).
func runEnd(idx []int, j int) int {
	e := j + 1
	for e < len(idx) && idx[e] == idx[e-1]+1 {
		e++
	}
	return e
}

// shortRun is the run length below which copying element by element is
// cheaper than a call to copy or CopyBitmap.
const shortRun = 8

func gather[T any](dst, src []T, idx []int) {
	for j := 0; j < len(idx); {
		i := idx[j]
		if i < 0 {
			j++
			continue
		}
		e := runEnd(idx, j)
		if e-j < shortRun {
			for k := j; k < e; k++ {
				dst[k] = src[i+k-j]
			}
		} else {
			copy(dst[j:e], src[i:i+e-j])
		}
		j = e
	}
}

// gatherBits sets bit j of dst (zeroed here) to bit off+idx[j] of src, or
// leaves it clear where idx[j] < 0; src nil counts as all set.
func gatherBits(dst, src []byte, off int, idx []int) {
	clear(dst)
	for j := 0; j < len(idx); {
		i := idx[j]
		if i < 0 {
			j++
			continue
		}
		e := runEnd(idx, j)
		switch {
		case src == nil:
			bitutil.SetBitsTo(dst, int64(j), int64(e-j), true)
		case e-j < shortRun:
			for k := j; k < e; k++ {
				if bitutil.BitIsSet(src, off+i+k-j) {
					bitutil.SetBit(dst, k)
				}
			}
		default:
			bitutil.CopyBitmap(src, off+i, e-j, dst, j)
		}
		j = e
	}
}

// gatherValidity fills dst with the validity of rows idx of data (a
// negative index is null) and returns the null count.
func gatherValidity(dst []byte, data arrow.ArrayData, idx []int) int {
	var src []byte
	if b := data.Buffers()[0]; b != nil && data.NullN() > 0 {
		src = b.Bytes()
	}
	gatherBits(dst, src, data.Offset(), idx)
	return len(idx) - bitutil.CountSetBits(dst, 0, len(idx))
}

func gatherVar[O int32 | int64](mem memory.Allocator, bufs []*memory.Buffer, off int, idx []int, valid *memory.Buffer) []*memory.Buffer {
	so := AsT[O](bufs[1].Bytes())[off:]
	var sv []byte
	if bufs[2] != nil {
		sv = bufs[2].Bytes()
	}
	total := 0
	for j := 0; j < len(idx); {
		i := idx[j]
		if i < 0 {
			j++
			continue
		}
		e := runEnd(idx, j)
		total += int(so[i+e-j] - so[i])
		j = e
	}
	var z O
	offs := newBuf(mem, (len(idx)+1)*int(unsafe.Sizeof(z)))
	vals := newBuf(mem, total)
	gatherVarInto(AsT[O](offs.Bytes()), vals.Bytes(), so, sv, idx)
	return []*memory.Buffer{valid, offs, vals}
}

// gatherVarInto writes rows idx of the var-width column (so, sv) as
// offsets do (len(idx)+1, from 0) and values dv, which must hold them.
func gatherVarInto[O int32 | int64](do []O, dv []byte, so []O, sv []byte, idx []int) {
	pos := O(0)
	do[0] = 0
	for j := 0; j < len(idx); {
		i := idx[j]
		if i < 0 {
			do[j+1] = pos
			j++
			continue
		}
		e := runEnd(idx, j)
		n := e - j
		copy(dv[pos:], sv[so[i]:so[i+n]])
		d := pos - so[i]
		src, dst := so[i+1:i+n+1], do[j+1:e+1]
		for k := range dst {
			dst[k] = src[k] + d
		}
		pos = dst[n-1]
		j = e
	}
}
