package wasmabi

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// partsOf runs the partition function over the columns cols of rec.
func partsOf(t *testing.T, rec arrow.RecordBatch, cols []int, rows []int, n int) [][]int {
	t.Helper()
	into := make([][]int, n)
	var h []uint64
	if err := partitions(rec, cols, rows, n, &h, into); err != nil {
		t.Fatal(err)
	}
	return into
}

func record(cols ...arrow.Array) arrow.RecordBatch {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: string(rune('a' + i)), Type: c.DataType(), Nullable: true}
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(cols[0].Len()))
}

// TestPartitionsPinned: the partition function is part of the saved
// state's meaning (a resumed run must send each key to the instance that
// holds it), so its answers for a few keys are pinned here: a change to
// it must change keyedMagic too, or saved states would be misread.
func TestPartitionsPinned(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"FR", "DE", "US", "JP", "BR", "Île", ""}, nil)
	sb.AppendNull()
	strs := sb.NewArray()
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{1, 2, 3, 4, 5, 6, 7, 8}, nil)
	ints := ib.NewArray()
	rec := record(strs, ints)
	strs.Release()
	ints.Release()
	defer rec.Release()
	for _, c := range []struct {
		name string
		cols []int
		want [][]int
	}{
		{"string", []int{0}, [][]int{{2, 4}, {0, 3}, {1, 7}, {5, 6}}},
		{"int64", []int{1}, [][]int{{2}, {3, 4, 6}, {0, 1, 5, 7}, {}}},
		{"both", []int{0, 1}, [][]int{{2, 4, 7}, {}, {1, 6}, {0, 3, 5}}},
	} {
		got := partsOf(t, rec, c.cols, nil, 4)
		if !slices.EqualFunc(got, c.want, func(a, b []int) bool { return slices.Equal(a, b) }) {
			t.Errorf("%s: partitions %v, pinned %v", c.name, got, c.want)
		}
	}
	// And they spread: 40,000 consecutive integers over 4 partitions,
	// each within 3% of a quarter.
	ib = array.NewInt64Builder(mem)
	for i := range 40000 {
		ib.Append(int64(i))
	}
	many := ib.NewArray()
	mr := record(many)
	many.Release()
	defer mr.Release()
	for p, rows := range partsOf(t, mr, []int{0}, nil, 4) {
		if len(rows) < 9700 || len(rows) > 10300 {
			t.Errorf("partition %d has %d of 40,000 keys", p, len(rows))
		}
	}
}

// TestPartitionsByValue: a key's partition depends on its value only: a
// dictionary-encoded column, a slice of the column (an offset into its
// buffers) and a selection of its rows send each value where the plain
// column does; nulls are one key; every row lands in one partition in
// its input order.
func TestPartitionsByValue(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	vals := []string{"a", "b", "c", "a", "d", "b", "e", "f", "a", "g", "h", "c"}
	valid := []bool{true, true, true, true, false, true, true, true, true, false, true, true}
	sb := array.NewStringBuilder(mem)
	sb.AppendValues(vals, valid)
	plain := sb.NewArray()
	defer plain.Release()
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String})
	defer db.Release()
	for i, v := range vals {
		if !valid[i] {
			db.AppendNull()
			continue
		}
		if err := db.(*array.BinaryDictionaryBuilder).AppendString(v); err != nil {
			t.Fatal(err)
		}
	}
	dict := db.NewArray()
	defer dict.Release()

	where := func(parts [][]int, n int) []int { // row -> partition
		w := make([]int, n)
		for i := range w {
			w[i] = -1
		}
		for p, rows := range parts {
			if !slices.IsSorted(rows) {
				t.Fatalf("partition %d's rows %v are out of input order", p, rows)
			}
			for _, r := range rows {
				if w[r] != -1 {
					t.Fatalf("row %d in two partitions", r)
				}
				w[r] = p
			}
		}
		return w
	}
	pr := record(plain)
	defer pr.Release()
	base := where(partsOf(t, pr, []int{0}, nil, 5), len(vals))
	byValue := map[string]int{}
	for i, p := range base {
		if p < 0 {
			t.Fatalf("row %d in no partition", i)
		}
		k := plain.ValueStr(i)
		if q, ok := byValue[k]; ok && q != p {
			t.Fatalf("value %s in partitions %d and %d", k, q, p)
		}
		byValue[k] = p
	}
	if len(slices.Compact(slices.Sorted(maps.Values(byValue)))) < 2 {
		t.Fatalf("every key in one partition: %v", byValue)
	}

	dr := record(dict)
	defer dr.Release()
	if got := where(partsOf(t, dr, []int{0}, nil, 5), len(vals)); !slices.Equal(got, base) {
		t.Errorf("dictionary-encoded: %v, plain %v", got, base)
	}
	sl := array.NewSlice(plain, 3, int64(len(vals)))
	defer sl.Release()
	sr := record(sl)
	defer sr.Release()
	if got := where(partsOf(t, sr, []int{0}, nil, 5), len(vals)-3); !slices.Equal(got, base[3:]) {
		t.Errorf("a slice from row 3: %v, plain %v", got, base[3:])
	}
	sel := []int{11, 2, 5, 0}
	got := partsOf(t, pr, []int{0}, sel, 5)
	for p, rows := range got {
		for _, r := range rows {
			if base[r] != p {
				t.Errorf("selected row %d in partition %d, plain %d", r, p, base[r])
			}
		}
	}
}

// TestKeyHashable: what cannot be a key is refused at bind, naming it.
func TestKeyHashable(t *testing.T) {
	for _, c := range []struct {
		dt arrow.DataType
		ok bool
	}{
		{arrow.BinaryTypes.String, true},
		{arrow.FixedWidthTypes.Boolean, true},
		{arrow.FixedWidthTypes.Timestamp_us, true},
		{arrow.PrimitiveTypes.Float64, true},
		{&arrow.Decimal128Type{Precision: 20, Scale: 2}, true},
		{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, true},
		{arrow.ListOf(arrow.PrimitiveTypes.Int64), false},
		{arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64}), false},
		{arrow.Null, false},
	} {
		err := keyHashable(c.dt)
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), "cannot be a key")) {
			t.Errorf("%s: %v, want ok=%v", c.dt, err, c.ok)
		}
	}
}
