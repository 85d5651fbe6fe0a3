package schemareg

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// promotion converts a writer's column to the pipeline's type.
type promotion func(a arrow.Array, mem memory.Allocator) arrow.Array

// promote returns the conversion for Avro's promotions of a top-level
// column (int to long, float or double; long to float or double; float to
// double; string and bytes either way), or nil when from cannot be read as
// to. A whole column at a time, once per batch.
func promote(from, to arrow.DataType) promotion {
	switch from.ID() {
	case arrow.INT32:
		switch to.ID() {
		case arrow.INT64:
			return func(a arrow.Array, mem memory.Allocator) arrow.Array {
				return convert(a, array.NewInt64Builder(mem), func(b *array.Int64Builder, i int) { b.Append(int64(a.(*array.Int32).Value(i))) })
			}
		case arrow.FLOAT32:
			return func(a arrow.Array, mem memory.Allocator) arrow.Array {
				return convert(a, array.NewFloat32Builder(mem), func(b *array.Float32Builder, i int) { b.Append(float32(a.(*array.Int32).Value(i))) })
			}
		case arrow.FLOAT64:
			return func(a arrow.Array, mem memory.Allocator) arrow.Array {
				return convert(a, array.NewFloat64Builder(mem), func(b *array.Float64Builder, i int) { b.Append(float64(a.(*array.Int32).Value(i))) })
			}
		}
	case arrow.INT64:
		switch to.ID() {
		case arrow.FLOAT32:
			return func(a arrow.Array, mem memory.Allocator) arrow.Array {
				return convert(a, array.NewFloat32Builder(mem), func(b *array.Float32Builder, i int) { b.Append(float32(a.(*array.Int64).Value(i))) })
			}
		case arrow.FLOAT64:
			return func(a arrow.Array, mem memory.Allocator) arrow.Array {
				return convert(a, array.NewFloat64Builder(mem), func(b *array.Float64Builder, i int) { b.Append(float64(a.(*array.Int64).Value(i))) })
			}
		}
	case arrow.FLOAT32:
		if to.ID() == arrow.FLOAT64 {
			return func(a arrow.Array, mem memory.Allocator) arrow.Array {
				return convert(a, array.NewFloat64Builder(mem), func(b *array.Float64Builder, i int) { b.Append(float64(a.(*array.Float32).Value(i))) })
			}
		}
	case arrow.STRING, arrow.BINARY:
		// Same layout (offsets and bytes): the buffers are shared. Bytes
		// read as a string are checked for UTF-8 by nothing here, as
		// Avro's own promotion does not check them either.
		if (to.ID() == arrow.STRING || to.ID() == arrow.BINARY) && to.ID() != from.ID() {
			return func(a arrow.Array, _ memory.Allocator) arrow.Array {
				d := a.Data()
				nd := array.NewData(to, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
				defer nd.Release()
				return array.MakeFromData(nd)
			}
		}
	}
	return nil
}

// convert builds a column of b's type from a, value by value, keeping a's
// nulls.
func convert[B array.Builder](a arrow.Array, b B, put func(b B, i int)) arrow.Array {
	defer b.Release()
	b.Reserve(a.Len())
	for i := range a.Len() {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		put(b, i)
	}
	return b.NewArray()
}
