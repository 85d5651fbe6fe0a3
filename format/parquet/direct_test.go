package parquet

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/sharedata"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// readWith reads data to the end with the direct reader on or off and
// returns the schema, the records and whether the direct reader was used.
func readWith(t *testing.T, direct bool, name string, data []byte, opts format.ReadOptions) (*arrow.Schema, []arrow.RecordBatch, bool) {
	t.Helper()
	old := directRead
	directRead = direct
	defer func() { directRead = old }()
	r, err := NewReader(bytesInput(name, data), opts)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", name, err)
	}
	used := r.(*reader).direct != nil
	schema := r.Schema()
	var recs []arrow.RecordBatch
	for {
		rec, _, err := r.Next()
		if err != nil {
			if err.Error() != "EOF" {
				testrecords.Release(recs)
				r.Close()
				t.Fatalf("read %s (direct %v): %v", name, direct, err)
			}
			break
		}
		recs = append(recs, rec)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return schema, recs, used
}

// requireSameRead reads data with pqarrow's path and with the direct
// reader and fails unless both give the same schema and the same rows in
// the same batches. It returns whether the direct reader was used.
func requireSameRead(t *testing.T, name string, data []byte, opts format.ReadOptions) bool {
	t.Helper()
	ws, want, _ := readWith(t, false, name, data, opts)
	defer testrecords.Release(want)
	gs, got, used := readWith(t, true, name, data, opts)
	defer testrecords.Release(got)
	if !gs.Equal(ws) || fmt.Sprint(gs.Metadata()) != fmt.Sprint(ws.Metadata()) {
		t.Fatalf("%s: schema\n%s\nwant\n%s", name, gs, ws)
	}
	for i, f := range gs.Fields() {
		if fmt.Sprint(f.Metadata) != fmt.Sprint(ws.Field(i).Metadata) {
			t.Fatalf("%s: field %q metadata %v, want %v", name, f.Name, f.Metadata, ws.Field(i).Metadata)
		}
	}
	testrecords.RequireEqual(t, name, want, got)
	return used
}

