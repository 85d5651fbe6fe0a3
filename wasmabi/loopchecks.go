package wasmabi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

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

// loopChecksVersion is in the name of a cached rewrite: what
// wasmcheck.LoopChecks writes changes, so does it (2: data segments merged;
// 3: merged by wasmdata.Merge at wasmdata.Gap, 64 bytes, not 32).
const loopChecksVersion = "3"

// loopRewrites counts the rewrites run, for TestLoopChecksCached.
var loopRewrites atomic.Int64

// withLoopChecks returns the module to compile for cfg and whether it
// carries the host's loop checks. The rewrite reads the whole module
// (~18 ms of CPU for a 3.4 MB Go guest under load), so a stage with a
// compilation cache keeps its output there, named by the sha256 sum of
// the module, and the next start reads it back (~1 ms); the file is
// trusted as much as the compiled code beside it (checked.go).
func withLoopChecks(wasm []byte, sum [sha256.Size]byte, cfg Config) ([]byte, bool) {
	if !(cfg.timeout > 0 || cfg.interruptible) || cfg.wazeroChecks || cfg.keepWatcher {
		return wasm, false
	}
	file := ""
	if cfg.cacheDir != "" {
		file = filepath.Join(cfg.cacheDir, "loopchecks", hex.EncodeToString(sum[:20])+"-v"+loopChecksVersion+".wasm")
		if b, err := os.ReadFile(file); err == nil {
			return b, true
		}
	}
	loopRewrites.Add(1)
	checked, err := wasmcheck.LoopChecks(wasm)
	if err != nil {
		return wasm, false
	}
	if file != "" {
		// Best effort, and atomic: a crash leaves no half file to read.
		if os.MkdirAll(filepath.Dir(file), 0o755) == nil {
			if f, err := os.CreateTemp(filepath.Dir(file), "tmp-"); err == nil {
				_, werr := f.Write(checked)
				if cerr := f.Close(); werr != nil || cerr != nil || os.Rename(f.Name(), file) != nil {
					_ = os.Remove(f.Name())
				}
			}
		}
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
