package parquet

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// bufPool is the memory.Allocator the writer gives arrow-go: it keeps the
// buffers arrow-go frees and hands them out again.
//
// arrow-go's column writers take a fresh buffer for every page they
// encode and compress, and grow each column chunk's in-memory copy by
// reallocating and copying it (twice its final size in all): 140 MB
// through the allocator to write 23 MB of W2's output, 6 times the file.
// With Go's allocator each of those is new zeroed memory, which is page
// faults, clearing and garbage collection (BENCH_NOTES.md); the same few
// dozen buffers, kept here, serve every page and row group of the file.
//
// Buffers come in power-of-two sizes from 4 KiB (smaller ones go straight
// to the underlying allocator) and are cleared when handed out again, so
// arrow-go sees what it sees from Go's allocator: zeroed memory. At most
// poolBytes are kept; Close gives them back to the underlying allocator
// (so a checked allocator still sees every byte returned) and later frees
// go straight to it.
type bufPool struct {
	under memory.Allocator
	mu    sync.Mutex
	free  [64][][]byte // by log2 of the size; each as under allocated it
	kept  int          // bytes in free
	// full: the slice under returned for each buffer handed out, by the
	// address of its first byte, to free it as allocated.
	full   map[*byte][]byte
	closed bool
}

const (
	poolMinBytes = 4 << 10
	poolBytes    = 64 << 20
)

func newBufPool(under memory.Allocator) *bufPool {
	return &bufPool{under: under, full: make(map[*byte][]byte)}
}

// sizeClass returns the power-of-two class of a request, and false for
// requests too small to pool.
func sizeClass(size int) (int, bool) {
	if size < poolMinBytes {
		return 0, false
	}
	return bits.Len(uint(size - 1)), true
}

func (p *bufPool) Allocate(size int) []byte {
	class, ok := sizeClass(size)
	if !ok {
		return p.under.Allocate(size)
	}
	p.mu.Lock()
	var buf []byte
	if n := len(p.free[class]); n > 0 {
		buf = p.free[class][n-1]
		p.free[class] = p.free[class][:n-1]
		p.kept -= len(buf)
	}
	p.mu.Unlock()
	if buf != nil {
		clear(buf)
	} else {
		buf = p.under.Allocate(1 << class)
	}
	p.mu.Lock()
	p.full[&buf[0]] = buf
	p.mu.Unlock()
	// The capacity is the class's: Reallocate within it keeps the buffer.
	return buf[:size]
}

func (p *bufPool) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *bufPool) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	full, ours := p.full[&b[:1][0]]
	if !ours {
		p.mu.Unlock()
		p.under.Free(b)
		return
	}
	delete(p.full, &full[0])
	class, _ := sizeClass(len(full))
	keep := !p.closed && p.kept+len(full) <= poolBytes
	if keep {
		p.free[class] = append(p.free[class], full)
		p.kept += len(full)
	}
	p.mu.Unlock()
	if !keep {
		p.under.Free(full)
	}
}

// Close gives the kept buffers back to the underlying allocator; buffers
// freed later go straight to it.
func (p *bufPool) Close() {
	p.mu.Lock()
	var out [][]byte
	for c := range p.free {
		out = append(out, p.free[c]...)
		p.free[c] = nil
	}
	p.kept, p.closed = 0, true
	p.mu.Unlock()
	for _, b := range out {
		p.under.Free(b)
	}
}
