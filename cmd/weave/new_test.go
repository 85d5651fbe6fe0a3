package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/scaffold"
	"github.com/dataweaver/dataweaver/internal/testenv"
	"github.com/dataweaver/dataweaver/internal/wasmbuild"
)

// scaffoldOutput is what the scaffold's pipeline must write for its
// sample input: amount × 2, the null passed through, the negative amount
// (id 3) rejected. Written out here rather than read from the scaffold's
// testdata/want.jsonl, which the scaffold under test also writes.
const scaffoldOutput = `{"id":1,"amount":10.5,"scaled":21.0}
{"id":2,"amount":null,"scaled":null}
{"id":4,"amount":0.25,"scaled":0.5}
{"id":5,"amount":1e+300,"scaled":2e+300}
`

// TestNewTransform is the first five minutes of a user who has the weave
// binary and one language's toolchain, nothing of the DataWeaver source
// tree: in a temporary directory outside any checkout or Go module, weave
// new transform, weave build, weave run on the scaffold's pipeline and
// weave test on its tests, for every language. It runs the built binary,
// so every SDK file the transform needs must come from the binary itself.
//
// A language whose toolchain is missing skips, and fails under CI=true,
// with what weave build says to install.
func TestNewTransform(t *testing.T) {
	bin := crashtest.Weave(t)
	env := userEnv()
	for _, lang := range scaffold.Languages {
		t.Run(lang, func(t *testing.T) {
			// The toolchains are independent, and npm waits on the network.
			t.Parallel()
			home := t.TempDir()
			if found := goModAbove(home); found != "" {
				t.Fatalf("the temporary directory %s is inside a Go module or workspace (%s), so the scaffold would not be tested outside one: set TMPDIR to a directory outside any module", home, found)
			}
			if _, stderr, err := runWeave(bin, env, home, "new", "transform", "scale", "--lang", lang); err != nil {
				t.Fatalf("weave new transform scale --lang %s: %v\n%s", lang, err, stderr)
			}
			dir := filepath.Join(home, "scale")
			if _, stderr, err := runWeave(bin, env, dir, "build"); err != nil {
				if strings.Contains(stderr, wasmbuild.ErrToolchain.Error()) {
					testenv.Missing(t, "weave build (%s): the toolchain is missing; install what this says to run the case:\n%s", lang, stderr)
				}
				t.Fatalf("weave build (%s): %v\n%s", lang, err, stderr)
			}
			if _, stderr, err := runWeave(bin, env, dir, "run", "pipeline.yaml"); err != nil {
				t.Fatalf("weave run pipeline.yaml: %v\n%s", err, stderr)
			}
			got := readFile(t, filepath.Join(dir, "out", "output.jsonl"))
			if got != scaffoldOutput {
				t.Errorf("out/output.jsonl:\n%s\nwant:\n%s", got, scaffoldOutput)
			}
			// The README's last step: diff against the scaffold's own want.
			if want := readFile(t, filepath.Join(dir, "testdata", "want.jsonl")); got != want {
				t.Errorf("out/output.jsonl differs from the scaffold's testdata/want.jsonl:\n%s\nwant:\n%s", got, want)
			}
			// The scaffold's own tests pass as written.
			if stdout, stderr, err := runWeave(bin, env, dir, "test"); err != nil || !strings.Contains(stdout, "PASS: 2 tests (1 file)") {
				t.Errorf("weave test: %v\n%s%s", err, stdout, stderr)
			}
			rejected := readFile(t, filepath.Join(dir, "out", "rejected.jsonl"))
			if n := strings.Count(rejected, "\n"); n != 1 || !strings.Contains(rejected, `"row":2`) {
				t.Errorf("rejected.jsonl: want the one negative amount (row 2), got %d lines:\n%s", n, rejected)
			}
		})
	}
}

// userEnv is this process's environment as a user's shell outside any
// module would have it: module mode with no vendoring or workspace, and
// no C SDK named by hand (the transform must bring its own).
func userEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GOFLAGS", "GOWORK", "PWD", "OUT", wasmbuild.CSDKEnv:
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOFLAGS=-mod=mod", "GOWORK=off")
}

// runWeave runs the weave binary in dir.
func runWeave(bin string, env []string, dir string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// goModAbove returns the first go.mod or go.work in dir or above it, or "".
func goModAbove(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		for _, f := range []string{"go.mod", "go.work"} {
			if _, err := os.Stat(filepath.Join(d, f)); err == nil {
				return filepath.Join(d, f)
			}
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
