package wasmabi

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// forgetCache drops the process's compilation cache for dir, as a new
// weave process starts without it: the in-memory copy would otherwise
// serve the module and never read the damaged file.
func forgetCache(t *testing.T, dir string) {
	t.Helper()
	cachesMu.Lock()
	c := caches[dir]
	delete(caches, dir)
	cachesMu.Unlock()
	if c != nil {
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompileCacheTruncated: an entry cut short (a crash or a full disk as
// it was written) made every later run fail with "compilationcache: error
// reading executable … unexpected EOF" until the cache was deleted by
// hand. Now the stage builds, one warning says what happened, and the
// entry is replaced: the next run neither fails nor warns.
func TestCompileCacheTruncated(t *testing.T) {
	dir := t.TempDir()
	t.Cleanup(func() { forgetCache(t, dir) })
	wasm := goodModule().bytes()
	build := func() string {
		t.Helper()
		forgetCache(t, dir)
		logs := &logBuffer{}
		s, err := NewStage(context.Background(), wasm, testConfig().WithCacheDir(dir).WithLogger(logs.logger()).WithName("stages[0].wasm", "raw.wasm"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}
	if logs := build(); logs != "" {
		t.Fatalf("first build logged %q", logs)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "wazero-*", "*"))
	if len(entries) == 0 {
		t.Fatalf("no cache entry under %s", dir)
	}
	for _, e := range entries {
		fi, err := os.Stat(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(e, fi.Size()/2); err != nil {
			t.Fatal(err)
		}
	}
	logs := build()
	t.Log(logs)
	if n := strings.Count(logs, "\n"); n != 1 || !strings.Contains(logs, "level=WARN") ||
		!strings.Contains(logs, "compilation cache: dropped an unreadable entry and recompiled the module") ||
		!strings.Contains(logs, "module=raw.wasm") || !strings.Contains(logs, "unexpected EOF") {
		t.Errorf("after truncating the entry: %d log lines %q, want one warning naming the module and the error", n, logs)
	}
	if logs := build(); logs != "" {
		t.Errorf("the entry was not replaced: the next build logged %q", logs)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "repair-*")); len(left) > 0 {
		t.Errorf("repair left %v behind", left)
	}
}
