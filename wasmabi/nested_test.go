package wasmabi

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// TestNestedTypeNames: nested ABI type names go both ways, with the
// timestamp's and decimal's own commas inside; what the ABI leaves out
// is refused.
func TestNestedTypeNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		dt   arrow.DataType
	}{
		{"list<int64>", arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{"struct<a:int64,b:utf8>", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true})},
		{"map<utf8,float64>", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64)},
		{"list<struct<t:timestamp[us,UTC],d:decimal128(10,2)>>", arrow.ListOf(arrow.StructOf(
			arrow.Field{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
			arrow.Field{Name: "d", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true}))},
		{"list<list<list<list<bool>>>>", arrow.ListOf(arrow.ListOf(arrow.ListOf(arrow.ListOf(arrow.FixedWidthTypes.Boolean))))},
	} {
		got, _, err := typeName(tc.dt)
		if err != nil || got != tc.name {
			t.Errorf("typeName(%s) = %q, %v; want %q", tc.dt, got, err, tc.name)
		}
		dt, _, err := parseType(tc.name)
		if err != nil || !arrow.TypeEqual(dt, tc.dt) {
			t.Errorf("parseType(%q) = %v, %v; want %s", tc.name, dt, err, tc.dt)
		}
	}
	for _, bad := range []string{"list<list<list<list<list<int8>>>>>", "list<>", "list<int8,int8>", "struct<>", "struct<a:int8,a:int8>",
		"struct<int8>", "map<list<int8>,int8>", "map<utf8>", "list<int8", "list<nope>", "struct<a:list<int8>>>"} {
		if dt, _, err := parseType(bad); err == nil {
			t.Errorf("parseType(%q) = %s, want an error", bad, dt)
		}
	}
	for _, dt := range []arrow.DataType{arrow.LargeListOf(arrow.PrimitiveTypes.Int8), arrow.StructOf(),
		arrow.StructOf(arrow.Field{Name: "a,b", Type: arrow.PrimitiveTypes.Int8}),
		arrow.ListOf(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}),
		arrow.ListOf(arrow.ListOf(arrow.ListOf(arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int8)))))} {
		if name, _, err := typeName(dt); err == nil {
			t.Errorf("typeName(%s) = %q, want an error", dt, name)
		}
	}
}

var nestedSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "l", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.ListOf(arrow.FixedWidthTypes.Boolean), Nullable: true}), Nullable: true},
	{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
}, nil)

const nestedJSON = `[
{"id": 1, "l": ["a", null, "ccc"], "s": {"a": 1, "b": [true, false]}, "m": [{"key": "x", "value": 1.5}]},
{"id": 2, "l": null, "s": null, "m": null},
{"id": 3, "l": [], "s": {"a": null, "b": null}, "m": []},
{"id": 4, "l": ["dddd"], "s": {"a": 4, "b": [null, true, true]}, "m": [{"key": "y", "value": null}, {"key": "z", "value": 2}]},
{"id": 5, "l": ["é", "ff"], "s": {"a": 5, "b": []}, "m": [{"key": "w", "value": 3}]}
]`

func nestedRecord(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(mem, nestedSchema, strings.NewReader(nestedJSON))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Release)
	return rec
}

// TestNestedInputLayout: the host lays nested input columns out as
// ABI.md says, sliced ones included (children hold exactly the rows
// their parent's rows cover); read back by the output validator, which
// checks every offset, they build the same arrays.
func TestNestedInputLayout(t *testing.T) {
	mem := conformance.Checked(t)
	rec := nestedRecord(t, mem)
	for _, r := range [][2]int64{{0, 5}, {1, 4}, {3, 5}, {2, 2}} {
		sl := rec.NewSlice(r[0], r[1])
		n := int(sl.NumRows())
		var cols []inCol
		for i := 1; i < 4; i++ {
			_, code, err := typeName(sl.Column(i).DataType())
			if err != nil {
				t.Fatal(err)
			}
			cols = append(cols, inCol{index: uint32(i), code: code, arr: sl.Column(i)})
		}
		const base = 4096
		size := layoutSize(cols)
		guest := make([]byte, base+size)
		writeBatch(guest[base:], base, n, cols)
		for i, c := range cols {
			d := guest[base+batchHeader+descSize*i:]
			w := outCol{name: "c", code: c.code, nt: nestedOut(c.arr.DataType(), c.code, "c")}
			cv, _, err := readNested(guest, d, n, w, 1<<30)
			if err != nil {
				t.Fatalf("rows %v, column %d: %v", r, c.index, err)
			}
			got := buildNested(mem, w.nt, n, cv)
			if !array.Equal(got, c.arr) {
				t.Errorf("rows %v, column %d: the guest saw %s, want %s", r, c.index, got, c.arr)
			}
			got.Release()
		}
		sl.Release()
	}
}

