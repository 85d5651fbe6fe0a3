package wasmabi

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// nestedOut is the type tree the validator walks for a written column of
// type dt (nil when it is not nested).
func nestedOut(dt arrow.DataType, code uint8, name string) *ntype {
	if !isNested(code) {
		return nil
	}
	return newNType(dt, code, name)
}

// nestReader validates a nested output column against its declared type
// (ABI.md, "Nested types", "What the host checks"). Its recursion follows
// the type the guest declared at bind time (at most maxNestDepth levels),
// not anything in guest memory, and every buffer's bytes are counted
// against the call's max_emit_bytes before they are read.
type nestReader struct {
	mem  []byte
	left uint64 // bytes still allowed under max_emit_bytes
	used uint64
}

// readNested validates column w's descriptor d for n rows. It returns
// the column and the bytes the host will copy for it.
func readNested(mem, d []byte, n int, w outCol, left uint64) (colView, uint64, error) {
	r := nestReader{mem: mem, left: left}
	c, err := r.node(d, n, w.nt, w.name)
	return c, r.used, err
}

func (r *nestReader) spend(path string, n uint64) error {
	if n > r.left-r.used {
		return fmt.Errorf("%w: column %q: %d more bytes bring the call's output past the stage's limit of max_emit_bytes", ErrGuestOutput, path, n)
	}
	r.used += n
	return nil
}

func (r *nestReader) node(d []byte, n int, t *ntype, path string) (colView, error) {
	if d[4] != t.code {
		return colView{}, fmt.Errorf("%w: column %q: type code %d, declared %d", ErrGuestOutput, path, d[4], t.code)
	}
	validP := uint64(le.Uint32(d[12:]))
	nbits := uint64(n+7) / 8
	if !isNested(t.code) {
		lay, _ := layoutOf(t.code)
		need := uint64(le.Uint32(d[24:]))
		if validP != 0 {
			need += nbits
		}
		if lay.offsets > 0 {
			need += uint64(n+1) * uint64(lay.offsets)
		}
		if err := r.spend(path, need); err != nil {
			return colView{}, err
		}
		return readColumn(r.mem, d, n, outCol{name: path, code: t.code})
	}
	var c colView
	var err error
	if validP != 0 {
		if err := r.spend(path, nbits); err != nil {
			return c, err
		}
		if c.valid, err = colSpan(r.mem, validP, nbits, path, "validity bitmap"); err != nil {
			return c, err
		}
	}
	rows := n // the children's rows
	if t.code == codeList || t.code == codeMap {
		if err := r.spend(path, uint64(n+1)*4); err != nil {
			return c, err
		}
		if c.offsets, err = colSpan(r.mem, uint64(le.Uint32(d[16:])), uint64(n+1)*4, path, "offsets"); err != nil {
			return c, err
		}
		if rows, err = listRows(c.offsets, n, path); err != nil {
			return c, err
		}
	}
	k := uint64(le.Uint32(d[24:]))
	if k != uint64(len(t.kids)) {
		return c, fmt.Errorf("%w: column %q: %d child descriptors, its type has %d", ErrGuestOutput, path, k, len(t.kids))
	}
	descs, err := colSpan(r.mem, uint64(le.Uint32(d[20:])), descSize*k, path, "child descriptors")
	if err != nil {
		return c, err
	}
	c.kids = make([]colView, len(t.kids))
	for i, kt := range t.kids {
		kd := descs[descSize*i : descSize*(i+1)]
		kpath := path + "." + kt.name
		if idx := le.Uint32(kd); idx != uint32(i) {
			return c, fmt.Errorf("%w: column %q: child descriptor %d has index %d (want %d)", ErrGuestOutput, kpath, i, idx, i)
		}
		if c.kids[i], err = r.node(kd, rows, kt, kpath); err != nil {
			return c, err
		}
	}
	if t.code == codeMap && c.kids[0].valid != nil {
		if set := bitutil.CountSetBits(c.kids[0].valid, 0, rows); set != rows {
			return c, fmt.Errorf("%w: column %q: %d map keys are null (keys never are)", ErrGuestOutput, path+".key", rows-set)
		}
	}
	return c, nil
}

// listRows checks a list's n+1 offsets (first ≥ 0, non-decreasing) and
// returns the child rows they cover, offsets[n] - offsets[0]: the
// children hold exactly those rows, from their row 0.
func listRows(offs []byte, n int, path string) (int, error) {
	base := int32(le.Uint32(offs))
	if base < 0 {
		return 0, fmt.Errorf("%w: column %q: first offset %d is negative", ErrGuestOutput, path, base)
	}
	prev := base
	for i := 1; i <= n; i++ {
		o := int32(le.Uint32(offs[4*i:]))
		if o < prev {
			return 0, fmt.Errorf("%w: column %q: offsets not monotonic at row %d (%d after %d)", ErrGuestOutput, path, i-1, o, prev)
		}
		prev = o
	}
	return int(prev - base), nil
}

// buildNested copies a validated nested column of n rows into host
// memory as an Arrow array of t's type.
func buildNested(mem memory.Allocator, t *ntype, n int, c colView) arrow.Array {
	d := nestedData(mem, t, n, c)
	defer d.Release()
	return array.MakeFromData(d)
}

func nestedData(mem memory.Allocator, t *ntype, n int, c colView) arrow.ArrayData {
	if !isNested(t.code) {
		a := buildArray(unpooled(mem), t.dt, t.code, n, c)
		defer a.Release()
		d := a.Data()
		d.Retain()
		return d
	}
	var valid *memory.Buffer
	nulls := 0
	if c.valid != nil {
		valid = newBuf(mem, (n+7)/8)
		copy(valid.Bytes(), c.valid)
		nulls = n - bitutil.CountSetBits(valid.Bytes(), 0, n)
	}
	bufs := []*memory.Buffer{valid}
	rows := n
	if t.code != codeStruct {
		offs := newBuf(mem, (n+1)*4)
		copy(offs.Bytes(), c.offsets)
		rebase(offs.Bytes(), 4, n)
		rows = int(int32(le.Uint32(offs.Bytes()[4*n:])))
		bufs = append(bufs, offs)
	}
	kids := make([]arrow.ArrayData, len(t.kids))
	for i, kt := range t.kids {
		kids[i] = nestedData(mem, kt, rows, c.kids[i])
	}
	release := func() {
		for _, k := range kids {
			k.Release()
		}
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}
	defer release()
	if t.code == codeMap {
		// Arrow's map is a list of key/value structs: the ABI's two
		// children become the entries struct's.
		entries := array.NewData(t.dt.(*arrow.MapType).Elem(), rows, []*memory.Buffer{nil}, kids, 0, 0)
		defer entries.Release()
		return array.NewData(t.dt, n, bufs, []arrow.ArrayData{entries}, nulls, 0)
	}
	return array.NewData(t.dt, n, bufs, kids, nulls, 0)
}
