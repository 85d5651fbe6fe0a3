package guest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// These tests run natively: everything but the ABI glue (abi_wasip1.go)
// and the log import compiles for the host. The whole SDK through the
// real host is guest-sdk/go/sdktest.

func TestTypeCode(t *testing.T) {
	// Codes and widths as wasmabi/ABI.md's table gives them.
	tests := []struct {
		typ   string
		code  uint8
		width int
	}{
		{"bool", 1, 0},
		{"int8", 2, 1}, {"int16", 3, 2}, {"int32", 4, 4}, {"int64", 5, 8},
		{"uint8", 6, 1}, {"uint16", 7, 2}, {"uint32", 8, 4}, {"uint64", 9, 8},
		{"float32", 10, 4}, {"float64", 11, 8},
		{"utf8", 12, 0}, {"binary", 13, 0}, {"large_utf8", 14, 0}, {"large_binary", 15, 0},
		{"date32", 16, 4},
		{"timestamp[s]", 17, 8}, {"timestamp[us,UTC]", 17, 8},
		{"decimal128(10,2)", 18, 16},
		{"list<int32>", 0, 0}, {"", 0, 0}, {"Int64", 0, 0}, {"timestamp", 0, 0},
	}
	for _, tc := range tests {
		if code, width := typeCode(tc.typ); code != tc.code || width != tc.width {
			t.Errorf("typeCode(%q) = %d, %d; want %d, %d", tc.typ, code, width, tc.code, tc.width)
		}
	}
}

func TestFits(t *testing.T) {
	tests := []struct {
		name string
		fits func(string) bool
		yes  []string
		no   []string
	}{
		{"int8", fits[int8], []string{"int8"}, []string{"uint8", "int16", "bool"}},
		{"int32", fits[int32], []string{"int32", "date32"}, []string{"int64", "uint32", "float32"}},
		{"int64", fits[int64], []string{"int64", "timestamp[ms]", "timestamp[us,UTC]"}, []string{"uint64", "date32", "float64"}},
		{"uint16", fits[uint16], []string{"uint16"}, []string{"int16"}},
		{"float64", fits[float64], []string{"float64"}, []string{"float32", "int64", "decimal128(10,2)"}},
		{"Decimal128", fits[Decimal128], []string{"decimal128(10,2)", "decimal128(38,0)"}, []string{"int64", "utf8"}},
	}
	for _, tc := range tests {
		for _, typ := range tc.yes {
			if !tc.fits(typ) {
				t.Errorf("%s does not fit %s; it should", tc.name, typ)
			}
		}
		for _, typ := range tc.no {
			if tc.fits(typ) {
				t.Errorf("%s fits %s; it should not", tc.name, typ)
			}
		}
	}
	if got := goName[Decimal128](); got != "Decimal128" {
		t.Errorf("goName[Decimal128] = %q", got)
	}
	if got := goName[uint32](); got != "uint32" {
		t.Errorf("goName[uint32] = %q", got)
	}
}

func newSetup(config string) *Setup {
	return &Setup{StageName: "stages[1].wasm", config: []byte(config), Schema: []Field{
		{Name: "id", Type: "int64"}, {Name: "amount", Type: "float64", Nullable: true},
		{Name: "email", Type: "utf8", Nullable: true}, {Name: "ok", Type: "bool"},
	}}
}

