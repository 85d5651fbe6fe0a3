package wasmabi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/wasmabi/internal/wasmcheck"
)

// TestLoopChecksTaken: the SDKs' modules take the host's loop checks, so
// a stage with a timeout runs them without wazero's (loopchecks.go).
func TestLoopChecksTaken(t *testing.T) {
	mods := map[string][]byte{"go hostile": guestBytes(t, "hostile")}
	for _, p := range []string{"transforms/c/gcd/gcd.wasm", "transforms/rust/gcd/gcd.wasm", "transforms/c/mask/mask.wasm"} {
		b, err := os.ReadFile(filepath.Join("..", p))
		if err != nil {
			t.Fatal(err)
		}
		mods[p] = b
	}
	for name, wasm := range mods {
		if _, err := wasmcheck.LoopChecks(wasm); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	mem := conformance.Checked(t)
	s := newStage(t, "hostile", map[string]any{"mode": "loop"}, mem, testConfig())
	bindHostile(t, s, mem)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) != 1 || s.free[0].stop == nil || s.free[0].stop.loop == nil || s.free[0].stop.exit != nil {
		t.Fatal("the stage's instance does not run under the host's loop checks")
	}
}

// TestLoopChecksOneProc: with one P, a guest looping under the host's
// loop checks still returns to Go often enough for the timer that stops
// it to run, and is stopped; the stage then serves the next batch.
func TestLoopChecksOneProc(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	mem := conformance.Checked(t)
	cfg := testConfig().WithTimeout(loopTimeout).WithLogger(slog.New(slog.DiscardHandler))
	s := newStage(t, "hostile", map[string]any{"mode": "loop"}, mem, cfg)
	b := bindHostile(t, s, mem)
	wantOut(t, s, b.good, "ok 1")
	out, _, err := s.Process(context.Background(), b.boom)
	if out != nil {
		out.Release()
		t.Fatal("the host accepted the looping batch")
	}
	rows := int(b.boom.NumRows())
	wantGuestErr(t, err, ErrGuestTimeout, exportProcess, rows, "timed out after "+loopTimeout.String())
	wantOut(t, s, b.good, "ok 1")
}

// TestLoopChecksCached: with a compilation cache, the rewrite is kept
// there and the next start of the same module reads it back.
func TestLoopChecksCached(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join("..", "transforms/c/gcd/gcd.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewConfig().WithCacheDir(t.TempDir())
	sum := sha256.Sum256(wasm)
	before := loopRewrites.Load()
	first, own := withLoopChecks(wasm, sum, cfg)
	again, own2 := withLoopChecks(wasm, sum, cfg)
	if !own || !own2 || !bytes.Equal(first, again) {
		t.Fatal("the second start did not get the same checked module")
	}
	if n := loopRewrites.Load() - before; n != 1 {
		t.Fatalf("%d rewrites for two starts, want 1", n)
	}
}
