package wasmabi

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// outPool recycles the host buffers a stage copies its guests' output
// columns into. Without it every written column of every batch was a
// fresh allocation from the stage's allocator, which the Go allocator
// zeroes before the copy overwrites it and the collector later sweeps:
// for gcd's 4 KiB column, about 1 µs of a ~8 µs batch (BENCHMARKS.md,
// "gcd: arrow-udf's benchmark"). A buffer comes back here when the
// downstream's last reference is released (Arrow's refcount reaching zero
// calls Free), and the next batch's column of the same size class reuses
// it, still warm in the cache.
//
// Every buffer the pool hands out was allocated from the stage's
// allocator and goes back to it: when the pool is full, and at Close for
// the idle ones. A checked allocator therefore sees the idle buffers as
// allocated until the stage closes, as it should: they are memory the
// stage holds. A batch still held downstream after Close is freed to the
// allocator directly when released.
//
// The guest's memory itself is never handed on (zero copy): the next call
// overwrites it while the batch may still be in a sink's queue
// (RATIONALE.md).
type outPool struct {
	mem memory.Allocator

	mu     sync.Mutex
	free   [][]byte // idle buffers, each of a size class's length
	idle   int      // bytes in free
	closed bool
}

// The pool keeps at most this many idle buffers and bytes per stage:
// enough for a few batches' columns in flight between a stage and its
// sink (W1's mask column at 64K rows is ~1.6 MiB), without holding on
// to the peak of a burst.
const (
	poolIdleBufs  = 32
	poolIdleBytes = 8 << 20
)

func newOutPool(mem memory.Allocator) *outPool { return &outPool{mem: mem} }

// unpooled hands out buffers from mem that go back to it when released:
// for a nested column's leaves (nested_result.go), which keep no pool.
func unpooled(mem memory.Allocator) *outPool { return &outPool{mem: mem, closed: true} }

// sizeClass rounds n up to one of eight classes per power of two (at
// most 1/8 more than asked), multiples of 64 bytes, so var-width columns
// whose size changes batch to batch still find a buffer to reuse.
func sizeClass(n int) int {
	if n <= 512 {
		return (n + 63) &^ 63
	}
	step := 1 << (bits.Len(uint(n-1)) - 4)
	return (n + step - 1) &^ (step - 1)
}

// buffer returns a buffer of length n whose first n bytes the caller
// overwrites; the rest of its size class is zero, as a fresh
// allocation's would be.
func (p *outPool) buffer(n int) *memory.Buffer {
	c := sizeClass(n)
	var b []byte
	p.mu.Lock()
	for i := len(p.free) - 1; i >= 0; i-- {
		if len(p.free[i]) == c {
			b = p.free[i]
			last := len(p.free) - 1
			p.free[i] = p.free[last]
			p.free[last] = nil
			p.free = p.free[:last]
			p.idle -= c
			break
		}
	}
	p.mu.Unlock()
	if b == nil {
		b = p.mem.Allocate(c)
	} else {
		clear(b[n:])
	}
	buf := memory.NewBufferWithAllocator(b, p)
	// Len n over the class's whole slice: Release hands Free the whole
	// slice back.
	buf.ResizeNoShrink(n)
	return buf
}

// Free takes back a buffer whose last reference was released
// (memory.Allocator; Arrow calls it from whichever goroutine released it).
func (p *outPool) Free(b []byte) {
	p.mu.Lock()
	if !p.closed && len(b) == sizeClass(len(b)) && len(p.free) < poolIdleBufs && p.idle+len(b) <= poolIdleBytes {
		p.free = append(p.free, b)
		p.idle += len(b)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.mem.Free(b)
}

// Allocate and Reallocate complete memory.Allocator for a buffer someone
// resizes; its new memory is the stage allocator's as any other.
func (p *outPool) Allocate(n int) []byte { return p.mem.Allocate(n) }

func (p *outPool) Reallocate(n int, b []byte) []byte { return p.mem.Reallocate(n, b) }

// close frees the idle buffers; buffers released later go straight back
// to the allocator.
func (p *outPool) close() {
	p.mu.Lock()
	free := p.free
	p.free, p.idle, p.closed = nil, 0, true
	p.mu.Unlock()
	for _, b := range free {
		p.mem.Free(b)
	}
}
