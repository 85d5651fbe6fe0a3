// Package sdktest_test runs the Go SDK's whole-API check stage
// (testdata/check) through the real host and recomputes every output value
// from the input, as guest-sdk/c/sdktest does for the C SDK; api_test.go
// makes sure the check stage uses every exported name of the SDK.
package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

const checkDir = "guest-sdk/go/sdktest/testdata/check"

var (
	cacheDir string
	check    struct {
		once sync.Once
		wasm []byte
		err  error
	}
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		tmp, err := os.MkdirTemp("", "go-sdktest-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		cacheDir = filepath.Join(tmp, "cache")
		return m.Run()
	}())
}

// checkModule builds testdata/check once per test binary, the way `weave
// build` does. A Go guest needs only the Go toolchain running this test,
// so there is nothing to skip for.
func checkModule(t *testing.T) []byte {
	t.Helper()
	check.once.Do(func() {
		out := filepath.Join(filepath.Dir(cacheDir), "check.wasm")
		if check.err = wasmtest.Build(checkDir, out); check.err == nil {
			check.wasm, check.err = os.ReadFile(out)
		}
	})
	if check.err != nil {
		t.Fatalf("building the check stage: %v", check.err)
	}
	return check.wasm
}

func newStage(t *testing.T, conf any, mem memory.Allocator, cfg wasmabi.Config) *wasmabi.Stage {
	t.Helper()
	return wasmtesting.NewStage(t, checkModule(t), conf, mem, cfg.WithCacheDir(cacheDir))
}

