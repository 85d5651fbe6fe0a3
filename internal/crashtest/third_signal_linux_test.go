package crashtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestThirdSignalKills: after the second signal SIGTERM goes back to Go's
// default, so a third one kills weave at once whatever the abort waits
// for. Here it waits for ever: the file source opens a FIFO that no writer
// opens, and open(2) heeds neither the drain nor the cancelled context.
// The child must die of the third SIGTERM itself (an exit status would
// mean weave handled it), without printing the abort's last line.
func TestThirdSignalKills(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here (%v)", err)
	}
	file := filepath.Join(dir, "fifo.yaml")
	yaml := "source: {file: {path: " + strconv.Quote(fifo) + ", format: jsonl, schema: {id: int64}}}\n" +
		"sinks: [{file: " + strconv.Quote(filepath.Join(dir, "out.jsonl")) + "}]\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	pr := Pipeline{File: file, State: filepath.Join(dir, "state")}.Start(t)
	waitInFIFOOpen(t, pr)
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

// waitInFIFOOpen waits until a thread of the child sleeps in the kernel's
// FIFO open, waiting for a writer (wchan "wait_for_partner"): the source's
// Open has begun, after weave installed its signal handlers.
func waitInFIFOOpen(t *testing.T, pr *Process) {
	t.Helper()
	dl, hasDL := failBy(t)
	tasks := filepath.Join("/proc", strconv.Itoa(pr.cmd.Process.Pid), "task", "*", "wchan")
	for {
		paths, _ := filepath.Glob(tasks)
		for _, p := range paths {
			if b, _ := os.ReadFile(p); string(b) == "wait_for_partner" {
				return
			}
		}
		if pr.Exited() {
			t.Fatalf("weave ended before opening the FIFO (output below)")
		}
		if hasDL && time.Now().After(dl) {
			t.Fatalf("weave never waited in the FIFO's open (wchan of %s; output below)", tasks)
		}
		time.Sleep(pollEvery)
	}
}
