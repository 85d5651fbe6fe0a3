package wasm_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/wasmabi/wasmtest"
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
