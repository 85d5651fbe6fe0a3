package conformance

import (
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Checked returns a checked allocator for t and registers, as t's first
// cleanup (so it runs last, after the harness's own cleanups have stopped
// servers and closed files), the checks that nothing it allocated is still
// held and that no goroutine started during t is still running.
func Checked(t testing.TB) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		NoGoroutineLeak(t, before)
		mem.AssertSize(t, 0)
	})
	return mem
}

// NoGoroutineLeak waits up to ten seconds for the goroutine count to drop
// back to before, then fails t with every goroutine's stack: a connector
// that leaves a reader or a timer goroutine behind after Close leaks one per
// pipeline run in a long-lived process. The wait is long because an
// embedded server's goroutines wind down asynchronously after Shutdown,
// and under -race on two busy cores that took more than two seconds in CI;
// a real leak never drops back, however long the wait.
func NoGoroutineLeak(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines still running after Close (started with %d):\n%s", n, before, buf)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
