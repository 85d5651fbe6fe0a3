// Package wasmtest builds Go guests (transforms) for tests: call Build from
// TestMain so each guest is compiled once per test binary, not per test.
package wasmtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dataweaver/dataweaver/internal/wasmbuild"
)

// Root is the module root (the directory holding go.mod).
func Root() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above %s", file)
		}
		dir = parent
	}
}

// Build compiles the Go guest package pkg (a path relative to the module
// root, like "transforms/filter") to out, with the same command line as
// `weave build` (internal/wasmbuild). Extra go build flags come after;
// -ldflags=X values are added to the linker flags rather than replacing them.
func Build(pkg, out string, flags ...string) error {
	root, err := Root()
	if err != nil {
		return err
	}
	o := wasmbuild.Options{Dir: filepath.Join(root, pkg), Out: out}
	for _, f := range flags {
		if ld, ok := strings.CutPrefix(f, "-ldflags="); ok {
			o.LDFlags = append(o.LDFlags, ld)
		} else {
			o.Args = append(o.Args, f)
		}
	}
	_, _, err = wasmbuild.Build(context.Background(), o)
	return err
}

// CacheDir is the wazero compilation cache make test shares between test
// binaries (DW_TEST_WAZERO_CACHE), or "" (no file cache) outside it. A
// test that compiles one of the Go guests under -race and does not test
// compiling loads the code a non-race run wrote there instead (a Go
// guest's compile takes 10-20 s of CPU under -race, under 2 s without).
func CacheDir() string { return os.Getenv("DW_TEST_WAZERO_CACHE") }

// WaitCache waits until the run that fills CacheDir is done: make test
// touches DW_TEST_WAZERO_READY when its non-race wasmabi run ends (passed
// or failed). It gives up after ten minutes (the caller then compiles for
// itself, which is slower but as correct), so it sets no limit on a test.
func WaitCache() {
	ready := os.Getenv("DW_TEST_WAZERO_READY")
	if ready == "" {
		return
	}
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			return
		}
	}
}
