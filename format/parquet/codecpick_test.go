package parquet

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// randomTypes are the types randomColumn fills with raw random bytes:
// every bit pattern is a value Parquet stores and gives back unchanged.
// (date64 is stored as days and timestamp[s] as ms, so only some of
// their values round-trip; decimals have a precision.)
var randomTypes = []arrow.DataType{
	arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64,
	arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Uint64,
	arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Date32,
	arrow.FixedWidthTypes.Time32ms, arrow.FixedWidthTypes.Time64us, arrow.FixedWidthTypes.Time64ns,
	arrow.FixedWidthTypes.Timestamp_ms, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
	arrow.FixedWidthTypes.Timestamp_ns, arrow.FixedWidthTypes.Boolean,
	arrow.BinaryTypes.String, arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeString,
}

// fillKind is what a random column holds.
type fillKind int

const (
	noise    fillKind = iota // random bits: snappy cannot shrink them
	sequence                 // 0, 1, 2, ...: snappy halves them
	repeats                  // a few distinct values: dictionary-encoded
)

// randomColumn returns n values of dt of the given kind, each null with
// probability nulls.
func randomColumn(mem memory.Allocator, rng *rand.Rand, dt arrow.DataType, n int, kind fillKind, nulls float64) arrow.Array {
	var valid *memory.Buffer
	nullN := 0
	if nulls > 0 {
		valid = memory.NewResizableBuffer(mem)
		defer valid.Release()
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		for i := range n {
			ok := rng.Float64() >= nulls
			bitutil.SetBitTo(valid.Bytes(), i, ok)
			if !ok {
				nullN++
			}
		}
	}
	if fw, ok := dt.(arrow.FixedWidthDataType); ok && dt.ID() != arrow.BOOL {
		width := fw.BitWidth() / 8
		vals := memory.NewResizableBuffer(mem)
		defer vals.Release()
		vals.Resize(n * width)
		b := vals.Bytes()
		for i := range n {
			var v uint64
			switch kind {
			case noise:
				v = rng.Uint64()
			case sequence:
				v = uint64(i)
			case repeats:
				v = uint64(rng.IntN(5))
			}
			for j := range width {
				b[i*width+j] = byte(v >> (8 * j))
			}
		}
		data := array.NewData(dt, n, []*memory.Buffer{valid, vals}, nil, nullN, 0)
		defer data.Release()
		return array.MakeFromData(data)
	}
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for i := range n {
		if valid != nil && !bitutil.BitIsSet(valid.Bytes(), i) {
			b.AppendNull()
			continue
		}
		var s string
		switch kind {
		case noise:
			s = fmt.Sprintf("%x", rng.Uint64()>>rng.IntN(64))
		case sequence:
			s = fmt.Sprint(i)
		case repeats:
			s = []string{"", "a", "bb", "ccc", "XX"}[rng.IntN(5)]
		}
		switch b := b.(type) {
		case *array.BooleanBuilder:
			b.Append(kind == sequence && i%2 == 0 || kind != sequence && len(s)%2 == 0)
		case *array.BinaryBuilder: // also large_string
			b.Append([]byte(s))
		case *array.StringBuilder:
			b.Append(s)
		default:
			if err := b.AppendValueFromString(s); err != nil {
				panic(err)
			}
		}
	}
	return b.NewArray()
}

// chunkCodecs returns the codec of each column chunk, by row group.
func chunkCodecs(t *testing.T, data []byte) [][]compress.Compression {
	t.Helper()
	r, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out [][]compress.Compression
	for g := range r.NumRowGroups() {
		rg := r.MetaData().RowGroup(g)
		var codecs []compress.Compression
		for c := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			codecs = append(codecs, cc.Compression())
		}
		out = append(out, codecs)
	}
	return out
}

