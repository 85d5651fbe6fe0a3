package wasmbuild

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

// needWAT skips (or, under CI=true, fails) when a toolchain is missing.
func needWAT(t *testing.T) {
	const tool, install = "wat2wasm", watInstall
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		testenv.Missing(t, "%s is not installed; to run this test: %s", tool, install)
	}
}

func TestBuildWAT(t *testing.T) {
	needWAT(t)
	dir := t.TempDir()
	src := `(module (func (export "dw_abi_version") (result i32) (i32.const 1)))`
	if err := os.WriteFile(filepath.Join(dir, "tiny.wat"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	l, out, err := Build(context.Background(), Options{Dir: dir})
	if err != nil || l.Name != "WebAssembly text" {
		t.Fatalf("Build = %q, %v", l.Name, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("%s is not a Wasm module: % x", out, b[:min(8, len(b))])
	}
}

func TestBuildWATErrors(t *testing.T) {
	needWAT(t)
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"syntax error", map[string]string{"bad.wat": "(module (func (export \"f\") (result i32) (i32.const)))"}, "bad.wat:1"},
		{"two modules", map[string]string{"a.wat": "(module)", "b.wat": "(module)"}, "holds 2 .wat files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := Build(context.Background(), Options{Dir: dir})
			if !errors.Is(err, ErrCompile) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want ErrCompile containing %q", err, tt.want)
			}
		})
	}
}

// TestBuildWATRelative: a relative DIR (as `weave build transforms/wat/x`
// gets it) names the same file after the compiler's working directory
// becomes DIR.
func TestBuildWATRelative(t *testing.T) {
	needWAT(t)
	out := filepath.Join(t.TempDir(), "positive.wasm")
	if _, _, err := Build(context.Background(), Options{Dir: filepath.Join("..", "..", "transforms", "wat", "positive"), Out: out}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "transforms", "wat", "positive", "positive.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Errorf("a fresh build of transforms/wat/positive differs from the committed positive.wasm: run make wasm")
	}
}
