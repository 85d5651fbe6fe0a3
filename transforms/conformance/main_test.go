package conformance_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmbuild"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// Transforms in the conformance table and the languages that have them.
var transforms = map[string][]string{
	"filter": {"go", "c", "rust", "assemblyscript"},
	"mask":   {"go", "c", "rust", "assemblyscript"},
	"derive": {"go", "c", "rust", "assemblyscript"},
	"gcd":    {"c", "rust"},
	// positive is the ABI spec's hand-written WAT module: filter id > 0.
	"positive": {"wat"},
}

// goGuests are Go guests built beside the table's for tests of their
// own (TestWindowAggV2): Go modules are not committed.
var goGuests = []string{"window_agg"}

var (
	root     string
	tmpDir   string
	cacheDir string
	// modules maps "lang/name" to the .wasm bytes the table runs.
	modules = map[string][]byte{}
	// buildErrs maps "lang/name" to why its module is unavailable.
	buildErrs = map[string]error{}
	// stale lists committed modules that differ from a fresh build.
	stale []string
)

func TestMain(m *testing.M) {
	code := func() int {
		var err error
		if root, err = wasmtest.Root(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if tmpDir, err = os.MkdirTemp("", "conformance-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmpDir)
		cacheDir = filepath.Join(tmpDir, "cache")
		loadModules(os.Getenv("DW_WASM_FRESH") == "1")
		return m.Run()
	}()
	os.Exit(code)
}

// srcDir is where a transform's source lives: Go guests are
// transforms/<name>, the others transforms/<lang>/<name>.
func srcDir(lang, name string) string {
	if lang == "go" {
		return filepath.Join(root, "transforms", name)
	}
	return filepath.Join(root, "transforms", lang, name)
}

func loadModules(fresh bool) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	// Builds run two at a time: the machines have two cores.
	sem := make(chan struct{}, 2)
	todo := map[string][]string{}
	for name, langs := range transforms {
		todo[name] = langs
	}
	for _, name := range goGuests {
		todo[name] = append(todo[name], "go")
	}
	for name, langs := range todo {
		for _, lang := range langs {
			key := lang + "/" + name
			committed := filepath.Join(srcDir(lang, name), name+".wasm")
			if lang != "go" && !fresh {
				// Go builds started above write these maps from their own
				// goroutines, so every write takes the lock.
				b, err := os.ReadFile(committed)
				mu.Lock()
				if err != nil {
					buildErrs[key] = fmt.Errorf("no committed module (build it with `make wasm`): %w", err)
				} else {
					modules[key] = b
				}
				mu.Unlock()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				out := filepath.Join(tmpDir, lang+"-"+name+".wasm")
				_, _, err := wasmbuild.Build(context.Background(), wasmbuild.Options{Dir: srcDir(lang, name), Out: out})
				var b []byte
				if err == nil {
					b, err = os.ReadFile(out)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					buildErrs[key] = err
					return
				}
				modules[key] = b
				if lang == "go" {
					return
				}
				if old, err := os.ReadFile(committed); err != nil || !bytes.Equal(old, b) {
					stale = append(stale, fmt.Sprintf("%s (%d bytes committed, %d built)", committed, len(old), len(b)))
				}
			}()
		}
	}
	wg.Wait()
	sort.Strings(stale)
}

// TestCommittedModulesAreFresh fails when a committed .wasm is not what
// its source builds to today. It runs only with DW_WASM_FRESH=1, where
// the toolchains are installed (.ci/run).
func TestCommittedModulesAreFresh(t *testing.T) {
	if os.Getenv("DW_WASM_FRESH") != "1" {
		t.Skip("set DW_WASM_FRESH=1 to rebuild every module from source and compare it with the committed one (needs clang, lld, wasi-libc, rustc with the wasm32-wasi target and npm; see .ci/run)")
	}
	for _, s := range stale {
		t.Errorf("committed module differs from a fresh build of its source: %s; run `make wasm` and commit the result", s)
	}
}
