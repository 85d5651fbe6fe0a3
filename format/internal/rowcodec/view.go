package rowcodec

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// KindOther marks an array the writers have no fast path for
// (dictionaries, durations, time-of-day...): they print it through arrow's
// own ValueStr or JSON value, slower but complete.
const KindOther Kind = 255

// View is one array's typed buffers, the writer-side counterpart of
// Column: the CSV and JSONL encode loops switch on Kind per cell and index
// these slices, with no call through arrow.Array on the fast paths. Which
// fields are set depends on Kind; the rest are nil.
type View struct {
	Kind  Kind
	Arr   arrow.Array
	Nulls bool // the array has nulls: check Arr.IsNull before each value

	I64 []int64  // KindInt (int64), KindTimestamp
	I32 []int32  // KindInt (int32), KindDate32, KindList (offsets of this slice's lists)
	U64 []uint64 // KindUint (uint64)
	F64 []float64
	F32 []float32
	Dec []decimal128.Num

	// Offs (String, Binary) or LOffs (LargeString) index Bytes; they are
	// not rebased for a sliced array, so subtract the first offset.
	Offs  []int32
	LOffs []int64
	Bytes []byte

	Bools *array.Boolean
	Unit  arrow.TimeUnit // KindTimestamp
	Scale int32          // KindDecimal

	// NarrowInt and NarrowUint read the rare 8- and 16-bit ints and 8- to
	// 32-bit uints (KindInt or KindUint with I64, I32 and U64 nil): a call
	// per value there is cheaper than a slice field for each width.
	NarrowInt  func(i int) int64
	NarrowUint func(i int) uint64
}

// NewView takes a's buffers. A struct or list only gets its Kind (and a
// list its offsets): the JSONL writer, the one that writes them, views
// the children itself alongside its own per-field keys.
func NewView(a arrow.Array) View {
	v := View{Kind: KindOther, Arr: a, Nulls: a.NullN() > 0}
	switch a := a.(type) {
	case *array.Int64:
		v.Kind, v.I64 = KindInt, a.Int64Values()
	case *array.Int32:
		v.Kind, v.I32 = KindInt, a.Int32Values()
	case *array.Int16:
		v.Kind, v.NarrowInt = KindInt, func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int8:
		v.Kind, v.NarrowInt = KindInt, func(i int) int64 { return int64(a.Value(i)) }
	case *array.Uint64:
		v.Kind, v.U64 = KindUint, a.Uint64Values()
	case *array.Uint32:
		v.Kind, v.NarrowUint = KindUint, func(i int) uint64 { return uint64(a.Value(i)) }
	case *array.Uint16:
		v.Kind, v.NarrowUint = KindUint, func(i int) uint64 { return uint64(a.Value(i)) }
	case *array.Uint8:
		v.Kind, v.NarrowUint = KindUint, func(i int) uint64 { return uint64(a.Value(i)) }
	case *array.Float64:
		v.Kind, v.F64 = KindFloat64, a.Float64Values()
	case *array.Float32:
		v.Kind, v.F32 = KindFloat32, a.Float32Values()
	case *array.String:
		v.Kind, v.Offs, v.Bytes = KindString, a.ValueOffsets(), a.ValueBytes()
	case *array.LargeString:
		v.Kind, v.LOffs, v.Bytes = KindLargeString, a.ValueOffsets(), a.ValueBytes()
	case *array.Binary:
		v.Kind, v.Offs, v.Bytes = KindBinary, a.ValueOffsets(), a.ValueBytes()
	case *array.Boolean:
		v.Kind, v.Bools = KindBool, a
	case *array.Date32:
		v.Kind = KindDate32
		v.I32 = arrow.Int32Traits.CastFromBytes(arrow.Date32Traits.CastToBytes(a.Date32Values()))
	case *array.Timestamp:
		v.Kind = KindTimestamp
		v.I64 = arrow.Int64Traits.CastFromBytes(arrow.TimestampTraits.CastToBytes(a.TimestampValues()))
		v.Unit = a.DataType().(*arrow.TimestampType).Unit
	case *array.Decimal128:
		v.Kind, v.Dec = KindDecimal, a.Values()
		v.Scale = a.DataType().(*arrow.Decimal128Type).Scale
	case *array.Struct:
		v.Kind = KindStruct
	case *array.List:
		v.Kind = KindList
		// Offsets() is not adjusted for a sliced list (primitive Values()
		// are), so index past the slice offset here.
		v.I32 = a.Offsets()[a.Data().Offset():]
	}
	return v
}
