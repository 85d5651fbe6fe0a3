package wasm_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// TestModuleLimits: max_module_bytes and trusted reach the runtime. A
// module over a structural limit (a br_table of 8,192 targets) fails the
// build, so weave validate, naming the module, the function and the limit
// at the file's line (wasmabi's TestCompileBombs checks the error wraps
// ErrModule); trusted: true lets it
// compile; a max_module_bytes below a module's size refuses it.
func TestModuleLimits(t *testing.T) {
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	bomb := filepath.Join(root, "wasmabi", "testdata", "hostile", "bombs", "br_table_8k.wasm")
	tests := []struct {
		name, stage string
		msg         string // "" : builds
	}{
		{name: "structural limit", stage: "{path: " + bomb + "}",
			msg: "module[br_table_8k.wasm] function[(load)]: unusable module: function 0: br_table targets: 8192, over the limit of 4096 (set trusted: true"},
		{name: "trusted", stage: "{path: " + bomb + ", trusted: true}"},
		{name: "max_module_bytes", stage: "{path: " + filepath.Join(guestDir, "filter.wasm") + ", max_module_bytes: 1MiB}",
			msg: "module[filter.wasm]: module size in bytes: over the limit of 1048576 (raise max_module_bytes"},
		{name: "max_module_bytes too small", stage: "{path: " + bomb + ", max_module_bytes: 1}",
			msg: "max_module_bytes: must be between 1KiB and 1GiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "source: {memory: {schema: {id: int64}}}\nstages:\n  - wasm: " + tc.stage + "\nsinks: [{memory: {}}]\n"
			f, err := config.Parse([]byte(yaml), "p.yaml", config.Options{})
			if err == nil {
				var p interface{ Close() error }
				p, err = config.Build(f, config.Options{})
				if err == nil {
					defer p.Close()
				}
			}
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "p.yaml:3:") {
				t.Fatalf("error %v, want p.yaml:3: and %q", err, tc.msg)
			}
		})
	}
}

// TestMemoryBudget: a real Wasm stage counts memory_limit (whole pages)
// and the instance's overhead per worker against the pipeline's memory
// budget: 3 workers of a 100 MiB limit need 303 MiB, so a 302 MiB budget
// refuses the file and 303 MiB takes it. With no memory_budget the budget
// is this machine's memory, which no machine has 1 TiB of to spare.
func TestMemoryBudget(t *testing.T) {
	filter := filepath.Join(guestDir, "filter.wasm")
	tests := []struct {
		name, stage, top string
		msg              string // "" : builds
	}{
		{name: "fits", stage: "{path: " + filter + ", memory_limit: 100MiB}\n    workers: 3", top: "memory_budget: 303MiB"},
		{name: "a MiB short", stage: "{path: " + filter + ", memory_limit: 100MiB}\n    workers: 3", top: "memory_budget: 302MiB",
			msg: "p.yaml:6:16: memory_budget: the Wasm stages may hold up to 303.0 MiB of memory (stages[0].wasm: 3 × 101.0 MiB;"},
		{name: "the machine's memory", stage: "{path: " + filter + ", memory_limit: 4GiB}\n    workers: 256",
			msg: "p.yaml:3:5: stages[0].wasm: the Wasm stages may hold up to 1.0 TiB of memory (stages[0].wasm: 256 × 4.0 GiB;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "source: {memory: {schema: {id: int64}}}\nstages:\n  - wasm: " + tc.stage + "\nsinks: [{memory: {}}]\n" + tc.top + "\n"
			f, err := config.Parse([]byte(yaml), "p.yaml", config.Options{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := config.Build(f, config.Options{})
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				p.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v,\nwant %q", err, tc.msg)
			}
		})
	}
}
