package wasmbuild

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

// needASC returns the asc the AssemblyScript transforms build with, and
// skips (or, under CI=true, fails) when it is not installed.
func needASC(t *testing.T) string {
	t.Helper()
	asc, err := FindASC(filepath.Join(repoRoot(t), "transforms", "assemblyscript", "filter"))
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		testenv.Missing(t, "the AssemblyScript compiler is not installed; to run this test: npm ci --prefix guest-sdk/assemblyscript (%v)", err)
	}
	return asc
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(body, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindASC(t *testing.T) {
	const exe = "#!/bin/sh\n"
	tests := []struct {
		name  string
		files []string // executables to create under the temp root
		dir   string   // where the transform is, under the root
		want  string   // the asc found, under the root; "" = ErrToolchain
	}{
		{"own node_modules", []string{"t/node_modules/.bin/asc", "guest-sdk/assemblyscript/node_modules/.bin/asc"}, "t", "t/node_modules/.bin/asc"},
		{"ancestor's node_modules", []string{"node_modules/.bin/asc"}, "transforms/as/t", "node_modules/.bin/asc"},
		{"nearest node_modules wins", []string{"node_modules/.bin/asc", "transforms/node_modules/.bin/asc"}, "transforms/as/t", "transforms/node_modules/.bin/asc"},
		{"any node_modules before the SDK's", []string{"node_modules/.bin/asc", "transforms/guest-sdk/assemblyscript/node_modules/.bin/asc"}, "transforms/as/t", "node_modules/.bin/asc"},
		{"the SDK's in a checkout", []string{"guest-sdk/assemblyscript/node_modules/.bin/asc"}, "transforms/assemblyscript/filter", "guest-sdk/assemblyscript/node_modules/.bin/asc"},
		{"none", nil, "transforms/assemblyscript/filter", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			files := map[string]string{filepath.Join(tt.dir, "asconfig.json"): "{}"}
			for _, f := range tt.files {
				files[f] = exe
			}
			writeFiles(t, root, files)
			t.Setenv("PATH", t.TempDir()) // no asc on PATH
			got, err := FindASC(filepath.Join(root, tt.dir))
			if tt.want == "" {
				if !errors.Is(err, ErrToolchain) || !strings.Contains(err.Error(), "npm ci --prefix guest-sdk/assemblyscript") {
					t.Fatalf("FindASC = %q, %v; want ErrToolchain naming the npm command", got, err)
				}
				return
			}
			if err != nil || got != filepath.Join(root, tt.want) {
				t.Fatalf("FindASC = %q, %v; want %q", got, err, filepath.Join(root, tt.want))
			}
		})
	}

	t.Run("PATH last", func(t *testing.T) {
		bin := t.TempDir()
		writeFiles(t, bin, map[string]string{"asc": exe})
		t.Setenv("PATH", bin)
		got, err := FindASC(t.TempDir())
		if err != nil || got != filepath.Join(bin, "asc") {
			t.Fatalf("FindASC = %q, %v; want the one on PATH", got, err)
		}
	})
}

func TestReadASConfig(t *testing.T) {
	tests := []struct {
		name     string
		conf     string
		wantErr  string // "" = no error
		wantArgs []string
		noArgs   []string
	}{
		{"minimal", `{}`, "", []string{asEntry, "--target", "release", "--exportStart", "_initialize", "--optimizeLevel", "3"}, nil},
		{"entries given", `{"entries": ["src/main.ts"]}`, "", []string{"--outFile"}, []string{asEntry}},
		{"release optimisation kept", `{"targets": {"release": {"optimizeLevel": 2, "shrinkLevel": 1}}}`, "", nil, []string{"--optimizeLevel"}},
		{"debug off is fine", `{"options": {"debug": false}, "targets": {"debug": {"debug": true}}}`, "", nil, nil},
		{"debug in release", `{"targets": {"release": {"debug": true}}}`, "targets.release.debug is true", nil, nil},
		{"source map in options", `{"options": {"sourceMap": true}}`, "options.sourceMap is true", nil, nil},
		{"not JSON", `{"options": `, "asconfig.json", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"asconfig.json": tt.conf})
			c, err := ReadASConfig(dir)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrCompile) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadASConfig = %v; want ErrCompile containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			args := ASArgs(c, "/out/x.wasm", []string{"--noAssert"})
			for _, a := range tt.wantArgs {
				if !slices.Contains(args, a) {
					t.Errorf("args %q lack %q", args, a)
				}
			}
			for _, a := range tt.noArgs {
				if slices.Contains(args, a) {
					t.Errorf("args %q hold %q", args, a)
				}
			}
			if args[len(args)-1] != "--noAssert" || !slices.Contains(args, "/out/x.wasm") {
				t.Errorf("args %q: want the output and the extra arguments last", args)
			}
		})
	}
}

// module assembles a Wasm binary from sections (id, body).
func module(sections ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range sections {
		b = append(b, s[0], byte(len(s)-1))
		b = append(b, s[1:]...)
	}
	return b
}

func name(s string) []byte { return append([]byte{byte(len(s))}, s...) }

func importSection(entries ...[]byte) []byte {
	b := []byte{2, byte(len(entries))}
	for _, e := range entries {
		b = append(b, e...)
	}
	return b
}

