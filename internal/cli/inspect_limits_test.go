package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/cli"
)

// TestInspectRefusesCompileBombs: weave inspect checks a module against
// the wasm stage's default structural limits before compiling it, so a
// compile bomb (the committed ones of wasmabi/testdata/hostile/bombs, each
// over one limit) fails at once, naming the module, the function and the
// limit, instead of compiling for minutes.
func TestInspectRefusesCompileBombs(t *testing.T) {
	bombs := filepath.Join("..", "..", "wasmabi", "testdata", "hostile", "bombs")
	for _, tc := range []struct{ file, msg string }{
		{"br_table_8k.wasm", "unusable module: function 0: br_table targets: 8192, over the limit of 4096 (set trusted: true for a module you trust)"},
		{"nesting_4k.wasm", "unusable module: function 0: block nesting depth: 2049, over the limit of 2048"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(bombs, tc.file)
			r := run(t, cli.Options{}, "inspect", path)
			if want := "module[" + path + "]: " + tc.msg; r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, want 1 and %q; stderr:\n%s", r.code, want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("inspect printed the module:\n%s", r.stdout)
			}
		})
	}
}
