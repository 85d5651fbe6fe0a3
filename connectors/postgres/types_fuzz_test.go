package postgres

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// wireTypes are the Arrow types of the wire kinds, for FuzzAppendWire.
var wireTypes = map[wireKind]arrow.DataType{
	wireBool: arrow.FixedWidthTypes.Boolean, wireInt16: arrow.PrimitiveTypes.Int16, wireInt32: arrow.PrimitiveTypes.Int32,
	wireInt64: arrow.PrimitiveTypes.Int64, wireFloat32: arrow.PrimitiveTypes.Float32, wireFloat64: arrow.PrimitiveTypes.Float64,
	wireText: arrow.BinaryTypes.String, wireBytes: arrow.BinaryTypes.Binary, wireDate: arrow.FixedWidthTypes.Date32,
	wireTimestamp: tsUTC,
}

// FuzzAppendWire: whatever bytes a server sends for a column, appendWire
// either appends exactly one value or returns an error; it never panics
// or appends on error.
func FuzzAppendWire(f *testing.F) {
	for k := range wireTypes {
		f.Add(uint8(k), []byte{0, 0, 0, 0, 0, 0, 0, 1})
		f.Add(uint8(k), []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		f.Add(uint8(k), []byte("hé"))
	}
	f.Fuzz(func(t *testing.T, k uint8, v []byte) {
		typ, ok := wireTypes[wireKind(k)]
		if !ok {
			return
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		b := array.NewBuilder(mem, typ)
		defer b.Release()
		c := &column{field: arrow.Field{Name: "c", Type: typ}, wire: wireKind(k)}
		err := c.appendWire(b, v)
		if (err == nil) != (b.Len() == 1) {
			t.Fatalf("kind %d, %x: %d values appended, error %v", k, v, b.Len(), err)
		}
		a := b.NewArray()
		defer a.Release()
		if err == nil && a.IsNull(0) != (v == nil) {
			t.Fatalf("kind %d, %x: null %v", k, v, a.IsNull(0))
		}
	})
}
