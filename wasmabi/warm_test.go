package wasmabi

import (
	"context"
	"testing"

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
	warm := s.warm
	if warm == nil {
		t.Fatal("no instance was made with the module")
	}
	if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
		t.Fatal(err)
	}
	if s.warm != nil || len(s.free) != 1 || s.free[0] != warm {
		t.Errorf("Bind made its own instance instead of taking the warm one (warm %p, free %v)", s.warm, s.free)
	}

	unused, err := NewStage(context.Background(), guestBytes(t, "filter"), cfg.WithCacheDir(cacheDir).WithGuestConfig(conf).WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	if err := unused.Ready(); err != nil {
		t.Fatal(err)
	}
	mod := unused.warm.mod
	if err := unused.Close(); err != nil {
		t.Fatal(err)
	}
	if !mod.IsClosed() {
		t.Error("Close left the warm instance open")
	}
}
