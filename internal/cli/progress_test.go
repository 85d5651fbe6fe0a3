package cli_test

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/dataweaver/dataweaver/internal/cli"
)

// TestProgressLine runs a pipeline with stderr posing as a terminal: the
// line is drawn while it runs and erased before the summary.
func TestProgressLine(t *testing.T) {
	env, pr := testEnvProbe(t)
	path := writeFile(t, "p.yaml", "source: {counter: {batches: 0}}\nsinks: [collect]\n")
	sigs := make(chan os.Signal, 1)
	drawn := make(chan struct{})
	var once bool
	terminal := func() (bool, func() int) {
		return true, func() int {
			// Asked once per redraw: the first call means a line is going out.
			if !once {
				once = true
				close(drawn)
			}
			return 100
		}
	}
	done := make(chan result)
	go func() { done <- run(t, cli.Options{Env: env, Signals: sigs, Terminal: terminal}, "run", path) }()
	<-pr.wrote
	<-drawn
	sigs <- syscall.SIGINT
	r := waitResult(t, done)
	if r.code != 130 { // interrupted: see TestSignals
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "\r\x1b[K") || !strings.Contains(r.stderr, " rows/s") {
		t.Errorf("no progress line:\n%q", r.stderr)
	}
	// The drain warning is logged while the line is up: it must start on a
	// cleared line, not in the middle of the progress text.
	if !strings.Contains(r.stderr, "\r\x1b[Ktime=") {
		t.Errorf("log record not written on a cleared line:\n%q", r.stderr)
	}
	summary := r.stderr[strings.LastIndex(r.stderr, "\r\x1b[K")+len("\r\x1b[K"):]
	if !strings.HasPrefix(strings.TrimLeft(summary, " "), "step") && !strings.Contains(summary, "step") {
		t.Errorf("summary not printed after the line was erased:\n%q", summary)
	}
}
