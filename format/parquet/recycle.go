package parquet

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// recycler is the reader's allocator: it keeps the buffers of released
// batches and hands them out again, zeroed, for the next ones. Each batch
// of a flat file is built from fresh buffers of about the same sizes
// (values, offsets, dictionary indices); from the Go allocator, each is a
// large allocation the runtime zeroes in pages not yet touched, and
// leaves for the collector: 16% of the reader's CPU on the orders table
// (BENCHMARKS.md, "The reader's buffers recycled").
//
// A buffer comes back only through Free, which memory.Buffer calls when
// its reference count drops to zero, i.e. when the last holder of the
// batch (a stage, the sink after writing it) has released it; a buffer
// never released is left to the collector as before. Free may be called
// from any goroutine, after the reader is closed too: then, and when the
// pool is full, buffers go back to the allocator they came from.
type recycler struct {
	mem memory.Allocator // where new buffers come from and spare ones go

	mu     sync.Mutex
	free   map[int][][]byte // by size class
	held   int              // bytes in free
	closed bool
	reused int // buffers handed out again, for tests
}

// recyclePoison, set by tests, fills each buffer kept for reuse with
// 0xA5, so a batch read after its release no longer holds its values.
var recyclePoison bool

const (
	// recycleMin: smaller buffers (validity bitmaps, dictionaries of a
	// few values) are not worth the lock.
	recycleMin = 4 << 10
	// recycleMax caps the bytes kept: a few batches in flight of a wide
	// table. Beyond it a released buffer goes back to mem.
	recycleMax = 64 << 20
)

func newRecycler(mem memory.Allocator) *recycler {
	return &recycler{mem: mem, free: make(map[int][][]byte)}
}

// sizeClass rounds n up to one of 8 steps per power of two, so a buffer
// is at most 1/8 larger than asked and batches of slightly different
// sizes share buffers.
func sizeClass(n int) int {
	step := 1 << (bits.Len(uint(n-1)) - 4) // n > 8
	return (n + step - 1) &^ (step - 1)
}

func (r *recycler) Allocate(size int) []byte {
	if size < recycleMin {
		return r.mem.Allocate(size)
	}
	class := sizeClass(size)
	r.mu.Lock()
	// The next class up too: a batch's string values vary in size.
	for _, c := range [2]int{class, sizeClass(class + 1)} {
		if list := r.free[c]; len(list) > 0 {
			b := list[len(list)-1]
			list[len(list)-1] = nil
			r.free[c] = list[:len(list)-1]
			r.held -= c
			r.reused++
			r.mu.Unlock()
			// Allocators hand out zeroed memory and builders rely on it.
			clear(b)
			return b[:size]
		}
	}
	r.mu.Unlock()
	return r.mem.Allocate(class)[:size]
}

func (r *recycler) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		// As memory.GoAllocator: the tail up to cap is still zero, since
		// buffers are zeroed to their capacity when handed out and
		// memory.Buffer only shrinks by reslicing.
		return b[:size]
	}
	out := r.Allocate(size)
	copy(out, b)
	if cap(b) > 0 {
		r.Free(b)
	}
	return out
}

func (r *recycler) Free(b []byte) {
	c := cap(b)
	b = b[:c]
	if c < recycleMin || sizeClass(c) != c {
		r.mem.Free(b)
		return
	}
	r.mu.Lock()
	if r.closed || r.held+c > recycleMax {
		r.mu.Unlock()
		r.mem.Free(b)
		return
	}
	if recyclePoison {
		for i := range b {
			b[i] = 0xA5
		}
	}
	r.free[c] = append(r.free[c], b)
	r.held += c
	r.mu.Unlock()
}

// close hands the spare buffers back to mem; buffers of batches still
// held go back there when they are released.
func (r *recycler) close() {
	r.mu.Lock()
	free := r.free
	r.free, r.held, r.closed = nil, 0, true
	r.mu.Unlock()
	for _, list := range free {
		for _, b := range list {
			r.mem.Free(b)
		}
	}
}
