package pipetest

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseSuite: any bytes give a Suite or an error with a message, never
// a panic. The format sits on YAML but walks the nodes itself (lists of
// tests, expectations, dead letters, aliases followed by hand).
func FuzzParseSuite(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.test.yaml")
	more, _ := filepath.Glob("../internal/cli/testdata/weavetest*/*.test.yaml")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("tests: &t [{name: x, input: {rows: *t}, expect: [*t]}]"))
	f.Add([]byte("tests:\n  - name: x\n    input: {file: {path: ~}}\n    dead_letters: [{row: {a: [1]}}]\n"))
	f.Add([]byte(laughs(4)))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuite(data, "fuzz.test.yaml")
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		if len(s.Tests) == 0 {
			t.Error("a valid suite without tests")
		}
	})
}
