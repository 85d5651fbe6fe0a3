package wasmabi

import (
	"bytes"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"
)

// TestSameModuleRead: stages that read the same unchanged module file get
// the same bytes, hashed once; a file changed since (new bytes, a new
// modification time) is read again.
func TestSameModuleRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.wasm")
	first := goodModule().bytes()
	if err := os.WriteFile(path, first, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := NewConfig()
	a, err := ReadModule(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadModule(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if &a[0] != &b[0] || !bytes.Equal(a, first) {
		t.Error("the same unchanged file was read twice")
	}
	before := sharedSums.Load()
	if keyOf(a, cfg).sum != keyOf(b, cfg).sum || sharedSums.Load()-before != 1 {
		t.Errorf("%d hashes of one file's bytes, want 1", sharedSums.Load()-before)
	}

	changed := append(bytes.Clone(first), 0, 0) // a custom section's worth
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	c, err := ReadModule(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c, changed) {
		t.Error("a changed file was not read again")
	}
	goruntime.KeepAlive(a)
	goruntime.KeepAlive(b)
}
