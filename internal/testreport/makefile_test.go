package testreport_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestNoRaceTestsMakefile keeps make test's NORACE_TESTS honest. The race
// run skips those names with -skip, which applies to every package it
// runs, and only NORACE_PKGS run them again without -race: a test of that
// name declared in any other package would run nowhere. So every name must
// be declared, and only in NORACE_PKGS.
func TestNoRaceTestsMakefile(t *testing.T) {
	root := filepath.Join("..", "..")
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	names := makeVar(t, mk, "NORACE_TESTS")
	m := regexp.MustCompile(`^\^\((.*)\)\$\$$`).FindStringSubmatch(names)
	if m == nil {
		t.Fatalf("NORACE_TESTS = %q, want ^(TestA|TestB)$$", names)
	}
	var pkgs []string
	for _, p := range strings.Fields(makeVar(t, mk, "NORACE_PKGS")) {
		pkgs = append(pkgs, filepath.Clean(p))
	}
	declared := map[string][]string{} // test name → package directories
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// beam is a module of its own, outside make test.
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "node_modules" || n == "testdata" || n == "beam") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(p))
		for _, f := range regexp.MustCompile(`(?m)^func (Test\w*)\(`).FindAllSubmatch(src, -1) {
			declared[string(f[1])] = append(declared[string(f[1])], dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Split(m[1], "|") {
		dirs := declared[name]
		if len(dirs) == 0 {
			t.Errorf("NORACE_TESTS names %s, which no test file declares: drop it from the Makefile", name)
		}
		for _, d := range dirs {
			if !slices.Contains(pkgs, d) {
				t.Errorf("%s is declared in %s, which is not in NORACE_PKGS: make test's race run skips it there and nothing runs it; rename the test or add its package to NORACE_PKGS", name, d)
			}
		}
	}
}

// makeVar is the value of a "NAME = value" line of the Makefile.
func makeVar(t *testing.T, mk []byte, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` = (.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatalf("the Makefile sets no %s", name)
	}
	return strings.TrimSpace(string(m[1]))
}