// TestDirectSameAsPqarrow: the direct reader gives what pqarrow's path
// gives (schema, field metadata, batches, values) for the Parquet files
// other tools wrote (most go to pqarrow, which this also checks) and for
// random flat tables written by our writer and by arrow-go's, with nulls,
// dictionaries that fall back to plain pages, V1 and V2 pages, every
// codec, small pages and row groups, and reads that start mid-file.
func TestDirectSameAsPqarrow(t *testing.T) {
	t.Run("shared files", func(t *testing.T) {
		dir := sharedata.Path(t, "parquet")
		for _, c := range fileCases {
			if c.err != "" {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			t.Run(c.file, func(t *testing.T) {
				batch := 3
				if c.rows > 100 {
					batch = 250
				}
				if requireSameRead(t, c.file, data, format.ReadOptions{Mem: checkedMem(t), BatchRows: batch}) {
					t.Log("read by the direct reader")
				}
			})
		}
		// W2's job run by DuckDB 1.5.6 on 1,000 generated orders: V1 pages,
		// nullable columns, PLAIN_DICTIONARY, no page statistics.
		data, err := os.ReadFile(filepath.Join("testdata", "duckdb_w2.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		if !requireSameRead(t, "duckdb_w2.parquet", data, format.ReadOptions{Mem: checkedMem(t), BatchRows: 300}) {
			t.Fatal("duckdb_w2.parquet: not read by the direct reader")
		}
	})

	// supported: the flat types the direct reader decodes; the others make
	// a file go to pqarrow.
	supported := []string{"bool", "i8", "i16", "u8", "u16", "i32", "i64", "u32", "u64", "f32", "f64", "utf8", "binary", "date32", "date64",
		"time32ms", "time64us", "time64ns", "ts_s", "ts_ms_utc", "ts_us_paris", "ts_ns"}
	others := []string{"dec", "fixed", "large_utf8", "list", "struct", "dict"}
	all := map[string]arrow.Field{}
	for _, f := range testrecords.AllTypes() {
		all[f.Name] = f
	}
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 16))
		var fields []arrow.Field
		for i := range 1 + rng.IntN(6) {
			f := all[supported[rng.IntN(len(supported))]]
			f.Name = fmt.Sprintf("%s_%d", f.Name, i)
			if seed%2 == 1 {
				f.Nullable = rng.IntN(3) > 0
			}
			fields = append(fields, f)
		}
		fallback := seed%10 == 9
		if fallback {
			f := all[others[rng.IntN(len(others))]]
			fields = append(fields, f)
		}
		schema := arrow.NewSchema(fields, nil)
		rows := []int{0, 1, 100, 3000}[rng.IntN(4)]
		nullEvery := []int{0, 1, 2, 10}[rng.IntN(4)] // 0: none, 1: all
		distinct := []int{1, 7, 500, 1 << 30}[rng.IntN(4)]
		codec := []string{"snappy", "none", "zstd", "snappy"}[rng.IntN(4)]
		tu := defaultTuning
		tu.rowGroupRows = []int64{rowGroupRows, 700, 128}[rng.IntN(3)]
		tu.pageBytes = []int64{1 << 20, 512}[rng.IntN(2)]
		tu.pageV1 = rng.IntN(3) == 0
		tu.dict = []dictMode{dictAuto, dictAlways, dictNever}[rng.IntN(3)]
		if rng.IntN(3) == 0 {
			tu.dictPageBytes = 256 // dictionaries fall back to plain pages
		}
		byArrow := rng.IntN(4) == 0
		opts := format.ReadOptions{BatchRows: []int{7, 77, 1024, 65536}[rng.IntN(4)]}
		if rows > 0 && rng.IntN(3) == 0 {
			opts.SkipRows = int64(rng.IntN(rows + 1))
		}
		name := fmt.Sprintf("seed%d-%drows-null%d-distinct%d-%s-rg%d-v1%v-dict%v-arrow%v-batch%d-skip%d",
			seed, rows, nullEvery, distinct, codec, tu.rowGroupRows, tu.pageV1, tu.dict, byArrow, opts.BatchRows, opts.SkipRows)
		t.Run(name, func(t *testing.T) {
			mem := checkedMem(t)
			rec := randomRecord(mem, schema, rows, nullEvery, distinct, rng)
			defer rec.Release()
			var data []byte
			if byArrow {
				data = writeArrow(t, rec, codec, tu)
			} else {
				data = writeFile(t, mem, schema, []arrow.RecordBatch{rec}, codec, tu)
			}
			opts.Mem = mem
			used := requireSameRead(t, name+".parquet", data, opts)
			if want := !fallback && codec != "zstd"; rows > int(opts.SkipRows) && used != want {
				t.Fatalf("direct reader used: %v, want %v", used, want)
			}
		})
	}
}

