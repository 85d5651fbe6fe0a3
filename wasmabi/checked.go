package wasmabi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/dataweaver/dataweaver/wasmabi/internal/wasmcheck"
)

// The structural check (CheckModule) reads the whole module: about 11 ms
// of CPU for a 3.4 MB Go guest, at every start. A module that passed it
// once under given limits passes again, so a stage with a compilation
// cache records the pass there, as an empty file named by a hash of the
// module's sha256 and the limits, and the next start skips the scan. The
// file is trusted as much as the compiled code beside it, which wazero
// loads and runs as it finds it: whoever can write one can write both.

// checkScans counts the structural scans run, for TestCheckedMarker.
var checkScans atomic.Int64

// checkedMarker is the file that records that the module whose sha256 is
// sum passed lim, or "" without a cache directory.
func checkedMarker(dir string, sum [sha256.Size]byte, lim wasmcheck.Limits) string {
	if dir == "" {
		return ""
	}
	h := sha256.New()
	h.Write(sum[:])
	fmt.Fprintf(h, "%+v", lim)
	return filepath.Join(dir, "checked", hex.EncodeToString(h.Sum(nil)[:20]))
}

// checkModule is CheckModule for a module whose sha256 is sum, skipping
// the scan when cfg's cache directory records a pass.
func checkModule(wasm []byte, sum [sha256.Size]byte, cfg Config) error {
	lim := checkLimits(cfg)
	marker := checkedMarker(cfg.cacheDir, sum, lim)
	if marker != "" {
		if _, err := os.Stat(marker); err == nil {
			return nil
		}
	}
	checkScans.Add(1)
	if err := checkErr(wasmcheck.Check(wasm, lim)); err != nil {
		return err
	}
	if marker != "" {
		// Best effort: without the record the next start scans again.
		if os.MkdirAll(filepath.Dir(marker), 0o755) == nil {
			_ = os.WriteFile(marker, nil, 0o644)
		}
	}
	return nil
}
