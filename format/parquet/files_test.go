package parquet

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/sharedata"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// The expected values below were checked with two independent readers,
// hyparquet 1.31 (JavaScript) and DuckDB 1.5.6, except where a comment says
// otherwise.
var fileCases = []struct {
	file string
	rows int64
	// want maps a column to its values as arrow-go prints them (all rows).
	want  map[string]string
	check func(t *testing.T, schema *arrow.Schema, recs []arrow.RecordBatch)
	// err, when set, is what reading the file must fail with.
	err string
}{
	{file: "alltypes_plain.parquet", rows: 8, want: map[string]string{
		"id":              "[4 5 6 7 2 3 0 1]",
		"bool_col":        "[true false true false true false true false]",
		"bigint_col":      "[0 10 0 10 0 10 0 10]",
		"float_col":       "[0 1.1 0 1.1 0 1.1 0 1.1]",
		"double_col":      "[0 10.1 0 10.1 0 10.1 0 10.1]",
		"date_string_col": `["03/01/09" "03/01/09" "04/01/09" "04/01/09" "02/01/09" "02/01/09" "01/01/09" "01/01/09"]`,
		// INT96: 2009-03-01T00:00:00Z, 2009-03-01T00:01:00Z, ...
		"timestamp_col": "[1235865600000000000 1235865660000000000 1238544000000000000 1238544060000000000 1233446400000000000 1233446460000000000 1230768000000000000 1230768060000000000]",
	}},
	{file: "alltypes_plain.snappy.parquet", rows: 2, want: map[string]string{
		"id": "[6 7]", "string_col": `["0" "1"]`, "timestamp_col": "[1238544000000000000 1238544060000000000]",
	}},
	{file: "alltypes_dictionary.parquet", rows: 2, want: map[string]string{
		"id": "[0 1]", "date_string_col": `["01/01/09" "01/01/09"]`, "timestamp_col": "[1230768000000000000 1230768060000000000]",
	}},
	{file: "alltypes_tiny_pages.parquet", rows: 7300, check: checkTinyPages},
	{file: "byte_array_decimal.parquet", rows: 24, check: func(t *testing.T, _ *arrow.Schema, recs []arrow.RecordBatch) {
		col := column(t, recs, "value")
		if !arrow.TypeEqual(col[0].DataType(), &arrow.Decimal128Type{Precision: 4, Scale: 2}) {
			t.Fatalf("type %s, want decimal(4, 2)", col[0].DataType())
		}
		i := 0
		forEach(col, func(a arrow.Array, j int) {
			i++
			if got := a.(*array.Decimal128).Value(j).ToString(2); got != fmt.Sprintf("%d.00", i) {
				t.Fatalf("row %d = %s, want %d.00", i-1, got, i)
			}
		})
	}},
	{file: "datapage_v2.snappy.parquet", rows: 5, want: map[string]string{
		"a": `["abc" "abc" "abc" (null) "abc"]`,
		"b": "[1 2 3 4 5]",
		"c": "[2 3 4 5 2]",
		"d": "[true true true false true]",
		"e": "[[1 2 3] (null) (null) [1 2 3] [1 2]]",
	}},
	{file: "delta_binary_packed.parquet", rows: 200, check: checkDeltaBinaryPacked},
	// Rows 2 and 5 hold 9999-12-31 and a date before 1677, which do not fit
	// timestamp[ns]: arrow-go v18 rejects the column (v15 wrapped them to
	// wrong instants without a word), so the file cannot be read.
	{file: "int96_from_spark.parquet", rows: 6, err: "INT96 timestamp is outside the Arrow nanosecond range"},
	{file: "list_columns.parquet", rows: 3, want: map[string]string{
		"int64_list": "[[1 2 3] [(null) 1] [4]]",
		"utf8_list":  `[["abc" "efg" "hij"] (null) ["efg" (null) "hij" "xyz"]]`,
	}},
	// PARQUET-816 / IMPALA-694: parquet-mr <= 1.2.8 left the dictionary page
	// header out of the column chunk's total_compressed_size. arrow-go (like
	// Arrow C++) pads the chunk for files from such writers and reads the
	// file correctly, and so does DuckDB; the values are TPC-H's nation
	// table. (hyparquet rejects it.) Truly corrupt variants are in
	// TestCorruptFiles.
	{file: "nation.dict-malformed.parquet", rows: 25, want: map[string]string{
		"nation_key": "[0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24]",
		"name":       `["ALGERIA" "ARGENTINA" "BRAZIL" "CANADA" "EGYPT" "ETHIOPIA" "FRANCE" "GERMANY" "INDIA" "INDONESIA" "IRAN" "IRAQ" "JAPAN" "JORDAN" "KENYA" "MOROCCO" "MOZAMBIQUE" "PERU" "CHINA" "ROMANIA" "SAUDI ARABIA" "VIETNAM" "RUSSIA" "UNITED KINGDOM" "UNITED STATES"]`,
		"region_key": "[0 1 1 1 4 0 3 3 2 2 4 4 2 4 0 0 0 1 2 3 4 2 3 3 1]",
	}},
	{file: "nested_lists.snappy.parquet", rows: 3, want: map[string]string{
		"a": `[[[["a" "b"] ["c"]] [(null) ["d"]]] [[["a" "b"] ["c" "d"]] [(null) ["e"]]] [[["a" "b"] ["c" "d"] ["e"]] [(null) ["f"]]]]`,
		"b": "[1 1 1]",
	}},
	{file: "nulls.snappy.parquet", rows: 8, want: map[string]string{
		"b_struct": "{[(null) (null) (null) (null) (null) (null) (null) (null)]}",
	}},
	// The one value is a null (its definition level is 0, checked by hand
	// in the page bytes); only the column statistics carry the NaN.
	{file: "single_nan.parquet", rows: 1, want: map[string]string{"mycol": "[(null)]"}},
}

