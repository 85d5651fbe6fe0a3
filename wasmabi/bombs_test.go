package wasmabi

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/leb128"
)

// The compile bombs of issue 11, built as bytes (a megabyte each: not
// committed). Each is goodModule with one more export, "bomb", of type
// () -> i32, that is never called: compiling it is the attack. Its body is
// valid wasm, so wazero spends its time compiling, not rejecting it.

// brTableBomb's bomb holds a br_table of n targets: about 1 MB at n = 1M.
func brTableBomb(n int) []byte {
	in := []byte{0x02, 0x40, opI32Const, 0x00, 0x0e} // block; i32.const 0; br_table
	in = leb128.AppendU32(in, uint32(n-1))
	for range n {
		in = append(in, 0x00)
	}
	in = append(in, opEnd, opI32Const, 0x00) // end of block; i32.const 0
	return withBomb(in)
}

// nestingBomb's bomb is n blocks nested in each other: 300 KB at n = 100k.
func nestingBomb(n int) []byte {
	in := make([]byte, 0, 3*n+2)
	for range n {
		in = append(in, 0x02, 0x40)
	}
	for range n {
		in = append(in, opEnd)
	}
	return withBomb(append(in, opI32Const, 0x00))
}

// withBomb is goodModule with a "bomb" export of these instructions and
// no locals.
func withBomb(instrs []byte) []byte { return withBody(append([]byte{0}, instrs...)) }

func withBody(body []byte) []byte {
	m := goodModule()
	m.exports["bomb"] = 0
	m.code = map[string][]byte{"bomb": body}
	return m.bytes()
}

// localsBomb's bomb declares n i32 locals in one group: six bytes that
// ask the compiler for n slots.
func localsBomb(n uint32) []byte {
	return withBody(append(leb128.AppendU32([]byte{1}, n), valI32, opI32Const, 0x00))
}

// TestCompileBombs: a module over a structural limit fails at NewStage
// with ErrModule naming the module, the function and the limit, before
// wazero compiles anything, so in milliseconds and a few megabytes; the
// two bombs of issue 11 compiled for 3 min 17 s at 2.4 GB and 71-91 s.
// Trusted lifts the structural limits (a smaller bomb then compiles) but
// not max_module_bytes.
func TestCompileBombs(t *testing.T) {
	tests := []struct {
		name string
		wasm []byte
		cfg  func(Config) Config
		msg  string // "" : NewStage succeeds
	}{
		{name: "br_table of 1M targets", wasm: brTableBomb(1_000_000),
			msg: "function 0: br_table targets: 1000000, over the limit of 4096 (set trusted: true for a module you trust)"},
		{name: "function body over 1 MiB", wasm: brTableBomb(1 << 20),
			msg: "function 0: function body bytes: 1048589, over the limit of 1048576"},
		{name: "100k nested blocks", wasm: nestingBomb(100_000),
			msg: "function 0: block nesting depth: 2049, over the limit of 2048"},
		{name: "4G locals", wasm: localsBomb(1<<32 - 1),
			msg: "function 0: locals: 4294967295, over the limit of 10000"},
		{name: "over max_module_bytes", wasm: goodModule().bytes(),
			cfg: func(c Config) Config { return c.WithMaxModuleBytes(100) },
			msg: "module size in bytes: 170, over the limit of 100 (raise max_module_bytes"},
		{name: "trusted keeps max_module_bytes", wasm: goodModule().bytes(),
			cfg: func(c Config) Config { return c.WithMaxModuleBytes(100).WithTrusted(true) },
			msg: "module size in bytes: 170, over the limit of 100"},
		{name: "trusted: a small bomb compiles", wasm: brTableBomb(8192),
			cfg: func(c Config) Config { return c.WithTrusted(true) }},
		{name: "untrusted: the same small bomb", wasm: brTableBomb(8192),
			msg: "function 0: br_table targets: 8192, over the limit of 4096"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig().WithCacheDir("")
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			goruntime.GC()
			var before, after goruntime.MemStats
			goruntime.ReadMemStats(&before)
			start := time.Now()
			s, err := NewStage(context.Background(), tc.wasm, cfg.WithName("stages[0].wasm", "dir/bomb.wasm"))
			took := time.Since(start)
			goruntime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte module: %v, %.1f MB allocated", len(tc.wasm), took, float64(alloc)/(1<<20))
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				_ = s.Close()
				return
			}
			if err == nil {
				_ = s.Close()
				t.Fatal("NewStage compiled the module")
			}
			wantGuestErr(t, err, ErrModule, "(load)", 0, tc.msg)
			if !strings.Contains(err.Error(), "module[bomb.wasm]") {
				t.Errorf("error %q does not name the module", err)
			}
			// Refusing costs a scan, not a compile: under 8 MB however big
			// the bomb (a compile of the 1M br_table allocated 2.4 GB).
			if alloc > 8<<20 {
				t.Errorf("refusing the module allocated %d bytes, want under 8 MB", alloc)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite testdata/hostile/bombs from the builders here")

// TestCommittedBombs: the small bombs under testdata/hostile/bombs, which
// tests outside this package load as files (connectors/wasm's knob test),
// are what the builders here make; -update rewrites them. Small enough to
// commit, each over one limit: br_table_8k.wasm has 8,192 targets (the
// limit is 4,096) and compiles in about 70 ms when trusted.
func TestCommittedBombs(t *testing.T) {
	for name, wasm := range map[string][]byte{
		"br_table_8k.wasm": brTableBomb(8192),
		"nesting_4k.wasm":  nestingBomb(4096),
	} {
		path := filepath.Join("testdata", "hostile", "bombs", name)
		if *update {
			if err := os.WriteFile(path, wasm, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./wasmabi -run TestCommittedBombs -update writes it)", err)
		}
		if !bytes.Equal(got, wasm) {
			t.Errorf("%s differs from its builder (go test ./wasmabi -run TestCommittedBombs -update rewrites it)", path)
		}
		if err := CheckModule(got, testConfig()); !errors.Is(err, ErrModule) {
			t.Errorf("%s: CheckModule = %v, want ErrModule", path, err)
		}
		if err := CheckModule(got, testConfig().WithTrusted(true)); err != nil {
			t.Errorf("%s: trusted: %v", path, err)
		}
	}
}