func TestConfig(t *testing.T) {
	type conf struct {
		Min  float64  `json:"min"`
		Tags []string `json:"tags"`
	}
	tests := []struct {
		name    string
		config  string
		want    conf
		wantErr string
	}{
		{"absent", "", conf{Min: -1}, ""},
		{"null", "null", conf{Min: -1}, ""},
		{"values", `{"min":2.5,"tags":["a","b"]}`, conf{Min: 2.5, Tags: []string{"a", "b"}}, ""},
		{"unknown key", `{"mni":1}`, conf{Min: -1}, `config: json: unknown field "mni"`},
		{"wrong type", `{"min":"x"}`, conf{Min: -1}, "config: json: cannot unmarshal string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := conf{Min: -1}
			err := newSetup(tc.config).Config(&got)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one holding %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Min != tc.want.Min || strings.Join(got.Tags, ",") != strings.Join(tc.want.Tags, ",") {
				t.Errorf("decoded %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestDeclarations: reads get one slot per column in first-use order,
// writes are appended nullable, and every mistake is recorded for Err.
func TestDeclarations(t *testing.T) {
	s := newSetup("")
	if f, ok := s.Field("amount"); !ok || f.Type != "float64" || !f.Nullable {
		t.Errorf("Field(amount) = %+v, %t", f, ok)
	}
	if _, ok := s.Field("nope"); ok {
		t.Error("Field(nope) found a column")
	}
	a, e, a2 := Read[float64](s, "amount"), ReadString(s, "email"), Read[float64](s, "amount")
	b := ReadBool(s, "ok")
	if a.slot != 0 || e.slot != 1 || a2.slot != 0 || b.slot != 2 {
		t.Errorf("read slots %d %d %d %d, want 0 1 0 2", a.slot, e.slot, a2.slot, b.slot)
	}
	if got := strings.Join(s.reads, ","); got != "amount,email,ok" {
		t.Errorf("reads %s", got)
	}
	o1, o2, o3 := Write[int64](s, "cents", "int64"), WriteBool(s, "big"), WriteBinary(s, "raw")
	o4 := WriteString(s, "upper")
	if o1.slot != 0 || o2.slot != 1 || o3.slot != 2 || o4.slot != 3 {
		t.Errorf("write slots %d %d %d %d", o1.slot, o2.slot, o3.slot, o4.slot)
	}
	want := []Field{{"cents", "int64", true}, {"big", "bool", true}, {"raw", "binary", true}, {"upper", "utf8", true}}
	for i, w := range want {
		if s.writes[i] != w {
			t.Errorf("write %d: %+v, want %+v", i, s.writes[i], w)
		}
	}
	s.Filter()
	s.DropColumn("email")
	if !s.filter || strings.Join(s.drops, ",") != "email" {
		t.Errorf("filter %t, drops %v", s.filter, s.drops)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err after valid declarations: %v", err)
	}

	if Read[int32](s, "id").slot != -1 || ReadString(s, "ok").slot != -1 || ReadBool(s, "gone").slot != -1 {
		t.Error("a refused read got a slot")
	}
	Write[float32](s, "f", "float64")
	WriteString(s, "cents")
	s.DropColumn("gone")
	s.Errorf("own %d", 7)
	err := s.Err()
	for _, w := range []string{
		`column "id" is int64, this stage reads it as int32`,
		`column "ok" is bool, this stage reads it as string`,
		`no column "gone" in the input (columns: id, amount, email, ok)`,
		`column "f": type float64 cannot be written as float32`,
		`column "cents" is written twice`,
		`drop: no column "gone"`,
		"; own 7",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Err() = %v, want it to hold %q", err, w)
		}
	}
}

// TestSelection: Drop clears one bit of an all-kept bitmap, KeepBits
// starts all dropped unless Drop came first, and rejects keep their order.
func TestSelection(t *testing.T) {
	b := &Batch{n: 20}
	b.Drop(3)
	b.Drop(14)
	b.Drop(17)
	if got, want := b.KeepBits(), []byte{0xf7, 0xbf, 0xfd}; !bytes.Equal(got, want) {
		t.Errorf("after Drop(3), Drop(14), Drop(17): %x, want %x", got, want)
	}
	fresh := &Batch{n: 12}
	selBuf = []byte{0xaa, 0xbb, 0xcc} // a previous batch's selection
	if got := fresh.KeepBits(); !bytes.Equal(got, []byte{0, 0}) {
		t.Errorf("KeepBits of a fresh batch: %x, want 0000", got)
	}
	b.Reject(4, errors.New("bad row"))
	b.Rejectf(9, "row %d is %s", 9, "worse")
	if len(b.errs) != 2 || b.errs[0].row != 4 || string(b.errs[0].msg) != "bad row" || b.errs[1].row != 9 || string(b.errs[1].msg) != "row 9 is worse" {
		t.Errorf("rejects %+v", b.errs)
	}
	if b.Len() != 20 {
		t.Errorf("Len %d", b.Len())
	}
}

func TestFillOnes(t *testing.T) {
	for n := range 70 {
		p := make([]byte, n)
		fillOnes(p)
		if !bytes.Equal(p, bytes.Repeat([]byte{0xff}, n)) {
			t.Errorf("fillOnes of %d bytes: %x", n, p)
		}
	}
}

// outBatch is a batch of n rows with one output column per type.
func outBatch(n int, types ...string) *Batch {
	b := &Batch{n: n}
	for i, typ := range types {
		code, _ := typeCode(typ)
		b.outs = append(b.outs, outCol{field: Field{Name: string(rune('a' + i)), Type: typ}, code: code})
	}
	return b
}

// TestOutputs: buffers start zeroed for every batch even when reused,
// nulls clear validity bits of an all-valid bitmap, and check refuses a
// column left unwritten or with the wrong number of values.
func TestOutputs(t *testing.T) {
	b := outBatch(10, "int64", "bool", "utf8")
	ints, bools, strs := Out[int64]{0}, OutBool{1}, OutStr{2}
	v := ints.Values(b)
	v[0], v[9] = 7, -7
	ints.SetNull(b, 4)
	bools.Set(b, 2, true)
	bools.Set(b, 9, true)
	bools.Set(b, 9, false)
	bools.SetNull(b, 0)
	sb := strs.Builder(b)
	sb.Reserve(100)
	sb.Append("a")
	sb.AppendBytes([]byte("bc"))
	sb.AppendConcat("d", "e")
	sb.AppendConcat("f", "g", "h")
	sb.AppendConcat("i", "j", "k", "l")
	sb.AppendConcat()
	sb.AppendNull(b)
	vals, offs := sb.Raw()
	*vals = append(*vals, "xyz"...)
	*offs = append(*offs, int32(len(*vals)))
	sb.Append("")
	sb.Append("é")

	c := b.outs[0]
	if got := unsafe.Slice((*int64)(unsafe.Pointer(&c.values[0])), 10); got[0] != 7 || got[9] != -7 || got[1] != 0 {
		t.Errorf("int64 values %v", got)
	}
	if !c.hasNull || !bytes.Equal(c.valid[:2], []byte{0xef, 0xff}) {
		t.Errorf("int64 validity %x (hasNull %t)", c.valid, c.hasNull)
	}
	if c := b.outs[1]; !bytes.Equal(c.values[:2], []byte{0x04, 0x00}) || !bytes.Equal(c.valid[:2], []byte{0xfe, 0xff}) {
		t.Errorf("bool values %x validity %x", c.values, c.valid)
	}
	c = b.outs[2]
	if got := string(c.values); got != "abcdefghijklxyzé" {
		t.Errorf("string bytes %q", got)
	}
	if got, want := c.offs, []int32{0, 1, 3, 5, 8, 12, 12, 12, 15, 15, 17}; !slices.Equal(got, want) {
		t.Errorf("offsets %v, want %v", got, want)
	}
	if !c.hasNull || c.valid[0]&(1<<6) != 0 || c.valid[0]&(1<<5) == 0 {
		t.Errorf("string validity %x: row 6 null, row 5 not", c.valid)
	}
	for i := range b.outs {
		if err := b.outs[i].check(10); err != nil {
			t.Errorf("check of column %d: %v", i, err)
		}
	}

	// The next batch reuses the buffers: zeroed, no nulls, no values.
	for i := range b.outs {
		b.outs[i].touched = false
	}
	b.n = 3
	if v := ints.Values(b); len(v) != 3 || v[0] != 0 {
		t.Errorf("reused int64 values %v", v)
	}
	if b.outs[0].hasNull {
		t.Error("reused column kept a null")
	}
	if err := b.outs[1].check(3); err == nil || !strings.Contains(err.Error(), `output column "b" was not written`) {
		t.Errorf("unwritten column: %v", err)
	}
	strs.Builder(b).Append("x")
	if err := b.outs[2].check(3); err == nil || !strings.Contains(err.Error(), `output column "c": 1 values appended for 3 rows`) {
		t.Errorf("short column: %v", err)
	}
}

// TestViews reads columns laid out as the host writes them: fixed and
// bool values with a validity bitmap, and string offsets that do not
// start at 0 (a sliced input), 32- and 64-bit: the values buffer starts at
// offsets[0] (wasmabi/ABI.md).
func TestViews(t *testing.T) {
	nums := []float64{1.5, -2, 3}
	bits := []byte{0b101}
	valid := []byte{0b011}
	data := []byte("hello, world")
	offs32 := []int32{2, 7, 7, 14}
	offs64 := []int64{2, 7, 7, 14}
	b := &Batch{n: 3, ins: []inCol{
		{values: unsafe.Pointer(&nums[0]), valid: valid},
		{values: unsafe.Pointer(&bits[0])},
		{values: unsafe.Pointer(&data[0]), offsets: unsafe.Pointer(&offs32[0]), valuesLen: len(data), valid: valid},
		{values: unsafe.Pointer(&data[0]), offsets: unsafe.Pointer(&offs64[0]), valuesLen: len(data), large: true},
	}}
	f := Col[float64]{0}.View(b)
	if len(f.Values) != 3 || f.Values[1] != -2 || !f.Valid(1) || f.Valid(2) || !bytes.Equal(f.Validity(), valid) {
		t.Errorf("float64 view %v, valid %t %t", f.Values, f.Valid(1), f.Valid(2))
	}
	bv := BoolCol{1}.View(b)
	if !bv.Value(0) || bv.Value(1) || !bv.Value(2) || !bv.Valid(2) {
		t.Error("bool view")
	}
	for slot, name := range []string{"utf8", "large_utf8"} {
		s := StrCol{2 + slot}.View(b)
		if s.Value(0) != "hello" || s.Value(1) != "" || string(s.Bytes(2)) != ", world" {
			t.Errorf("%s view: %q %q %q", name, s.Value(0), s.Value(1), s.Bytes(2))
		}
		o32, o64, d := s.Raw()
		if o32 != nil || len(o64) != 4 || o64[0] != 0 || o64[3] != 12 || len(d) != len(data) {
			t.Errorf("%s Raw of a sliced column: %v %v (re-based to 0, 64-bit)", name, o32, o64)
		}
	}
	if s := (StrCol{2}).View(b); s.Valid(2) || !s.Valid(0) || !bytes.Equal(s.Validity(), valid) {
		t.Error("utf8 validity")
	}
}
