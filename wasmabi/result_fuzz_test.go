package wasmabi

import (
	"encoding/binary"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzReadResult feeds arbitrary guest memory to the result validator:
// it must never panic or read out of bounds, and whatever it accepts must
// build Arrow arrays that validate.
func FuzzReadResult(f *testing.F) {
	// A well-formed result: 3 rows, one utf8 column "ab","","c", row 1 null,
	// selection bitmap keeping rows 0 and 2, one row error.
	good := make([]byte, 512)
	put := func(off int, v ...uint32) {
		for i, x := range v {
			binary.LittleEndian.PutUint32(good[off+4*i:], x)
		}
	}
	put(64, 0, 0, 0, selBitmap, 200, 1, 1, 128, 1, 220) // header
	put(128, 0, codeUTF8, 1, 208, 160, 192, 3, 0)       // column descriptor
	put(160, 0, 2, 2, 3)                                // offsets
	copy(good[192:], "abc")                             // values
	good[200], good[208] = 0b101, 0b101                 // selection, validity
	put(220, 2, 240, 4)                                 // row error
	copy(good[240:], "oops")                            //
	f.Add(good, uint32(64), uint16(3))
	f.Add(good, uint32(500), uint16(3))
	f.Add(good[:100], uint32(64), uint16(3))
	f.Add(good, uint32(64), uint16(2000))

	writes := []outCol{{name: "s", code: codeUTF8}}
	f.Fuzz(func(t *testing.T, mem []byte, ptr uint32, rows uint16) {
		n := int(rows)
		// The host reuses one result per instance: start from a dirty one.
		res := &result{}
		if err := readResult(good, 64, 3, writes, res); err != nil {
			t.Fatal(err)
		}
		if err := readResult(mem, ptr, n, writes, res); err != nil || res.failed != "" {
			return
		}
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer alloc.AssertSize(t, 0)
		pool := newOutPool(alloc)
		defer pool.close()
		a := buildArray(pool, arrow.BinaryTypes.String, codeUTF8, n, res.cols[0])
		defer a.Release()
		checkStrings(t, a.(*array.String))
		keep, kept := selection(res, n, new([]bool))
		if res.selKind == selBitmap {
			// The word-at-a-time lister agrees with the bitmap read row
			// by row, whatever bits lie past the last row.
			rows := bitmapRows(res.selBits, n, new([]int))
			if len(rows) != kept {
				t.Fatalf("bitmapRows listed %d rows, the bitmap keeps %d", len(rows), kept)
			}
			for _, i := range rows {
				if !keep[i] {
					t.Fatalf("bitmapRows listed row %d, which the bitmap drops", i)
				}
			}
		}
		if keep != nil {
			b, err := filterArray(alloc, a, keep, kept)
			if err != nil {
				t.Fatal(err)
			}
			if b.Len() != kept {
				t.Fatalf("filtered to %d rows, want %d", b.Len(), kept)
			}
			b.Release()
		}
	})
}

// checkStrings is the full validation arrow-go v15 lacks for String arrays.
func checkStrings(t *testing.T, a *array.String) {
	offs := a.ValueOffsets()
	if len(offs) != a.Len()+1 || offs[0] != 0 {
		t.Fatalf("offsets %v for %d rows", offs, a.Len())
	}
	for i := range a.Len() {
		if offs[i+1] < offs[i] || int(offs[i+1]) > len(a.ValueBytes()) {
			t.Fatalf("offset %d out of order or bounds: %v", i, offs)
		}
		if !utf8.ValidString(a.Value(i)) {
			t.Fatalf("row %d is not UTF-8", i)
		}
	}
}
