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
// to the underlying allocator) and are cleared as far as they are handed
// out again (and further as Reallocate grows them), so arrow-go sees what
// it sees from Go's allocator: zeroed memory, and its own bytes kept
// across a shrink and a regrow. At most
// poolBytes are kept; Close gives them back to the underlying allocator
// (so a checked allocator still sees every byte returned) and later frees
// go straight to it.
type bufPool struct {
	under memory.Allocator
	mu    sync.Mutex
	free  [64][][]byte // by log2 of the size; each as under allocated it
	kept  int          // bytes in free
	// out: the buffers handed out, by the address of their first byte.
	out    map[*byte]*pooled
	closed bool
}

// pooled is a buffer handed out.
type pooled struct {
	full []byte // as under allocated it, to free it so
	// zeroTo: bytes from here on are zero (never handed out since they
	// were cleared), so growing into them needs no clearing.
	zeroTo int
}

const (
	poolMinBytes = 4 << 10
	poolBytes    = 64 << 20
)

func newBufPool(under memory.Allocator) *bufPool {
	return &bufPool{under: under, out: make(map[*byte]*pooled)}
}

// sizeClass returns the power-of-two class of a request, and false for
// requests too small to pool.
func sizeClass(size int) (int, bool) {
	if size < poolMinBytes {
		return 0, false
	}
	return bits.Len(uint(size - 1)), true
}

func (p *bufPool) Allocate(size int) []byte { return p.allocate(size, nil) }

// allocate returns a buffer of size bytes starting with a copy of keep
// and zero after it.
func (p *bufPool) allocate(size int, keep []byte) []byte {
	class, ok := sizeClass(size)
	if !ok {
		buf := p.under.Allocate(size)
		copy(buf, keep)
		return buf
	}
	p.mu.Lock()
	var full []byte
	if n := len(p.free[class]); n > 0 {
		full = p.free[class][n-1]
		p.free[class] = p.free[class][:n-1]
		p.kept -= len(full)
	}
	p.mu.Unlock()
	fresh := full == nil
	if fresh {
		full = p.under.Allocate(1 << class)
	}
	copy(full, keep)
	zeroTo := len(full) // fresh memory is zero
	if !fresh {
		// A reused buffer is cleared only as far as it is handed out;
		// Reallocate clears the rest as the buffer grows into it.
		clear(full[len(keep):size])
		zeroTo = size
	}
	p.mu.Lock()
	p.out[&full[0]] = &pooled{full: full, zeroTo: zeroTo}
	p.mu.Unlock()
	// The capacity is the class's: Reallocate within it keeps the buffer.
	return full[:size]
}

func (p *bufPool) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		if size > len(b) && cap(b) > 0 {
			p.mu.Lock()
			if pb := p.out[&b[:1][0]]; pb != nil && pb.zeroTo < size {
				clear(pb.full[pb.zeroTo:size])
				pb.zeroTo = size
			}
			p.mu.Unlock()
		}
		return b[:size]
	}
	nb := p.allocate(size, b)
	p.Free(b)
	return nb
}

func (p *bufPool) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	pb := p.out[&b[:1][0]]
	if pb == nil {
		p.mu.Unlock()
		p.under.Free(b)
		return
	}
	full := pb.full
	delete(p.out, &full[0])
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
