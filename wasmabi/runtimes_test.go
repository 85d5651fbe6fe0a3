package wasmabi

import (
	"context"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// TestSharedRuntime: stages running the same module with the same
// settings share one compiled module (the orders job's two filters), while
// each keeps its own instances and its own log; a different setting gets
// its own; the last stage to close closes it, and an earlier Close does
// not disturb the stages still running.
func TestSharedRuntime(t *testing.T) {
	mem := conformance.Checked(t)
	ctx := context.Background()
	wasm := guestBytes(t, "hostile")
	stage := func(step string, logs *logBuffer, cfg Config) *Stage {
		s, err := NewStage(ctx, wasm, cfg.WithCacheDir(cacheDir).WithName(step, "hostile.wasm").
			WithGuestConfig(map[string]any{"mode": "log"}).WithAllocator(mem).WithLogger(logs.logger()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	logsA, logsB, logsC := &logBuffer{}, &logBuffer{}, &logBuffer{}
	a := stage("stages[0].wasm", logsA, testConfig())
	b := stage("stages[1].wasm", logsB, testConfig().WithBackgroundCompile(true))
	c := stage("stages[2].wasm", logsC, testConfig().WithMemoryLimit(32<<20))
	if err := b.Ready(); err != nil {
		t.Fatal(err)
	}
	if a.rt != b.rt {
		t.Error("two stages of the same module and settings compiled it twice")
	}
	if c.rt == a.rt {
		t.Error("a stage with another memory limit shares the runtime")
	}
	batches := bindHostile(t, a, mem)
	bindHostile(t, b, mem)
	wantOut(t, a, batches.good, "logged 1")
	wantOut(t, b, batches.good, "logged 1")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	wantOut(t, b, batches.good, "logged 2")
	for _, tc := range []struct {
		logs      *logBuffer
		want, not string
	}{
		{logsA, `msg="logged 1" stage=stages[0].wasm`, "stages[1]"},
		{logsB, `msg="logged 2" stage=stages[1].wasm`, "stages[0]"},
	} {
		if got := tc.logs.String(); !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) {
			t.Errorf("log %q, want %q and no %q", got, tc.want, tc.not)
		}
	}
	key := b.key
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	sharedMu.Lock()
	_, held := shared[key]
	sharedMu.Unlock()
	if held {
		t.Error("the runtime outlived its last stage")
	}
}
