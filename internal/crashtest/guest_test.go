package crashtest

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// Tests of `weave run` against a looping guest: wasmabi's hostile Go guest
// in mode loop (every batch loops forever), built as `weave build` builds it.

var hostile struct {
	once sync.Once
	path string
	err  error
}

// hostileGuest builds the hostile guest once per test binary.
func hostileGuest(t *testing.T) string {
	t.Helper()
	hostile.once.Do(func() {
		dir, err := os.MkdirTemp("", "crashtest-hostile-")
		if err != nil {
			hostile.err = err
			return
		}
		hostile.path = filepath.Join(dir, "hostile.wasm")
		hostile.err = wasmtest.Build("wasmabi/testdata/hostile", hostile.path)
	})
	if hostile.err != nil {
		t.Fatalf("crashtest: building the hostile guest: %v", hostile.err)
	}
	return hostile.path
}

// loopPipeline writes a pipeline whose Wasm stage loops on its first
// batches, on two workers, writing to a file sink in out. It has no
// timeout (timeout: 0), so only cancellation can stop the guest.
func loopPipeline(t *testing.T, out string) Pipeline {
	t.Helper()
	file := filepath.Join(t.TempDir(), "loop.yaml")
	yaml := `name: loop
source:
  generate: {preset: orders, rows: 100000, seed: 7}
batch: {rows: 20}
stages:
  - rename: {columns: {email: s}}
  - wasm:
      path: ${WASM}
      timeout: 0
      config: {mode: loop, always: true}
    name: hostile
    workers: 2
sinks:
  - file: "${OUT}/orders.jsonl"
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return Pipeline{File: file, State: t.TempDir(), Env: map[string]string{"WASM": hostileGuest(t), "OUT": out}}
}

// TestAbortLoopingGuest: two signals end a run whose guest loops, with
// 128 plus the second signal's number, and the file sink's temporary file
// is gone. The stage has timeout: 0, the case that froze the process
// before: it is interruptible by default, so the checks that let a
// cancelled context stop the guest are compiled in. With interruptible:
// false they are not, and Go cannot even handle the signals once its
// collector waits for the looping goroutine (internal/cli's doc.go).
func TestAbortLoopingGuest(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second syscall.Signal
		code          int
	}{
		{"SIGINT twice", syscall.SIGINT, syscall.SIGINT, 130},
		{"SIGINT then SIGTERM", syscall.SIGINT, syscall.SIGTERM, 143},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			pr := loopPipeline(t, out).Start(t)
			pr.WaitOutput(t, "msg=looping")
			// The sink has opened its temporary file by now (sinks open
			// before the first batch is read), so its removal is tested.
			if tmp := tempFiles(t, out); len(tmp) == 0 {
				t.Fatalf("no temporary file in %s while the run is under way: the test would prove nothing", out)
			}
			pr.Signal(t, tc.first)
			pr.WaitOutput(t, "draining")
			pr.Signal(t, tc.second)
			if code := pr.ExitCode(t); code != tc.code {
				t.Fatalf("exit code %d, want %d", code, tc.code)
			}
			if tmp := tempFiles(t, out); len(tmp) > 0 {
				t.Fatalf("temporary files left in %s: %q", out, tmp)
			}
			if o := pr.Output(); !strings.Contains(o, "weave: aborted: ") {
				t.Fatalf("output has no 'weave: aborted:' line:\n%s", o)
			}
		})
	}
}

// tempFiles lists the file sink's temporary files in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.weave-tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
