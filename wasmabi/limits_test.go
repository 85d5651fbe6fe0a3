package wasmabi

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/wasmabi/internal/wasmcheck"
)

// TestGuestsWithinLimits scans every Go guest the tests build and every
// .wasm committed in the repository but the bombs: each must pass the default module
// limits with at least a 3x margin on every measure, so that a real guest
// bigger than ours still loads.
func TestGuestsWithinLimits(t *testing.T) {
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for name := range guestPkgs {
		paths[name+" (Go)"] = filepath.Join(guestDir, name+".wasm")
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// bombs/ holds modules over the limits on purpose (bombs_test.go).
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "bombs") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".wasm") {
			rel, _ := filepath.Rel(root, p)
			paths[rel] = p
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lim := defaultLimits()
	third := wasmcheck.Limits{
		ModuleBytes: DefaultMaxModuleBytes / 3, Functions: lim.Functions / 3, BodyBytes: lim.BodyBytes / 3,
		Locals: lim.Locals / 3, BrTableTargets: lim.BrTableTargets / 3, Nesting: lim.Nesting / 3,
		BrTableTotal: lim.BrTableTotal / 3,
	}
	for name, p := range paths {
		t.Run(name, func(t *testing.T) {
			wasm, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			st, err := wasmcheck.Check(wasm, third)
			t.Logf("%+v", st)
			if err != nil {
				t.Errorf("%s is within 3x of a default module limit: %v", name, err)
			}
		})
	}
}
