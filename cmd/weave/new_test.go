package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/scaffold"
	"github.com/dataweaver/dataweaver/internal/wasmbuild"
	"github.com/dataweaver/dataweaver/wasmabi/wasmtest"
)

// TestNewTransform is the user's first five minutes in every language:
// weave new transform, weave build, weave run on the scaffold's pipeline,
// and the output must equal the scaffold's testdata/want.jsonl.
func TestNewTransform(t *testing.T) {
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range scaffold.Languages {
		t.Run(lang, func(t *testing.T) {
			// Inside the tree (build/ is git-ignored), as a transform of
			// one's own under a checkout would be: that is where weave
			// build finds the SDKs' compilers (AssemblyScript's
			// node_modules) without a global install.
			base := filepath.Join(root, "build", "test-new")
			if err := os.MkdirAll(base, 0o755); err != nil {
				t.Fatal(err)
			}
			tmp, err := os.MkdirTemp(base, lang+"-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(tmp) })
			dir := filepath.Join(tmp, "scale")
			code, stdout, stderr, _ := weave(t, "new", "transform", "scale", "--lang", lang, "--dir", dir, "--sdk", root)
			if code != 0 {
				t.Fatalf("weave new: exit %d\n%s%s", code, stdout, stderr)
			}
			l, err := wasmbuild.Detect(dir)
			if err != nil {
				t.Fatal(err)
			}
			needToolchain(t, l)
			t.Chdir(dir)
			if code, _, stderr, _ := weave(t, "build", "."); code != 0 {
				t.Fatalf("weave build: exit %d\n%s", code, stderr)
			}
			code, _, stderr, out := weave(t, "run", "pipeline.yaml")
			if code != 0 {
				t.Fatalf("weave run: exit %d\n%s", code, stderr)
			}
			got, err := os.ReadFile(filepath.Join(out, "output.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, "testdata", "want.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("output.jsonl:\n%s\nwant (testdata/want.jsonl):\n%s", got, want)
			}
			rejected, err := os.ReadFile(filepath.Join(out, "rejected.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(rejected), "\n"); n != 1 || !strings.Contains(string(rejected), `"row":2`) {
				t.Errorf("rejected.jsonl: want the one negative amount (row 2), got %d lines:\n%s", n, rejected)
			}
		})
	}
}

// needToolchain skips, or under CI=true fails, when l's compiler is not
// installed, naming what to install.
func needToolchain(t *testing.T, l wasmbuild.Language) {
	t.Helper()
	tool := map[string]string{"Go": "go", "C": "clang", "Rust": "cargo", "AssemblyScript": "npm", "WebAssembly text": "wat2wasm"}[l.Name]
	if _, err := exec.LookPath(tool); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s toolchain missing: install %s", l.Name, l.Install)
	}
	t.Skipf("%s toolchain missing: install %s", l.Name, l.Install)
}
