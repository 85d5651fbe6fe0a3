// Package sharedata locates the real public test files in ../shared/data
// (see shared/data/README.md) for the format packages' tests.
package sharedata

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns shared/data/<parts...> as seen from a package directory
// format/<name>, failing the test with a clear message when it is missing:
// these files are the proof that readers decode other projects' output, so a
// missing file must not pass silently.
func Path(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "..", "shared", "data"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		abs, _ := filepath.Abs(p)
		t.Fatalf("shared test data %s is missing (%v): the repository expects ../shared/data beside it, see shared/data/README.md", abs, err)
	}
	return p
}
