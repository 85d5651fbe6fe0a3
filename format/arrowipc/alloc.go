package arrowipc

import (
	"sync"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// openAllocator works around a leak in arrow-go v15: ipc.FileReader reads
// every dictionary while it opens the file, keeps them in a memo, and its
// Close never releases that memo. With a checked or C allocator those
// buffers would be reported as leaked (or really leak).
//
// While the file is being opened, openAllocator serves allocations from Go's
// garbage-collected allocator and remembers them; once opened (done called),
// it serves everything from the caller's allocator. Frees are routed to
// whichever allocator made the buffer, so dictionaries are reclaimed by the
// GC when no record refers to them any more, and record buffers stay on the
// caller's allocator where leak checks can see them.
type openAllocator struct {
	mu      sync.Mutex
	opening bool
	gc      memory.Allocator
	mem     memory.Allocator
	fromGC  map[uintptr]bool
}

func newOpenAllocator(mem memory.Allocator) *openAllocator {
	return &openAllocator{opening: true, gc: memory.NewGoAllocator(), mem: mem, fromGC: map[uintptr]bool{}}
}

func key(b []byte) uintptr {
	if cap(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(b[:1])))
}

func (a *openAllocator) done() {
	a.mu.Lock()
	a.opening = false
	a.mu.Unlock()
}

func (a *openAllocator) Allocate(size int) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.opening {
		b := a.gc.Allocate(size)
		a.fromGC[key(b)] = true
		return b
	}
	return a.mem.Allocate(size)
}

func (a *openAllocator) Reallocate(size int, b []byte) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := key(b)
	if a.fromGC[k] {
		delete(a.fromGC, k)
		nb := a.gc.Reallocate(size, b)
		a.fromGC[key(nb)] = true
		return nb
	}
	return a.mem.Reallocate(size, b)
}

func (a *openAllocator) Free(b []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := key(b)
	if a.fromGC[k] {
		delete(a.fromGC, k)
		a.gc.Free(b)
		return
	}
	a.mem.Free(b)
}
