package wasmbuild

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmdata"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string // language name, "" = error
	}{
		{"go module", []string{"go.mod", "main.go"}, "Go"},
		{"go package in a larger module", []string{"main.go"}, "Go"},
		{"only tests", []string{"x_test.go"}, ""},
		{"rust", []string{"Cargo.toml", "src.rs"}, "Rust"},
		{"rust with a C helper", []string{"Cargo.toml", "helper.c"}, "Rust"},
		{"assemblyscript", []string{"asconfig.json", "package.json"}, "AssemblyScript"},
		{"c", []string{"stage.c", "stage.h"}, "C"},
		{"wat", []string{"identity.wat"}, "WebAssembly text"},
		{"nothing", []string{"README.md"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			l, err := Detect(dir)
			if tt.want == "" {
				if !errors.Is(err, ErrUnknownLanguage) {
					t.Fatalf("Detect = %v, %v; want ErrUnknownLanguage", l.Name, err)
				}
				return
			}
			if err != nil || l.Name != tt.want {
				t.Fatalf("Detect = %q, %v; want %q", l.Name, err, tt.want)
			}
		})
	}
}

// TestBuildUnsupported: every language of Languages builds now, so the
// test registers one that does not (as a new language starts out).
func TestBuildUnsupported(t *testing.T) {
	saved := Languages
	t.Cleanup(func() { Languages = saved })
	Languages = append([]Language{{Name: "Zig", Markers: []string{"build.zig"}, Install: "zig 0.13"}}, saved...)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "build.zig"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Build(context.Background(), Options{Dir: dir})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "language Zig is not supported yet") || !strings.Contains(err.Error(), "install zig 0.13") {
		t.Fatalf("err = %v", err)
	}
}

func TestBuildNoToolchain(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	_, _, err := Build(context.Background(), Options{Dir: dir})
	if !errors.Is(err, ErrToolchain) || !strings.Contains(err.Error(), "install Go 1.24 or newer") {
		t.Fatalf("err = %v", err)
	}
}

func TestBuildGo(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a guest")
	}
	out := filepath.Join(t.TempDir(), "derive.wasm")
	l, path, err := Build(context.Background(), Options{Dir: filepath.Join("..", "..", "transforms", "derive"), Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "Go" || path != out {
		t.Errorf("Build = %q, %q", l.Name, path)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Errorf("%s is not a wasm module", out)
	}
	// Go's ~24,000 data segments were joined: nothing is left to join.
	if _, more := wasmdata.Merge(b, wasmdata.Gap); more {
		t.Error("the Go guest's data segments were not merged")
	}
	// A compile error names the directory and the command.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "go.mod"), []byte("module bad\n\ngo 1.24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "main.go"), []byte("package main\nfunc main() { nope }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = Build(context.Background(), Options{Dir: bad})
	if !errors.Is(err, ErrCompile) || !strings.Contains(err.Error(), "GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared") || !strings.Contains(err.Error(), "undefined: nope") {
		t.Errorf("err = %v", err)
	}
}

func TestDefaultOut(t *testing.T) {
	if got, want := DefaultOut(filepath.Join("transforms", "mask")), filepath.Join("transforms", "mask", "mask.wasm"); got != want {
		t.Errorf("DefaultOut = %q, want %q", got, want)
	}
}
