package crashtest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestThirdSignalKills: after the second signal SIGTERM goes back to Go's
// default, so a third one kills weave at once whatever the abort waits
// for. Here it waits for ever: a Wasm stage with timeout: 0 and
// interruptible: false runs a guest that loops, which neither the drain
// nor the cancelled context stops (connectors/wasm's interruptible knob).
// The child must die of the third SIGTERM itself (an exit status would
// mean weave handled it), without printing the abort's last line.
//
// GOGC=off: a garbage collection would wait for the looping goroutine to
// stop and freeze every other one, the signal handling's included
// (internal/cli's doc.go), so the first two signals would never be seen.
// Without a collection the runtime's other goroutines keep running, and
// the test reaches the third signal it is about.
func TestThirdSignalKills(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "loop.yaml")
	yaml := `source: {generate: {preset: orders, rows: 100000, seed: 7}}
batch: {rows: 20}
stages:
  - rename: {columns: {email: s}} # the guest's column
  - wasm:
      path: ${WASM}
      timeout: 0
      interruptible: false
      config: {mode: loop, always: true}
    name: hostile
sinks: [{file: "${OUT}/orders.jsonl"}]
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"WASM": hostileGuest(t), "OUT": dir, "GOGC": "off"}
	pr := Pipeline{File: file, State: filepath.Join(dir, "state"), Env: env}.Start(t)
	pr.WaitOutput(t, "msg=looping")
	pr.Signal(t, syscall.SIGTERM)
	pr.WaitOutput(t, "draining")
	pr.Signal(t, syscall.SIGTERM)
	pr.WaitOutput(t, "aborting; a third signal kills weave without cleaning up")
	pr.Signal(t, syscall.SIGTERM)
	pr.waitExit(t)
	ws, ok := pr.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("after three SIGTERMs weave ended with %v, want killed by SIGTERM (output below)", pr.cmd.ProcessState)
	}
	if out := pr.Output(); strings.Contains(out, "weave: aborted") {
		t.Errorf("weave handled the third signal and aborted:\n%s", out)
	}
}
