// Package c_test checks the C transforms (transforms/c/*) against the Go
// ones they reimplement: the same configurations must bind or fail alike,
// and every batch must give byte-identical output, the same rejected rows
// and the same reject messages. It also checks that the committed
// modules are what their sources build to, from any checkout path.
package c_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

var (
	root     string
	cacheDir string
	goWasm   = map[string][]byte{}
	cWasm    = map[string][]byte{}
)

func TestMain(m *testing.M) {
	code := func() int {
		var err error
		if root, err = wasmtest.Root(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		tmp, err := os.MkdirTemp("", "c-transforms-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		cacheDir = filepath.Join(tmp, "cache")
		for _, name := range []string{"filter", "mask", "derive"} {
			out := filepath.Join(tmp, name+".wasm")
			if err := wasmtest.Build("transforms/"+name, out); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			if goWasm[name], err = os.ReadFile(out); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		for _, name := range []string{"filter", "mask", "derive", "gcd"} {
			if cWasm[name], err = os.ReadFile(filepath.Join(root, "transforms", "c", name, name+".wasm")); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "qty", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "note", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "data", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "blob", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
	{Name: "big", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

var edgeFloats = []float64{0, math.Copysign(0, -1), 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
	0.005, 0.015, 99.995, 1.125, -1.125, 1e300, -1e300, math.NaN(), math.Inf(1), math.Inf(-1),
	0x1p63 / 100, -0x1p63 / 100, math.Nextafter(0x1p63/100, 0), 9.2233720368547758e16, 4503599627370495.5,
	4503599627370497, -4503599627370497, 0x1p63, -0x1p63, math.Nextafter(0x1p63, 0), math.SmallestNonzeroFloat64,
	math.MaxFloat64, 123456789.125, 1e-5, 1e21, 1e20, 2.5e-8}

var edgeStrings = []string{
	"alice@example.com", "", "a", "@", "@example.com", "a@", "ab@c@d.fr", "é@x.fr", "émilie@exämple.fr",
	"日本語", "日@本", "😀@mail.example", "x@y", "no-at-sign-here", "bob.smith+tag@sub.example.co.uk",
	"0123456789012345678901234567890@", "01234567890123456789012345678901@x", "012345678901234567890123456789012",
	"0123456789012345678901234567890123456789@example.com", "\u00e9", "Ünïcødé Ñame", "a@b", "@@", "x@@y",
	"FR", "DE", "FRA", "Ünï", "日本", "fr", "12345678", "123456789", "\x00@\x00", "@" + strings.Repeat("x", 40),
	strings.Repeat("ab@", 30),
}

// batch builds n rows; row i is a function of (seed, i), and the first
// rows walk through the edge values.
func batch(mem memory.Allocator, n int, seed uint64, nulls bool) arrow.RecordBatch {
	r := rand.New(rand.NewPCG(seed, 7))
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	null := func(stride int) bool { return nulls && r.IntN(stride) == 0 }
	str := func(i int) string {
		if i < len(edgeStrings) {
			return edgeStrings[i]
		}
		if r.IntN(3) == 0 {
			return edgeStrings[r.IntN(len(edgeStrings))]
		}
		var s strings.Builder
		for range r.IntN(45) {
			switch r.IntN(12) {
			case 0:
				s.WriteByte('@')
			case 1:
				s.WriteString("é")
			case 2:
				s.WriteString("😀")
			default:
				s.WriteByte(byte('a' + r.IntN(26)))
			}
		}
		return s.String()
	}
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(r.IntN(2000)) - 1000)
		f := b.Field(1).(*array.Float64Builder)
		switch {
		case null(9):
			f.AppendNull()
		case i < len(edgeFloats):
			f.Append(edgeFloats[i])
		case r.IntN(10) == 0:
			f.Append(math.Float64frombits(r.Uint64()))
		default:
			f.Append(math.Round(r.NormFloat64()*math.Pow(10, float64(r.IntN(8))))/100 + float64(r.IntN(3))*0.5)
		}
		if null(7) {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Int32Builder).Append(int32(r.IntN(11)) - 2)
		}
		for c := 3; c <= 7; c++ {
			if null(5 + c) {
				b.Field(c).AppendNull()
				continue
			}
			s := str(i + c - 3)
			if c == 3 {
				s = []string{"FR", "DE", "US", "", "Ünï", "fr", "FRA", "日本", "12345678", "123456789"}[r.IntN(10)]
			}
			switch bb := b.Field(c).(type) {
			case *array.StringBuilder:
				bb.Append(s)
			case *array.LargeStringBuilder:
				bb.Append(s)
			case *array.BinaryBuilder:
				bb.Append([]byte(s))
			}
		}
		if null(4) {
			b.Field(8).AppendNull()
		} else {
			b.Field(8).(*array.Int64Builder).Append([]int64{math.MaxInt64, math.MinInt64, 1 << 53, 1<<53 + 1, -(1<<53 + 1), int64(r.Uint64())}[r.IntN(6)])
		}
	}
	return b.NewRecordBatch()
}

type input struct {
	name string
	make func(memory.Allocator) arrow.RecordBatch
}

func inputs() []input {
	var in []input
	for i, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 200, 1000, 4097} {
		for _, nulls := range []bool{false, true} {
			in = append(in, input{fmt.Sprintf("n=%d/nulls=%v", n, nulls), func(m memory.Allocator) arrow.RecordBatch {
				return batch(m, n, uint64(10*i+len(fmt.Sprint(nulls))), nulls)
			}})
		}
	}
	for _, off := range []int64{3, 8, 13} {
		in = append(in, input{fmt.Sprintf("sliced+%d", off), func(m memory.Allocator) arrow.RecordBatch {
			whole := batch(m, 300, uint64(off), true)
			defer whole.Release()
			return whole.NewSlice(off, 250)
		}})
	}
	return in
}

type conf = map[string]any

var cases = map[string][]conf{
	"filter": {
		{"column": "id", "op": ">=", "value": 10}, {"column": "id", "op": "<", "value": -3.5}, {"column": "id", "value": 7},
		{"column": "id", "op": "!=", "value": 7}, {"column": "id", "op": "<=", "value": 0}, {"column": "id", "op": ">", "value": 1e18},
		{"column": "amount", "op": "<", "value": 2.5}, {"column": "amount", "value": 2.5}, {"column": "amount", "op": "!=", "value": -2.5},
		{"column": "amount", "op": "<=", "value": 0}, {"column": "amount", "op": ">", "value": -1.125}, {"column": "amount", "op": ">=", "value": 1e300},
		{"column": "amount", "op": "==", "value": 0}, {"column": "amount", "op": "!=", "value": 0},
		{"column": "qty", "op": ">", "value": 3}, {"column": "qty", "op": "!=", "value": 0}, {"column": "qty", "op": "<", "value": 0.5},
		{"column": "qty", "op": "==", "value": -2}, {"column": "qty", "op": ">=", "value": 8},
		{"column": "big", "op": "==", "value": 9007199254740992}, {"column": "big", "op": ">", "value": 9.2233720368547758e18},
		{"column": "big", "op": "<", "value": -9.2233720368547758e18}, {"column": "big", "op": "!=", "value": 9007199254740993},
		{"column": "country", "op": "==", "value": "FR"}, {"column": "country", "op": "!=", "value": "FR"}, {"column": "country", "value": ""},
		{"column": "country", "value": "12345678"}, {"column": "country", "value": "123456789"}, {"column": "country", "op": "!=", "value": "日本"},
		{"column": "country", "value": []any{"FR", "Ünï", "日本"}}, {"column": "country", "op": "!=", "value": []any{"FR", "DE"}},
		{"column": "country", "value": []any{"FR", "FR"}}, {"column": "country", "value": []any{}}, {"column": "country", "op": "!=", "value": []any{}},
		{"column": "email", "value": "bob.smith+tag@sub.example.co.uk"}, {"column": "email", "op": "!=", "value": "a"},
		{"column": "email", "value": []any{"alice@example.com", "", "0123456789012345678901234567890123456789@example.com", "x@y", "a", "b", "c", "d", "e", "f", "g"}},
		{"column": "note", "value": "a@b"}, {"column": "note", "op": "!=", "value": "x@y"}, {"column": "data", "value": "ab"},
		{"column": "data", "op": "!=", "value": ""}, {"column": "blob", "value": "x@y"}, {"column": "blob", "value": []any{"a", "@"}},
		{"COLUMN": "amount", "Op": ">", "value": 0}, {"column": "amount", "op": "", "value": 1}, {"column": "amount", "op": nil, "value": 12.5},
		// Refused at bind by both.
		{}, {"column": "nope", "value": 1}, {"column": "country", "op": "<", "value": "FR"}, {"column": "amount", "value": "x"},
		{"column": "amount", "op": "~", "value": 1}, {"column": "country", "value": []any{"FR", 1}}, {"column": "country", "value": []any{"FR", nil}},
		{"column": "amount"}, {"column": "country"}, {"column": "country", "value": map[string]any{"a": "b"}}, {"column": 3, "value": 1},
		{"column": "amount", "value": 1, "extra": true}, {"column": "amount", "op": 1, "value": 1}, {"column": "amount", "value": true},
		{"column": "", "value": 1},
	},
	"mask": {
		{"columns": []any{"email"}}, {"columns": []any{"email", "country"}}, {"columns": []any{"note"}}, {"columns": []any{"note", "email", "country"}},
		{"Columns": []any{"email"}},
		{}, {"columns": []any{}}, {"columns": []any{"id"}}, {"columns": []any{"nope"}}, {"columns": "email"},
		{"columns": []any{"email", "email"}}, {"columns": []any{"email", 3}}, {"columns": []any{"email"}, "mode": 1}, {"columns": nil},
	},
	"derive": {
		{}, {"source": "amount", "target": "half", "factor": 0.5}, {"source": "amount", "target": "amount", "factor": 1},
		{"factor": 1e-3}, {"factor": 1e17}, {"factor": -100}, {"factor": 0}, {"target": "id"}, {"factor": 3.3333333333333335},
		{"factor": 1e-310}, {"Factor": 1e6},
		{"target": ""}, {"source": "country"}, {"source": "qty"}, {"source": "nope"}, {"factor": "x"}, {"unknown": 1}, {"source": 1},
	},
}

type result struct {
	bindErr error
	out     []string
}

func run(t *testing.T, wasm []byte, module string, c conf) result {
	t.Helper()
	mem := wasmtesting.Allocator(t)
	s := wasmtesting.NewStage(t, wasm, c, mem, wasmtesting.Config().WithCacheDir(cacheDir))
	if _, err := s.Bind(context.Background(), schema); err != nil {
		return result{bindErr: err}
	}
	var res result
	for _, in := range inputs() {
		rec := wasmtesting.Release(t, in.make(mem))
		out, rejects, err := wasmtesting.Process(t, s, rec)
		if err != nil {
			t.Fatalf("%s on %s: %v", module, in.name, err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "## %s\n", in.name)
		dump(&b, out)
		for _, r := range rejects {
			fmt.Fprintf(&b, "rejected row %d: %v\n", r.Row, r.Err)
		}
		res.out = append(res.out, b.String())
	}
	return res
}

// TestSameAsGo runs each configuration through the Go and the C module.
func TestSameAsGo(t *testing.T) {
	for _, name := range []string{"filter", "mask", "derive"} {
		for _, c := range cases[name] {
			t.Run(fmt.Sprintf("%s/%v", name, c), func(t *testing.T) {
				want := run(t, goWasm[name], "go-"+name+".wasm", c)
				got := run(t, cWasm[name], "c-"+name+".wasm", c)
				if (want.bindErr == nil) != (got.bindErr == nil) {
					t.Fatalf("bind: Go says %v, C says %v", want.bindErr, got.bindErr)
				}
				if want.bindErr != nil {
					if !errors.Is(got.bindErr, errors.Unwrap(want.bindErr)) {
						t.Errorf("C bind error %v is not a %v", got.bindErr, errors.Unwrap(want.bindErr))
					}
					t.Logf("Go: %v\nC:  %v", want.bindErr, got.bindErr)
					return
				}
				for i := range want.out {
					if want.out[i] != got.out[i] {
						t.Fatalf("outputs differ:\n%s", firstDiff(want.out[i], got.out[i]))
					}
				}
			})
		}
	}
}

func dump(w *strings.Builder, rec arrow.RecordBatch) {
	fmt.Fprintf(w, "schema: %s\nrows: %d\n", rec.Schema(), rec.NumRows())
	for i := range int(rec.NumRows()) {
		for j, col := range rec.Columns() {
			if j > 0 {
				w.WriteString(" | ")
			}
			if col.IsNull(i) {
				w.WriteString("null")
				continue
			}
			switch a := col.(type) {
			case *array.Int32:
				w.WriteString(strconv.FormatInt(int64(a.Value(i)), 10))
			case *array.Int64:
				w.WriteString(strconv.FormatInt(a.Value(i), 10))
			case *array.Float64:
				fmt.Fprintf(w, "%v/%x", a.Value(i), math.Float64bits(a.Value(i)))
			case *array.String:
				w.WriteString(strconv.Quote(a.Value(i)))
			case *array.LargeString:
				w.WriteString(strconv.Quote(a.Value(i)))
			case *array.Binary:
				fmt.Fprintf(w, "%x", a.Value(i))
			case *array.LargeBinary:
				fmt.Fprintf(w, "%x", a.Value(i))
			default:
				fmt.Fprintf(w, "?%s", col.DataType())
			}
		}
		w.WriteByte('\n')
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d (%s):\nGo: %s\nC:  %s", i+1, al[0], x, y)
		}
	}
	return "(equal)"
}
