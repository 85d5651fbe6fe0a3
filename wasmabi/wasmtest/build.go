// Package wasmtest builds Go guests (transforms) for tests: call Build from
// TestMain so each guest is compiled once per test binary, not per test.
package wasmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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
// root, like "transforms/filter") to out with GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared. Extra go build flags come after.
func Build(pkg, out string, flags ...string) error {
	root, err := Root()
	if err != nil {
		return err
	}
	args := append([]string{"build", "-buildmode=c-shared", "-o", out}, flags...)
	args = append(args, "./"+pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}
