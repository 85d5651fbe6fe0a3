package conformance_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// natives are plain Go versions of the transforms, written for clarity
// from the transforms' documented behaviour (not from their guest code):
// a second, independent statement of what every guest must output, and
// the native baseline of the benchmarks.
var natives = map[string]func(conf, *arrow.Schema) (processor, error){
	"filter": nativeFilter,
	"mask":   nativeMask,
	"derive": nativeDerive,
	"gcd":    nativeGCD,
	"positive": func(_ conf, s *arrow.Schema) (processor, error) {
		return nativeFilter(conf{"column": "id", "op": ">", "value": 0}, s)
	},
}

// rowFunc is a native transform's per-batch logic: keep[i] says whether row
// i stays, rejected lists rows refused, and cols replaces (by index) or
// appends (index = -1) output columns of the input's length.
type nativeProc struct {
	batch func(mem memory.Allocator, rec arrow.RecordBatch) (keep []bool, rejected []int, cols []outCol)
}

type outCol struct {
	index int // input column replaced, or -1 to append
	field arrow.Field
	arr   arrow.Array
}

func (p nativeProc) close() {}

// process assembles the output as the Wasm host does: replaced and
// appended columns, then only the kept, non-rejected rows.
func (p nativeProc) process(mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, []int, error) {
	keep, rejected, cols := p.batch(mem, rec)
	n := int(rec.NumRows())
	if keep == nil {
		keep = make([]bool, n)
		for i := range keep {
			keep[i] = true
		}
	}
	for _, r := range rejected {
		keep[r] = false
	}
	fields := append([]arrow.Field(nil), rec.Schema().Fields()...)
	arrs := append([]arrow.Array(nil), rec.Columns()...)
	for _, c := range cols {
		defer c.arr.Release()
		if c.index >= 0 {
			fields[c.index], arrs[c.index] = c.field, c.arr
		} else {
			fields, arrs = append(fields, c.field), append(arrs, c.arr)
		}
	}
	whole := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(n))
	if countTrue(keep) == n {
		// Nothing dropped: the columns pass through, as in the Wasm host.
		return whole, rejected, nil
	}
	defer whole.Release()
	idx := make([]int, 0, n)
	for i, k := range keep {
		if k {
			idx = append(idx, i)
		}
	}
	taken := make([]arrow.Array, len(arrs))
	for j, a := range arrs {
		taken[j] = take(mem, a, idx)
		defer taken[j].Release()
	}
	return array.NewRecordBatch(whole.Schema(), taken, int64(len(idx))), rejected, nil
}

// take copies rows idx of a: a type switch per column, not per row.
func take(mem memory.Allocator, a arrow.Array, idx []int) arrow.Array {
	b := array.NewBuilder(mem, a.DataType())
	defer b.Release()
	b.Reserve(len(idx))
	valid := func(i int) bool { return a.IsValid(i) }
	switch a := a.(type) {
	case *array.Int32:
		takeFixed(b.(*array.Int32Builder), a.Int32Values(), idx, valid)
	case *array.Int64:
		takeFixed(b.(*array.Int64Builder), a.Int64Values(), idx, valid)
	case *array.Float64:
		takeFixed(b.(*array.Float64Builder), a.Float64Values(), idx, valid)
	case *array.String:
		sb := b.(*array.StringBuilder)
		for _, i := range idx {
			if a.IsNull(i) {
				sb.AppendNull()
			} else {
				sb.Append(a.Value(i))
			}
		}
	case *array.LargeString:
		sb := b.(*array.LargeStringBuilder)
		for _, i := range idx {
			if a.IsNull(i) {
				sb.AppendNull()
			} else {
				sb.Append(a.Value(i))
			}
		}
	case *array.Binary:
		bb := b.(*array.BinaryBuilder)
		for _, i := range idx {
			if a.IsNull(i) {
				bb.AppendNull()
			} else {
				bb.Append(a.Value(i))
			}
		}
	default:
		panic("take: unsupported type " + a.DataType().String())
	}
	return b.NewArray()
}

type fixedBuilder[T any] interface {
	AppendValues([]T, []bool)
}

func takeFixed[T int32 | int64 | float64](b fixedBuilder[T], vals []T, idx []int, valid func(int) bool) {
	out := make([]T, len(idx))
	ok := make([]bool, len(idx))
	for k, i := range idx {
		out[k], ok[k] = vals[i], valid(i)
	}
	b.AppendValues(out, ok)
}

