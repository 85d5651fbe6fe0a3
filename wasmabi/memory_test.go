package wasmabi

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// procKiB reads a "Name:  N kB" line of /proc/self/status.
func procKiB(t *testing.T, name string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status (%v): the memory bound is measured on Linux", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", name)
	return 0
}

// TestMemoryBombStaysWithinLimit: guests that grow their memory to the
// limit and trap, on two workers at once and then again on fresh
// instances, raise the process's peak RSS by no more than memory_limit per
// worker plus a fixed allowance. With wazero's default allocator (memory
// kept in the Go heap and grown by copying) the same run peaked at about
// three times the limit per worker, because every growth copied the whole
// memory and the dead copies waited for the collector.
func TestMemoryBombStaysWithinLimit(t *testing.T) {
	const (
		limit   = 128 << 20
		workers = 2
		rounds  = 3
		// The Go runtime, the compiled module and the batches: measured
		// at 20-40 MB over the baseline for a run of good batches.
		allowance = 64 << 20
	)
	mem := conformance.Checked(t)
	cfg := testConfig().WithMemoryLimit(limit).WithLogger(slog.New(slog.DiscardHandler))
	s := newStage(t, "hostile", map[string]any{"mode": "bomb"}, mem, cfg)
	b := bindHostile(t, s, mem)
	wantOut(t, s, b.good, "ok 1") // compile and first instance before the baseline

	goruntime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS (%v): the memory bound is measured on Linux", err)
	}
	base := procKiB(t, "VmRSS") << 10
	for range rounds {
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, _, err := s.Process(context.Background(), b.boom)
				if out != nil {
					out.Release()
				}
				errs[w] = err
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if !errors.Is(err, ErrGuestTrap) {
				t.Fatalf("bomb: %v, want a trap (out of memory)", err)
			}
		}
	}
	peak := procKiB(t, "VmHWM") << 10
	grew := peak - base
	t.Logf("peak RSS %d MiB over a baseline of %d MiB, for %d workers at a %d MiB limit", grew>>20, base>>20, workers, limit>>20)
	if bound := int64(workers*limit + allowance); grew > bound {
		t.Errorf("peak RSS grew by %d MiB, over %d MiB (memory_limit × workers + %d MiB)", grew>>20, bound>>20, allowance>>20)
	}
	wantOut(t, s, b.good, "ok 1") // and the stage still works
}

// TestLinearMemories: both allocators grow to exactly the size asked, keep
// what was written, and refuse to grow past the maximum where they can.
func TestLinearMemories(t *testing.T) {
	mapped := allocateLinearMemory(1<<16, 4<<16)
	if _, ok := mapped.(*mappedMemory); !ok {
		t.Fatalf("allocateLinearMemory gave %T, want a mapping", mapped)
	}
	defer mapped.Free()
	heap := &heapMemory{buf: make([]byte, 0, 1<<16)}
	defer heap.Free()
	for name, m := range map[string]interface {
		Reallocate(uint64) []byte
	}{"mapped": mapped, "heap": heap} {
		b := m.Reallocate(1 << 16)
		if len(b) != 1<<16 {
			t.Fatalf("%s: %d bytes, want %d", name, len(b), 1<<16)
		}
		b[100] = 7
		b = m.Reallocate(3 << 16)
		if len(b) != 3<<16 || b[100] != 7 {
			t.Fatalf("%s: grown to %d bytes with b[100] = %d, want %d and 7", name, len(b), b[100], 3<<16)
		}
	}
	if b := mapped.Reallocate(5 << 16); b != nil {
		t.Errorf("mapped memory grew to %d bytes past its maximum of %d", len(b), 4<<16)
	}
}
