package wasmbuild

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

// requireClang skips (or under CI fails) a test that needs the C toolchain.
func requireClang(t *testing.T) {
	t.Helper()
	if findClang() != "" && cToolchainGap(context.Background(), findClang()) == "" {
		return
	}
	msg := "the C toolchain is missing: install " + cInstall
	testenv.Missing(t, "%s", msg)
}

func TestBuildC(t *testing.T) {
	requireClang(t)
	out := filepath.Join(t.TempDir(), "derive.wasm")
	l, path, err := Build(context.Background(), Options{Dir: filepath.Join(repoRoot(t), "transforms", "c", "derive"), Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "C" || path != out {
		t.Fatalf("Build = %s, %s", l.Name, path)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	m, err := rt.CompileModule(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	exports := m.ExportedFunctions()
	for _, name := range []string{"_initialize", "dw_abi_version", "dw_reserve", "dw_bind", "dw_process"} {
		if _, ok := exports[name]; !ok {
			t.Errorf("module does not export %s", name)
		}
	}
	for _, f := range m.ImportedFunctions() {
		if mod, name, _ := f.Import(); mod != "wasi_snapshot_preview1" && mod != "dataweaver" {
			t.Errorf("module imports %s.%s", mod, name)
		}
	}
	// Names, producers and debug info are stripped: no custom section.
	if names := cCustomSections(t, b); len(names) != 0 {
		t.Errorf("module keeps custom sections %q", names)
	}
}

// cCustomSections lists the names of a module's custom sections (id 0).
func cCustomSections(t *testing.T, b []byte) []string {
	t.Helper()
	uleb := func(p []byte) (uint64, int) {
		var v uint64
		for i, c := range p {
			v |= uint64(c&0x7f) << (7 * i)
			if c < 0x80 {
				return v, i + 1
			}
		}
		t.Fatal("truncated LEB128 in module")
		return 0, 0
	}
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		t.Fatal("not a wasm module")
	}
	var names []string
	for p := b[8:]; len(p) > 0; {
		id := p[0]
		size, n := uleb(p[1:])
		body := p[1+n : 1+n+int(size)]
		if id == 0 {
			l, m := uleb(body)
			names = append(names, string(body[m:m+int(l)]))
		}
		p = p[1+n+int(size):]
	}
	return names
}

// TestBuildCReproducible builds one transform in two checkouts at
// different paths: the modules must be the same bytes.
func TestBuildCReproducible(t *testing.T) {
	requireClang(t)
	if testing.Short() {
		t.Skip("builds a C transform twice")
	}
	root := repoRoot(t)
	var mods [][]byte
	for _, base := range []string{t.TempDir(), filepath.Join(t.TempDir(), "a much", "longer", "checkout path")} {
		copyTree(t, filepath.Join(root, "guest-sdk", "c"), filepath.Join(base, "guest-sdk", "c"), onlyC)
		dir := filepath.Join(base, "transforms", "c", "mask")
		copyTree(t, filepath.Join(root, "transforms", "c", "mask"), dir, onlyC)
		_, out, err := Build(context.Background(), Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, b)
	}
	if !bytes.Equal(mods[0], mods[1]) {
		t.Fatalf("builds from two paths differ (%d and %d bytes)", len(mods[0]), len(mods[1]))
	}
}

// TestCModulesFresh rebuilds every committed C module and compares it
// with the committed bytes, so a source change without `make wasm` (or a
// flag change here) fails.
func TestCModulesFresh(t *testing.T) {
	requireClang(t)
	if testing.Short() {
		t.Skip("builds every C module")
	}
	root := repoRoot(t)
	mods := map[string]string{
		"transforms/c/filter/filter.wasm":         "transforms/c/filter",
		"transforms/c/mask/mask.wasm":             "transforms/c/mask",
		"transforms/c/derive/derive.wasm":         "transforms/c/derive",
		"transforms/c/gcd/gcd.wasm":               "transforms/c/gcd",
		"wasmabi/testdata/hostile/c/hostile.wasm": "wasmabi/testdata/hostile/c",
	}
	for committed, dir := range mods {
		t.Run(dir, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "m.wasm")
			if _, _, err := Build(context.Background(), Options{Dir: filepath.Join(root, dir), Out: out}); err != nil {
				t.Fatal(err)
			}
			fresh, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			old, err := os.ReadFile(filepath.Join(root, committed))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fresh, old) {
				t.Errorf("%s (%d bytes) is not what %s builds to (%d bytes): rebuild it with `weave build %s -o %s` and commit it",
					committed, len(old), dir, len(fresh), dir, committed)
			}
		})
	}
}

// TestBuildCSDKLookup: the SDK is found above the transform, else in
// $DATAWEAVER_C_SDK; with neither, the error says what to set.
func TestBuildCSDKLookup(t *testing.T) {
	requireClang(t)
	root := repoRoot(t)
	outside := t.TempDir()
	copyTree(t, filepath.Join(root, "transforms", "c", "gcd"), outside, onlyC)

	t.Setenv(CSDKEnv, "")
	_, _, err := Build(context.Background(), Options{Dir: outside, Out: filepath.Join(outside, "x.wasm")})
	if !errors.Is(err, ErrSDK) || !strings.Contains(err.Error(), CSDKEnv) {
		t.Fatalf("no SDK: err = %v", err)
	}

	t.Setenv(CSDKEnv, t.TempDir())
	_, _, err = Build(context.Background(), Options{Dir: outside, Out: filepath.Join(outside, "x.wasm")})
	if !errors.Is(err, ErrSDK) || !strings.Contains(err.Error(), "holds no dataweaver.h") {
		t.Fatalf("empty $%s: err = %v", CSDKEnv, err)
	}

	t.Setenv(CSDKEnv, filepath.Join(root, "guest-sdk", "c"))
	out := filepath.Join(outside, "gcd.wasm")
	if _, _, err := Build(context.Background(), Options{Dir: outside, Out: out}); err != nil {
		t.Fatalf("$%s set: %v", CSDKEnv, err)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, "transforms", "c", "gcd", "gcd.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Errorf("gcd built outside the checkout differs from the committed module")
	}
}

func TestBuildCErrors(t *testing.T) {
	requireClang(t)
	root := repoRoot(t)
	t.Setenv(CSDKEnv, filepath.Join(root, "guest-sdk", "c"))
	tests := []struct {
		name, src string
		want      []string
	}{
		{"syntax", "#include \"dataweaver.h\"\nint f(void) { return }\n", []string{"error:", "stage.c"}},
		{"no DW_STAGE", "#include \"dataweaver.h\"\n", []string{"undefined symbol: dw_stage_setup", "DW_STAGE(setup)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "stage.c"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Build(context.Background(), Options{Dir: dir})
			if !errors.Is(err, ErrCompile) {
				t.Fatalf("err = %v, want ErrCompile", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestBuildCNoToolchain(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stage.c"), []byte("int x;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	_, _, err := Build(context.Background(), Options{Dir: dir})
	if !errors.Is(err, ErrToolchain) || !strings.Contains(err.Error(), "apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32") {
		t.Fatalf("err = %v", err)
	}
}