func countTrue(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

func field(s *arrow.Schema, name string) (int, arrow.Field, error) {
	idx := s.FieldIndices(name)
	if len(idx) == 0 {
		return 0, arrow.Field{}, fmt.Errorf("no column %q", name)
	}
	return idx[0], s.Field(idx[0]), nil
}

func nativeFilter(c conf, s *arrow.Schema) (processor, error) {
	name, _ := c["column"].(string)
	op, _ := c["op"].(string)
	if op == "" {
		op = "=="
	}
	if name == "" {
		return nil, errors.New("column is required")
	}
	idx, f, err := field(s, name)
	if err != nil {
		return nil, err
	}
	switch f.Type.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		set := map[string]bool{}
		switch v := c["value"].(type) {
		case string:
			set[v] = true
		case []any:
			for _, x := range v {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("value %v is not a string", x)
				}
				set[s] = true
			}
		default:
			return nil, errors.New("value must be a string or list of strings")
		}
		if op != "==" && op != "!=" {
			return nil, fmt.Errorf("op %q on strings", op)
		}
		want := op == "=="
		return nativeProc{func(_ memory.Allocator, rec arrow.RecordBatch) ([]bool, []int, []outCol) {
			col := rec.Column(idx)
			keep := make([]bool, col.Len())
			get := stringGetter(col)
			for i := range keep {
				keep[i] = col.IsValid(i) && set[get(i)] == want
			}
			return keep, nil, nil
		}}, nil
	case arrow.INT32, arrow.INT64, arrow.FLOAT64:
	default:
		return nil, fmt.Errorf("column type %s", f.Type)
	}
	x, ok := number(c["value"])
	if !ok {
		return nil, errors.New("value must be a number")
	}
	var cmp func(v float64) bool
	switch op {
	case "==":
		cmp = func(v float64) bool { return v == x }
	case "!=":
		// != is "not ==", so a NaN value... never matches: nulls and
		// NaN are excluded below.
		cmp = func(v float64) bool { return v != x }
	case "<":
		cmp = func(v float64) bool { return v < x }
	case "<=":
		cmp = func(v float64) bool { return v <= x }
	case ">":
		cmp = func(v float64) bool { return v > x }
	case ">=":
		cmp = func(v float64) bool { return v >= x }
	default:
		return nil, fmt.Errorf("unknown op %q", op)
	}
	return nativeProc{func(_ memory.Allocator, rec arrow.RecordBatch) ([]bool, []int, []outCol) {
		col := rec.Column(idx)
		keep := make([]bool, col.Len())
		switch a := col.(type) {
		case *array.Int32:
			compare(keep, a.Int32Values(), cmp)
		case *array.Int64:
			compare(keep, a.Int64Values(), cmp)
		case *array.Float64:
			compare(keep, a.Float64Values(), cmp)
		}
		if col.NullN() > 0 {
			for i := range keep {
				keep[i] = keep[i] && col.IsValid(i)
			}
		}
		return keep, nil, nil
	}}, nil
}

func compare[T int32 | int64 | float64](keep []bool, vals []T, cmp func(float64) bool) {
	for i, v := range vals {
		keep[i] = cmp(float64(v))
	}
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

func stringGetter(col arrow.Array) func(int) string {
	switch a := col.(type) {
	case *array.String:
		return a.Value
	case *array.LargeString:
		return a.Value
	case *array.Binary:
		return a.ValueString
	case *array.LargeBinary:
		return func(i int) string { return string(a.Value(i)) }
	}
	panic("not a string column")
}

// maskValue keeps the first character (a whole UTF-8 sequence) and, when
// the value has an '@' after its first byte, everything from the last '@'.
func maskValue(s string) string {
	if s == "" {
		return "***"
	}
	_, n := utf8.DecodeRuneInString(s)
	if s[0] < utf8.RuneSelf {
		n = 1
	}
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		return s[:min(n, at)] + "***" + s[at:]
	}
	return s[:n] + "***"
}

