package parquet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// flatFields is every type of testrecords.AllTypes the parallel writer
// takes.
func flatFields() []arrow.Field {
	var out []arrow.Field
	for _, f := range supported() {
		if flatSchema(arrow.NewSchema([]arrow.Field{f}, nil)) {
			out = append(out, f)
		}
	}
	return out
}

// nullRuns is a record of nullable columns without nulls, of nulls only,
// and with nulls in runs, the three cases of pqarrow's definition levels.
func nullRuns(mem memory.Allocator, rows int) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "none_null", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "all_null", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "runs", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "required", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range rows {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).AppendNull()
		if i%7 < 3 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(string(rune('a' + i%26)))
		}
		b.Field(3).(*array.Float64Builder).Append(float64(i) / 3)
	}
	return b.NewRecordBatch()
}

// words is rows of a required string column and a binary one holding 300
// distinct 4-byte values ("v000".."v299"): a dictionary of 300 × (4 + 4) =
// 2,400 bytes, and 8 raw bytes a value as the page size counts them.
func words(mem memory.Allocator, rows int) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String},
		{Name: "b", Type: arrow.BinaryTypes.Binary, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range rows {
		v := fmt.Sprintf("v%03d", (i*7)%300)
		b.Field(0).(*array.StringBuilder).Append(v)
		b.Field(1).(*array.BinaryBuilder).Append([]byte(v))
	}
	return b.NewRecordBatch()
}

// pageOfInts is 1,000 rows of a required int64 column.
func pageOfInts(mem memory.Allocator) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range 1000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i) * 7919)
	}
	return b.NewRecordBatch()
}

// TestParallelWriterSameBytes: encoding a flat schema's columns in
// parallel writes the very file pqarrow's serial FileWriter writes from
// the same batches, including row groups that cut through a batch and
// pages cut inside a batch; and the file reads back as written.
func TestParallelWriterSameBytes(t *testing.T) {
	mem := checkedMem(t)
	flat := testrecords.Record(mem, flatFields()...)
	defer flat.Release()
	runs := nullRuns(mem, 5000)
	defer runs.Release()
	// 1,000 int64 values are 8,000 bytes: a page of 8,000 bytes is full
	// at the end of each batch.
	ints := pageOfInts(mem)
	defer ints.Release()
	orders := testrecords.Orders(mem, 10_000, 2_500)
	defer testrecords.Release(orders)
	ws := words(mem, 2500)
	defer ws.Release()
	wordRecs := []arrow.RecordBatch{ws, ws}
	small := defaultTuning
	small.rowGroupRows, small.pageBytes = 4096, 4096
	tests := []struct {
		name string
		recs []arrow.RecordBatch
		tu   tuning
		// dict: some string column is dictionary-encoded (so the own
		// encoder, when on, must have been used).
		dict bool
	}{
		{"orders, row groups across batches", orders, small, true},
		{"orders, default tuning", orders, defaultTuning, true},
		{"every flat type, 5 batches, row groups of 25 rows", []arrow.RecordBatch{flat, flat, flat, flat, flat}, tuning{rowGroupRows: 25, dict: dictAuto, stats: true, pageBytes: 1 << 20}, false},
		{"every flat type, dictionary always", []arrow.RecordBatch{flat, flat, flat}, tuning{rowGroupRows: 40, dict: dictAlways, stats: true, pageBytes: 64}, true},
		{"orders, dictionaries over the page limit", orders[:2], tuning{rowGroupRows: 5000, dict: dictAlways, stats: true, pageBytes: 4096, dictPageBytes: 2000}, true},
		// 1,024-row write batches of 8 raw bytes a value: a page is cut
		// after each batch, as the dense path counts them.
		{"words, a page a write batch", wordRecs, tuning{rowGroupRows: 10_000, dict: dictAlways, stats: true, pageBytes: 8192}, true},
		// The dense path falls back to plain once the dictionary reaches
		// the limit, so must the own encoder.
		{"words, dictionary at the limit", wordRecs, tuning{rowGroupRows: 10_000, dict: dictAlways, stats: true, pageBytes: 8192, dictPageBytes: 2400}, false},
		{"words, dictionary just under the limit", wordRecs, tuning{rowGroupRows: 10_000, dict: dictAlways, stats: true, pageBytes: 8192, dictPageBytes: 2401}, true},
		{"null runs, dictionary always", []arrow.RecordBatch{runs, runs}, tuning{rowGroupRows: 7000, dict: dictAlways, stats: true, pageBytes: 1024}, true},
		{"row groups ending on a page boundary", []arrow.RecordBatch{ints, ints, ints}, tuning{rowGroupRows: 3000, dict: dictNever, stats: true, pageBytes: 8000}, false},
		{"no statistics", []arrow.RecordBatch{runs, runs}, tuning{rowGroupRows: 7000, dict: dictAuto, pageBytes: 1024}, true},
		{"no rows", nil, defaultTuning, false},
	}
	for _, tt := range tests {
		for _, own := range []bool{false, true} {
			tu := tt.tu
			tu.ownDict = own
			name := tt.name
			if own {
				name += ", own dictionary encoder"
			}
			t.Run(name, func(t *testing.T) {
				ownCols := testSameBytes(t, mem, orders[0].Schema(), tt.recs, tu)
				if own && tt.dict && ownCols == 0 {
					t.Error("no column went through the own dictionary encoder")
				}
			})
		}
	}
}

