package testreport_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/testreport"
)

// sample is a module whose tests pass, fail, skip (with and without a
// reason, at top level and in subtests) and one package that does not
// build: the real go test -json stream of it is the input, so the test
// does not depend on a hand-written imitation of test2json.
var sample = map[string]string{
	"go.mod": "module example.com/sample\n\ngo 1.22\n",
	"a/a_test.go": `package a

import "testing"

func TestPass(t *testing.T) {}
func TestFail(t *testing.T) { t.Log("the log of a failing test"); t.Fatal("boom") }
func TestSkip(t *testing.T) { t.Skip("needs clang: apt-get install clang") }
func TestSkipNoReason(t *testing.T) { t.SkipNow() }
func TestSub(t *testing.T) {
	t.Run("ok", func(t *testing.T) {})
	t.Run("skipped", func(t *testing.T) { t.Skip("no server") })
}
`,
	"b/b_test.go": `package b

import "testing"

func TestPass(t *testing.T) { t.Log("quiet when passing") }
`,
	"c/c_test.go": `package c

import "testing"

func TestBroken(t *testing.T) { undefined() }
`,
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	for name, text := range sample {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	stream, err := cmd.Output() // exits 1: a test fails and c does not build
	if err == nil {
		t.Fatalf("go test on the sample module succeeded; it must fail")
	}
	var out bytes.Buffer
	s, err := testreport.Read(bytes.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	s.WriteEnd(&out, 5)
	text := out.String()
	t.Logf("report:\n%s", text)

	// Passed: a.TestPass, a.TestSub, a.TestSub/ok and b.TestPass (a
	// parent whose subtest skipped still passes).
	if s.Passed != 4 || s.Failed != 1 || s.Skipped != 3 {
		t.Errorf("counts: %d passed, %d failed, %d skipped; want 4, 1, 3", s.Passed, s.Failed, s.Skipped)
	}
	if s.OK() {
		t.Error("OK() with a failing test and a package that does not build")
	}
	if len(s.BuildFailed) != 1 || !strings.HasPrefix(s.BuildFailed[0], "example.com/sample/c ") {
		t.Errorf("BuildFailed = %v, want example.com/sample/c", s.BuildFailed)
	}
	for _, want := range []string{
		"SKIP example.com/sample/a TestSkip: a_test.go:7: needs clang: apt-get install clang",
		"SKIP example.com/sample/a TestSkipNoReason: (no reason given)",
		"SKIP example.com/sample/a TestSub/skipped: a_test.go:11: no server",
		"the log of a failing test", // a failing test's whole output is shown
		"boom",
		"undefined: undefined", // the build error reaches the reader
		"ok  \texample.com/sample/b",
		"\ntests: 4 passed, 1 failed, 3 skipped\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, unwanted := range []string{"quiet when passing", "=== RUN   TestPass"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("report shows %q: a passing test's output is noise", unwanted)
		}
	}
	if !strings.HasSuffix(text, "tests: 4 passed, 1 failed, 3 skipped\n") {
		t.Errorf("the count is not the closing line")
	}
}

// TestNoTestRan: a stream in which nothing passed is not a success, so
// a suite that silently ran nothing cannot look green.
func TestNoTestRan(t *testing.T) {
	s, err := testreport.Read(strings.NewReader(`{"Action":"skip","Package":"p","Test":"TestX"}`+"\n"), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if s.OK() {
		t.Error("OK() when no test passed")
	}
}
