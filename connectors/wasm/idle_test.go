package wasm_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// TestIdleAdvanceOption: idle_advance reaches the stage (engine.Idler),
// and without event_time, which gives the watermark it moves, the
// pipeline is refused at the field.
func TestIdleAdvanceOption(t *testing.T) {
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	yaml := func(extra string) string {
		return strings.NewReplacer("WASM", filepath.Join(root, "transforms", "c", "window_agg", "window_agg.wasm"), "EXTRA", extra).Replace(`
source:
  memory:
    schema: {country: utf8, amount: float64, ts: "timestamp[s]"}
stages:
  - wasm: {path: WASM, config: {seconds: 60}, idle_advance: 30sEXTRA}
sinks: [{discard: {}}]
`)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := buildPipeline(t, yaml(", event_time: ts"), "idle.yaml", mem)
	id, ok := p.Stages[0].Stage.(engine.Idler)
	if !ok || id.IdleAfter() != 30*time.Second {
		t.Fatalf("the stage is an Idler: %v, IdleAfter %v; want 30s", ok, id)
	}
	f, err := config.Parse([]byte(yaml("")), "idle.yaml", config.Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	_, err = config.Build(f, config.Options{Mem: mem})
	if !errors.Is(err, engine.ErrInvalidConfig) || !strings.Contains(err.Error(), "idle.yaml:6:") || !strings.Contains(err.Error(), "idle_advance: needs event_time") {
		t.Fatalf("Build error %v; want idle_advance refused without event_time, at its line", err)
	}
}
