package wasmabi

import (
	"crypto/sha256"
	"errors"
	"os"
	"testing"
)

// TestCheckedMarker: with a cache directory, a module that passed the
// structural check is not scanned again under the same limits (the scan
// of a Go guest costs ~11 ms at every start), but is under other limits,
// and a module over a limit is never recorded: it fails every time.
func TestCheckedMarker(t *testing.T) {
	cfg := NewConfig().WithCacheDir(t.TempDir())
	good, bomb := guestBytes(t, "hostile"), localsBomb(1<<20)
	scans := func(f func()) int64 {
		n := checkScans.Load()
		f()
		return checkScans.Load() - n
	}
	check := func(wasm []byte, cfg Config, ok bool) {
		t.Helper()
		if err := CheckModule(wasm, cfg); (err == nil) != ok || (err != nil && !errors.Is(err, ErrModule)) {
			t.Fatalf("CheckModule: %v, want ok=%v", err, ok)
		}
	}
	if n := scans(func() { check(good, cfg, true); check(good, cfg, true) }); n != 1 {
		t.Errorf("a module checked twice was scanned %d times, want once", n)
	}
	if _, err := os.Stat(checkedMarker(cfg.cacheDir, sha256.Sum256(good), checkLimits(cfg))); err != nil {
		t.Errorf("no record of the pass: %v", err)
	}
	if n := scans(func() { check(good, cfg.WithTrusted(true), true) }); n != 1 {
		t.Errorf("other limits: %d scans, want 1", n)
	}
	if n := scans(func() { check(bomb, cfg, false); check(bomb, cfg, false) }); n != 2 {
		t.Errorf("a module over a limit was scanned %d times for two checks, want 2", n)
	}
}
