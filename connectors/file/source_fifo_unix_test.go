//go:build unix

package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// mkfifo makes a named pipe in a temporary directory, skipping where the
// file system has none.
func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFO here (%v)", err)
	}
	return path
}

// TestFIFOOpenStopsOnCancel: a named pipe that no process writes to keeps
// open(2) asleep in the kernel; the source's Open still returns once its
// context is cancelled, with the context's cause, and leaves no goroutine
// behind (conformance.Checked checks at cleanup). This is what lets one
// Ctrl-C stop weave during start-up (cmd/weave's TestSIGTERMDuringStartUp).
func TestFIFOOpenStopsOnCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before bool // cancelled before Open is called
	}{
		{"cancelled while in open", false},
		{"cancelled before open", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			fifo := mkfifo(t)
			src := mustSource(t, "{path: "+q(fifo)+", format: jsonl, schema: {id: int64}}", conformance.Build(mem, 10, "source"))
			t.Cleanup(func() { src.Close() })
			cause := errors.New("the test cancelled the start-up")
			ctx, cancel := context.WithCancelCause(context.Background())
			t.Cleanup(func() { cancel(nil) })
			if tc.before {
				cancel(cause)
			}
			errc := make(chan error, 1)
			go func() {
				_, err := src.Open(ctx)
				errc <- err
			}()
			if !tc.before {
				waitInFIFOOpen(t, errc)
				cancel(cause)
			}
			err := <-errc
			if !errors.Is(err, cause) || !strings.Contains(err.Error(), fifo) {
				t.Fatalf("Open: %v, want an error naming %s and wrapping the context's cause", err, fifo)
			}
		})
	}
}

// waitInFIFOOpen waits until a thread of this process sleeps in the
// kernel's FIFO open, waiting for a writer (Linux shows it as wchan
// "wait_for_partner"), or until Open has returned (errc holds its error).
// Without /proc it waits a little instead: the test then may cancel before
// the open begins, which it must survive as well.
func waitInFIFOOpen(t *testing.T, errc chan error) {
	t.Helper()
	tasks := fmt.Sprintf("/proc/%d/task/*/wchan", os.Getpid())
	if paths, _ := filepath.Glob(tasks); len(paths) == 0 {
		time.Sleep(20 * time.Millisecond)
		return
	}
	for len(errc) == 0 {
		paths, _ := filepath.Glob(tasks)
		for _, p := range paths {
			if b, _ := os.ReadFile(p); string(b) == "wait_for_partner" {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFIFOWithWriter: a named pipe whose writer comes after the source
// began to open it is read like a file, every row in order.
func TestFIFOWithWriter(t *testing.T) {
	const rows = 5000
	mem := conformance.Checked(t)
	fifo := mkfifo(t)
	written := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			written <- err
			return
		}
		var b strings.Builder
		for i := range rows {
			fmt.Fprintf(&b, "{\"id\": %d}\n", i)
		}
		_, err = w.WriteString(b.String())
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		written <- err
	}()
	src := mustSource(t, "{path: "+q(fifo)+", format: jsonl, schema: {id: int64}}", conformance.Build(mem, 1000, "source"))
	recs := conformance.ReadAll(t, src, 1000, true)
	defer conformance.Release(recs)
	if err := <-written; err != nil {
		t.Fatalf("the writer: %v", err)
	}
	got := ids(t, recs, 0)
	want := make([]int64, rows)
	for i := range want {
		want[i] = int64(i)
	}
	if !equalInts(got, want) {
		t.Errorf("read %d ids from the FIFO, want 0..%d in order", len(got), rows-1)
	}
}
