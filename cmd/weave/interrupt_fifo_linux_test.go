package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// TestSIGTERMDuringFIFOOpen: the file source opening a named pipe that no
// process writes to sleeps in the kernel's open(2), which no signal
// interrupts; one SIGTERM still stops weave there (the source releases
// its own open): exit 143, the start-up message, the earlier output
// untouched. It used to take a third signal, Go's default handler.
func TestSIGTERMDuringFIFOOpen(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here (%v)", err)
	}
	out := filepath.Join(dir, "out.jsonl")
	const earlier = "{\"id\":\"the output of an earlier run\"}\n"
	if err := os.WriteFile(out, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "job.yaml")
	job := fmt.Sprintf("source: {file: {path: %q, format: jsonl, schema: {id: int64}}}\nsinks: [{file: %q}]\n", fifo, out)
	if err := os.WriteFile(file, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	pr := crashtest.Pipeline{File: file, State: filepath.Join(dir, "state")}.Start(t)
	pr.WaitInFIFOOpen(t)
	pr.Signal(t, syscall.SIGTERM)
	if code := pr.ExitCode(t); code != 143 {
		t.Fatalf("exit %d after one SIGTERM while opening a FIFO, want 143:\n%s", code, pr.Output())
	}
	msg := pr.Output()
	if !strings.Contains(msg, "weave: interrupted during start-up, before the first row; run again to start over") {
		t.Errorf("the message does not say the start-up was interrupted:\n%s", msg)
	}
	if got, _ := os.ReadFile(out); string(got) != earlier {
		t.Errorf("the earlier output was replaced: %q", got)
	}
}
