package v2test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// goBuilds holds each Go guest this package builds, built once per test
// binary whichever test asks first (a Go guest takes seconds to build).
var goBuilds struct {
	mu   sync.Mutex
	dirs map[string]*goBuild
}

type goBuild struct {
	once sync.Once
	wasm []byte
	err  error
}

// goModule is the Go guest in dir (relative to the repository), built
// once per test binary.
func goModule(t *testing.T, dir string) []byte {
	t.Helper()
	goBuilds.mu.Lock()
	if goBuilds.dirs == nil {
		goBuilds.dirs = map[string]*goBuild{}
	}
	b := goBuilds.dirs[dir]
	if b == nil {
		b = &goBuild{}
		goBuilds.dirs[dir] = b
	}
	goBuilds.mu.Unlock()
	b.once.Do(func() { b.wasm, b.err = buildGo(dir) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.wasm
}

// buildGo builds the Go guest in dir (relative to the repository).
func buildGo(dir string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "v2test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "m.wasm")
	if err := wasmtest.Build(dir, out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}