func TestWasmImports(t *testing.T) {
	fn := func(mod, n string) []byte { return append(append(name(mod), name(n)...), 0, 0) }
	mem := append(append(name("env"), name("memory")...), 2, 1, 1, 2)
	glob := append(append(name("env"), name("g")...), 3, 0x7f, 0)
	tests := []struct {
		name    string
		wasm    []byte
		want    []string
		wantErr bool
	}{
		{"no imports", module([]byte{1, 0}), nil, false},
		{"functions, memory and a global", module([]byte{1, 0}, importSection(fn("dataweaver", "log"), mem, glob, fn("env", "abort"))),
			[]string{"dataweaver.log", "env.memory", "env.g", "env.abort"}, false},
		{"not wasm", []byte("hello world"), nil, true},
		{"truncated section", module(importSection(fn("dataweaver", "log")))[:20], nil, true},
		{"bad import kind", module(importSection(append(append(name("a"), name("b")...), 9))), nil, true},
		{"overlong LEB128", append([]byte("\x00asm\x01\x00\x00\x00"), 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WasmImports(tt.wasm)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("WasmImports = %v; want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, im := range got {
				names = append(names, im.Module+"."+im.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("imports %q; want %q", names, tt.want)
			}
		})
	}
}

func FuzzWasmImports(f *testing.F) {
	f.Add(module(importSection(append(append(name("dataweaver"), name("log")...), 0, 0))))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\x05\x01\x01a\x01b"))
	for _, p := range []string{"filter", "mask", "derive"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "transforms", "assemblyscript", p, p+".wasm")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ims, err := WasmImports(b)
		if err != nil && ims != nil {
			t.Fatalf("imports %v with error %v", ims, err)
		}
	})
}

// TestBuildAssemblyScriptTransforms rebuilds the committed example
// transforms and requires the same bytes, from this checkout and from a
// copy at another path: CI rebuilds every committed module from source.
func TestBuildAssemblyScriptTransforms(t *testing.T) {
	needASC(t)
	root := repoRoot(t)
	other := filepath.Join(t.TempDir(), "elsewhere", "dataweaver")
	copyTree(t, filepath.Join(root, "guest-sdk", "assemblyscript", "assembly"), filepath.Join(other, "guest-sdk", "assemblyscript", "assembly"), skipDir("node_modules"))
	// The copy uses this checkout's compiler.
	if err := os.Symlink(filepath.Join(root, "guest-sdk", "assemblyscript", "node_modules"), filepath.Join(other, "guest-sdk", "assemblyscript", "node_modules")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"filter", "mask", "derive"} {
		t.Run(name, func(t *testing.T) {
			rel := filepath.Join("transforms", "assemblyscript", name)
			want, err := os.ReadFile(filepath.Join(root, rel, name+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			copyTree(t, filepath.Join(root, rel, "assembly"), filepath.Join(other, rel, "assembly"), skipDir("node_modules"))
			copyTree(t, filepath.Join(root, rel), filepath.Join(other, rel), skipDir("node_modules"))
			for _, dir := range []string{filepath.Join(root, rel), filepath.Join(other, rel)} {
				out := filepath.Join(t.TempDir(), name+".wasm")
				l, got, err := Build(context.Background(), Options{Dir: dir, Out: out})
				if err != nil || l.Name != "AssemblyScript" || got != out {
					t.Fatalf("Build(%s) = %q, %q, %v", dir, l.Name, got, err)
				}
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, want) {
					t.Fatalf("building %s gives %d bytes that differ from the committed %s (%d bytes): rebuild with `weave build %s` and commit it", dir, len(b), name+".wasm", len(want), rel)
				}
			}
		})
	}
}

func TestBuildAssemblyScriptErrors(t *testing.T) {
	needASC(t)
	sdk := filepath.Join(repoRoot(t), "guest-sdk", "assemblyscript", "assembly")
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "stage")
	// asc resolves imports and `use` paths relative to the transform.
	rel, err := filepath.Rel(filepath.Join(dir, "assembly"), sdk)
	if err != nil {
		t.Fatal(err)
	}
	relUse, _ := filepath.Rel(dir, sdk)
	use := `"use": ["abort=` + filepath.ToSlash(filepath.Join(relUse, "abort", "dwAbort")) + `"]`
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"compile error", map[string]string{
			"asconfig.json":     `{}`,
			"assembly/index.ts": "export function f(): i32 { return nope; }\n",
		}, []string{"compile failed", "nope"}},
		{"no entry", map[string]string{"asconfig.json": `{}`}, []string{"names no entries", asEntry}},
		{"abort not redirected", map[string]string{
			"asconfig.json":     `{}`,
			"assembly/index.ts": "const a = new Array<i32>(2);\nexport function f(i: i32): i32 { return a[i]; }\n",
		}, []string{"env.abort", `"use": ["abort=`, "README"}},
		{"abort redirected, but a seed", map[string]string{
			"asconfig.json":     `{"options": {` + use + `}}`,
			"assembly/index.ts": "import \"" + filepath.ToSlash(filepath.Join(rel, "abort")) + "\";\nexport function f(): f64 { return Math.random(); }\n",
		}, []string{"env.seed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			writeFiles(t, dir, tt.files)
			t.Setenv("PATH", filepath.Dir(needASC(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
			_, out, err := Build(context.Background(), Options{Dir: dir})
			if !errors.Is(err, ErrCompile) {
				t.Fatalf("Build = %q, %v; want ErrCompile", out, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if _, statErr := os.Stat(DefaultOut(dir)); statErr == nil {
				t.Errorf("a failed build left %s behind", DefaultOut(dir))
			}
		})
	}
}
