package parquet

import (
	"bytes"
	"testing"
)

// TestBufPool: buffers handed out are zeroed, also when reused; growing
// within the size class keeps the contents; small requests and frees
// after Close go to the underlying allocator, which gets every byte back
// (checkedMem asserts it).
func TestBufPool(t *testing.T) {
	mem := checkedMem(t)
	p := newBufPool(mem)
	zero := func(b []byte) bool { return bytes.Count(b, []byte{0}) == len(b) }

	a := p.Allocate(5000)
	if len(a) != 5000 || cap(a) != 8192 || !zero(a[:cap(a)]) {
		t.Fatalf("Allocate(5000): len %d cap %d, zeroed %v", len(a), cap(a), zero(a[:cap(a)]))
	}
	for i := range a {
		a[i] = 0xff
	}
	grown := p.Reallocate(7000, a)
	if &grown[0] != &a[0] || grown[4999] != 0xff || !zero(grown[5000:]) {
		t.Fatal("Reallocate within the class moved the buffer or lost its contents")
	}
	p.Free(grown)
	again := p.Allocate(6000)
	if &again[0] != &a[0] {
		t.Error("a freed buffer was not reused")
	}
	if !zero(again[:cap(again)]) {
		t.Fatal("a reused buffer is not zeroed")
	}
	moved := p.Reallocate(20000, again[:10])
	if cap(moved) != 32768 || !zero(moved) {
		t.Fatal("Reallocate past the class")
	}
	small := p.Allocate(100)
	if len(small) != 100 {
		t.Fatalf("Allocate(100): len %d", len(small))
	}
	p.Free(small)
	kept := p.Allocate(70000)
	p.Close()
	p.Free(moved)
	p.Free(kept)
}