func bind(t *testing.T, s *wasmabi.Stage) *arrow.Schema {
	t.Helper()
	out, err := s.Bind(context.Background(), wasmtesting.AllTypes)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mapCol builds the column f makes of in, row by row, nulls kept null:
// T is the input array's value type, U what the output builder appends.
func mapCol[T, U any](mem memory.Allocator, typ arrow.DataType, in arrow.Array, f func(i int, x T) U) arrow.Array {
	b := array.NewBuilder(mem, typ)
	defer b.Release()
	v := in.(interface{ Value(int) T })
	ab := b.(interface{ Append(U) })
	for i := range in.Len() {
		if in.IsNull(i) {
			b.AppendNull()
		} else {
			ab.Append(f(i, v.Value(i)))
		}
	}
	return b.NewArray()
}

func plus[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | arrow.Date32 | arrow.Timestamp](d T) func(int, T) T {
	return func(_ int, x T) T { return x + d }
}

func neg[T float32 | float64](_ int, x T) T { return -x }

// wantAll computes what the "all" mode must output for in, without the
// SDK: every column's function (see testdata/check/main.go) in place,
// large_utf8 and large_binary written back as utf8 and binary, the
// dictionary and list columns untouched, three columns appended.
func wantAll(mem memory.Allocator, in arrow.RecordBatch) arrow.RecordBatch {
	col := func(name string) arrow.Array { return in.Column(in.Schema().FieldIndices(name)[0]) }
	bools := func(f func(i int) bool) arrow.Array {
		b := array.NewBooleanBuilder(mem)
		defer b.Release()
		for i := range int(in.NumRows()) {
			b.Append(f(i))
		}
		return b.NewArray()
	}
	var fields []arrow.Field
	var cols []arrow.Array
	add := func(name string, a arrow.Array) {
		fields = append(fields, arrow.Field{Name: name, Type: a.DataType(), Nullable: true})
		cols = append(cols, a)
	}
	for _, f := range in.Schema().Fields() {
		c := col(f.Name)
		switch f.Name {
		case "b":
			add(f.Name, mapCol(mem, f.Type, c, func(_ int, x bool) bool { return !x }))
		case "i8":
			add(f.Name, mapCol(mem, f.Type, c, plus[int8](1)))
		case "i16":
			add(f.Name, mapCol(mem, f.Type, c, plus[int16](1)))
		case "i32":
			add(f.Name, mapCol(mem, f.Type, c, plus[int32](1)))
		case "i64":
			add(f.Name, mapCol(mem, f.Type, c, plus[int64](1)))
		case "u8":
			add(f.Name, mapCol(mem, f.Type, c, plus[uint8](1)))
		case "u16":
			add(f.Name, mapCol(mem, f.Type, c, plus[uint16](1)))
		case "u32":
			add(f.Name, mapCol(mem, f.Type, c, plus[uint32](1)))
		case "u64":
			add(f.Name, mapCol(mem, f.Type, c, plus[uint64](1)))
		case "f32":
			add(f.Name, mapCol(mem, f.Type, c, neg[float32]))
		case "f64":
			add(f.Name, mapCol(mem, f.Type, c, neg[float64]))
		case "d32":
			add(f.Name, mapCol(mem, f.Type, c, plus[arrow.Date32](^arrow.Date32(0)))) // -1
		case "ts":
			add(f.Name, mapCol(mem, f.Type, c, plus[arrow.Timestamp](1000)))
		case "tsz":
			add(f.Name, mapCol(mem, f.Type, c, plus[arrow.Timestamp](^arrow.Timestamp(0)))) // -1
		case "dec":
			add(f.Name, mapCol(mem, f.Type, c, func(_ int, x decimal128.Num) decimal128.Num {
				return decimal128.New(^x.HighBits(), ^x.LowBits())
			}))
		case "s":
			add(f.Name, mapCol(mem, f.Type, c, func(_ int, x string) string { return strings.ToUpper(x) }))
		case "bin":
			add(f.Name, mapCol(mem, f.Type, c, func(_ int, x []byte) []byte {
				r := slices.Clone(x)
				slices.Reverse(r)
				return r
			}))
		case "ls":
			add(f.Name, mapCol(mem, arrow.BinaryTypes.String, c, func(i int, x string) string {
				return [...]string{x + "|", "<" + x + ">", "[" + x + "]" + x, x}[i%4]
			}))
		case "lb":
			add(f.Name, mapCol(mem, arrow.BinaryTypes.Binary, c, func(_ int, x []byte) []byte {
				return append(slices.Clone(x), byte(len(x)))
			}))
		default: // dict, list: not read, passed through
			c.Retain()
			add(f.Name, c)
		}
	}
	add("i32_valid", bools(col("i32").IsValid))
	add("s_valid", bools(col("s").IsValid))
	dict := col("dict").(*array.Dictionary)
	lens := array.NewInt32Builder(mem)
	for i := range dict.Len() {
		if dict.IsNull(i) {
			lens.AppendNull()
		} else {
			lens.Append(int32(len(dict.Dictionary().(*array.String).Value(dict.GetValueIndex(i)))))
		}
	}
	add("dict_len", lens.NewArray())
	lens.Release()
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, in.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// sameRecords fails t where got and want differ: a column's name or type,
// the row count, or the first differing value.
func sameRecords(t *testing.T, name string, got, want arrow.RecordBatch) {
	t.Helper()
	gf, wf := got.Schema().Fields(), want.Schema().Fields()
	if len(gf) != len(wf) {
		t.Fatalf("%s: output columns %v, want %v", name, got.Schema(), want.Schema())
	}
	for j := range wf {
		if gf[j].Name != wf[j].Name || !arrow.TypeEqual(gf[j].Type, wf[j].Type) {
			t.Fatalf("%s: output column %d is %s %s, want %s %s", name, j, gf[j].Name, gf[j].Type, wf[j].Name, wf[j].Type)
		}
	}
	gr, wr := wasmtesting.Rows(got), wasmtesting.Rows(want)
	if len(gr) != len(wr) {
		t.Fatalf("%s: %d rows out, want %d", name, len(gr), len(wr))
	}
	for i := range wr {
		for j := range wr[i] {
			if gr[i][j] != wr[i][j] {
				t.Fatalf("%s: row %d column %s: got %s, want %s", name, i, wf[j].Name, gr[i][j], wr[i][j])
			}
		}
	}
}

// TestAll: every column type read through its view and written through
// its output (Values/SetNull, Set/SetNull, Append, AppendBytes,
// AppendConcat, AppendNull, Raw on both sides, Validity), for empty,
// small, large and sliced batches, one after another on one instance so
// the SDK's reused buffers are exercised too. No configuration selects
// this mode (Setup.Config of a null config).
func TestAll(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	s := newStage(t, nil, mem, wasmtesting.Config())
	bind(t, s)
	inputs := wasmtesting.AllTypesInputs(t, mem)
	for _, name := range []string{"n=1000", "n=7", "n=0", "sliced+3", "n=64", "sliced+13", "n=1"} {
		in := inputs[name]
		out, rejects, err := wasmtesting.Process(t, s, in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rejects) != 0 {
			t.Fatalf("%s: %d rows rejected, want none", name, len(rejects))
		}
		want := wasmtesting.Release(t, wantAll(mem, in))
		sameRecords(t, name, out, want)
	}
}

// TestSelection: Drop, KeepBits (alone and after Drop), Reject and Rejectf
// leave out exactly the rows the stage chose by index, and each rejected
// row carries the stage's message.
func TestSelection(t *testing.T) {
	tests := []struct {
		mode string
		keep func(i int) bool
		msg  func(i int) string // the reject message of row i, "" if not rejected
	}{
		{"drop", func(i int) bool { return i%3 != 0 }, nil},
		{"keepbits", func(i int) bool { return i%3 != 0 }, nil},
		{"mixed", func(i int) bool { return i%3 != 0 && i%5 != 0 }, nil},
		{"reject", func(i int) bool { return i%3 != 0 && i%5 != 0 && i%7 != 0 }, func(i int) string {
			switch {
			case i%3 == 0:
				return fmt.Sprintf("row %d is a multiple of 3", i)
			case i%5 == 0:
				return fmt.Sprintf("row %d is a multiple of 5", i)
			}
			return ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			mem := wasmtesting.Allocator(t)
			s := newStage(t, map[string]any{"mode": tc.mode}, mem, wasmtesting.Config())
			if got := bind(t, s); !got.Equal(wasmtesting.AllTypes) {
				t.Fatalf("output schema %v, want the input's", got)
			}
			for name, in := range wasmtesting.AllTypesInputs(t, mem) {
				out, rejects, err := wasmtesting.Process(t, s, in)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var want [][]string
				wantMsgs := map[int]string{}
				for i, row := range wasmtesting.Rows(in) {
					if tc.keep(i) {
						want = append(want, row)
					}
					if tc.msg != nil && tc.msg(i) != "" {
						wantMsgs[i] = tc.msg(i)
					}
				}
				if got := wasmtesting.Rows(out); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s: kept rows differ:\ngot  %.300v\nwant %.300v", name, got, want)
				}
				if len(rejects) != len(wantMsgs) {
					t.Fatalf("%s: %d rows rejected, want %d", name, len(rejects), len(wantMsgs))
				}
				for _, r := range rejects {
					if w, ok := wantMsgs[r.Row]; !ok || !strings.Contains(r.Err.Error(), w) {
						t.Fatalf("%s: row %d rejected with %q, want a message holding %q", name, r.Row, r.Err, w)
					}
				}
			}
		})
	}
}

// TestDropColumn: the dropped columns leave the output schema and the
// rest pass through unchanged.
func TestDropColumn(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	s := newStage(t, map[string]any{"mode": "dropcol"}, mem, wasmtesting.Config())
	got := bind(t, s)
	keep := func(rec arrow.RecordBatch) arrow.RecordBatch {
		var idx []int
		for i, f := range rec.Schema().Fields() {
			if f.Name != "s" && f.Name != "list" {
				idx = append(idx, i)
			}
		}
		fields, cols := make([]arrow.Field, len(idx)), make([]arrow.Array, len(idx))
		for k, i := range idx {
			fields[k], cols[k] = rec.Schema().Field(i), rec.Column(i)
		}
		return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
	}
	in := wasmtesting.Release(t, wasmtesting.AllTypesRecord(mem, 64, 5))
	want := wasmtesting.Release(t, keep(in))
	if !got.Equal(want.Schema()) {
		t.Fatalf("output schema\n%v\nwant\n%v", got, want.Schema())
	}
	out, _, err := wasmtesting.Process(t, s, in)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "n=64", out, want)
}