// testSameBytes checks that the parallel writer with tu writes the bytes
// pqarrow's serial FileWriter writes from recs, and that they read back.
// It returns how many column chunks the parallel writer dictionary-encoded
// itself (dictwrite.go).
func testSameBytes(t *testing.T, mem memory.Allocator, schema *arrow.Schema, recs []arrow.RecordBatch, tu tuning) (ownCols int64) {
	t.Helper()
	if len(recs) > 0 {
		schema = recs[0].Schema()
	}
	if !flatSchema(schema) {
		t.Fatalf("schema is not flat:\n%s", schema)
	}
	write := func(workers int) []byte {
		tu := tu
		tu.workers = workers
		var buf bytes.Buffer
		w, err := newWriter(&buf, schema, format.WriteOptions{Mem: mem, Name: "p.parquet"}, tu)
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range recs {
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			if i == 0 && (workers > 1 || workers == 1 && tu.ownDict) && w.(*writer).cw == nil {
				t.Fatal("the parallel writer was not used")
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if cw := w.(*writer).cw; cw != nil {
			ownCols = cw.ownCols.Load()
		}
		return buf.Bytes()
	}
	serial := write(0)
	workers := []int{2, 8}
	if tu.ownDict {
		// The own encoder takes the parallel path with one worker too.
		// Its bytes are the serial writer's, whose reading back the
		// case without it checks: that is not repeated here.
		workers = []int{1, 2}
	}
	for _, workers := range workers {
		if err := sameFile(write(workers), serial); err != nil {
			t.Fatalf("%d workers wrote a file that differs from pqarrow's: %v", workers, err)
		}
	}
	if tu.ownDict {
		return ownCols
	}
	rows := 0
	for _, rec := range recs {
		rows += int(rec.NumRows())
	}
	_, got := readAll(t, bytesInput("p.parquet", write(2)), format.ReadOptions{Mem: mem, BatchRows: max(rows, 1)})
	defer testrecords.Release(got)
	if len(recs) == 0 {
		testrecords.RequireEqual(t, "parallel writer", nil, got)
		return ownCols
	}
	want := concat(t, mem, recs)
	defer want.Release()
	testrecords.RequireEqual(t, "parallel writer", []arrow.RecordBatch{want}, got)
	return ownCols
}

func TestFlatSchema(t *testing.T) {
	for _, f := range supported() {
		want := true
		switch f.Type.ID() {
		case arrow.LIST, arrow.STRUCT, arrow.MAP, arrow.DICTIONARY:
			want = false
		}
		if got := flatSchema(arrow.NewSchema([]arrow.Field{f}, nil)); got != want {
			t.Errorf("flatSchema(%s) = %v, want %v", f.Type, got, want)
		}
	}
}

// concat joins recs into one record.
func concat(t *testing.T, mem memory.Allocator, recs []arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	cols := make([]arrow.Array, recs[0].NumCols())
	rows := int64(0)
	for _, rec := range recs {
		rows += rec.NumRows()
	}
	for c := range cols {
		parts := make([]arrow.Array, len(recs))
		for i, rec := range recs {
			parts[i] = rec.Column(c)
		}
		col, err := array.Concatenate(parts, mem)
		if err != nil {
			t.Fatal(err)
		}
		defer col.Release()
		cols[c] = col
	}
	return array.NewRecordBatch(recs[0].Schema(), cols, rows)
}

// failAfter fails every write once n bytes have been written.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// TestParallelWriterError: a failed write of a row group's pages is the
// writer's error, whichever path wrote them.
func TestParallelWriterError(t *testing.T) {
	mem := checkedMem(t)
	orders := testrecords.Orders(mem, 20_000, 5_000)
	defer testrecords.Release(orders)
	tu := defaultTuning
	tu.rowGroupRows = 8192
	for _, workers := range []int{0, 2} {
		tu.workers = workers
		w, err := newWriter(&failAfter{n: 100_000}, orders[0].Schema(), format.WriteOptions{Mem: mem, Name: "full.parquet"}, tu)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range orders {
			if err = w.Write(rec); err != nil {
				break
			}
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "full.parquet") {
			t.Fatalf("%d workers: err = %v, want the write's error naming the file", workers, err)
		}
		// The first error stays.
		if err := w.Write(orders[0]); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("%d workers: a Write after the failure returned %v, want the failure", workers, err)
		}
	}
}

// sameFile returns nil when a and b are the same bytes, or differ only
// in the order of the column chunks' encoding statistics in the footer:
// arrow-go lists them from a map when a column falls back from dictionary
// to plain pages, so two runs of pqarrow's own writer differ there.
func sameFile(a, b []byte) error {
	if bytes.Equal(a, b) {
		return nil
	}
	if len(a) != len(b) || len(a) < 8 {
		return fmt.Errorf("%d bytes against %d", len(a), len(b))
	}
	footer := int(binary.LittleEndian.Uint32(a[len(a)-8:])) + 8
	if footer > len(a) {
		return errors.New("footer length past the start of the file")
	}
	if i := firstDiff(a[:len(a)-footer], b[:len(b)-footer]); i >= 0 {
		return fmt.Errorf("pages differ from byte %d", i)
	}
	ra, err := file.NewParquetReader(bytes.NewReader(a))
	if err != nil {
		return err
	}
	rb, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	describe := func(r *file.Reader) []string {
		var out []string
		for g := 0; g < r.NumRowGroups(); g++ {
			rg := r.MetaData().RowGroup(g)
			for c := 0; c < rg.NumColumns(); c++ {
				cc, err := rg.ColumnChunk(c)
				if err != nil {
					out = append(out, err.Error())
					continue
				}
				var es []string
				for _, e := range cc.EncodingStats() {
					es = append(es, fmt.Sprint(e))
				}
				slices.Sort(es)
				var stats string
				if st, err := cc.Statistics(); err != nil {
					stats = err.Error()
				} else if st != nil {
					stats = fmt.Sprint(st.HasMinMax(), st.EncodeMin(), st.EncodeMax(), st.NullCount(), st.NumValues())
				}
				out = append(out, fmt.Sprint(g, c, cc.Encodings(), es, stats, cc.NumValues(), cc.DataPageOffset(),
					cc.DictionaryPageOffset(), cc.TotalCompressedSize(), cc.TotalUncompressedSize()))
			}
		}
		return out
	}
	if da, db := describe(ra), describe(rb); !slices.Equal(da, db) {
		return fmt.Errorf("footers differ:\n%s\nagainst\n%s", strings.Join(da, "\n"), strings.Join(db, "\n"))
	}
	return nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestCostliestFirst: the workers take the columns costliest first:
// strings by their non-null values and bytes, the others by their bytes;
// ties keep the schema order.
func TestCostliestFirst(t *testing.T) {
	mem := checkedMem(t)
	orders := testrecords.Orders(mem, 1000, 500)
	defer testrecords.Release(orders)
	// id int64, customer, email, country (2 letters), amount float64,
	// ts timestamp, note (nullable string, mostly null).
	var names []string
	for _, c := range costliestFirst(orders[0].Schema(), orders) {
		names = append(names, orders[0].Schema().Field(c).Name)
	}
	if got, want := strings.Join(names, " "), "email customer country id amount ts note"; got != want {
		t.Errorf("order %q, want %q", got, want)
	}
}
