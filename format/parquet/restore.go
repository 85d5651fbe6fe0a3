package parquet

import (
	"encoding/base64"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/dataweaver/dataweaver/format/internal/ipccheck"
)

// restorer puts back what pqarrow does not restore from the stored
// Arrow schema (ARROW:schema) of top-level columns: timestamp units Parquet
// lacks (seconds are stored as milliseconds), time zones (timestamps
// without one come back as UTC), date64 (arrow-go v18 stores it as a
// Parquet DATE and reads it back as date32; v15 gave timestamp[ms]), the
// names of nested fields (v18 reads every list's element as "element"
// whatever name was written), and field metadata. It also drops the
// "PARQUET:field_id" = "-1" entry pqarrow adds to every field, which only
// says the file has no field ids.
type restorer struct {
	schema  *arrow.Schema
	convert []bool // per column: values need rewriting to schema's type
	mem     memory.Allocator
}

func newRestorer(read *arrow.Schema, kv metadata.KeyValueMetadata, mem memory.Allocator) *restorer {
	stored := storedSchema(kv, mem)
	fields := make([]arrow.Field, read.NumFields())
	convert := make([]bool, read.NumFields())
	for i, f := range read.Fields() {
		f.Metadata = dropFieldID(f.Metadata)
		if st := stripType(f.Type); st != f.Type {
			f.Type = st
			convert[i] = true
		}
		if stored != nil && stored.NumFields() == read.NumFields() && stored.Field(i).Name == f.Name {
			want := stored.Field(i)
			f.Metadata = want.Metadata
			if !arrow.TypeEqual(f.Type, want.Type, arrow.CheckMetadata()) && convertible(f.Type, want.Type) {
				f.Type = want.Type
				convert[i] = true
			}
		}
		fields[i] = f
	}
	md := read.Metadata()
	if stored != nil {
		md = stored.Metadata()
	}
	return &restorer{schema: arrow.NewSchema(fields, &md), convert: convert, mem: mem}
}

// decodeStored returns the bytes of the ARROW:schema entry, nil if absent.
func decodeStored(kv metadata.KeyValueMetadata) ([]byte, error) {
	v := kv.FindValue("ARROW:schema")
	if v == nil {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(*v)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(*v)
	}
	return b, err
}

func checkStoredSchema(kv metadata.KeyValueMetadata) error {
	b, err := decodeStored(kv)
	if err != nil {
		return fmt.Errorf("stored Arrow schema: %w", err)
	}
	if b == nil {
		return nil
	}
	if err := ipccheck.Stream(b); err != nil {
		return fmt.Errorf("stored Arrow schema: %w", err)
	}
	return nil
}

func storedSchema(kv metadata.KeyValueMetadata, mem memory.Allocator) *arrow.Schema {
	b, err := decodeStored(kv)
	if b == nil || err != nil {
		return nil
	}
	var s *arrow.Schema
	// A corrupt stored schema is not fatal: the Parquet schema still says
	// how to read the file.
	if guard(func() error { s, err = flight.DeserializeSchema(b, mem); return err }) != nil {
		return nil
	}
	return s
}

// stripType drops the field ids of struct fields, also inside lists.
func stripType(dt arrow.DataType) arrow.DataType {
	switch dt := dt.(type) {
	case *arrow.StructType:
		fields := dt.Fields()
		for i := range fields {
			fields[i].Metadata = dropFieldID(fields[i].Metadata)
			fields[i].Type = stripType(fields[i].Type)
		}
		return arrow.StructOf(fields...)
	case *arrow.ListType:
		if et := stripType(dt.Elem()); et != dt.Elem() {
			f := dt.ElemField()
			f.Type = et
			return arrow.ListOfField(f)
		}
	}
	return dt
}

func dropFieldID(md arrow.Metadata) arrow.Metadata {
	i := md.FindKey("PARQUET:field_id")
	if i < 0 || md.Values()[i] != "-1" {
		return md
	}
	keys := append(append([]string{}, md.Keys()[:i]...), md.Keys()[i+1:]...)
	vals := append(append([]string{}, md.Values()[:i]...), md.Values()[i+1:]...)
	return arrow.NewMetadata(keys, vals)
}

// convertible lists the rewrites apply knows; anything else keeps the type
// pqarrow chose.
func convertible(from, to arrow.DataType) bool {
	if from.ID() == arrow.DATE32 && to.ID() == arrow.DATE64 {
		return true
	}
	if sameLayout(from, to) {
		return true
	}
	if from.ID() != arrow.TIMESTAMP {
		return false
	}
	switch to := to.(type) {
	case *arrow.Date64Type:
		return from.(*arrow.TimestampType).Unit == arrow.Millisecond
	case *arrow.TimestampType:
		return to.Unit <= from.(*arrow.TimestampType).Unit
	}
	return false
}

// apply returns rec with the restored schema; it takes over rec.
func (r *restorer) apply(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, col := range rec.Columns() {
		if !r.convert[i] {
			col.Retain()
			cols[i] = col
			continue
		}
		c, err := r.rewrite(col, r.schema.Field(i).Type)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", r.schema.Field(i).Name, err)
		}
		cols[i] = c
	}
	out := array.NewRecordBatch(r.schema, cols, rec.NumRows())
	rec.Release()
	return out, nil
}

