package wasmabi

import (
	"context"
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/internal/leb128"
)

// rawModule is a tiny stage module written as bytes (the machine may have
// no wat2wasm): each export is a function that ignores its arguments and
// returns a constant, which is all it takes to hand the host a chosen
// pointer from dw_reserve or dw_bind. In WAT, the complete module
// (goodModule) is
//
//	(module
//	  (memory (export "memory") 1)
//	  (data (i32.const 16) "\18\00\00\00" "{\"reads\":[],\"writes\":[]}")
//	  (func (export "dw_abi_version") (result i32) (i32.const 1))
//	  (func (export "dw_reserve") (param i32) (result i32) (i32.const 1024))
//	  (func (export "dw_bind") (param i32 i32) (result i32) (i32.const 16))
//	  ;; zeroed memory at 512: status 0, no selection, no columns, no errors
//	  (func (export "dw_process") (param i32) (result i32) (i32.const 512)))
type rawModule struct {
	pages   uint32           // memory pages, exported as "memory"; 0: no memory
	imports []string         // "module.name" functions of type () -> ()
	exports map[string]int32 // export name -> the constant it returns
	// code replaces an export's body (its locals vector, then its
	// instructions, without the final end): a loop, or a compile bomb.
	code map[string][]byte
	data map[uint32][]byte
}

func goodModule() rawModule {
	return rawModule{
		pages:   1,
		exports: map[string]int32{exportVersion: 1, exportReserve: 1024, exportBind: 16, exportProcess: 512},
		data:    map[uint32][]byte{16: bindAnswerBytes(`{"reads":[],"writes":[]}`)},
	}
}

// bindAnswerBytes is a dw_bind response: u32 length, then body.
func bindAnswerBytes(body string) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// Function types, by index in the type section.
const (
	typeVoid     = iota // () -> ()
	typeNone            // () -> i32
	typeOne             // (i32) -> i32
	typeTwo             // (i32, i32) -> i32
	opI32Const   = 0x41
	opEnd        = 0x0b
	valI32       = 0x7f
	externFunc   = 0x00
	externMemory = 0x02
)

func wasmName(b []byte, s string) []byte { return append(leb128.AppendU32(b, uint32(len(s))), s...) }

// section appends section id holding a vector of items.
func section(b []byte, id byte, items [][]byte) []byte {
	body := leb128.AppendU32(nil, uint32(len(items)))
	for _, it := range items {
		body = append(body, it...)
	}
	return append(leb128.AppendU32(append(b, id), uint32(len(body))), body...)
}

func i32Const(v int32) []byte { return append(leb128.AppendS32([]byte{opI32Const}, v), opEnd) }

func (m rawModule) bytes() []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = section(b, 1, [][]byte{
		{0x60, 0, 0},
		{0x60, 0, 1, valI32},
		{0x60, 1, valI32, 1, valI32},
		{0x60, 2, valI32, valI32, 1, valI32},
	})
	var imports [][]byte
	for _, imp := range m.imports {
		mod, name, _ := strings.Cut(imp, ".")
		imports = append(imports, append(wasmName(wasmName(nil, mod), name), externFunc, typeVoid))
	}
	b = section(b, 2, imports)
	names := slices.Sorted(maps.Keys(m.exports))
	var funcs, exports, code [][]byte
	for i, n := range names {
		t := map[string]byte{exportReserve: typeOne, exportBind: typeTwo, exportProcess: typeOne, exportRestore: typeTwo, exportWatermark: typeTwo}[n]
		if t == 0 {
			t = typeNone
		}
		funcs = append(funcs, []byte{t})
		exports = append(exports, leb128.AppendU32(append(wasmName(nil, n), externFunc), uint32(len(m.imports)+i)))
		body := append([]byte{0}, i32Const(m.exports[n])...) // no locals
		if c, ok := m.code[n]; ok {
			body = append(slices.Clone(c), opEnd)
		}
		code = append(code, append(leb128.AppendU32(nil, uint32(len(body))), body...))
	}
	b = section(b, 3, funcs)
	if m.pages > 0 {
		b = section(b, 5, [][]byte{leb128.AppendU32([]byte{0}, m.pages)})
		exports = append(exports, append(wasmName(nil, "memory"), externMemory, 0))
	}
	b = section(b, 7, exports)
	b = section(b, 10, code)
	var data [][]byte
	for _, off := range slices.Sorted(maps.Keys(m.data)) {
		seg := append([]byte{0}, i32Const(int32(off))...)
		data = append(data, append(leb128.AppendU32(seg, uint32(len(m.data[off]))), m.data[off]...))
	}
	return section(b, 11, data)
}

