package sdktest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmbuild"
	"github.com/dataweaver/dataweaver/wasmabi"
)

var (
	stageOnce sync.Once
	stageWasm []byte
	stageErr  error
)

// stageModule builds testdata/stage (the whole-SDK test stage) once.
func stageModule(t *testing.T) []byte {
	t.Helper()
	stageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dw-c-stage-")
		if err != nil {
			stageErr = err
			return
		}
		out := filepath.Join(dir, "stage.wasm")
		if _, _, stageErr = wasmbuild.Build(context.Background(), wasmbuild.Options{Dir: filepath.Join("testdata", "stage"), Out: out}); stageErr == nil {
			stageWasm, stageErr = os.ReadFile(out)
		}
	})
	if errors.Is(stageErr, wasmbuild.ErrToolchain) && os.Getenv("CI") != "true" {
		t.Skip(stageErr)
	}
	if stageErr != nil {
		t.Fatal(stageErr)
	}
	return stageWasm
}

// allTypes has a column of every type ABI v1 carries, a dictionary
// column (decoded by the host) and a list column (which it cannot pass:
// the stage must leave it alone).
var allTypes = arrow.NewSchema([]arrow.Field{
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
	{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
	{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
	{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "d32", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
	{Name: "tsz", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "lb", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
	{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}, Nullable: true},
	{Name: "list", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
}, nil)

// record fills n random rows of allTypes, nulls in every nullable column.
func record(mem memory.Allocator, n int, seed uint64) arrow.Record {
	r := rand.New(rand.NewPCG(seed, 9))
	b := array.NewRecordBuilder(mem, allTypes)
	defer b.Release()
	words := []string{"", "a", "héllo", "日本語", "a@b.c", strings.Repeat("long ", 30)}
	for range n {
		for j, f := range allTypes.Fields() {
			if f.Nullable && r.IntN(5) == 0 {
				b.Field(j).AppendNull()
				continue
			}
			switch fb := b.Field(j).(type) {
			case *array.BooleanBuilder:
				fb.Append(r.IntN(2) == 0)
			case *array.Int8Builder:
				fb.Append(int8(r.Uint32()))
			case *array.Int16Builder:
				fb.Append(int16(r.Uint32()))
			case *array.Int32Builder:
				fb.Append(int32(r.Uint32()))
			case *array.Int64Builder:
				fb.Append(int64(r.Uint64()))
			case *array.Uint8Builder:
				fb.Append(uint8(r.Uint32()))
			case *array.Uint16Builder:
				fb.Append(uint16(r.Uint32()))
			case *array.Uint32Builder:
				fb.Append(r.Uint32())
			case *array.Uint64Builder:
				fb.Append(r.Uint64())
			case *array.Float32Builder:
				fb.Append(math.Float32frombits(r.Uint32()))
			case *array.Float64Builder:
				fb.Append(math.Float64frombits(r.Uint64()))
			case *array.Date32Builder:
				fb.Append(arrow.Date32(r.Int32()))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(r.Int64()))
			case *array.Decimal128Builder:
				fb.Append(decimal128.New(int64(r.Uint64()), r.Uint64()))
			case *array.StringBuilder:
				fb.Append(words[r.IntN(len(words))])
			case *array.BinaryBuilder: // binary and large_binary
				fb.Append([]byte(words[r.IntN(len(words))] + "\xff"))
			case *array.LargeStringBuilder:
				fb.Append(words[r.IntN(len(words))])
			case *array.BinaryDictionaryBuilder:
				_ = fb.AppendString(words[r.IntN(3)])
			case *array.ListBuilder:
				fb.Append(true)
				fb.ValueBuilder().(*array.Int32Builder).Append(int32(r.IntN(9)))
			}
		}
	}
	return b.NewRecord()
}

// value renders row i of a column so that equal renderings mean equal
// values: floats by their bits, byte strings in hex.
func value(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "null"
	}
	switch v := a.(type) {
	case *array.Float32:
		return fmt.Sprintf("%08x", math.Float32bits(v.Value(i)))
	case *array.Float64:
		return fmt.Sprintf("%016x", math.Float64bits(v.Value(i)))
	case *array.Binary:
		return fmt.Sprintf("%x", v.Value(i))
	case *array.LargeBinary:
		return fmt.Sprintf("%x", v.Value(i))
	case *array.Dictionary:
		return value(v.Dictionary(), v.GetValueIndex(i))
	}
	return a.ValueStr(i)
}

func newStage(t *testing.T, conf any, mem memory.Allocator, cfg wasmabi.Config) *wasmabi.Stage {
	t.Helper()
	s, err := wasmabi.NewStage(context.Background(), "stages[0].wasm", "stage.wasm", stageModule(t), conf, mem, cfg.WithCacheDir(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// process runs rec through a stage built with conf and returns the output
// rows (rendered) and the rejected rows' messages.
func process(t *testing.T, s *wasmabi.Stage, rec arrow.Record) ([][]string, map[int]string, error) {
	t.Helper()
	out, rejects, err := s.Process(context.Background(), rec)
	if err != nil {
		return nil, nil, err
	}
	defer out.Release()
	rows := make([][]string, out.NumRows())
	for i := range rows {
		for _, c := range out.Columns() {
			rows[i] = append(rows[i], value(c, i))
		}
	}
	msgs := map[int]string{}
	for _, r := range rejects {
		msgs[r.Row] = r.Err.Error()
	}
	return rows, msgs, nil
}

func inputRows(rec arrow.Record) [][]string {
	rows := make([][]string, rec.NumRows())
	for i := range rows {
		for _, c := range rec.Columns() {
			rows[i] = append(rows[i], value(c, i))
		}
	}
	return rows
}

func inputs(mem memory.Allocator) map[string]arrow.Record {
	recs := map[string]arrow.Record{}
	for _, n := range []int{0, 1, 7, 64, 1000} {
		recs[fmt.Sprintf("n=%d", n)] = record(mem, n, uint64(n))
	}
	for _, off := range []int64{3, 13} {
		whole := record(mem, 300, uint64(off))
		recs[fmt.Sprintf("sliced+%d", off)] = whole.NewSlice(off, 250)
		whole.Release()
	}
	return recs
}

// TestIdentity: every column read through its view and written back
// through its builder comes out unchanged, for every type, with nulls,
// empty and sliced batches (re-based offsets, re-packed bitmaps).
func TestIdentity(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newStage(t, nil, mem, wasmabi.NewConfig())
	outSchema, err := s.Bind(context.Background(), allTypes)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outSchema.Field(17).Type, arrow.BinaryTypes.String; !arrow.TypeEqual(got, want) {
		t.Errorf("large_utf8 written back as %s, want %s", got, want)
	}
	for name, rec := range inputs(mem) {
		got, _, err := process(t, s, rec)
		want := inputRows(rec)
		rec.Release()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows out, %d in", name, len(got), len(want))
		}
		for i := range want {
			for j := range want[i] {
				if got[i][j] != want[i][j] {
					t.Fatalf("%s: row %d column %s: got %s, want %s", name, i, allTypes.Field(j).Name, got[i][j], want[i][j])
				}
			}
		}
	}
}

// TestSelection: dw_drop, dw_keep_bits and dw_rejectf leave out the same
// rows (0, 3, 6, …); rejected rows carry their message.
func TestSelection(t *testing.T) {
	for _, mode := range []string{"drop", "keep_bits", "reject"} {
		t.Run(mode, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			s := newStage(t, map[string]any{"mode": mode, "every": 3}, mem, wasmabi.NewConfig())
			if _, err := s.Bind(context.Background(), allTypes); err != nil {
				t.Fatal(err)
			}
			rec := record(mem, 100, 1)
			defer rec.Release()
			got, rejects, err := process(t, s, rec)
			if err != nil {
				t.Fatal(err)
			}
			var want [][]string
			for i, row := range inputRows(rec) {
				if i%3 != 0 {
					want = append(want, row)
				} else if mode == "reject" {
					if msg := fmt.Sprintf("row %d rejected by stages[0].wasm", i); !strings.Contains(rejects[i], msg) {
						t.Errorf("row %d: reject %q, want %q", i, rejects[i], msg)
					}
				}
			}
			if mode == "reject" && len(rejects) != 34 {
				t.Errorf("%d rows rejected, want 34", len(rejects))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("kept rows differ:\ngot  %.300v\nwant %.300v", got, want)
			}
		})
	}
}

// TestFailures: a failed batch, a trapped instance and a refused output
// type each say what happened, and the stage recovers for the next batch.
func TestFailures(t *testing.T) {
	tests := []struct {
		mode string
		want error
		msg  string
	}{
		{"fail", wasmabi.ErrGuestFailed, "failing a batch of 5 rows as asked"},
		{"trap", wasmabi.ErrGuestTrap, "more values appended than the batch has rows"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			s := newStage(t, map[string]any{"mode": tc.mode}, mem, wasmabi.NewConfig())
			if _, err := s.Bind(context.Background(), allTypes); err != nil {
				t.Fatal(err)
			}
			rec := record(mem, 5, 2)
			defer rec.Release()
			for range 2 {
				_, _, err := process(t, s, rec)
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("error %v, want %v saying %q", err, tc.want, tc.msg)
				}
			}
		})
	}
}

func TestLog(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	s := newStage(t, map[string]any{"mode": "log"}, mem, wasmabi.NewConfig().WithLogger(logger))
	if _, err := s.Bind(context.Background(), allTypes); err != nil {
		t.Fatal(err)
	}
	rec := record(mem, 5, 3)
	defer rec.Release()
	if _, _, err := process(t, s, rec); err != nil {
		t.Fatal(err)
	}
	if want := `level=WARN msg="stages[0].wasm: 5 rows" stage=stages[0].wasm`; !strings.Contains(buf.String(), want) {
		t.Errorf("log %q does not hold %q", buf.String(), want)
	}
}

// TestConfig: the accessors' answers (echoed by the stage as its bind
// error) and the configurations the SDK refuses.
func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		conf any
		want string
	}{
		{"accessors", map[string]any{"mode": "config", "STR": "hello", "num": 2.5, "flag": true, "list": []any{"a", nil, "c"},
			"obj": map[string]any{"k": []any{1, map[string]any{"x": "y\u00e9"}}}},
			"echo: str=hello num=2.5 flag=1 list=3:[a][][c] obj.k[1].x=yé stage=stages[0].wasm"},
		{"defaults", map[string]any{"mode": "config"}, "echo: str=(absent) num=-1 flag=0 list=0: obj.k[1].x=? stage=stages[0].wasm"},
		{"nulls are absent", map[string]any{"mode": "config", "str": nil, "num": nil}, "echo: str=(absent) num=-1"},
		{"unknown key", map[string]any{"bogus": 1, "every": 0}, `config: unknown field "bogus"; config: every must be at least 1`},
		{"wrong type", map[string]any{"every": "x"}, "config: every: want a number, not a string"},
		{"out of range", map[string]any{"every": json1e400{}}, "config: every: number 1e400 is out of range"},
		{"not a mapping", []any{1}, "config: want a mapping, not an array"},
		{"large output", map[string]any{"mode": "large"}, `column "big": write large_utf8 columns as utf8`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStage(t, tc.conf, memory.NewGoAllocator(), wasmabi.NewConfig())
			_, err := s.Bind(context.Background(), allTypes)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("bind error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// json1e400 marshals as a JSON number outside float64's range.
type json1e400 struct{}

func (json1e400) MarshalJSON() ([]byte, error) { return []byte("1e400"), nil }