// Where the nested results of the raw modules live, above v2Finish.
const nb = 40960

// nestedResult is a good v2 answer of 2 rows, drop_all, with a list, a
// struct and a map column: l = [[1 2 3], null], s = [{7 x}, {8 yz}],
// m = [{k:1}, {}]. The addresses are nb + 256·k.
func nestedResult() (hdr []uint32, data map[uint32][]byte) {
	return nestedResultAt(v2Descs, nb, 256)
}

// nestedResultAt is nestedResult with its top descriptors at descs and
// the rest at base + step·k (step ≥ 64).
func nestedResultAt(descs, base, step uint32) (hdr []uint32, data map[uint32][]byte) {
	at := func(k uint32) uint32 { return base + step*k }
	hdr = []uint32{statusOK, 0, 0, 2, 0, 3, descs, 0, 0, 0}
	data = map[uint32][]byte{
		descs: slices.Concat(
			desc(0, codeList, at(12), at(0), at(1), 1),
			desc(1, codeStruct, 0, 0, at(3), 2),
			desc(2, codeMap, 0, at(7), at(8), 2)),
		at(12): {0b01},
		at(0):  words(0, 3, 3),
		at(1):  desc(0, codeInt32, 0, 0, at(2), 12),
		at(2):  words(1, 2, 3),
		at(3):  slices.Concat(desc(0, codeInt64, 0, 0, at(4), 16), desc(1, codeUTF8, 0, at(5), at(6), 3)),
		at(4):  words(7, 0, 8, 0),
		at(5):  words(0, 1, 3),
		at(6):  []byte("xyz"),
		at(7):  words(0, 1, 1),
		at(8):  slices.Concat(desc(0, codeUTF8, 0, at(9), at(10), 1), desc(1, codeInt32, 0, 0, at(11), 4)),
		at(9):  words(0, 1),
		at(10): []byte("k"),
		at(11): words(1),
	}
	return hdr, data
}

const nestedAnswer = `{"reads":["id"],"writes":[{"name":"l","type":"list<int32>","nullable":true},` +
	`{"name":"s","type":"struct<a:int64,b:utf8>","nullable":true},{"name":"m","type":"map<utf8,int32>","nullable":true}],"drop_all":true}`

