package wasmbuild

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the checkout this test file is in.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// copyTree copies src to dst for the reproducibility tests (a checkout at
// another path), leaving out what skip says: build output and installed
// packages, or files the build does not read.
func copyTree(t *testing.T, src, dst string, skip func(d fs.DirEntry) bool) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != src && skip(d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// skipDir leaves out directories called name (node_modules, target).
func skipDir(name string) func(fs.DirEntry) bool {
	return func(d fs.DirEntry) bool { return d.IsDir() && d.Name() == name }
}

// onlyC keeps C sources and headers (and every directory).
func onlyC(d fs.DirEntry) bool {
	return !d.IsDir() && !strings.HasSuffix(d.Name(), ".c") && !strings.HasSuffix(d.Name(), ".h")
}
