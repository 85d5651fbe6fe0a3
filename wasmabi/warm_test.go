package wasmabi

import (
	"context"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// TestWarmInstance: a stage compiled in the background makes there the
// instance its first Bind takes, so Bind does not start the guest's
// runtime on the start-up's critical path; a stage closed before any
// Bind closes that instance too.
func TestWarmInstance(t *testing.T) {
	mem := conformance.Checked(t)
	cfg := testConfig().WithBackgroundCompile(true)
	conf := map[string]any{"column": "id", "op": ">", "value": 2}
	s := newStage(t, "filter", conf, mem, cfg)
	if err := s.Ready(); err != nil {
		t.Fatal(err)
	}
	warm := s.warm.inst
	if warm == nil {
		t.Fatal("no instance was made with the module")
	}
	if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
		t.Fatal(err)
	}
	if s.warm.inst != nil || len(s.free) != 1 || s.free[0] != warm {
		t.Errorf("Bind made its own instance instead of taking the warm one (warm %p, free %v)", s.warm.inst, s.free)
	}

	unused, err := NewStage(context.Background(), guestBytes(t, "filter"), cfg.WithCacheDir(cacheDir).WithGuestConfig(conf).WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	if err := unused.Ready(); err != nil {
		t.Fatal(err)
	}
	mod := unused.warm.inst.mod
	if err := unused.Close(); err != nil {
		t.Fatal(err)
	}
	if !mod.IsClosed() {
		t.Error("Close left the warm instance open")
	}
}

// TestWarmInstanceFails: a guest whose _initialize loops fails the first
// Bind of a stage compiled in the background with the error a stage
// compiled in the foreground gives, from the one start made in the
// background: it is not started again to time out a second time.
func TestWarmInstanceFails(t *testing.T) {
	mem := conformance.Checked(t)
	m := goodModule()
	m.exports[exportInit] = 0
	m.code = map[string][]byte{exportInit: {0x00, 0x03, 0x40, 0x0c, 0x00, opEnd, opI32Const, 0x00}} // (loop (br 0))
	cfg := testConfig().WithTimeout(100 * time.Millisecond).WithBackgroundCompile(true)
	before := instantiations.Load()
	s := newStageOf(t, "raw.wasm", m.bytes(), nil, mem, cfg)
	if err := s.Ready(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Bind(context.Background(), ordersSchema)
	wantGuestErr(t, err, ErrGuestTimeout, exportInit, 0, "guest call timed out after 100ms")
	if n := instantiations.Load() - before; n != 1 {
		t.Errorf("the guest was started %d times, want once", n)
	}
	if s.warm != (warmInstance{}) {
		t.Error("the failed start was not taken by Bind")
	}
}
