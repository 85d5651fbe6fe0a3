package arrowjson

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

type builder struct {
	mem   memory.Allocator
	dicts map[int64]arrow.ArrayData
	// dictIDs maps each dictionary type of the schema to its dictionary id,
	// which the Arrow type itself does not carry.
	dictIDs map[*arrow.DictionaryType]int64
}

func (b *builder) record(schema *arrow.Schema, jb jsonBatch) (arrow.RecordBatch, error) {
	if len(jb.Columns) != schema.NumFields() {
		return nil, fmt.Errorf("%d columns, schema has %d fields", len(jb.Columns), schema.NumFields())
	}
	cols := make([]arrow.Array, 0, len(jb.Columns))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for i, jc := range jb.Columns {
		data, err := b.array(schema.Field(i), jc)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", jc.Name, err)
		}
		cols = append(cols, array.MakeFromData(data))
		data.Release()
	}
	return array.NewRecordBatch(schema, cols, int64(jb.Count)), nil
}

// buffer copies p into a buffer from the allocator, so leak checks see it.
func (b *builder) buffer(p []byte) *memory.Buffer {
	buf := memory.NewResizableBuffer(b.mem)
	buf.Resize(len(p))
	copy(buf.Bytes(), p)
	return buf
}

func (b *builder) validity(jc jsonColumn) (*memory.Buffer, int, error) {
	if jc.Validity == nil {
		return nil, 0, nil
	}
	if len(jc.Validity) != jc.Count {
		return nil, 0, fmt.Errorf("VALIDITY has %d entries, count is %d", len(jc.Validity), jc.Count)
	}
	bits := make([]byte, bitutil.BytesForBits(int64(jc.Count)))
	nulls := 0
	for i, v := range jc.Validity {
		if v != 0 {
			bitutil.SetBit(bits, i)
		} else {
			nulls++
		}
	}
	return b.buffer(bits), nulls, nil
}

func release(bufs []*memory.Buffer) {
	for _, buf := range bufs {
		if buf != nil {
			buf.Release()
		}
	}
}

// array builds one column; the caller releases the returned data.
func (b *builder) array(f arrow.Field, jc jsonColumn) (arrow.ArrayData, error) {
	valid, nulls, err := b.validity(jc)
	if err != nil {
		return nil, err
	}
	bufs := []*memory.Buffer{valid}
	defer func() { release(bufs) }()
	n := jc.Count

	switch dt := f.Type.(type) {
	case *arrow.NullType:
		return array.NewData(dt, n, []*memory.Buffer{nil}, nil, n, 0), nil

	case *arrow.DictionaryType:
		dict, ok := b.dicts[b.dictIDs[dt]]
		if !ok {
			return nil, fmt.Errorf("no dictionary for field %q", f.Name)
		}
		data, err := b.fixed(dt.IndexType, jc)
		if err != nil {
			return nil, err
		}
		bufs = append(bufs, data)
		return array.NewDataWithDictionary(dt, n, bufs, nulls, 0, dict.(*array.Data)), nil

	case *arrow.BinaryType, *arrow.StringType, *arrow.LargeBinaryType, *arrow.LargeStringType:
		large := dt.ID() == arrow.LARGE_BINARY || dt.ID() == arrow.LARGE_STRING
		offsets, err := b.offsets(jc, large)
		if err != nil {
			return nil, err
		}
		bufs = append(bufs, offsets)
		var data []byte
		for i, raw := range jc.Data {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("DATA[%d]: %w", i, err)
			}
			if dt.ID() == arrow.BINARY || dt.ID() == arrow.LARGE_BINARY {
				v, err := hex.DecodeString(s)
				if err != nil {
					return nil, fmt.Errorf("DATA[%d]: %w", i, err)
				}
				data = append(data, v...)
			} else {
				data = append(data, s...)
			}
		}
		bufs = append(bufs, b.buffer(data))
		return array.NewData(dt, n, bufs, nil, nulls, 0), nil

	case *arrow.ListType, *arrow.LargeListType:
		offsets, err := b.offsets(jc, dt.ID() == arrow.LARGE_LIST)
		if err != nil {
			return nil, err
		}
		bufs = append(bufs, offsets)
		child, err := b.children(dt.(arrow.NestedType).Fields(), jc)
		if err != nil {
			return nil, err
		}
		defer releaseData(child)
		return array.NewData(dt, n, bufs, child, nulls, 0), nil

	case *arrow.FixedSizeListType, *arrow.StructType:
		child, err := b.children(dt.(arrow.NestedType).Fields(), jc)
		if err != nil {
			return nil, err
		}
		defer releaseData(child)
		return array.NewData(dt, n, bufs, child, nulls, 0), nil
	}

	data, err := b.fixed(f.Type, jc)
	if err != nil {
		return nil, err
	}
	bufs = append(bufs, data)
	return array.NewData(f.Type, n, bufs, nil, nulls, 0), nil
}

