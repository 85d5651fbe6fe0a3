package jsonl

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSharedFilesInSync fails when a file that format/csv and format/jsonl
// keep in two copies (see column.go) differs beyond its package clause.
func TestSharedFilesInSync(t *testing.T) {
	for _, name := range []string{"column.go", "parse.go", "pipeline.go", "text.go"} {
		mine, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.ReadFile(filepath.Join("..", "csv", name))
		if err != nil {
			t.Fatal(err)
		}
		mine = bytes.Replace(mine, []byte("package jsonl\n"), nil, 1)
		theirs = bytes.Replace(theirs, []byte("package csv\n"), nil, 1)
		if !bytes.Equal(mine, theirs) {
			t.Errorf("%s differs between format/jsonl and format/csv; change both", name)
		}
	}
}