// TestFiles reads every .parquet file in shared/data/parquet, in small
// batches so batch boundaries are crossed, and checks known values.
func TestFiles(t *testing.T) {
	dir := sharedata.Path(t, "parquet")
	onDisk, err := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range fileCases {
		covered[c.file] = true
	}
	for _, p := range onDisk {
		if !covered[filepath.Base(p)] {
			t.Errorf("%s has no case in fileCases", filepath.Base(p))
		}
	}
	if len(onDisk) != len(fileCases) {
		t.Fatalf("%d .parquet files in %s, %d cases", len(onDisk), dir, len(fileCases))
	}

	for _, c := range fileCases {
		t.Run(c.file, func(t *testing.T) {
			mem := checkedMem(t)
			path := filepath.Join(dir, c.file)
			if c.err != "" {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := readAllErr(data, mem); err == nil || !errors.Is(err, format.ErrMalformed) || !containsStr(err.Error(), c.err) {
					t.Fatalf("read: %v, want an error wrapping format.ErrMalformed with %q", err, c.err)
				}
				return
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			in := format.Input{R: f, RA: f, Size: st.Size(), Name: c.file}
			schema, recs := readAll(t, in, format.ReadOptions{Mem: mem, BatchRows: 3})
			defer testrecords.Release(recs)
			var rows int64
			for _, r := range recs {
				rows += r.NumRows()
				if r.NumRows() > 3 {
					t.Fatalf("batch of %d rows, BatchRows is 3", r.NumRows())
				}
			}
			if rows != c.rows {
				t.Fatalf("%d rows, want %d", rows, c.rows)
			}
			names := make([]string, 0, len(c.want))
			for n := range c.want {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, name := range names {
				chunks := column(t, recs, name)
				joined, err := array.Concatenate(chunks, mem)
				if err != nil {
					t.Fatal(err)
				}
				got := fmt.Sprint(joined)
				joined.Release()
				if got != c.want[name] {
					t.Errorf("column %s:\n got  %s\n want %s", name, got, c.want[name])
				}
			}
			if c.check != nil {
				c.check(t, schema, recs)
			}
		})
	}
}

// column returns one column's chunks across batches.
func column(t *testing.T, recs []arrow.RecordBatch, name string) []arrow.Array {
	t.Helper()
	var out []arrow.Array
	for _, r := range recs {
		idx := r.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("no column %q in %s", name, r.Schema())
		}
		out = append(out, r.Column(idx[0]))
	}
	if len(out) == 0 {
		t.Fatalf("no batches")
	}
	return out
}

func forEach(chunks []arrow.Array, fn func(a arrow.Array, i int)) {
	for _, a := range chunks {
		for i := 0; i < a.Len(); i++ {
			fn(a, i)
		}
	}
}

// checkTinyPages compares column sums over all 7300 rows (spread over many
// tiny pages) with what hyparquet computes for the same file.
func checkTinyPages(t *testing.T, _ *arrow.Schema, recs []arrow.RecordBatch) {
	var id, intCol, bigint, tsMillis int64
	var strLen, trues int
	forEach(column(t, recs, "id"), func(a arrow.Array, i int) { id += int64(a.(*array.Int32).Value(i)) })
	forEach(column(t, recs, "int_col"), func(a arrow.Array, i int) { intCol += int64(a.(*array.Int32).Value(i)) })
	forEach(column(t, recs, "bigint_col"), func(a arrow.Array, i int) { bigint += a.(*array.Int64).Value(i) })
	forEach(column(t, recs, "timestamp_col"), func(a arrow.Array, i int) { tsMillis += int64(a.(*array.Timestamp).Value(i)) / 1e6 })
	forEach(column(t, recs, "bool_col"), func(a arrow.Array, i int) {
		if a.(*array.Boolean).Value(i) {
			trues++
		}
	})
	for _, name := range []string{"date_string_col", "string_col"} {
		forEach(column(t, recs, name), func(a arrow.Array, i int) { strLen += len(a.(*array.String).Value(i)) })
	}
	got := [6]int64{id, intCol, bigint, tsMillis, int64(strLen), int64(trues)}
	want := [6]int64{26641350, 32850, 328500, 9214528036496520, 65700, 3650}
	if got != want {
		t.Fatalf("sums (id, int_col, bigint_col, timestamp ms, string bytes, trues) = %v, want %v", got, want)
	}
}

// checkDeltaBinaryPacked compares every value with the expected CSV that
// ships with the file (parquet-testing's own expectation).
func checkDeltaBinaryPacked(t *testing.T, schema *arrow.Schema, recs []arrow.RecordBatch) {
	f, err := os.Open(sharedata.Path(t, "parquet", "delta_binary_packed_expect.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header, rows := rows[0], rows[1:]
	if len(header) != schema.NumFields() {
		t.Fatalf("csv has %d columns, file %d", len(header), schema.NumFields())
	}
	for c, name := range header {
		row := 0
		forEach(column(t, recs, name), func(a arrow.Array, i int) {
			var got int64
			switch a := a.(type) {
			case *array.Int64:
				got = a.Value(i)
			case *array.Int32:
				got = int64(a.Value(i))
			default:
				t.Fatalf("column %s is %s", name, a.DataType())
			}
			want, err := strconv.ParseInt(rows[row][c], 10, 64)
			if err != nil {
				t.Fatalf("csv row %d column %s: %v", row, name, err)
			}
			if got != want {
				t.Fatalf("row %d column %s = %d, want %d", row, name, got, want)
			}
			row++
		})
		if row != len(rows) {
			t.Fatalf("column %s: %d values, csv has %d rows", name, row, len(rows))
		}
	}
}

// TestCorruptFiles damages a real file in ways no reader can repair: each
// must give an error that wraps format.ErrMalformed and names the file.
func TestCorruptFiles(t *testing.T) {
	orig, err := os.ReadFile(sharedata.Path(t, "parquet", "alltypes_plain.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	damage := func(fn func(b []byte) []byte) []byte { return fn(append([]byte(nil), orig...)) }
	tests := []struct {
		name string
		data []byte
	}{
		{name: "empty", data: nil},
		{name: "not parquet", data: []byte("id,name\n1,x\n")},
		{name: "truncated footer", data: orig[:len(orig)-10]},
		{name: "cut in half", data: orig[:len(orig)/2]},
		{name: "footer length too big", data: damage(func(b []byte) []byte {
			b[len(b)-8], b[len(b)-7] = 0xff, 0xff
			return b
		})},
		{name: "pages overwritten", data: damage(func(b []byte) []byte {
			for i := 4; i < 600; i++ {
				b[i] = 0xff
			}
			return b
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := readAllErr(tt.data, memory.NewCheckedAllocator(memory.NewGoAllocator()))
			if !errors.Is(err, format.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if want := "damaged.parquet"; !containsStr(err.Error(), want) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}