func nativeMask(c conf, s *arrow.Schema) (processor, error) {
	list, _ := c["columns"].([]any)
	if len(list) == 0 {
		return nil, errors.New("columns is required")
	}
	type target struct {
		idx   int
		field arrow.Field
	}
	var targets []target
	for _, x := range list {
		name, _ := x.(string)
		idx, f, err := field(s, name)
		if err != nil {
			return nil, err
		}
		if f.Type.ID() != arrow.STRING && f.Type.ID() != arrow.LARGE_STRING {
			return nil, fmt.Errorf("column %q is %s", name, f.Type)
		}
		targets = append(targets, target{idx, f})
	}
	return nativeProc{func(mem memory.Allocator, rec arrow.RecordBatch) ([]bool, []int, []outCol) {
		var cols []outCol
		for _, tg := range targets {
			col := rec.Column(tg.idx)
			get := stringGetter(col)
			// The output is utf8 whatever the input: a guest's memory is
			// 32-bit, so 64-bit offsets would buy nothing.
			b := array.NewStringBuilder(mem)
			for i := range col.Len() {
				if col.IsNull(i) {
					b.AppendNull()
					continue
				}
				b.Append(maskValue(get(i)))
			}
			f := arrow.Field{Name: tg.field.Name, Type: arrow.BinaryTypes.String, Nullable: true}
			cols = append(cols, outCol{tg.idx, f, b.NewArray()})
			b.Release()
		}
		return nil, nil, cols
	}}, nil
}

func nativeDerive(c conf, s *arrow.Schema) (processor, error) {
	source, target, factor := "amount", "amount_cents", 100.0
	if v, ok := c["source"].(string); ok {
		source = v
	}
	if v, ok := c["target"].(string); ok {
		target = v
	}
	if v, ok := number(c["factor"]); ok {
		factor = v
	}
	if target == "" {
		return nil, errors.New("target is required")
	}
	idx, f, err := field(s, source)
	if err != nil {
		return nil, err
	}
	if f.Type.ID() != arrow.FLOAT64 {
		return nil, fmt.Errorf("source %q is %s", source, f.Type)
	}
	outIdx := -1
	if i, _, err := field(s, target); err == nil {
		outIdx = i
	}
	return nativeProc{func(mem memory.Allocator, rec arrow.RecordBatch) ([]bool, []int, []outCol) {
		col := rec.Column(idx).(*array.Float64)
		b := array.NewInt64Builder(mem)
		defer b.Release()
		var rejected []int
		for i := range col.Len() {
			if col.IsNull(i) {
				b.AppendNull()
				continue
			}
			y := math.Round(col.Value(i) * factor) // halves away from zero
			if !(y < 0x1p63 && y >= -0x1p63) {
				rejected = append(rejected, i)
				b.Append(0)
				continue
			}
			b.Append(int64(y))
		}
		out := outCol{outIdx, arrow.Field{Name: target, Type: arrow.PrimitiveTypes.Int64, Nullable: true}, b.NewArray()}
		return nil, rejected, []outCol{out}
	}}, nil
}

// gcd is arrow-udf's benchmark function: Euclid's algorithm on int32.
func gcd(a, b int32) int32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func nativeGCD(c conf, s *arrow.Schema) (processor, error) {
	an, bn, target := "a", "b", "gcd"
	if v, ok := c["a"].(string); ok {
		an = v
	}
	if v, ok := c["b"].(string); ok {
		bn = v
	}
	if v, ok := c["target"].(string); ok {
		target = v
	}
	ai, af, err := field(s, an)
	if err != nil {
		return nil, err
	}
	bi, bf, err := field(s, bn)
	if err != nil {
		return nil, err
	}
	if af.Type.ID() != arrow.INT32 || bf.Type.ID() != arrow.INT32 {
		return nil, errors.New("gcd takes int32 columns")
	}
	return nativeProc{func(mem memory.Allocator, rec arrow.RecordBatch) ([]bool, []int, []outCol) {
		a, b := rec.Column(ai).(*array.Int32), rec.Column(bi).(*array.Int32)
		out := array.NewInt32Builder(mem)
		defer out.Release()
		av, bv := a.Int32Values(), b.Int32Values()
		vals := make([]int32, len(av))
		for i := range av {
			vals[i] = gcd(av[i], bv[i])
		}
		out.AppendValues(vals, nil)
		return nil, nil, []outCol{{-1, arrow.Field{Name: target, Type: arrow.PrimitiveTypes.Int32, Nullable: true}, out.NewArray()}}
	}}, nil
}