func (r *restorer) rewrite(col arrow.Array, to arrow.DataType) (arrow.Array, error) {
	d := col.Data()
	if sameLayout(col.DataType(), to) {
		// Only names or field metadata differ: swap the types.
		nd := retype(d, to)
		defer nd.Release()
		return array.MakeFromData(nd), nil
	}
	if col.DataType().ID() == arrow.DATE32 {
		return r.date64(col.(*array.Date32))
	}
	from := col.DataType().(*arrow.TimestampType)
	div := int64(1)
	if ts, ok := to.(*arrow.TimestampType); ok {
		for u := ts.Unit; u < from.Unit; u++ {
			div *= 1000
		}
	}
	bufs := d.Buffers()
	if div != 1 {
		src := col.(*array.Timestamp).TimestampValues()
		buf := memory.NewResizableBuffer(r.mem)
		defer buf.Release()
		buf.Resize(arrow.Int64Traits.BytesRequired(len(src)))
		dst := arrow.Int64Traits.CastFromBytes(buf.Bytes())
		for i, v := range src {
			if col.IsValid(i) && int64(v)%div != 0 {
				return nil, fmt.Errorf("row %d: %d is not a whole number of %s", i, v, to)
			}
			dst[i] = int64(v) / div
		}
		bufs = []*memory.Buffer{bufs[0], buf}
		nd := array.NewData(to, d.Len(), bufs, nil, d.NullN(), 0)
		if d.Offset() != 0 && bufs[0] != nil {
			// The validity bitmap still has the slice's offset; keep the
			// original layout instead of shifting bits.
			nd.Release()
			return r.rewriteSlow(col, to, div)
		}
		defer nd.Release()
		return array.MakeFromData(nd), nil
	}
	nd := array.NewData(to, d.Len(), bufs, nil, d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd), nil
}

// rewriteSlow handles an offset slice through a builder.
func (r *restorer) rewriteSlow(col arrow.Array, to arrow.DataType, div int64) (arrow.Array, error) {
	b := array.NewBuilder(r.mem, to)
	defer b.Release()
	src := col.(*array.Timestamp)
	for i := 0; i < src.Len(); i++ {
		if src.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := int64(src.Value(i)) / div
		switch b := b.(type) {
		case *array.TimestampBuilder:
			b.Append(arrow.Timestamp(v))
		case *array.Date64Builder:
			b.Append(arrow.Date64(v))
		}
	}
	return b.NewArray(), nil
}

// sameLayout reports whether from and to hold the same buffers and differ
// at most in the names, nullability flags or metadata of nested fields.
func sameLayout(from, to arrow.DataType) bool {
	if from.ID() != to.ID() {
		return false
	}
	switch f := from.(type) {
	case *arrow.ListType:
		return sameLayout(f.Elem(), to.(*arrow.ListType).Elem())
	case *arrow.LargeListType:
		return sameLayout(f.Elem(), to.(*arrow.LargeListType).Elem())
	case *arrow.FixedSizeListType:
		t := to.(*arrow.FixedSizeListType)
		return f.Len() == t.Len() && sameLayout(f.Elem(), t.Elem())
	case *arrow.MapType:
		t := to.(*arrow.MapType)
		return sameLayout(f.KeyType(), t.KeyType()) && sameLayout(f.ItemType(), t.ItemType())
	case *arrow.StructType:
		t := to.(*arrow.StructType)
		if f.NumFields() != t.NumFields() {
			return false
		}
		for i := 0; i < f.NumFields(); i++ {
			if !sameLayout(f.Field(i).Type, t.Field(i).Type) {
				return false
			}
		}
		return true
	case *arrow.TimestampType:
		// Units and zones are rewrites of their own (see convertible).
		return arrow.TypeEqual(from, to)
	}
	return arrow.TypeEqual(from, to)
}

// retype returns d with type to, its children retyped alike; to has d's
// layout (sameLayout).
func retype(d arrow.ArrayData, to arrow.DataType) arrow.ArrayData {
	var childTypes []arrow.DataType
	switch t := to.(type) {
	case *arrow.MapType:
		childTypes = []arrow.DataType{t.Elem()}
	case arrow.ListLikeType:
		childTypes = []arrow.DataType{t.Elem()}
	case *arrow.StructType:
		for _, f := range t.Fields() {
			childTypes = append(childTypes, f.Type)
		}
	}
	children := make([]arrow.ArrayData, len(d.Children()))
	for i, c := range d.Children() {
		children[i] = retype(c, childTypes[i])
	}
	nd := array.NewData(to, d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
	for _, c := range children {
		c.Release()
	}
	return nd
}

// date64 widens days to milliseconds.
func (r *restorer) date64(col *array.Date32) (arrow.Array, error) {
	d := col.Data()
	buf := memory.NewResizableBuffer(r.mem)
	defer buf.Release()
	buf.Resize(arrow.Int64Traits.BytesRequired(col.Len()))
	dst := arrow.Int64Traits.CastFromBytes(buf.Bytes())
	for i, v := range col.Date32Values() {
		dst[i] = int64(v) * 86_400_000
	}
	var valid *memory.Buffer
	if col.NullN() > 0 {
		valid = memory.NewResizableBuffer(r.mem)
		defer valid.Release()
		valid.Resize(int(bitutil.BytesForBits(int64(col.Len()))))
		bitutil.CopyBitmap(col.NullBitmapBytes(), d.Offset(), col.Len(), valid.Bytes(), 0)
	}
	nd := array.NewData(arrow.FixedWidthTypes.Date64, col.Len(), []*memory.Buffer{valid, buf}, nil, col.NullN(), 0)
	defer nd.Release()
	return array.MakeFromData(nd), nil
}
