package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dataweaver/dataweaver/internal/cli"
)

var derive struct {
	once sync.Once
	path string
	r    result
}

// builtDerive runs `weave build transforms/derive -o …` once per test
// binary and returns the module's path.
func builtDerive(t *testing.T) string {
	t.Helper()
	derive.once.Do(func() {
		dir, err := os.MkdirTemp("", "cli-build-test-")
		if err != nil {
			t.Fatal(err)
		}
		derive.path = filepath.Join(dir, "derive.wasm")
		derive.r = run(t, cli.Options{}, "build", filepath.Join("..", "..", "transforms", "derive"), "-o", derive.path)
	})
	if derive.r.code != 0 {
		t.Fatalf("weave build: exit %d\n%s", derive.r.code, derive.r.stderr)
	}
	return derive.path
}

func TestMain(m *testing.M) {
	if os.Getenv(asWeave) == "1" {
		// Started by a shell in TestCompletionInBash under the name weave.
		os.Exit(cli.Main(os.Args, cli.Options{}))
	}
	code := m.Run()
	if derive.path != "" {
		os.RemoveAll(filepath.Dir(derive.path))
	}
	os.Exit(code)
}

func TestBuild(t *testing.T) {
	path := builtDerive(t)
	if !strings.Contains(derive.r.stdout, "built "+path+" (Go)") {
		t.Errorf("stdout: %q", derive.r.stdout)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.HasPrefix(string(b), "\x00asm") {
		t.Errorf("%s: not a wasm module (%v)", path, err)
	}
}

func TestBuildErrors(t *testing.T) {
	wat := t.TempDir()
	if err := os.WriteFile(filepath.Join(wat, "bad.wat"), []byte("(module (func"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"two paths", []string{"build", "a", "b"}, 2, "build takes one source directory, got 2"},
		{"not a transform", []string{"build", t.TempDir()}, 2, "holds none of the files that mark a transform"},
		// Either the compiler's error or, without wabt, what to install:
		// both name wat2wasm.
		{"does not compile", []string{"build", wat}, 1, "wat2wasm"},
		{"missing", []string{"build", filepath.Join(wat, "nope")}, 1, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, cli.Options{}, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d (want %d); stderr lacks %q:\n%s", r.code, tt.code, tt.want, r.stderr)
			}
		})
	}
}

func TestBuildNoGo(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := run(t, cli.Options{}, "build", filepath.Join("..", "..", "transforms", "derive"), "-o", filepath.Join(t.TempDir(), "x.wasm"))
	if r.code != 1 || !strings.Contains(r.stderr, "install Go 1.24 or newer") {
		t.Errorf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
}
