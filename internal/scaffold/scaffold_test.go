package scaffold

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewWhere checks which SDK a scaffold builds against, by where it is
// written: inside a DataWeaver checkout the checkout's guest-sdk/, by a
// relative path; anywhere else (also inside another transform, which has
// a guest-sdk/ of its own but is no checkout) its own copy of the SDK the
// binary carries. cmd/weave's TestNewTransform builds and runs the copies;
// this checks the paths, and runs without any toolchain.
func TestNewWhere(t *testing.T) {
	tests := []struct {
		name, lang string
		// within: "" (a bare directory), "checkout" or "transform".
		within string
		// want maps a file of the scaffold to a string it must hold ("" =
		// it exists); absent are files it must not have.
		want   map[string]string
		absent []string
	}{
		{"go outside", "go", "", map[string]string{
			"go.mod":                    "replace github.com/dataweaver/dataweaver/guest-sdk/go => ./guest-sdk/go",
			"guest-sdk/go/go.mod":       "module github.com/dataweaver/dataweaver/guest-sdk/go\n",
			"guest-sdk/go/guest/doc.go": "package guest",
		}, nil},
		{"go in a checkout", "go", "checkout", map[string]string{"main.go": ""}, []string{"go.mod", "guest-sdk"}},
		{"go in a transform", "go", "transform", map[string]string{"go.mod": "=> ./guest-sdk/go", "guest-sdk/go/go.mod": ""}, nil},
		{"c outside", "c", "", map[string]string{"guest-sdk/c/dataweaver.h": "", "guest-sdk/c/dataweaver.c": ""}, nil},
		{"c in a checkout", "c", "checkout", map[string]string{"x.c": `#include "dataweaver.h"`}, []string{"guest-sdk"}},
		{"rust outside", "rust", "", map[string]string{"Cargo.toml": `path = "guest-sdk/rust"`, "guest-sdk/rust/src/lib.rs": ""}, nil},
		{"rust in a checkout", "rust", "checkout", map[string]string{"Cargo.toml": `path = "../../guest-sdk/rust"`}, []string{"guest-sdk"}},
		{"assemblyscript outside", "assemblyscript", "", map[string]string{
			"assembly/index.ts": `from "../guest-sdk/assemblyscript/assembly"`,
			"asconfig.json":     `"abort=guest-sdk/assemblyscript/assembly/abort/dwAbort"`,
			"guest-sdk/assemblyscript/package-lock.json": `"assemblyscript"`,
		}, nil},
		{"assemblyscript in a checkout", "assemblyscript", "checkout", map[string]string{
			"assembly/index.ts": `from "../../../guest-sdk/assemblyscript/assembly"`,
		}, []string{"guest-sdk"}},
		{"wat outside", "wat", "", map[string]string{"x.wat": "(module"}, []string{"guest-sdk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			switch tt.within {
			case "checkout":
				writeFile(t, filepath.Join(root, "go.mod"), "module github.com/dataweaver/dataweaver\n\ngo 1.26.0\n")
				writeFile(t, filepath.Join(root, "guest-sdk", "embed.go"), "package guestsdk\n")
			case "transform":
				writeFile(t, filepath.Join(root, "go.mod"), "module scale\n\ngo 1.24\n")
				writeFile(t, filepath.Join(root, "guest-sdk", "go", "go.mod"), "module github.com/dataweaver/dataweaver/guest-sdk/go\n")
			}
			dir := filepath.Join(root, "transforms", "x")
			if _, _, err := New(Options{Name: "x", Lang: tt.lang, Dir: dir}); err != nil {
				t.Fatal(err)
			}
			for f, s := range tt.want {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Errorf("%s: %v", f, err)
					continue
				}
				if !strings.Contains(string(b), s) {
					t.Errorf("%s does not hold %q:\n%s", f, s, b)
				}
			}
			for _, f := range tt.absent {
				if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: want no such file, got %v", f, err)
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
