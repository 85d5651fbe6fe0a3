package wasmabi

import (
	"encoding/binary"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzReadResultV2 feeds arbitrary guest memory to the v2 result
// validator: it must never panic or read out of bounds, whatever it
// accepts must build Arrow arrays that validate, and every origin it
// accepts names an input row or none.
func FuzzReadResultV2(f *testing.F) {
	// A well-formed result for 2 input rows: 3 rows emitted with origins
	// 0, 0, none; one utf8 column "ab","","c", row 1 null; one row error
	// on input row 1.
	good := make([]byte, 512)
	put := func(off int, v ...uint32) {
		for i, x := range v {
			binary.LittleEndian.PutUint32(good[off+4*i:], x)
		}
	}
	put(64, 0, 0, 0, 3, 300, 1, 128, 1, 220, 0) // header
	put(128, 0, codeUTF8, 1, 208, 160, 192, 3, 0)
	put(160, 0, 2, 2, 3)
	copy(good[192:], "abc")
	good[208] = 0b101
	put(220, 1, 240, 4)
	copy(good[240:], "oops")
	put(300, 0, 0, noOrigin)
	f.Add(good, uint32(64), uint16(2))
	f.Add(good, uint32(64), uint16(0))
	f.Add(good[:100], uint32(64), uint16(2))

	writes := []outCol{{name: "s", code: codeUTF8}}
	lim := v2Limits{emitRows: 1000, emitBytes: 4096}
	f.Fuzz(func(t *testing.T, mem []byte, ptr uint32, rows uint16) {
		n := int(rows)
		res := &resultV2{}
		if err := readResultV2(good, 64, 2, writes, lim, res); err != nil {
			t.Fatal(err)
		}
		if err := readResultV2(mem, ptr, n, writes, lim, res); err != nil || res.failed != "" {
			return
		}
		for k, o := range res.origins {
			if o != noOrigin && int(o) >= n {
				t.Fatalf("accepted origin %d of row %d for %d input rows", o, k, n)
			}
		}
		for _, e := range res.errs {
			if e.row >= n {
				t.Fatalf("accepted a row error on row %d of %d", e.row, n)
			}
		}
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer alloc.AssertSize(t, 0)
		pool := newOutPool(alloc)
		defer pool.close()
		a := buildArray(pool, arrow.BinaryTypes.String, codeUTF8, res.rows, res.cols[0])
		defer a.Release()
		checkStrings(t, a.(*array.String))
	})
}