func releaseData(ds []arrow.ArrayData) {
	for _, d := range ds {
		d.Release()
	}
}

func (b *builder) children(fields []arrow.Field, jc jsonColumn) ([]arrow.ArrayData, error) {
	if len(fields) != len(jc.Children) {
		return nil, fmt.Errorf("%d children, type has %d", len(jc.Children), len(fields))
	}
	out := make([]arrow.ArrayData, 0, len(fields))
	for i, f := range fields {
		d, err := b.array(f, jc.Children[i])
		if err != nil {
			releaseData(out)
			return nil, fmt.Errorf("child %q: %w", f.Name, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func (b *builder) offsets(jc jsonColumn, large bool) (*memory.Buffer, error) {
	if len(jc.Offset) != jc.Count+1 {
		return nil, fmt.Errorf("OFFSET has %d entries, want %d", len(jc.Offset), jc.Count+1)
	}
	var out []byte
	for i, raw := range jc.Offset {
		v, err := strconv.ParseInt(numText(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("OFFSET[%d]: %w", i, err)
		}
		if large {
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		} else {
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
		}
	}
	return b.buffer(out), nil
}

// numText returns a JSON number's text; 64-bit integers and decimals are
// JSON strings in the integration format because they may exceed 2^53.
func numText(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// fixed encodes DATA as the little-endian values buffer of a fixed-width type.
func (b *builder) fixed(dt arrow.DataType, jc jsonColumn) (*memory.Buffer, error) {
	if len(jc.Data) != jc.Count {
		return nil, fmt.Errorf("DATA has %d entries, count is %d", len(jc.Data), jc.Count)
	}
	var out []byte
	if dt.ID() == arrow.BOOL {
		out = make([]byte, bitutil.BytesForBits(int64(jc.Count)))
	}
	le := binary.LittleEndian
	for i, raw := range jc.Data {
		s := numText(raw)
		var err error
		switch dt := dt.(type) {
		case *arrow.BooleanType:
			if s == "true" {
				bitutil.SetBit(out, i)
			}
		case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
			*arrow.Date32Type, *arrow.Date64Type, *arrow.Time32Type, *arrow.Time64Type,
			*arrow.TimestampType, *arrow.DurationType:
			bits := dt.(arrow.FixedWidthDataType).BitWidth()
			var v int64
			v, err = strconv.ParseInt(s, 10, bits)
			out = appendInt(out, uint64(v), bits)
		case *arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type:
			bits := dt.(arrow.FixedWidthDataType).BitWidth()
			var v uint64
			v, err = strconv.ParseUint(s, 10, bits)
			out = appendInt(out, v, bits)
		case *arrow.Float32Type:
			var v float64
			v, err = strconv.ParseFloat(s, 32)
			out = le.AppendUint32(out, math.Float32bits(float32(v)))
		case *arrow.Float64Type:
			var v float64
			v, err = strconv.ParseFloat(s, 64)
			out = le.AppendUint64(out, math.Float64bits(v))
		case *arrow.FixedSizeBinaryType:
			var v []byte
			v, err = hex.DecodeString(s)
			if err == nil && len(v) != dt.ByteWidth {
				err = fmt.Errorf("%d bytes, want %d", len(v), dt.ByteWidth)
			}
			out = append(out, v...)
		case *arrow.Decimal128Type:
			bi, ok := new(big.Int).SetString(s, 10)
			if !ok {
				err = fmt.Errorf("bad decimal %q", s)
				break
			}
			v := decimal128.FromBigInt(bi)
			out = le.AppendUint64(out, v.LowBits())
			out = le.AppendUint64(out, uint64(v.HighBits()))
		case *arrow.Decimal256Type:
			bi, ok := new(big.Int).SetString(s, 10)
			if !ok {
				err = fmt.Errorf("bad decimal %q", s)
				break
			}
			for _, w := range decimal256.FromBigInt(bi).Array() {
				out = le.AppendUint64(out, w)
			}
		default:
			return nil, fmt.Errorf("type %s is not supported by this reader", dt)
		}
		if err != nil {
			return nil, fmt.Errorf("DATA[%d]: %w", i, err)
		}
	}
	return b.buffer(out), nil
}

func appendInt(out []byte, v uint64, bits int) []byte {
	switch bits {
	case 8:
		return append(out, byte(v))
	case 16:
		return binary.LittleEndian.AppendUint16(out, uint16(v))
	case 32:
		return binary.LittleEndian.AppendUint32(out, uint32(v))
	}
	return binary.LittleEndian.AppendUint64(out, v)
}