// TestModule: the complete raw module is a working stage (so each case
// below fails for the one thing it changes, not for a broken builder),
// and a module that is not wasm, imports what the host does not provide,
// lacks an export or a memory, or whose dw_reserve or dw_bind answer
// breaks the ABI fails at NewStage or Bind with a *GuestError naming the
// stage, module and export and wrapping the sentinel, the message saying
// what is wrong.
func TestModule(t *testing.T) {
	t.Run("good", func(t *testing.T) {
		mem := conformance.Checked(t)
		s := newStageOf(t, "raw.wasm", goodModule().bytes(), nil, mem, testConfig())
		if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
			t.Fatal(err)
		}
		rec := orders(mem, sample())
		t.Cleanup(rec.Release)
		out, rejects, err := s.Process(context.Background(), rec)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		if got := column(out, "id"); out.NumRows() != 5 || len(rejects) > 0 || got[4] != "5" {
			t.Fatalf("%d rows (ids %q), rejects %v; want the 5 rows passed through", out.NumRows(), got, rejects)
		}
	})
	tests := []struct {
		name   string
		change func(m *rawModule) []byte
		atBind bool // NewStage succeeds and Bind fails
		want   error
		export string
		msg    string
	}{
		{name: "not wasm", change: func(*rawModule) []byte { return []byte("\x7fELF") },
			want: ErrModule, export: "(load)", msg: "invalid magic number"},
		{name: "forbidden import", change: func(m *rawModule) []byte { m.imports = []string{"env.open"}; return nil },
			want: ErrModule, export: "(load)", msg: "it imports env.open; a stage may import only wasi_snapshot_preview1 and dataweaver.log"},
		{name: "missing exports", change: func(m *rawModule) []byte {
			delete(m.exports, exportReserve)
			delete(m.exports, exportProcess)
			return nil
		}, want: ErrModule, export: "(load)", msg: "missing exports [dw_reserve dw_process]"},
		{name: "no memory", change: func(m *rawModule) []byte { m.pages, m.data = 0, nil; return nil },
			want: ErrModule, export: "(load)", msg: "it exports no memory"},
		{name: "reserve returns 0", change: func(m *rawModule) []byte { m.exports[exportReserve] = 0; return nil },
			atBind: true, want: ErrGuestOutput, export: exportReserve, msg: "returned 0x0, want a non-zero 64-byte aligned pointer"},
		{name: "reserve misaligned", change: func(m *rawModule) []byte { m.exports[exportReserve] = 1032; return nil },
			atBind: true, want: ErrGuestOutput, export: exportReserve, msg: "returned 0x408, want a non-zero 64-byte aligned pointer"},
		{name: "reserve outside memory", change: func(m *rawModule) []byte { m.exports[exportReserve] = -64; return nil },
			atBind: true, want: ErrGuestOutput, export: exportReserve, msg: "returned 0xffffffc0, outside its 65536-byte memory"},
		{name: "reserved region runs past memory", change: func(m *rawModule) []byte { m.exports[exportReserve] = 65536 - 64; return nil },
			atBind: true, want: ErrGuestOutput, export: exportReserve, msg: "returned 0xffc0, outside its 65536-byte memory"},
		{name: "bind answer outside memory", change: func(m *rawModule) []byte { m.exports[exportBind] = -16; return nil },
			atBind: true, want: ErrGuestOutput, export: exportBind, msg: "bind response at 0xfffffff0 is outside memory"},
		{name: "bind answer runs past memory", change: func(m *rawModule) []byte {
			m.exports[exportBind] = 65536 - 4
			m.data[65536-4] = binary.LittleEndian.AppendUint32(nil, 100)
			return nil
		}, atBind: true, want: ErrGuestOutput, export: exportBind, msg: "bind response of 100 bytes at 0x10000 is outside memory"},
		{name: "bind answer over its cap", change: func(m *rawModule) []byte {
			m.pages = 32 // 2 MiB: the answer fits in memory, so only the cap refuses it
			m.data[16] = binary.LittleEndian.AppendUint32(nil, 1<<20+1)
			return nil
		}, atBind: true, want: ErrGuestOutput, export: exportBind, msg: "bind response of 1048577 bytes (limit 1 MiB)"},
		{name: "bind answer not JSON", change: func(m *rawModule) []byte { m.data[16] = bindAnswerBytes("reads: []"); return nil },
			atBind: true, want: ErrGuestOutput, export: exportBind, msg: "bind response is not JSON"},
		{name: "ABI version", change: func(m *rawModule) []byte { m.exports[exportVersion] = 3; return nil },
			atBind: true, want: ErrABIVersion, export: exportVersion, msg: "module speaks v3, this host speaks v1 and v2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := goodModule()
			wasm := tc.change(&m)
			if wasm == nil {
				wasm = m.bytes()
			}
			s, err := NewStage(context.Background(), wasm, testConfig().WithCacheDir(cacheDir).WithName("stages[0].wasm", "dir/raw.wasm"))
			if err == nil {
				t.Cleanup(func() { _ = s.Close() })
				if !tc.atBind {
					t.Fatal("NewStage accepted the module")
				}
				_, err = s.Bind(context.Background(), ordersSchema)
			} else if tc.atBind {
				t.Fatalf("NewStage: %v; want it to fail at Bind", err)
			}
			ge := wantGuestErr(t, err, tc.want, tc.export, 0, tc.msg)
			if ge.Module != "raw.wasm" || ge.Batch != 0 {
				t.Errorf("GuestError{Module: %q, Batch: %d}, want raw.wasm and no batch", ge.Module, ge.Batch)
			}
		})
	}
}