// TestNestedOutput: a v2 module's nested columns are validated and
// built as the declared Arrow types.
func TestNestedOutput(t *testing.T) {
	mem := conformance.Checked(t)
	hdr, data := nestedResult()
	s := newStageOf(t, "nested.wasm", v2Module(nestedAnswer, hdr, data).bytes(), nil, mem, testConfig())
	if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
		t.Fatal(err)
	}
	rec := orders(mem, sample())
	t.Cleanup(rec.Release)
	out, _, err := s.Process(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	want, _, err := array.RecordFromJSON(mem, out.Schema(), strings.NewReader(
		`[{"l": [1,2,3], "s": {"a": 7, "b": "x"}, "m": [{"key": "k", "value": 1}]}, {"l": null, "s": {"a": 8, "b": "yz"}, "m": []}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer want.Release()
	if !array.RecordEqual(out, want) {
		t.Errorf("got %v, want %v", out, want)
	}
}

// TestNestedHostile: every way a nested result can lie is refused with
// ErrGuestOutput naming the column and the rule (ABI.md, "Nested types").
func TestNestedHostile(t *testing.T) {
	good, data := nestedResult()
	at := func(k uint32) uint32 { return nb + 256*k }
	tests := []struct {
		name string
		hdr  []uint32
		data map[uint32][]byte
		cfg  func(Config) Config
		msg  string
	}{
		{name: "list offsets outside memory", data: map[uint32][]byte{v2Descs: slices.Concat(desc(0, codeList, 0, 65530, at(1), 1), data[v2Descs][32:])},
			msg: `column "l": offsets: 12 bytes at 0xfffa are outside the guest's 65536-byte memory`},
		{name: "list offsets not monotonic", data: map[uint32][]byte{at(0): words(0, 3, 2)},
			msg: `column "l": offsets not monotonic at row 1 (2 after 3)`},
		{name: "list offsets negative", data: map[uint32][]byte{at(0): words(0xFFFF_FFFF, 3, 3)},
			msg: `column "l": first offset -1 is negative`},
		{name: "list child shorter than its offsets", data: map[uint32][]byte{at(0): words(0, 4, 4)},
			msg: `l.item: 12 value bytes for 4 rows (want 16)`},
		{name: "list child values outside memory", data: map[uint32][]byte{at(1): desc(0, codeInt32, 0, 0, 65532, 12)},
			msg: `column "l.item": values: 12 bytes at 0xfffc are outside the guest's 65536-byte memory`},
		{name: "list child type", data: map[uint32][]byte{at(1): desc(0, codeInt64, 0, 0, at(2), 24)},
			msg: `column "l.item": type code 5, declared 4`},
		{name: "list child index", data: map[uint32][]byte{at(1): desc(1, codeInt32, 0, 0, at(2), 12)},
			msg: `column "l.item": child descriptor 0 has index 1 (want 0)`},
		{name: "list child count", data: map[uint32][]byte{v2Descs: slices.Concat(desc(0, codeList, 0, at(0), at(1), 2), data[v2Descs][32:])},
			msg: `column "l": 2 child descriptors, its type has 1`},
		{name: "child descriptors outside memory", data: map[uint32][]byte{v2Descs: slices.Concat(desc(0, codeList, 0, at(0), 65520, 1), data[v2Descs][32:])},
			msg: `column "l": child descriptors: 32 bytes at 0xfff0 are outside the guest's 65536-byte memory`},
		{name: "struct child count", data: map[uint32][]byte{v2Descs: slices.Concat(data[v2Descs][:32], desc(1, codeStruct, 0, 0, at(3), 1), data[v2Descs][64:])},
			msg: `column "s": 1 child descriptors, its type has 2`},
		{name: "struct child shorter than the rows", data: map[uint32][]byte{at(3): slices.Concat(desc(0, codeInt64, 0, 0, at(4), 8), data[at(3)][32:])},
			msg: `s.a: 8 value bytes for 2 rows (want 16)`},
		{name: "struct string child past its values", data: map[uint32][]byte{at(5): words(0, 1, 4)},
			msg: `column "s.b": row 1 ends at value byte 4, past the 3 bytes given`},
		{name: "struct string child not UTF-8", data: map[uint32][]byte{at(6): []byte("x\xffz")},
			msg: `column "s.b": row 1 is not valid UTF-8`},
		{name: "map key null", data: map[uint32][]byte{at(8): slices.Concat(desc(0, codeUTF8, at(13), at(9), at(10), 1), data[at(8)][32:]), at(13): {0}},
			msg: `column "m.key": 1 map keys are null (keys never are)`},
		{name: "map value shorter than the keys", data: map[uint32][]byte{at(8): slices.Concat(data[at(8)][:32], desc(1, codeInt32, 0, 0, at(11), 2))},
			msg: `m.value: 2 value bytes for 1 rows (want 4)`},
		{name: "nested bytes past the limit", cfg: func(c Config) Config { return c.WithMaxEmit(0, 40) },
			msg: `more bytes bring the call's output past the stage's limit of max_emit_bytes`},
		{name: "lying origin beside a nested column", hdr: []uint32{statusOK, 0, 0, 2, v2Origins, 3, v2Descs, 0, 0, 0},
			data: map[uint32][]byte{v2Origins: words(0, 5)},
			msg:  "emitted row 1 gives input row 5 as its origin, but the call had 5 input rows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			hdr := tc.hdr
			if hdr == nil {
				hdr = good
			}
			d := map[uint32][]byte{}
			for a, b := range data {
				d[a] = b
			}
			for a, b := range tc.data {
				d[a] = b
			}
			cfg := testConfig()
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			s := newStageOf(t, "nested.wasm", v2Module(nestedAnswer, hdr, d).bytes(), nil, mem, cfg)
			if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
				t.Fatal(err)
			}
			rec := orders(mem, sample())
			t.Cleanup(rec.Release)
			out, _, err := s.Process(context.Background(), rec)
			if out != nil {
				out.Release()
				t.Fatal("the host accepted a result that breaks the ABI")
			}
			wantGuestErr(t, err, ErrGuestOutput, exportProcess, 5, tc.msg)
		})
	}
}

// TestNestedNeedsV2: a v1 module can neither read nor write a nested
// column; it may leave one alone.
func TestNestedNeedsV2(t *testing.T) {
	for _, tc := range []struct{ name, answer, msg string }{
		{"read", `{"reads":["l"],"writes":[]}`, `column "l" is list<item: utf8, nullable>: nested types need an ABI v2 module`},
		{"write", `{"reads":[],"writes":[{"name":"x","type":"list<int8>"}]}`, `output column "x": nested types need an ABI v2 module`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := v2Module(tc.answer, nil, nil)
			m.exports[exportVersion] = Version
			s := newStageOf(t, "v1.wasm", m.bytes(), nil, conformance.Checked(t), testConfig())
			_, err := s.Bind(context.Background(), nestedSchema)
			if !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Bind: %v; want a schema error saying %q", err, tc.msg)
			}
		})
	}
}
