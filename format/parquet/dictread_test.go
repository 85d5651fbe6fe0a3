package parquet

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// TestDictionaryRead: string and binary columns whose pages are all
// dictionary-encoded are read as dictionaries and expanded (dictread.go);
// the rows are the same as written, nulls and empty values included, with
// batches that cross row groups (each with its own dictionary) and a
// starting position inside a row group. A column whose writer fell back to
// plain pages is read the plain way, and so is every column of a file
// written without a dictionary.
func TestDictionaryRead(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tag", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "many", Type: arrow.BinaryTypes.String},
	}, nil)
	const rows = 2500
	build := func(mem memory.Allocator) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for i := 0; i < rows; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			switch i % 7 {
			case 3:
				b.Field(1).AppendNull()
			case 5:
				b.Field(1).(*array.StringBuilder).Append("")
			default:
				b.Field(1).(*array.StringBuilder).Append([]string{"FR", "DE", "a longer country name"}[i%3])
			}
			if i%2 == 0 {
				b.Field(2).AppendNull()
			} else {
				b.Field(2).(*array.BinaryBuilder).Append([]byte{byte(i % 4), 0})
			}
			// Unique values: the dictionary outgrows its page limit below.
			b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("value-%06d", i))
		}
		return b.NewRecordBatch()
	}
	write := func(t *testing.T, dict bool) []byte {
		mem := memory.NewGoAllocator()
		rec := build(mem)
		defer rec.Release()
		props := pq.NewWriterProperties(pq.WithDictionaryDefault(dict), pq.WithDataPageVersion(pq.DataPageV2),
			pq.WithMaxRowGroupLength(1000), pq.WithDictionaryPageSizeLimit(4096), pq.WithDataPageSize(64), pq.WithBatchSize(50))
		var buf bytes.Buffer
		w, err := pqarrow.NewFileWriter(schema, &buf, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
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
	for _, tt := range []struct {
		name     string
		dict     bool
		skip     int64
		wantDict []int // columns read as dictionaries by pqarrow's path
		direct   bool
	}{
		{name: "dictionary pages, direct", dict: true, direct: true},
		{name: "dictionary pages, direct, resuming inside a row group", dict: true, skip: 1234, direct: true},
		{name: "no dictionary, direct", dict: false, direct: true},
		{name: "dictionary pages", dict: true, wantDict: []int{1, 2}},
		{name: "dictionary pages, resuming inside a row group", dict: true, skip: 1234, wantDict: []int{1, 2}},
		{name: "no dictionary", dict: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			setDirect(t, tt.direct)
			data := write(t, tt.dict)
			mem := checkedMem(t)
			r, err := NewReader(bytesInput("dict.parquet", data), format.ReadOptions{Mem: mem, BatchRows: 300, SkipRows: tt.skip})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := r.(*reader).direct != nil; got != tt.direct {
				t.Errorf("direct reader: %v, want %v", got, tt.direct)
			}
			if got := r.(*reader).expand; fmt.Sprint(got) != fmt.Sprint(tt.wantDict) {
				t.Errorf("columns read as dictionaries: %v, want %v", got, tt.wantDict)
			}
			if !r.Schema().Equal(schema) {
				t.Fatalf("schema\n%s\nwant\n%s", r.Schema(), schema)
			}
			want := build(mem)
			defer want.Release()
			off := tt.skip
			for {
				rec, _, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n := rec.NumRows()
				if off+n > rows {
					rec.Release()
					t.Fatalf("more than %d rows", rows)
				}
				w := want.NewSlice(off, off+n)
				testrecords.RequireEqual(t, fmt.Sprintf("rows %d-%d", off, off+n), []arrow.RecordBatch{w}, []arrow.RecordBatch{rec})
				w.Release()
				rec.Release()
				off += n
			}
			if off != rows {
				t.Fatalf("read up to row %d, want %d", off, rows)
			}
		})
	}
}

// TestExpandLengths: expand moves values of up to copyWidth bytes as one
// block when the dictionary has that many bytes after the value's start,
// and copies the others; values of every length around the width, last in
// the dictionary or not, with nulls, come out as the dictionary holds them.
func TestExpandLengths(t *testing.T) {
	mem := checkedMem(t)
	long := string(bytes.Repeat([]byte("abcdefghij"), 7))
	tests := []struct {
		name string
		dict []string
	}{
		{"empty values", []string{"", "", "x"}},
		{"around the width", []string{long[:copyWidth-1], long[:copyWidth], long[:copyWidth+1], "a"}},
		{"short value last, no slack after it", []string{long, "abc"}},
		{"width-long value last", []string{"z", long[:copyWidth]}},
		{"long values only", []string{long, long[:40], long[:copyWidth+5]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := array.NewStringBuilder(mem)
			defer db.Release()
			db.AppendValues(tt.dict, nil)
			dict := db.NewArray()
			defer dict.Release()
			ib := array.NewInt32Builder(mem)
			defer ib.Release()
			var want []*string
			for i := range 3 * len(tt.dict) {
				if i%5 == 4 {
					ib.AppendNull()
					want = append(want, nil)
					continue
				}
				// Every entry, in an order that puts long values before short.
				k := (len(tt.dict) - 1 - i%len(tt.dict))
				ib.Append(int32(k))
				want = append(want, &tt.dict[k])
			}
			idx := ib.NewArray()
			defer idx.Release()
			d := array.NewDictionaryArray(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, idx, dict)
			defer d.Release()
			got, err := expand(d, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			s := got.(*array.String)
			for i, w := range want {
				switch {
				case w == nil && s.IsValid(i):
					t.Fatalf("row %d: got %q, want null", i, s.Value(i))
				case w != nil && (s.IsNull(i) || s.Value(i) != *w):
					t.Fatalf("row %d: got %q (null %v), want %q", i, s.Value(i), s.IsNull(i), *w)
				}
			}
			if n := int(s.ValueOffsets()[s.Len()]); n != len(s.ValueBytes()) {
				t.Fatalf("values buffer holds %d bytes, offsets end at %d", len(s.ValueBytes()), n)
			}
		})
	}
}
