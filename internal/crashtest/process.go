package crashtest

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Process is one `weave run` running as a child of the test.
type Process struct {
	cmd    *exec.Cmd
	name   string // for messages: the file and the --set values
	stderr string // file the child's stdout and stderr go to
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed
}

// start runs `weave run` on p.File with the given --set values. The child
// is killed, if still running, when t ends, and its output is logged if t
// failed (so failures say "output below" rather than print it twice).
func (p Pipeline) start(t testing.TB, set []string) *Process {
	t.Helper()
	if p.State == "" {
		t.Fatalf("crashtest: %s: Pipeline.State is empty; give each test its own state directory (t.TempDir())", p.File)
	}
	args := append([]string{"run", "--state", p.State}, p.Flags...)
	for _, s := range set {
		args = append(args, "--set", s)
	}
	args = append(args, p.File)
	cmd := exec.Command(Weave(t), args...)
	// The test's environment with the pipeline's variables on top (a later
	// entry wins), so PATH and the module cache are the test's own.
	cmd.Env = os.Environ()
	for _, k := range slices.Sorted(maps.Keys(p.Env)) {
		cmd.Env = append(cmd.Env, k+"="+p.Env[k])
	}
	cmd.SysProcAttr = sysProcAttr()
	// A file rather than a buffer: the child writes to it directly, and the
	// test reads it only after the child has gone.
	out, err := os.CreateTemp(t.TempDir(), "weave-*.stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	pr := &Process{cmd: cmd, name: fmt.Sprintf("weave run %s %q", filepath.Base(p.File), set), stderr: out.Name(), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("crashtest: start %s: %v", pr.name, err)
	}
	go func() {
		pr.err = cmd.Wait()
		close(pr.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-pr.exited:
		default:
			cmd.Process.Kill()
			<-pr.exited
		}
		if t.Failed() {
			t.Logf("output of %s (pid %d):\n%s", pr.name, cmd.Process.Pid, pr.Output())
		}
	})
	return pr
}

// Output is what the child wrote to stdout and stderr so far.
func (pr *Process) Output() string {
	b, err := os.ReadFile(pr.stderr)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", pr.stderr, err)
	}
	return string(b)
}

// Pid is the child's process ID (a test finds which worker wrote a
// file named after it).
func (pr *Process) Pid() int { return pr.cmd.Process.Pid }

// Exited reports whether the child has ended.
func (pr *Process) Exited() bool {
	select {
	case <-pr.exited:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL and fails t unless the child died of it (rather than
// having ended before).
func (pr *Process) Kill(t testing.TB) {
	t.Helper()
	if err := pr.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		<-pr.exited
		t.Fatalf("crashtest: %s ended (%v) before it was killed (output below)", pr.name, pr.err)
	}
	<-pr.exited
	ws, ok := pr.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("crashtest: %s was sent SIGKILL but ended with %v (output below)", pr.name, pr.cmd.ProcessState)
	}
}

// Wait waits for the child to end and fails t unless it exited with 0. It
// gives up, failing t, shortly before the test's deadline.
func (pr *Process) Wait(t testing.TB) {
	t.Helper()
	pr.waitExit(t)
	if pr.err != nil {
		t.Fatalf("crashtest: %s: %v (output below)", pr.name, pr.err)
	}
}

// ExitCode waits for the child to end, as Wait does, and returns its exit
// status; it fails t if a signal killed the child instead.
func (pr *Process) ExitCode(t testing.TB) int {
	t.Helper()
	pr.waitExit(t)
	code := pr.cmd.ProcessState.ExitCode()
	if code < 0 {
		t.Fatalf("crashtest: %s was killed (%v) instead of exiting (output below)", pr.name, pr.cmd.ProcessState)
	}
	return code
}

// Signal sends sig to the child, failing t if it has already ended.
func (pr *Process) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := pr.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("crashtest: %s: sending %v: %v (output below)", pr.name, sig, err)
	}
}

// WaitOutput waits until the child's output contains s, failing t if the
// child ends first or the test's deadline comes near.
func (pr *Process) WaitOutput(t testing.TB, s string) {
	t.Helper()
	dl, hasDL := failBy(t)
	for !strings.Contains(pr.Output(), s) {
		if pr.Exited() {
			t.Fatalf("crashtest: %s ended (%v) before writing %q (output below)", pr.name, pr.err, s)
		}
		if hasDL && time.Now().After(dl) {
			t.Fatalf("crashtest: %s had not written %q at the test's deadline (output below)", pr.name, s)
		}
		time.Sleep(pollEvery)
	}
}

// waitExit waits for the child to end, giving up (failing t) shortly before
// the test's deadline.
func (pr *Process) waitExit(t testing.TB) {
	t.Helper()
	var deadline <-chan time.Time
	if d, ok := failBy(t); ok {
		deadline = time.After(time.Until(d))
	}
	select {
	case <-pr.exited:
	case <-deadline:
		t.Fatalf("crashtest: %s still running at the test's deadline (output below)", pr.name)
	}
}

// deadlineMargin is how long before go test's -timeout a wait gives up,
// so that its message, not the timeout's goroutine dump, reports the hang.
const deadlineMargin = 5 * time.Second

// failBy is when a wait should give up: a little before t's deadline.
func failBy(t testing.TB) (time.Time, bool) {
	d, ok := t.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return time.Time{}, false
	}
	dl, ok := d.Deadline()
	return dl.Add(-deadlineMargin), ok
}
