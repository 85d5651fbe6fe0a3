package parquet

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
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
	small := defaultTuning
	small.rowGroupRows, small.pageBytes = 4096, 4096
	tests := []struct {
		name string
		recs []arrow.RecordBatch
		tu   tuning
	}{
		{"orders, row groups across batches", orders, small},
		{"orders, default tuning", orders, defaultTuning},
		{"every flat type, 5 batches, row groups of 25 rows", []arrow.RecordBatch{flat, flat, flat, flat, flat}, tuning{rowGroupRows: 25, dict: dictAuto, stats: true, pageBytes: 1 << 20}},
		{"null runs, dictionary always", []arrow.RecordBatch{runs, runs}, tuning{rowGroupRows: 7000, dict: dictAlways, stats: true, pageBytes: 1024}},
		{"row groups ending on a page boundary", []arrow.RecordBatch{ints, ints, ints}, tuning{rowGroupRows: 3000, dict: dictNever, stats: true, pageBytes: 8000}},
		{"no statistics", []arrow.RecordBatch{runs, runs}, tuning{rowGroupRows: 7000, dict: dictAuto, pageBytes: 1024}},
		{"no rows", nil, defaultTuning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema := orders[0].Schema()
			if len(tt.recs) > 0 {
				schema = tt.recs[0].Schema()
			}
			if !flatSchema(schema) {
				t.Fatalf("schema is not flat:\n%s", schema)
			}
			write := func(workers int) []byte {
				tu := tt.tu
				tu.workers = workers
				var buf bytes.Buffer
				w, err := newWriter(&buf, schema, format.WriteOptions{Mem: mem, Name: "p.parquet"}, tu)
				if err != nil {
					t.Fatal(err)
				}
				if got := w.(*writer); workers > 1 && len(tt.recs) > 0 {
					if err := w.Write(tt.recs[0]); err != nil {
						t.Fatal(err)
					}
					if got.cw == nil {
						t.Fatal("the parallel writer was not used")
					}
					for _, rec := range tt.recs[1:] {
						if err := w.Write(rec); err != nil {
							t.Fatal(err)
						}
					}
				} else {
					for _, rec := range tt.recs {
						if err := w.Write(rec); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes()
			}
			serial := write(0)
			for _, workers := range []int{2, 8} {
				if got := write(workers); !bytes.Equal(got, serial) {
					t.Fatalf("%d workers wrote %d bytes that differ from pqarrow's %d", workers, len(got), len(serial))
				}
			}
			rows := 0
			for _, rec := range tt.recs {
				rows += int(rec.NumRows())
			}
			_, got := readAll(t, bytesInput("p.parquet", write(2)), format.ReadOptions{Mem: mem, BatchRows: max(rows, 1)})
			defer testrecords.Release(got)
			if len(tt.recs) == 0 {
				testrecords.RequireEqual(t, "parallel writer", nil, got)
				return
			}
			want := concat(t, mem, tt.recs)
			defer want.Release()
			testrecords.RequireEqual(t, "parallel writer", []arrow.RecordBatch{want}, got)
		})
	}
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
	}
}