// TestBackgroundCompile: with WithBackgroundCompile, NewStage returns at
// once and the module's load errors come from Ready, and again from Bind,
// exactly as NewStage gives them without it; a good module works as
// before, and Close waits for a compile still running.
func TestBackgroundCompile(t *testing.T) {
	cfg := testConfig().WithCacheDir(cacheDir).WithName("stages[0].wasm", "dir/raw.wasm").WithBackgroundCompile(true)
	bad := goodModule()
	delete(bad.exports, exportProcess)
	s, err := NewStage(context.Background(), bad.bytes(), cfg)
	if err != nil {
		t.Fatalf("NewStage with a background compile failed at once: %v", err)
	}
	wantGuestErr(t, s.Ready(), ErrModule, "(load)", 0, "missing exports [dw_process]")
	_, err = s.Bind(context.Background(), ordersSchema)
	wantGuestErr(t, err, ErrModule, "(load)", 0, "missing exports [dw_process]")
	if err := s.Close(); err != nil {
		t.Errorf("Close after a failed compile: %v", err)
	}

	mem := conformance.Checked(t)
	good, err := NewStage(context.Background(), guestBytes(t, "filter"), cfg.WithAllocator(mem).
		WithGuestConfig(map[string]any{"column": "id", "op": ">", "value": 2}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = good.Close() })
	if _, err := good.Bind(context.Background(), ordersSchema); err != nil {
		t.Fatal(err)
	}
	if err := good.Ready(); err != nil {
		t.Fatal(err)
	}
	rec := orders(mem, sample())
	t.Cleanup(rec.Release)
	out, _, err := good.Process(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if got := column(out, "id"); len(got) != 3 || got[0] != "3" {
		t.Errorf("ids %q, want 3, 4, 5", got)
	}

	// Closed while its compile may still run: no leak, no race. A cache
	// of its own: from make test's shared one (DW_TEST_WAZERO_CACHE) the
	// code would load too fast for the leak check to see a Close that did
	// not wait.
	late, err := NewStage(context.Background(), guestBytes(t, "mask"), cfg.WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := late.Close(); err != nil {
		t.Fatal(err)
	}
}
