package main

import (
	"context"
	"errors"
	"os"
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
			t.Chdir(dir)
			// weave build, through the same code the CLI calls; a missing
			// toolchain (a rustup cargo without the WASI target counts) is
			// a skip here and a failure under CI=true.
			if l, _, err := wasmbuild.Build(context.Background(), wasmbuild.Options{Dir: "."}); err != nil {
				if !errors.Is(err, wasmbuild.ErrToolchain) {
					t.Fatalf("weave build: %v", err)
				}
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s toolchain missing: install %s (%v)", l.Name, l.Install, err)
				}
				t.Skipf("%s toolchain missing: install %s (%v)", l.Name, l.Install, err)
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
