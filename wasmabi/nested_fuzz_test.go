package wasmabi

import (
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzReadNested feeds arbitrary guest memory to the v2 validator with
// nested columns declared (a list, a struct and a map): it must never
// panic or read out of bounds, and whatever it accepts must build Arrow
// arrays whose every offset lies inside its child and whose strings are
// UTF-8.
func FuzzReadNested(f *testing.F) {
	hdr, data := nestedResultAt(64, 160, 64)
	good := make([]byte, 160+14*64)
	copy(good[8:], words(hdr...))
	for a, b := range data {
		copy(good[a:], b)
	}
	f.Add(good, uint16(0))
	f.Add(good, uint16(5))
	f.Add(good[:600], uint16(2))

	var writes []outCol
	for _, w := range []struct{ name, typ string }{{"l", "list<int32>"}, {"s", "struct<a:int64,b:utf8>"}, {"m", "map<utf8,int32>"}} {
		dt, code, err := parseType(w.typ)
		if err != nil {
			f.Fatal(err)
		}
		writes = append(writes, outCol{name: w.name, code: code, nt: nestedOut(dt, code, w.name)})
	}
	lim := v2Limits{emitRows: 1000, emitBytes: 4096}
	f.Fuzz(func(t *testing.T, mem []byte, rows uint16) {
		res := &resultV2{}
		if err := readResultV2(good, 8, 0, writes, lim, res); err != nil {
			t.Fatal(err)
		}
		if err := readResultV2(mem, 8, int(rows), writes, lim, res); err != nil || res.failed != "" {
			return
		}
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer alloc.AssertSize(t, 0)
		for j, w := range writes {
			a := buildArray(unpooled(alloc), w.nt.dt, w.code, res.rows, res.cols[j])
			if err := checkNested(a); err != nil {
				t.Fatalf("column %s: accepted and built %s: %v", w.name, a, err)
			}
			if _, err := a.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
			a.Release()
		}
	})
}

// checkNested checks what Arrow readers take for granted of a nested
// array, independently of the validator: offsets start at 0, ascend and
// stay inside the child, struct children have the struct's length,
// strings are UTF-8.
func checkNested(a arrow.Array) error {
	switch a := a.(type) {
	case *array.Map:
		if err := checkOffsets(a.Offsets(), a.Len(), a.Keys().Len()); err != nil {
			return err
		}
		if a.Keys().NullN() > 0 || a.Keys().Len() != a.Items().Len() {
			return fmt.Errorf("map keys: %d null, %d keys for %d values", a.Keys().NullN(), a.Keys().Len(), a.Items().Len())
		}
		if err := checkNested(a.Keys()); err != nil {
			return err
		}
		return checkNested(a.Items())
	case *array.List:
		if err := checkOffsets(a.Offsets(), a.Len(), a.ListValues().Len()); err != nil {
			return err
		}
		return checkNested(a.ListValues())
	case *array.Struct:
		for i := range a.NumField() {
			if a.Field(i).Len() != a.Len() {
				return fmt.Errorf("struct field %d has %d rows for %d", i, a.Field(i).Len(), a.Len())
			}
			if err := checkNested(a.Field(i)); err != nil {
				return err
			}
		}
	case *array.String:
		for i := range a.Len() {
			if !utf8.ValidString(a.Value(i)) {
				return fmt.Errorf("row %d is not UTF-8", i)
			}
		}
	}
	return nil
}

func checkOffsets(o []int32, n, child int) error {
	if len(o) < n+1 || (n > 0 && o[0] != 0) {
		return fmt.Errorf("%d offsets for %d rows, first %v", len(o), n, o[:min(1, len(o))])
	}
	for i := 1; i <= n; i++ {
		if o[i] < o[i-1] || int(o[i]) > child {
			return fmt.Errorf("offset %d is %d after %d, child of %d rows", i, o[i], o[i-1], child)
		}
	}
	return nil
}