// TestLog: Log at each level and Logf reach the host's logger at the
// level the stage gave, tagged with the stage's name.
func TestLog(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	var logs wasmtesting.Logs
	s := newStage(t, map[string]any{"mode": "log"}, mem, wasmtesting.Config().WithLogger(logs.Logger()))
	bind(t, s)
	in := wasmtesting.Release(t, wasmtesting.AllTypesRecord(mem, 7, 3))
	if _, _, err := wasmtesting.Process(t, s, in); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`level=DEBUG msg="debug line" stage=stages[0].wasm`,
		`level=INFO msg="info line" stage=stages[0].wasm`,
		`level=WARN msg="warn line ünïcode" stage=stages[0].wasm`,
		`level=ERROR msg="error line" stage=stages[0].wasm`,
		`level=INFO msg="stages[0].wasm: 7 rows" stage=stages[0].wasm`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestSetup: the setup's view of its configuration and schema (echoed
// by the stage as its bind error, through Errorf and Err), and the
// mistakes it reports, all at once.
func TestSetup(t *testing.T) {
	tests := []struct {
		name string
		conf any
		want []string
	}{
		{"echo", map[string]any{"mode": "config", "name": "héllo", "n": 2.5, "tags": []string{"a", "b"}},
			[]string{"setup: echo: name=héllo n=2.5 tags=a+b stage=stages[0].wasm columns=21 dec=dec/decimal128(10,2)/true found=true,false"}},
		{"unknown key", map[string]any{"mode": "config", "bogus": 1}, []string{`config: json: unknown field "bogus"`}},
		{"wrong type", map[string]any{"mode": "config", "n": "x"}, []string{"config: json: cannot unmarshal string", "n"}},
		{"unknown mode", map[string]any{"mode": "nope"}, []string{`config: unknown mode "nope"`}},
		{"keys", map[string]any{"mode": "keys", "str": "s", "num": 2.5, "int": 7, "flag": true, "list": []string{"a", "b"},
			"map": map[string]string{"k": "v", "j": "w"}, "any": "x"},
			[]string{"keys: str=s num=2.5 int=7 flag=true list=a+b map=j:w,k:v any=x"}},
		{"keys defaults", map[string]any{"mode": "keys", "str": nil, "any": 3},
			[]string{"keys: str=def num=-1 int=-1 flag=false list=d map= any=3"}},
		{"keys unknown", map[string]any{"mode": "keys", "bogus": 1}, []string{`config: json: unknown field "bogus"`}},
		{"keys wrong type", map[string]any{"mode": "keys", "int": 1.5}, []string{"config: int: want an integer in int64's range, not 1.5"}},
		{"setup error", map[string]any{"mode": "setuperr"}, []string{"setup refused on purpose"}},
		{"every setup mistake", map[string]any{"mode": "badsetup"}, []string{
			"setup: ",
			`column "i64" is int64, this stage reads it as int32`,
			`no column "nope" in the input (columns: b, i8,`,
			`column "s" is utf8, this stage reads it as bool`,
			`column "i8" is int8, this stage reads it as string`,
			`column "x": type int64 cannot be written as float64`,
			`column "y" is written twice`,
			`drop: no column "gone" in the input`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := wasmtesting.Allocator(t)
			s := newStage(t, tc.conf, mem, wasmtesting.Config())
			_, err := s.Bind(context.Background(), wasmtesting.AllTypes)
			if err == nil {
				t.Fatal("bind succeeded; want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("bind error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestFailures: a batch the stage fails, a panic in the stage, an output
// column left unwritten and one with too few values each fail the batch
// with what happened, and the stage says so again for the next batch.
func TestFailures(t *testing.T) {
	tests := []struct {
		mode string
		msg  string
	}{
		{"fail", "failing a batch of 5 rows as asked"},
		{"panic", "panic: boom ünïcode"},
		{"unwritten", `output column "out" was not written for this batch`},
		{"short", `output column "out": 4 values appended for 5 rows`},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			mem := wasmtesting.Allocator(t)
			s := newStage(t, map[string]any{"mode": tc.mode}, mem, wasmtesting.Config())
			bind(t, s)
			in := wasmtesting.Release(t, wasmtesting.AllTypesRecord(mem, 5, 2))
			for range 2 {
				_, _, err := wasmtesting.Process(t, s, in)
				if !errors.Is(err, wasmabi.ErrGuestFailed) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("error %v, want %v saying %q", err, wasmabi.ErrGuestFailed, tc.msg)
				}
			}
		})
	}
}