// TestCodecPick: with snappy, a column of 4- or 8-byte values that snappy
// cannot shrink is stored uncompressed, and every other column keeps the
// codec; zstd and gzip are never second-guessed; the file reads back.
func TestCodecPick(t *testing.T) {
	const rows = 5000
	cols := []struct {
		name string
		dt   arrow.DataType
		kind fillKind
		// want is the codec of the column with snappy asked for.
		want compress.Compression
	}{
		{"int64 noise", arrow.PrimitiveTypes.Int64, noise, compress.Codecs.Uncompressed},
		{"int64 sequence", arrow.PrimitiveTypes.Int64, sequence, compress.Codecs.Snappy},
		{"int32 noise", arrow.PrimitiveTypes.Int32, noise, compress.Codecs.Uncompressed},
		{"float64 noise", arrow.PrimitiveTypes.Float64, noise, compress.Codecs.Uncompressed},
		{"float64 sequence", arrow.PrimitiveTypes.Float64, sequence, compress.Codecs.Snappy},
		// Consecutive 4-byte values share no 4-byte run: snappy saves
		// nothing there.
		{"float32 sequence", arrow.PrimitiveTypes.Float32, sequence, compress.Codecs.Uncompressed},
		{"timestamp noise", arrow.FixedWidthTypes.Timestamp_us, noise, compress.Codecs.Uncompressed},
		{"time64 noise", arrow.FixedWidthTypes.Time64ns, noise, compress.Codecs.Uncompressed},
		{"int64 repeats (dictionary)", arrow.PrimitiveTypes.Int64, repeats, compress.Codecs.Snappy},
		// Not a type the check reads: kept.
		{"int16 noise", arrow.PrimitiveTypes.Int16, noise, compress.Codecs.Snappy},
		{"string noise", arrow.BinaryTypes.String, noise, compress.Codecs.Snappy},
	}
	mem := checkedMem(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var fields []arrow.Field
	var arrs []arrow.Array
	for _, c := range cols {
		fields = append(fields, arrow.Field{Name: c.name, Type: c.dt, Nullable: true})
		arrs = append(arrs, randomColumn(mem, rng, c.dt, rows, c.kind, 0.1))
	}
	schema := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(schema, arrs, rows)
	for _, a := range arrs {
		a.Release()
	}
	defer rec.Release()
	// A slice, so the sample starts at an offset into the buffers.
	sl := rec.NewSlice(1, rows)
	defer sl.Release()
	recs := []arrow.RecordBatch{sl, sl}
	for _, tt := range []struct {
		name, compression string
		tu                tuning
		want              func(i int) compress.Compression
	}{
		{"snappy", "", defaultTuning, func(i int) compress.Compression { return cols[i].want }},
		{"zstd", "zstd", defaultTuning, func(int) compress.Compression { return compress.Codecs.Zstd }},
		{"snappy, dictionary always", "", tuning{rowGroupRows: 4096, dict: dictAlways, stats: true, pageBytes: 1 << 20, codecPick: true},
			func(int) compress.Compression { return compress.Codecs.Snappy }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := writeFile(t, mem, schema, recs, tt.compression, tt.tu)
			for g, codecs := range chunkCodecs(t, data) {
				for i, got := range codecs {
					if want := tt.want(i); got != want {
						t.Errorf("row group %d column %q: codec %s, want %s", g, cols[i].name, got, want)
					}
				}
			}
			_, got := readAll(t, bytesInput("r.parquet", data), format.ReadOptions{Mem: mem, BatchRows: 2 * rows})
			defer testrecords.Release(got)
			want := concat(t, mem, recs)
			defer want.Release()
			testrecords.RequireEqual(t, "codec pick", []arrow.RecordBatch{want}, got)
		})
	}
}

// TestCompressPaysThreshold: the saving compressPays asks for is the
// writer's tuning, in eighths: a sequence snappy shrinks passes at 1/8
// and fails at 8/8, noise it cannot shrink fails even at 0.
func TestCompressPaysThreshold(t *testing.T) {
	mem := checkedMem(t)
	rng := rand.New(rand.NewPCG(3, 4))
	seq := randomColumn(mem, rng, arrow.PrimitiveTypes.Int64, 5000, sequence, 0)
	t.Cleanup(seq.Release)
	noiseCol := randomColumn(mem, rng, arrow.PrimitiveTypes.Int64, 5000, noise, 0)
	t.Cleanup(noiseCol.Release)
	for _, tt := range []struct {
		name    string
		col     arrow.Array
		eighths int
		want    bool
	}{
		{"sequence, 1/8", seq, 1, true},
		{"sequence, 8/8", seq, 8, false},
		{"noise, 0/8", noiseCol, 0, false},
		{"noise, 1/8", noiseCol, 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pays, ok := compressPays(compress.Codecs.Snappy, tt.col, tt.eighths)
			if !ok || pays != tt.want {
				t.Errorf("compressPays = %v, %v; want %v, true", pays, ok, tt.want)
			}
		})
	}
}
