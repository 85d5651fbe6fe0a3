package parquet

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// TestRandomSchemas writes random flat schemas (random types, value kinds,
// nullability and null shares, sometimes a dictionary column, which sends
// the file down pqarrow's serial path), in random batches that are slices
// of larger records, with random row group and page sizes, once with the
// default tuning and once with snappy on every column (what the writer
// did before codecpick.go). Both files must read back as written, through
// this package's reader and through pqarrow's; every column chunk both
// files compress alike must be the same bytes; and the default file may
// be larger by at most 1/7 (a column is left uncompressed only when
// snappy saved less than 1/8 of its sample). Writing without the buffer
// pool gives the same bytes.
func TestRandomSchemas(t *testing.T) {
	picked := 0 // column chunks the default file left uncompressed
	for seed := range uint64(16) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			mem := checkedMem(t)
			rng := rand.New(rand.NewPCG(seed, 99))
			schema, recs := randomRecords(mem, rng)
			defer testrecords.Release(recs)
			tu := defaultTuning
			tu.rowGroupRows = []int64{700, 4096, rowGroupRows}[rng.IntN(3)]
			tu.pageBytes = []int64{1024, 1 << 20}[rng.IntN(2)]
			tu.workers = []int{0, 2, -1}[rng.IntN(3)]
			before := tu
			before.codecPick = false
			got := writeFile(t, mem, schema, recs, "", tu)
			was := writeFile(t, mem, schema, recs, "", before)
			// bufpool.go only changes where buffers come from.
			unpooled := tu
			unpooled.pool = false
			if err := sameFile(writeFile(t, mem, schema, recs, "", unpooled), got); err != nil {
				t.Fatalf("the buffer pool changed the file: %v", err)
			}

			rows := 0
			for _, r := range recs {
				rows += int(r.NumRows())
			}
			want := concat(t, mem, recs)
			defer want.Release()
			for _, data := range [][]byte{got, was} {
				_, back := readAll(t, bytesInput("r.parquet", data), format.ReadOptions{Mem: mem, BatchRows: rows})
				testrecords.RequireEqual(t, "reader", []arrow.RecordBatch{want}, back)
				testrecords.Release(back)
				viaPqarrow := readPqarrow(t, mem, data)
				testrecords.RequireEqual(t, "pqarrow", []arrow.RecordBatch{want}, []arrow.RecordBatch{viaPqarrow})
				viaPqarrow.Release()
			}
			picked += sameChunks(t, got, was)
			if 7*len(got) > 8*len(was)+7*1024 {
				t.Errorf("%d bytes, %d with snappy everywhere: more than 1/7 larger", len(got), len(was))
			}
		})
	}
	if picked == 0 {
		t.Error("no column chunk was left uncompressed: the cases miss what they test")
	}
}

// randomRecords returns 1 to 6 random columns' worth of batches.
func randomRecords(mem memory.Allocator, rng *rand.Rand) (*arrow.Schema, []arrow.RecordBatch) {
	rows := 1 + rng.IntN(6000)
	var fields []arrow.Field
	var arrs []arrow.Array
	for i := range 1 + rng.IntN(6) {
		dt := randomTypes[rng.IntN(len(randomTypes))]
		nullable := rng.IntN(2) == 0
		nulls := 0.0
		if nullable {
			nulls = []float64{0, 0.05, 0.5, 1}[rng.IntN(4)]
		}
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("c%d", i), Type: dt, Nullable: nullable})
		arrs = append(arrs, randomColumn(mem, rng, dt, rows, fillKind(rng.IntN(3)), nulls))
	}
	if rng.IntN(4) == 0 {
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
		b := array.NewDictionaryBuilder(mem, dt).(*array.BinaryDictionaryBuilder)
		for range rows {
			if err := b.AppendString([]string{"x", "yy", "zzz"}[rng.IntN(3)]); err != nil {
				panic(err)
			}
		}
		fields = append(fields, arrow.Field{Name: "dict", Type: dt})
		arrs = append(arrs, b.NewArray())
		b.Release()
	}
	schema := arrow.NewSchema(fields, nil)
	whole := array.NewRecordBatch(schema, arrs, int64(rows))
	defer whole.Release()
	for _, a := range arrs {
		a.Release()
	}
	var recs []arrow.RecordBatch
	for from := 0; from < rows; {
		to := min(rows, from+1+rng.IntN(2500))
		recs = append(recs, whole.NewSlice(int64(from), int64(to)))
		from = to
	}
	return schema, recs
}

// readPqarrow reads data with pqarrow directly, as one record.
func readPqarrow(t *testing.T, mem memory.Allocator, data []byte) arrow.RecordBatch {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data), file.WithReadProps(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 20}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	cols := make([]arrow.Array, tbl.NumCols())
	for i := range cols {
		chunks := tbl.Column(i).Data().Chunks()
		col, err := array.Concatenate(chunks, mem)
		if len(chunks) == 0 {
			col, err = array.MakeArrayOfNull(mem, tbl.Column(i).DataType(), 0), nil
		}
		if err != nil {
			t.Fatal(err)
		}
		defer col.Release()
		cols[i] = col
	}
	return array.NewRecordBatch(tbl.Schema(), cols, tbl.NumRows())
}

// sameChunks checks that the column chunks files a and b compress with the
// same codec are the same bytes, and that where they differ a stored the
// chunk uncompressed; it returns how many differ so.
func sameChunks(t *testing.T, a, b []byte) (uncompressed int) {
	t.Helper()
	type chunk struct {
		codec string
		bytes []byte
	}
	chunks := func(data []byte) []chunk {
		r, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []chunk
		for g := range r.NumRowGroups() {
			rg := r.MetaData().RowGroup(g)
			for c := range rg.NumColumns() {
				cc, err := rg.ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				start := cc.DataPageOffset()
				if cc.HasDictionaryPage() && cc.DictionaryPageOffset() < start {
					start = cc.DictionaryPageOffset()
				}
				out = append(out, chunk{cc.Compression().String(), data[start : start+cc.TotalCompressedSize()]})
			}
		}
		return out
	}
	ca, cb := chunks(a), chunks(b)
	if len(ca) != len(cb) {
		t.Fatalf("%d column chunks against %d", len(ca), len(cb))
	}
	for i := range ca {
		switch {
		case ca[i].codec == cb[i].codec:
			if !bytes.Equal(ca[i].bytes, cb[i].bytes) {
				t.Errorf("column chunk %d (%s) differs", i, ca[i].codec)
			}
		case ca[i].codec != "UNCOMPRESSED":
			t.Errorf("column chunk %d: %s against %s", i, ca[i].codec, cb[i].codec)
		default:
			uncompressed++
		}
	}
	return uncompressed
}
