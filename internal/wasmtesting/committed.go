package wasmtesting

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmbuild"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// FreshEnv set to 1 makes Committed rebuild each module from its source
// and compare it with the committed bytes (CI's `make test-fresh`, which
// installs every guest toolchain). Without it tests run the committed
// modules, so a newcomer's `make test` needs only Go.
const FreshEnv = "DW_WASM_FRESH"

var committed struct {
	mu   sync.Mutex
	mods map[string]*module
}

type module struct {
	once sync.Once
	wasm []byte
	err  error
}

// Committed returns the module committed at file (a path relative to the
// module root) beside its source directory dir. With DW_WASM_FRESH=1 it
// builds dir (as `weave build` does) instead, and fails the test when the
// build differs from the committed bytes or cannot run. Each module is
// read or built once per test binary.
func Committed(tb testing.TB, dir, file string) []byte {
	tb.Helper()
	committed.mu.Lock()
	if committed.mods == nil {
		committed.mods = map[string]*module{}
	}
	m := committed.mods[file]
	if m == nil {
		m = &module{}
		committed.mods[file] = m
	}
	committed.mu.Unlock()
	m.once.Do(func() { m.wasm, m.err = load(dir, file, os.Getenv(FreshEnv) == "1") })
	if m.err != nil {
		tb.Fatal(m.err)
	}
	return m.wasm
}

func load(dir, file string, fresh bool) ([]byte, error) {
	root, err := wasmtest.Root()
	if err != nil {
		return nil, err
	}
	old, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return nil, fmt.Errorf("no committed module (build it with `weave build %s -o %s`): %w", dir, file, err)
	}
	if !fresh {
		return old, nil
	}
	tmp, err := os.MkdirTemp("", "wasm-fresh-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, filepath.Base(file))
	if _, _, err := wasmbuild.Build(context.Background(), wasmbuild.Options{Dir: filepath.Join(root, dir), Out: out}); err != nil {
		return nil, fmt.Errorf("%s=1: rebuilding %s: %w", FreshEnv, dir, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(old, b) {
		return nil, fmt.Errorf("committed module %s differs from a fresh build of %s (%d bytes committed, %d built): run `weave build %s -o %s` and commit it",
			file, dir, len(old), len(b), dir, file)
	}
	return b, nil
}
