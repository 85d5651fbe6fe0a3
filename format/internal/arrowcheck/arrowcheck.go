// Package arrowcheck validates Arrow arrays that a reader built from
// untrusted bytes, before they reach code that indexes into them.
package arrowcheck

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Array checks what arrow-go v15 does not check when it builds arrays
// from IPC or Parquet buffers, and what would make a later Value(i) panic in whatever
// consumes the record: offsets that decrease or leave their values, child
// arrays shorter than their parent needs, dictionary indices outside the
// dictionary, and union type codes or offsets outside their children.
// It costs one pass over offsets and indices, not over values.
func Array(arr arrow.Array) error {
	n := arr.Len()
	d := arr.Data()
	switch a := arr.(type) {
	case *array.String, *array.Binary:
		return offsets32(raw32(d, 1), n, bufLen(d, 2), d.Offset())
	case *array.LargeString, *array.LargeBinary:
		return offsets64(raw64(d, 1), n, bufLen(d, 2), d.Offset())
	case *array.List:
		if err := offsets32(raw32(d, 1), n, a.ListValues().Len(), d.Offset()); err != nil {
			return err
		}
		return Array(a.ListValues())
	case *array.Map:
		if err := offsets32(raw32(d, 1), n, a.ListValues().Len(), d.Offset()); err != nil {
			return err
		}
		return Array(a.ListValues())
	case *array.LargeList:
		if err := offsets64(raw64(d, 1), n, a.ListValues().Len(), d.Offset()); err != nil {
			return err
		}
		return Array(a.ListValues())
	case *array.FixedSizeList:
		size := int(a.DataType().(*arrow.FixedSizeListType).Len())
		if need := (a.Data().Offset() + n) * size; a.ListValues().Len() < need {
			return fmt.Errorf("fixed-size list needs %d child values, has %d", need, a.ListValues().Len())
		}
		return Array(a.ListValues())
	case *array.Struct:
		for i := 0; i < a.NumField(); i++ {
			if need := a.Data().Offset() + n; a.Field(i).Len() < need {
				return fmt.Errorf("struct field %d has %d values, needs %d", i, a.Field(i).Len(), need)
			}
			if err := Array(a.Field(i)); err != nil {
				return err
			}
		}
	case *array.Dictionary:
		size := a.Dictionary().Len()
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				if idx := a.GetValueIndex(i); idx < 0 || idx >= size {
					return fmt.Errorf("dictionary index %d at row %d outside a dictionary of %d", idx, i, size)
				}
			}
		}
		return Array(a.Dictionary())
	case *array.DenseUnion:
		ids := a.UnionType().ChildIDs()
		for i := 0; i < n; i++ {
			code := a.TypeCode(i)
			if code < 0 || int(code) >= len(ids) || ids[code] < 0 {
				return fmt.Errorf("union type code %d at row %d is not a child", code, i)
			}
			if off, child := a.ValueOffset(i), a.Field(ids[code]); off < 0 || int(off) >= child.Len() {
				return fmt.Errorf("union offset %d at row %d outside child of %d", off, i, child.Len())
			}
		}
		for i := 0; i < a.NumFields(); i++ {
			if err := Array(a.Field(i)); err != nil {
				return err
			}
		}
	case *array.SparseUnion:
		ids := a.UnionType().ChildIDs()
		for i := 0; i < n; i++ {
			code := a.TypeCode(i)
			if code < 0 || int(code) >= len(ids) || ids[code] < 0 {
				return fmt.Errorf("union type code %d at row %d is not a child", code, i)
			}
		}
		for i := 0; i < a.NumFields(); i++ {
			if need := a.Data().Offset() + n; a.Field(i).Len() < need {
				return fmt.Errorf("sparse union child %d has %d values, needs %d", i, a.Field(i).Len(), need)
			}
			if err := Array(a.Field(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// raw32 and raw64 view buffer i as offsets, whole (not sliced to the array).
func raw32(d arrow.ArrayData, i int) []int32 {
	if b := d.Buffers(); len(b) > i && b[i] != nil {
		return arrow.Int32Traits.CastFromBytes(b[i].Bytes())
	}
	return nil
}

func raw64(d arrow.ArrayData, i int) []int64 {
	if b := d.Buffers(); len(b) > i && b[i] != nil {
		return arrow.Int64Traits.CastFromBytes(b[i].Bytes())
	}
	return nil
}

func bufLen(d arrow.ArrayData, i int) int {
	if b := d.Buffers(); len(b) > i && b[i] != nil {
		return b[i].Len()
	}
	return 0
}

// offsets32 checks the n+1 offsets of an array (starting at its own
// offset into the buffer): present, not decreasing, within [0, values].
func offsets32(offs []int32, n, values, start int) error {
	if n == 0 {
		return nil
	}
	if len(offs) < start+n+1 {
		return fmt.Errorf("%d offsets for %d rows", len(offs)-start, n)
	}
	prev := offs[start]
	if prev < 0 || int(prev) > values {
		return fmt.Errorf("offset %d outside %d values", prev, values)
	}
	for i, o := range offs[start+1 : start+n+1] {
		if o < prev || int(o) > values {
			return fmt.Errorf("offset %d at row %d after %d, with %d values", o, i, prev, values)
		}
		prev = o
	}
	return nil
}

func offsets64(offs []int64, n, values, start int) error {
	if n == 0 {
		return nil
	}
	if len(offs) < start+n+1 {
		return fmt.Errorf("%d offsets for %d rows", len(offs)-start, n)
	}
	prev := offs[start]
	if prev < 0 || prev > int64(values) {
		return fmt.Errorf("offset %d outside %d values", prev, values)
	}
	for i, o := range offs[start+1 : start+n+1] {
		if o < prev || o > int64(values) {
			return fmt.Errorf("offset %d at row %d after %d, with %d values", o, i, prev, values)
		}
		prev = o
	}
	return nil
}

// Record checks every column of rec, naming the column in the error.
func Record(rec arrow.RecordBatch) error {
	for i, col := range rec.Columns() {
		if err := Array(col); err != nil {
			return fmt.Errorf("column %q: %w", rec.ColumnName(i), err)
		}
	}
	return nil
}
