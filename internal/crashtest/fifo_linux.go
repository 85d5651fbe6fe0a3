package crashtest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// WaitInFIFOOpen waits until a thread of the child sleeps in the kernel's
// FIFO open, waiting for a writer (wchan "wait_for_partner"): the file
// source's Open has begun, after weave installed its signal handlers, so a
// signal sent now tests start-up, not Go's default handler. Linux only:
// other systems do not show where a thread sleeps.
func (pr *Process) WaitInFIFOOpen(t testing.TB) {
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
			t.Fatalf("crashtest: %s ended (%v) before opening the FIFO (output below)", pr.name, pr.err)
		}
		if hasDL && time.Now().After(dl) {
			t.Fatalf("crashtest: %s never waited in the FIFO's open (wchan of %s; output below)", pr.name, tasks)
		}
		time.Sleep(pollEvery)
	}
}
