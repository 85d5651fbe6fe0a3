package wasmabi

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestTakeEmpty: gathering no rows from an empty array whose data carries
// nil buffers (as a zero-row bool column may, reported by a guest that
// returns a selection bitmap for an empty batch) gives an empty array of
// the same type, for every type the host gathers.
func TestTakeEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, dt := range []arrow.DataType{
		arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int32,
		arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary,
	} {
		bufs := make([]*memory.Buffer, 2)
		if arrow.IsBaseBinary(dt.ID()) {
			bufs = make([]*memory.Buffer, 3)
		}
		d := array.NewData(dt, 0, bufs, nil, 0, 0)
		a := array.MakeFromData(d)
		d.Release()
		out, err := take(mem, a, nil)
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		if out.Len() != 0 || !arrow.TypeEqual(out.DataType(), dt) {
			t.Errorf("%s: got %d rows of %s", dt, out.Len(), out.DataType())
		}
		out.Release()
		a.Release()
	}
}
