package gather

import (
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestTakeEmpty: gathering no rows from an empty array whose data carries
// nil buffers (as a zero-row bool column may, reported by a guest that
// returns a selection bitmap for an empty batch) gives an empty array of
// the same type, for every type the host gathers.
func TestTakeEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, dt := range []arrow.DataType{
		arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int32,
		arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary,
	} {
		bufs := make([]*memory.Buffer, 2)
		if arrow.IsBaseBinary(dt.ID()) {
			bufs = make([]*memory.Buffer, 3)
		}
		d := array.NewData(dt, 0, bufs, nil, 0, 0)
		a := array.MakeFromData(d)
		d.Release()
		out, err := Take(mem, a, nil)
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		if out.Len() != 0 || !arrow.TypeEqual(out.DataType(), dt) {
			t.Errorf("%s: got %d rows of %s", dt, out.Len(), out.DataType())
		}
		out.Release()
	}
}

// TestRecord gathers rows of every kind of column the gathers handle (and
// a list, which takes the slice-and-concatenate path) and compares each
// output row with the input row it names, through Arrow's own per-row
// formatting: an oracle independent of the buffer arithmetic.
func TestRecord(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString},
		{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const n = 50
	for r := 0; r < n; r++ {
		null := r%7 == 3
		if null {
			b.Field(0).AppendNull()
			b.Field(1).AppendNull()
			b.Field(2).AppendNull()
			b.Field(4).AppendNull()
			b.Field(5).AppendNull()
		} else {
			b.Field(0).(*array.Int64Builder).Append(int64(r * 10))
			b.Field(1).(*array.BooleanBuilder).Append(r%3 == 0)
			b.Field(2).(*array.StringBuilder).Append(strings.Repeat("x", r%5) + "s" + strconv.Itoa(r))
			if err := b.Field(4).(*array.BinaryDictionaryBuilder).AppendString([]string{"DE", "FR", "XX"}[r%3]); err != nil {
				t.Fatal(err)
			}
			lb := b.Field(5).(*array.ListBuilder)
			lb.Append(true)
			for k := 0; k < r%4; k++ {
				lb.ValueBuilder().(*array.Int32Builder).Append(int32(r + k))
			}
		}
		b.Field(3).(*array.LargeStringBuilder).Append("L" + strconv.Itoa(r))
	}
	whole := b.NewRecordBatch()
	defer whole.Release()
	// A slice, so the gathers must honour the arrays' offsets.
	rec := whole.NewSlice(5, n)
	defer rec.Release()
	// Long runs take the copying paths (a filter's kept rows: all but a
	// few), short ones the row-by-row ones; rec's offset of 5 puts the
	// runs' bits across byte boundaries.
	var most, all []int
	for i := range n - 5 {
		all = append(all, i)
		if i%13 != 0 {
			most = append(most, i)
		}
	}
	var sparse []int // runs of one row: gathered row by row
	for i := 0; i < n-5; i += 2 {
		sparse = append(sparse, i)
	}
	// reused is one Rows reset to each selection in turn, as a stage's
	// scratch is batch to batch: longer selections before shorter ones
	// leave stale runs in its storage. Its runs are listed first (Runs,
	// as the input side of a stage does) on every other selection.
	reused := &Rows{}
	for k, idx := range [][]int{nil, {0}, {44, 0, 3, 3, 10}, {1, 2, 3, 4, 5, 6, 7, 8}, most, all, sparse, {30, 31, 32, 33, 34, 35, 36, 37, 38, 0, 1, 2}, most, {5, 6, 7}} {
		for _, rows := range bothModes(idx) {
			testRecord(t, mem, rec, idx, rows)
		}
		reused.Reset(idx)
		if k%2 == 0 {
			reused.Runs()
		}
		testRecord(t, mem, rec, idx, reused)
		// Listing the runs first does not change how they are gathered.
		fresh, listed := NewRows(idx), NewRows(idx)
		listed.Runs()
		if f, l := fresh.useRuns(), listed.useRuns(); f != l {
			t.Errorf("idx %v: by runs %v, %v after Runs", idx, f, l)
		}
	}
}

// bothModes gives idx as Rows gathered run by run and row by row, so
// each test covers both whichever NewRows would choose.
func bothModes(idx []int) []*Rows {
	runs, rowwise := withNulls(idx), withNulls(idx)
	runs.tried = true
	runs.split(len(idx))
	rowwise.tried, rowwise.rowwise = true, true
	return []*Rows{runs, rowwise}
}

func testRecord(t *testing.T, mem memory.Allocator, rec arrow.RecordBatch, idx []int, rows *Rows) {
	t.Helper()
	out, err := rows.Record(mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	if out.NumRows() != int64(len(idx)) {
		t.Fatalf("idx %v: %d rows", idx, out.NumRows())
	}
	for c := range rec.Columns() {
		nulls := 0
		for _, i := range idx {
			if rec.Column(c).IsNull(i) {
				nulls++
			}
		}
		if got := out.Column(c).NullN(); got != nulls {
			t.Errorf("idx %v column %s: %d nulls, want %d", idx, rec.ColumnName(c), got, nulls)
		}
		for j, i := range idx {
			want, got := rec.Column(c).ValueStr(i), out.Column(c).ValueStr(j)
			if want != got || rec.Column(c).IsNull(i) != out.Column(c).IsNull(j) {
				t.Errorf("idx %v column %s row %d: got %q, want row %d's %q", idx, rec.ColumnName(c), j, got, i, want)
			}
		}
	}
	out.Release()
}

// TestTakeNulls: a negative index gives a null (how a dictionary is
// decoded), also inside and beside long runs, for each gathered layout;
// the other rows are the input's, and the null count is right.
func TestTakeNulls(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n = 40
	ib := array.NewInt64Builder(mem)
	bb := array.NewBooleanBuilder(mem)
	sb := array.NewStringBuilder(mem)
	for r := range n {
		ib.Append(int64(r))
		bb.Append(r%3 == 1)
		sb.Append(strings.Repeat("v", r%4) + strconv.Itoa(r))
	}
	arrs := []arrow.Array{ib.NewArray(), bb.NewArray(), sb.NewArray()}
	ib.Release()
	bb.Release()
	sb.Release()
	idx := []int{-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 39, -1}
	for _, a := range arrs {
		for _, rows := range bothModes(idx) {
			takeNulls(t, mem, a, idx, rows)
		}
		a.Release()
	}
}

func takeNulls(t *testing.T, mem memory.Allocator, a arrow.Array, idx []int, rows *Rows) {
	t.Helper()
	out, err := rows.Take(mem, a)
	if err != nil {
		t.Fatal(err)
	}
	if out.NullN() != 4 {
		t.Errorf("%s: %d nulls, want 4", a.DataType(), out.NullN())
	}
	for j, i := range idx {
		if i < 0 {
			if !out.IsNull(j) {
				t.Errorf("%s row %d: %q, want null", a.DataType(), j, out.ValueStr(j))
			}
			continue
		}
		if got, want := out.ValueStr(j), a.ValueStr(i); got != want || out.IsNull(j) {
			t.Errorf("%s row %d: %q, want row %d's %q", a.DataType(), j, got, i, want)
		}
	}
	out.Release()
}
