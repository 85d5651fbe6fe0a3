package wasmcheck

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

const (
	header   = "\x00asm\x01\x00\x00\x00"
	typeSec  = "\x01\x04\x01\x60\x00\x00"                     // () -> ()
	funcSec  = "\x03\x02\x01\x00"                             // one function of type 0
	memSec   = "\x05\x03\x01\x00\x01"                         // one page
	exportFM = "\x07\x0e\x02\x01f\x00\x00\x06memory\x02\x00"  // f, memory
	spinCode = "\x0a\x09\x01\x07\x00\x03\x40\x0c\x00\x0b\x0b" // loop br 0 end
	global1  = "\x06\x06\x01\x7f\x01\x41\x00\x0b"             // (mut i32) 0
	getG1    = "\x0a\x08\x01\x06\x00\x23\x01\x1a\x0b\x0b"     // global.get 1; drop (and an extra end)
	startSec = "\x08\x01\x00"                                 // start: function 0
	exportLF = "\x07\x11\x01\x0d" + FuelExport + "\x02\x00"   // memory as dw__loop_fuel
)

// spin is a module whose export f loops forever, with no global section
// (LoopChecks inserts one).
const spin = header + typeSec + funcSec + memSec + exportFM + spinCode

// TestLoopChecksStop: the checked module compiles (wazero validates it)
// without wazero's own checks, and a call looping forever traps once the
// host, from another goroutine, sets the stop global and zeroes the fuel
// while the loop runs. Repeated, so the host's writes land at different
// points of the loop (between a loop head's test and its decrement, the
// fuel went to -1 and, with a test for 0, the loop never stopped).
func TestLoopChecksStop(t *testing.T) {
	ctx := context.Background()
	checked, err := LoopChecks([]byte(spin))
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	compiled, err := rt.CompileModule(ctx, checked)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			t.Fatal(err)
		}
		stop, ok := mod.ExportedGlobal(StopExport).(api.MutableGlobal)
		fuel, ok2 := mod.ExportedGlobal(FuelExport).(api.MutableGlobal)
		if !ok || !ok2 {
			t.Fatal("the checked module does not export its two mutable globals")
		}
		if fuel.Get() != FuelPerYield || stop.Get() != 0 {
			t.Fatalf("fuel %d, stop %d at the start", fuel.Get(), stop.Get())
		}
		done := make(chan error)
		go func() {
			_, err := mod.ExportedFunction("f").Call(ctx)
			done <- err
		}()
		for fuel.Get() == FuelPerYield { // until the loop runs
			runtime.Gosched()
		}
		// No wall clock: the call cannot end before the stop.
		stop.Set(1)
		fuel.Set(0)
		if err := <-done; err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("the looping call ended with %v, want the unreachable trap", err)
		}
		_ = mod.Close(ctx)
	}
}

// TestLoopChecksRefused: what LoopChecks leaves to wazero's checks.
func TestLoopChecksRefused(t *testing.T) {
	for _, tc := range []struct{ name, wasm, why string }{
		{"start section", header + typeSec + funcSec + memSec + exportFM + startSec + spinCode, "start section"},
		{"no memory", header + typeSec + funcSec + "\x07\x05\x01\x01f\x00\x00" + spinCode, "no memory"},
		{"name taken", header + typeSec + funcSec + memSec + exportLF + spinCode, "already exports"},
		{"global past the module's", header + typeSec + funcSec + memSec + global1 + exportFM + getG1, "code names global 1 of 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoopChecks([]byte(tc.wasm))
			if !errors.Is(err, ErrNoLoopChecks) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("error %v, want ErrNoLoopChecks saying %q", err, tc.why)
			}
		})
	}
	if _, err := LoopChecks([]byte(spin[:len(spin)-3])); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a cut module: %v, want ErrMalformed", err)
	}
}