// writeArrow writes rec with arrow-go's own FileWriter: V1 pages by
// default, PLAIN_DICTIONARY and its own page sizes.
func writeArrow(t *testing.T, rec arrow.RecordBatch, codec string, tu tuning) []byte {
	t.Helper()
	c := map[string]compress.Compression{"snappy": compress.Codecs.Snappy, "none": compress.Codecs.Uncompressed, "zstd": compress.Codecs.Zstd}[codec]
	opts := []pq.WriterProperty{pq.WithCompression(c), pq.WithMaxRowGroupLength(tu.rowGroupRows),
		pq.WithDictionaryDefault(tu.dict != dictNever), pq.WithDataPageSize(tu.pageBytes), pq.WithBatchSize(64)}
	if !tu.pageV1 {
		opts = append(opts, pq.WithDataPageVersion(pq.DataPageV2))
	}
	if tu.dictPageBytes > 0 {
		opts = append(opts, pq.WithDictionaryPageSizeLimit(tu.dictPageBytes))
	}
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(rec.Schema(), &buf, pq.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// randomRecord builds rows rows of schema: every nullEvery-th row null in
// nullable columns (0: none, 1: all), values drawn from distinct ones.
func randomRecord(mem memory.Allocator, schema *arrow.Schema, rows, nullEvery, distinct int, rng *rand.Rand) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i, f := range schema.Fields() {
		fb := b.Field(i)
		for row := range rows {
			if f.Nullable && nullEvery > 0 && (nullEvery == 1 || rng.IntN(nullEvery) == 0) {
				fb.AppendNull()
				continue
			}
			v := int64(rng.IntN(distinct))
			switch fb := fb.(type) {
			case *array.BooleanBuilder:
				fb.Append(v%3 == 1)
			case *array.Int8Builder:
				fb.Append(int8(v - 100))
			case *array.Int16Builder:
				fb.Append(int16(v*37 - 30000))
			case *array.Uint8Builder:
				fb.Append(uint8(v * 3))
			case *array.Uint16Builder:
				fb.Append(uint16(v * 1001))
			case *array.Int32Builder:
				fb.Append(int32(v) - 1<<20)
			case *array.Int64Builder:
				fb.Append(v*1_000_003 - 1<<40)
			case *array.Uint32Builder:
				fb.Append(uint32(v) * 2654435761)
			case *array.Uint64Builder:
				fb.Append(uint64(v) * 0x9e3779b97f4a7c15)
			case *array.Float32Builder:
				fb.Append(float32(v) / 3)
			case *array.Float64Builder:
				fb.Append(float64(v)/7 - 1e6)
			case *array.StringBuilder:
				fb.Append(fmt.Sprintf("%s-%d", []string{"", "x", "naïve café", "a somewhat longer value, past 32 bytes"}[v%4], v))
			case *array.BinaryBuilder:
				fb.Append(bytes.Repeat([]byte{byte(v), 0}, int(v%40)))
			case *array.Date32Builder:
				fb.Append(arrow.Date32(v % 100000))
			case *array.Date64Builder:
				fb.Append(arrow.Date64((v % 100000) * 86400000))
			case *array.Time32Builder:
				fb.Append(arrow.Time32(v % 86400000))
			case *array.Time64Builder:
				fb.Append(arrow.Time64(v % 86400000000))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v * 1000))
			case *array.DurationBuilder:
				fb.Append(arrow.Duration(v - 5))
			default:
				appendFallback(fb, row)
			}
		}
	}
	return b.NewRecordBatch()
}

// appendFallback appends a value of a type the direct reader leaves to
// pqarrow, through testrecords' own values.
func appendFallback(b array.Builder, row int) {
	mem := memory.NewGoAllocator()
	one := testrecords.Record(mem, arrow.Field{Name: "x", Type: b.Type()})
	defer one.Release()
	col := one.Column(0)
	i := row % int(col.Len())
	if col.IsNull(i) {
		b.AppendNull()
		return
	}
	sl := array.NewSlice(col, int64(i), int64(i+1))
	defer sl.Release()
	if err := b.AppendValueFromString(sl.ValueStr(0)); err != nil {
		b.AppendNull()
	}
}

// TestDirectPlainStringPages: a batch's string values are copied at its
// end, so the pages of plain strings it spans must each keep their own
// buffer until then; with one buffer reused, later pages would overwrite
// the values of earlier ones.
func TestDirectPlainStringPages(t *testing.T) {
	for _, codec := range []string{"snappy", "none"} {
		t.Run(codec, func(t *testing.T) {
			mem := checkedMem(t)
			schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
			rec := randomRecord(mem, schema, 3000, 10, 1<<30, rand.New(rand.NewPCG(1, 2)))
			defer rec.Release()
			tu := defaultTuning
			tu.dict, tu.pageBytes = dictNever, 512
			data := writeFile(t, mem, schema, []arrow.RecordBatch{rec}, codec, tu)
			if !requireSameRead(t, "plain.parquet", data, format.ReadOptions{Mem: mem, BatchRows: 1000}) {
				t.Fatal("not read by the direct reader")
			}
		})
	}
}

// TestDirectSameAsPqarrowFiles compares the two paths on the Parquet
// files named in DW_DIFF_PARQUET (comma-separated), e.g. W2's 1M-row input
// and DuckDB's output of it, too big to keep in the repository.
func TestDirectSameAsPqarrowFiles(t *testing.T) {
	names := os.Getenv("DW_DIFF_PARQUET")
	if names == "" {
		t.Skip("set DW_DIFF_PARQUET to Parquet files")
	}
	for _, name := range strings.Split(names, ",") {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{16384, 1000} {
			if !requireSameRead(t, name, data, format.ReadOptions{Mem: checkedMem(t), BatchRows: batch}) {
				t.Logf("%s: not read by the direct reader", name)
			}
		}
	}
}
