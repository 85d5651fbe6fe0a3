package wasmbuild

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/testenv"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// needRust returns the toolchain the Rust transforms build with, and skips
// (or, under CI=true, fails) when there is none.
func needRust(t *testing.T) rustToolchain {
	t.Helper()
	tc, err := findRust(context.Background())
	if err != nil {
		testenv.Missing(t, "no Rust toolchain for WASI; to run this test: %s (%v)", rustInstall, err)
	}
	return tc
}

func TestFindRust(t *testing.T) {
	tmp := t.TempDir()
	// Fake toolchains: rustc prints its sysroot, which may hold the
	// standard library of a WASI target.
	sysroot := func(name string, targets ...string) string {
		dir := filepath.Join(tmp, "sysroot-"+name)
		for _, target := range targets {
			if err := os.MkdirAll(filepath.Join(dir, "lib", "rustlib", target, "lib"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	bin := func(name, sysroot string, cargo bool) string {
		dir := filepath.Join(tmp, name)
		files := map[string]string{"rustc": "#!/bin/sh\necho " + sysroot + "\n"}
		if cargo {
			files["cargo"] = "#!/bin/sh\n"
		}
		writeFiles(t, dir, files)
		return dir
	}
	native := bin("native", sysroot("native", "x86_64-unknown-linux-gnu"), true)
	wasi := bin("wasi", sysroot("wasi", "wasm32-wasi"), true)
	both := bin("both", sysroot("both", "wasm32-wasi", "wasm32-wasip1"), true)
	lonely := bin("lonely", sysroot("lonely", "wasm32-wasi"), false)
	cargoOnly := filepath.Join(tmp, "cargo-only")
	writeFiles(t, cargoOnly, map[string]string{"cargo": "#!/bin/sh\n"})
	empty := t.TempDir()

	tests := []struct {
		name     string
		path     []string
		fallback []string
		want     rustToolchain
		err      string // substring of the error; "" = success
	}{
		{name: "skips a rustc without the target", path: []string{native, wasi},
			want: rustToolchain{filepath.Join(wasi, "rustc"), filepath.Join(wasi, "cargo"), "wasm32-wasi"}},
		{name: "prefers the new target name", path: []string{both},
			want: rustToolchain{filepath.Join(both, "rustc"), filepath.Join(both, "cargo"), "wasm32-wasip1"}},
		{name: "falls back to /usr/bin", path: []string{native}, fallback: []string{wasi},
			want: rustToolchain{filepath.Join(wasi, "rustc"), filepath.Join(wasi, "cargo"), "wasm32-wasi"}},
		{name: "cargo from PATH when none is beside rustc", path: []string{lonely, cargoOnly},
			want: rustToolchain{filepath.Join(lonely, "rustc"), filepath.Join(cargoOnly, "cargo"), "wasm32-wasi"}},
		{name: "no cargo at all", path: []string{lonely}, err: "no cargo beside it or on PATH"},
		{name: "no rustc has the target", path: []string{native},
			err: filepath.Join(native, "rustc") + " (sysroot " + filepath.Join(tmp, "sysroot-native") + " has neither wasm32-wasip1 nor wasm32-wasi)"},
		{name: "no rustc", path: []string{empty}, err: "none on PATH or in /usr/bin"},
	}
	saved := rustFallbackDirs
	t.Cleanup(func() { rustFallbackDirs = saved })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", strings.Join(tt.path, string(filepath.ListSeparator)))
			rustFallbackDirs = tt.fallback
			got, err := findRust(context.Background())
			if tt.err != "" {
				if !errors.Is(err, ErrToolchain) || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), rustInstall) {
					t.Fatalf("findRust = %+v, %v; want ErrToolchain with %q and the install command", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("findRust = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// listing names every file below dir (outside target/) with its size.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || (d.IsDir() && d.Name() == "target") {
			return err
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			out = append(out, p+" "+info.ModTime().String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkStageModule requires what the host requires of a module, and that
// it is a reactor: it exports _initialize, so wasm-ld did not wrap every
// export in constructor/destructor calls as it does for a command.
func checkStageModule(t *testing.T, name string, wasm []byte) {
	t.Helper()
	imports, err := WasmImports(wasm)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, im := range imports {
		if im.Module != "wasi_snapshot_preview1" && !(im.Module == "dataweaver" && im.Name == "log") {
			t.Errorf("%s imports %s.%s", name, im.Module, im.Name)
		}
	}
	exports, err := wasmExportNames(wasm)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, e := range []string{"_initialize", "dw_abi_version", "dw_reserve", "dw_bind", "dw_process", "memory"} {
		if !exports[e] {
			t.Errorf("%s does not export %s", name, e)
		}
	}
	for e := range exports {
		if strings.HasSuffix(e, ".command_export") {
			t.Errorf("%s exports a command wrapper %s", name, e)
		}
	}
}

// TestBuildRustTransforms checks the committed Rust modules: each is a
// stage module, and a fresh build of two of them gives the committed
// bytes from this checkout and (filter) from a copy at another path,
// without writing into the source tree. (DW_WASM_FRESH=1 in
// transforms/conformance rebuilds all of them.)
func TestBuildRustTransforms(t *testing.T) {
	root := repoRoot(t)
	for _, name := range []string{"filter", "mask", "derive", "gcd"} {
		b, err := os.ReadFile(filepath.Join(root, "transforms", "rust", name, name+".wasm"))
		if err != nil {
			t.Fatal(err)
		}
		checkStageModule(t, name+".wasm", b)
	}
	if testing.Short() {
		t.Skip("compiles Rust guests")
	}
	needRust(t)
	other := filepath.Join(t.TempDir(), "another checkout")
	copyTree(t, filepath.Join(root, "guest-sdk", "rust"), filepath.Join(other, "guest-sdk", "rust"), skipDir("target"))
	for _, tc := range []struct {
		name      string
		elsewhere bool
	}{{"filter", true}, {"gcd", false}} {
		t.Run(tc.name, func(t *testing.T) {
			rel := filepath.Join("transforms", "rust", tc.name)
			want, err := os.ReadFile(filepath.Join(root, rel, tc.name+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			dirs := []string{filepath.Join(root, rel)}
			if tc.elsewhere {
				copyTree(t, filepath.Join(root, rel), filepath.Join(other, rel), skipDir("target"))
				dirs = append(dirs, filepath.Join(other, rel))
			}
			for _, dir := range dirs {
				before := listing(t, dir)
				out := filepath.Join(t.TempDir(), tc.name+".wasm")
				l, got, err := Build(context.Background(), Options{Dir: dir, Out: out})
				if err != nil || l.Name != "Rust" || got != out {
					t.Fatalf("Build(%s) = %q, %q, %v", dir, l.Name, got, err)
				}
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, want) {
					t.Fatalf("building %s gives %d bytes that differ from the committed %s (%d bytes): rebuild with `weave build %s` and commit it",
						dir, len(b), tc.name+".wasm", len(want), rel)
				}
				if after := listing(t, dir); !slices.Equal(before, after) {
					t.Errorf("the build changed the source tree:\nbefore %q\nafter  %q", before, after)
				}
			}
		})
	}
}

func TestBuildRustErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Rust crates")
	}
	needRust(t)
	const cdylib = "[package]\nname = \"x\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"no Cargo.toml", map[string]string{"src/lib.rs": ""}, []string{"has no Cargo.toml"}},
		{"virtual workspace", map[string]string{
			"Cargo.toml":   "[workspace]\nmembers = [\"a\"]\n",
			"a/Cargo.toml": strings.Replace(cdylib, "\"x\"", "\"a\"", 1), "a/src/lib.rs": "",
		}, []string{"no package is defined here"}},
		{"not a cdylib", map[string]string{
			"Cargo.toml": "[package]\nname = \"x\"\nversion = \"0.1.0\"\nedition = \"2021\"\n", "src/lib.rs": "pub fn f() {}\n",
		}, []string{`crate-type = ["cdylib"]`}},
		{"compile error", map[string]string{"Cargo.toml": cdylib, "src/lib.rs": "pub fn f() { nope }\n"},
			[]string{"cargo build --offline --release --target wasm", "cannot find value `nope`"}},
		{"no stage! exports", map[string]string{
			"Cargo.toml": cdylib, "src/lib.rs": "#[no_mangle]\npub extern \"C\" fn f() -> i32 { 1 }\n",
		}, []string{"does not export _initialize, dw_abi_version, dw_reserve, dw_bind, dw_process", "stage!(setup)"}},
		{"foreign import", map[string]string{"Cargo.toml": cdylib, "src/lib.rs": `#[link(wasm_import_module = "env")]
extern "C" {
    fn host_clock() -> i64;
}
#[no_mangle]
pub extern "C" fn f() -> i64 {
    unsafe { host_clock() }
}
`}, []string{"imports env.host_clock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			out := filepath.Join(t.TempDir(), "x.wasm")
			_, _, err := Build(context.Background(), Options{Dir: dir, Out: out})
			if !errors.Is(err, ErrCompile) {
				t.Fatalf("err = %v, want ErrCompile", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed build wrote %s", out)
			}
		})
	}
}

// TestRustReadme builds the README's first transform (its Cargo.toml and
// src/lib.rs, SDK path pointed at this checkout) from a directory outside
// the checkout and runs it in the real host: so the README stays true.
// A second crate checks what the README promises about logs and panics.
func TestRustReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Rust guests")
	}
	needRust(t)
	root, err := filepath.Abs(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "guest-sdk", "rust", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := func(lang string, n int) string {
		m := regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
		if len(m) <= n {
			t.Fatalf("README has no %s block #%d", lang, n+1)
		}
		return m[n][1]
	}
	sdk := filepath.Join(root, "guest-sdk", "rust")
	dir := filepath.Join(t.TempDir(), "net")
	writeFiles(t, dir, map[string]string{
		"Cargo.toml": strings.Replace(block("toml", 0), "/path/to/dataweaver/guest-sdk/rust", filepath.ToSlash(sdk), 1),
		"src/lib.rs": block("rust", 0) + "\n" + block("rust", 1),
	})
	_, out, err := Build(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if out != filepath.Join(dir, "net.wasm") {
		t.Errorf("Build wrote %s, want DIR/net.wasm", out)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	rb := array.NewRecordBuilder(mem, sc)
	defer rb.Release()
	rb.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3, 4}, nil)
	rb.Field(1).(*array.Float64Builder).AppendValues([]float64{10, 0, -1, 2.5}, []bool{true, false, true, true})
	rec := rb.NewRecordBatch()
	defer rec.Release()

	ctx := context.Background()
	s, err := wasmabi.NewStage(ctx, wasm, wasmabi.NewConfig().WithCacheDir("").WithName("stages[0].wasm", "net.wasm").WithGuestConfig(map[string]any{"discount": 0.2}).WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Bind(ctx, sc); err != nil {
		t.Fatal(err)
	}
	got, rejects, err := s.Process(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if len(rejects) != 1 || rejects[0].Row != 2 || rejects[0].Err.Error() != "amount -1 is negative" {
		t.Errorf("rejects = %v", rejects)
	}
	if n := got.Schema().FieldIndices("net"); len(n) != 1 {
		t.Fatalf("output schema %s has no net column", got.Schema())
	}
	net := got.Column(got.Schema().FieldIndices("net")[0]).(*array.Float64)
	if net.Len() != 3 || net.Value(0) != 8 || !net.IsNull(1) || net.Value(2) != 2 {
		t.Errorf("net = %v, want [8 (null) 2]", net)
	}

	t.Run("log and panic", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "probe")
		writeFiles(t, dir, map[string]string{
			"Cargo.toml": strings.NewReplacer(`"net"`, `"probe"`, "/path/to/dataweaver/guest-sdk/rust", filepath.ToSlash(sdk)).Replace(block("toml", 0)),
			"src/lib.rs": `use dataweaver_guest::{log, stage, Batch, Level, Setup};

fn setup(s: &mut Setup) -> Result<impl FnMut(&Batch) -> Result<(), String>, String> {
    s.read::<i64>("id");
    log(Level::Warn, "probe bound");
    Ok(|b: &Batch| {
        if b.len() > 3 {
            panic!("probe: {} rows is too many", b.len());
        }
        Ok(())
    })
}

stage!(setup);
`,
		})
		_, out, err := Build(context.Background(), Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		wasm, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		cfg := wasmabi.NewConfig().WithCacheDir("").WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))
		s, err := wasmabi.NewStage(ctx, wasm, cfg.WithName("stages[0].wasm", "probe.wasm").WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Bind(ctx, sc); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), `level=WARN msg="probe bound" stage=stages[0].wasm`) {
			t.Errorf("log = %q", logs.String())
		}
		_, _, err = s.Process(ctx, rec)
		if !errors.Is(err, wasmabi.ErrGuestTrap) || !strings.Contains(err.Error(), "probe: 4 rows is too many") {
			t.Fatalf("err = %v, want a trap with the panic message", err)
		}
	})
}
