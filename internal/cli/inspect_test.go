package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

func TestInspect(t *testing.T) {
	path := builtDerive(t)
	notWasm := filepath.Join(t.TempDir(), "x.wasm")
	if err := os.WriteFile(notWasm, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A valid module that is not a stage: just a memory export.
	plain := filepath.Join(t.TempDir(), "plain.wasm")
	if err := os.WriteFile(plain, []byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x01\x07\x0a\x01\x06memory\x02\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout, or stderr when code != 0
	}{
		{"static and empty handshake", []string{"inspect", path}, 0, []string{
			"abi: v1 (this weave speaks v1 and v2)", "  dw_process      (i32) -> (i32)", "wasi_snapshot_preview1.fd_write",
			"handshake: config null, input (empty input schema; pass --schema)", `error  no column "amount" in the input`}},
		{"handshake", []string{"inspect", path, "--schema", "id:int64,amount:float64", "--config", "{target: cents, factor: 100}"}, 0, []string{
			`handshake: config {"factor":100,"target":"cents"}, input id:int64,amount:float64`,
			"  reads   amount\n", "  writes  cents:int64\n", "  filter  false\n"}},
		{"not wasm", []string{"inspect", notWasm}, 1, []string{"module[" + notWasm + "]: unusable module: "}},
		{"not a stage", []string{"inspect", plain}, 1, []string{"unusable module"}},
		{"bad schema", []string{"inspect", path, "--schema", "id"}, 2, []string{`--schema: "id": want name:type`}},
		{"no module", []string{"inspect"}, 2, []string{"inspect takes one module"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, cli.Options{}, tt.args...)
			got := r.stdout
			if tt.code != 0 {
				got = r.stderr
			}
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
		})
	}
	r := run(t, cli.Options{}, "inspect", plain)
	if !strings.Contains(r.stdout, "abi: not a DataWeaver stage: missing dw_abi_version, dw_reserve, dw_bind, dw_process") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

// TestInspectEscapesGuestText: a module's bind error with terminal
// escapes (the hostile guest's bind-escape mode) is printed escaped, as
// the host escapes every guest string, never raw to the terminal.
func TestInspectEscapesGuestText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostile.wasm")
	if err := wasmtest.Build("wasmabi/testdata/hostile", path); err != nil {
		t.Fatal(err)
	}
	r := run(t, cli.Options{}, "inspect", path, "--schema", "s:utf8", "--config", `{mode: bind-escape}`)
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if strings.ContainsAny(r.stdout+r.stderr, "\x1b\x07\u009b") {
		t.Errorf("terminal control characters reached the output:\n%q", r.stdout)
	}
	if want := `error  bind \x1b]0;pwned\a\x1b[31m`; !strings.Contains(r.stdout, want) {
		t.Errorf("output lacks the escaped bind error %q:\n%s", want, r.stdout)
	}
}

// TestInspectUsesTheCompilationCache: inspect compiles with a stage's
// runtime settings into the shared compilation cache, so the code a run
// compiled (or an earlier inspect) is found again instead of compiled:
// after one inspect, the cache directory holds the module's entry and the
// record that it passed the structural check (wasmabi/checked.go), and a
// second inspect adds nothing.
func TestInspectUsesTheCompilationCache(t *testing.T) {
	path := builtDerive(t)
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	entries := func() []string {
		var out []string
		_ = filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
		return out
	}
	for i := range 2 {
		if r := run(t, cli.Options{}, "inspect", path); r.code != 0 {
			t.Fatalf("inspect %d: exit %d:\n%s", i, r.code, r.stderr)
		}
		got := entries()
		checked := 0
		for _, p := range got {
			if filepath.Base(filepath.Dir(p)) == "checked" {
				checked++
			}
		}
		if len(got) != 2 || checked != 1 {
			t.Fatalf("after inspect %d the cache holds %d files, want the module's one entry and one check record: %q", i+1, len(got), got)
		}
	}
}
