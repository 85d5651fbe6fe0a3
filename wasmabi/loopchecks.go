package wasmabi

import (
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"github.com/dataweaver/dataweaver/wasmabi/internal/wasmcheck"
)

// A stage that can stop its guest (a timeout, or interruptible) runs a
// copy of its module with a check written at every loop head by
// wasmcheck.LoopChecks, instead of the checks wazero compiles in for
// close-on-context-done. wazero's leave the compiled code for Go at every
// loop iteration, ~30-35 ns each; the host's read and decrement a global
// and leave for Go once every wasmcheck.FuelPerYield iterations, which
// keeps the call preemptible. The stopper stops a call by setting the
// module's stop global (loopFlags.halt); the next loop head traps, and
// the call counts as stopped as before (instance.call).
//
// A module LoopChecks leaves alone (one with a start section, say) is
// compiled with wazero's checks and stopped through its exit code as
// before (watcher.go).

// withLoopChecks returns the module to compile for cfg and whether it
// carries the host's loop checks.
func withLoopChecks(wasm []byte, cfg Config) ([]byte, bool) {
	if !(cfg.timeout > 0 || cfg.interruptible) || cfg.wazeroChecks || cfg.keepWatcher {
		return wasm, false
	}
	checked, err := wasmcheck.LoopChecks(wasm)
	if err != nil {
		return wasm, false
	}
	return checked, true
}

// loopFlags are one instance's fuel and stop globals.
type loopFlags struct {
	fuel, stop api.MutableGlobal
}

func loopFlagsOf(mod api.Module) (*loopFlags, error) {
	fuel, ok1 := mod.ExportedGlobal(wasmcheck.FuelExport).(api.MutableGlobal)
	stop, ok2 := mod.ExportedGlobal(wasmcheck.StopExport).(api.MutableGlobal)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: the loop-check globals are missing", ErrModule)
	}
	return &loopFlags{fuel: fuel, stop: stop}, nil
}

// halt makes the running call trap at its next loop head: stop first, so
// a loop head that sees the fuel at 0 (or below) finds it set. The
// guest's own decrement or refuel may overwrite the 0; the fuel then
// runs out on its own within wasmcheck.FuelPerYield iterations. Called
// once, from the stopper.
func (f *loopFlags) halt() {
	f.stop.Set(1)
	f.fuel.Set(0)
}
