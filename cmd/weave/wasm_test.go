package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// The Wasm stages' golden cases run through TestGolden like every other
// pipeline (same -update flag, output under testdata/golden/wasm_*/), with
// ${WASM} naming the directory TestMain builds the guests into.
var wasmCases = []goldenCase{
	{name: "wasm_orders", args: []string{"run", "testdata/pipelines/wasm_orders.yaml"}},
	{name: "wasm_filter", args: []string{"run", "testdata/pipelines/wasm_filter.yaml"}},
	{name: "wasm_mask", args: []string{"run", "testdata/pipelines/wasm_mask.yaml"}},
	{name: "wasm_derive", args: []string{"run", "testdata/pipelines/wasm_derive.yaml"}},
	{name: "wasm_enrich", args: []string{"run", "testdata/pipelines/wasm_enrich.yaml"}},
	{name: "wasm_validate_orders", args: []string{"validate", "testdata/pipelines/wasm_orders.yaml"}},
	// The real Wasm stages run on a sample: the filter drops rows, derive adds a column.
	{name: "wasm_validate_sample", args: []string{"validate", "--sample", "10", "--width", "16", "testdata/pipelines/wasm_orders.yaml"}},
	{name: "wasm_validate_unknown_column", args: []string{"validate", "testdata/pipelines/wasm_orders.yaml",
		"--set", "stages[0].wasm.config.column=total"}, code: 2},
	// A trapping guest: its batches' rows are dead-lettered and the run goes on…
	{name: "wasm_trap_dead_letter", args: []string{"run", "testdata/pipelines/wasm_trap.yaml"}},
	// …or, under on_error: fail, the run stops with stage, module, export and rows.
	{name: "wasm_trap_fail", args: []string{"run", "testdata/pipelines/wasm_trap.yaml"}, vars: map[string]string{"POLICY": "fail"}, code: 1, racySummary: true},
}

// wasmGuests are the modules the wasm_* pipelines load, by file name.
var wasmGuests = map[string]string{
	"filter.wasm":  "transforms/filter",
	"mask.wasm":    "transforms/mask",
	"derive.wasm":  "transforms/derive",
	"enrich.wasm":  "transforms/enrich",
	"hostile.wasm": "wasmabi/testdata/hostile",
}

func init() {
	for i := range wasmCases {
		if wasmCases[i].vars == nil {
			wasmCases[i].vars = map[string]string{}
		}
	}
	goldenCases = append(goldenCases, wasmCases...)
}

// TestMain builds the guests once per test binary, with the same build
// `weave build` runs, and points every wasm case's ${WASM} at them.
func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "weave-wasm-golden-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := buildGuests(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Every case gets ${WASM}: the demo pipeline uses Wasm stages too.
		for i := range goldenCases {
			if goldenCases[i].vars == nil {
				goldenCases[i].vars = map[string]string{}
			}
			goldenCases[i].vars["WASM"] = dir
		}
		return m.Run()
	}()
	os.Exit(code)
}

// buildGuests compiles wasmGuests into dir, two at a time (the machine's
// cores).
func buildGuests(dir string) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 2)
	)
	for name, pkg := range wasmGuests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := wasmtest.Build(pkg, filepath.Join(dir, name)); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("building the guests for the wasm_* golden cases: %v", errs)
	}
	return nil
}
