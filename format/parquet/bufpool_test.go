package parquet

import (
	"bytes"
	"testing"
)

// TestBufPool: what a buffer shows is zero, also when it is reused and
// when it grows into bytes an earlier user wrote; a shrink and a regrow
// keep the bytes (as Go's allocator does); growing past the class moves
// the contents; small requests and frees after Close go to the
// underlying allocator, which gets every byte back (checkedMem asserts
// it).
func TestBufPool(t *testing.T) {
	mem := checkedMem(t)
	p := newBufPool(mem)
	zero := func(b []byte) bool { return bytes.Count(b, []byte{0}) == len(b) }
	fill := func(b []byte, v byte) {
		for i := range b {
			b[i] = v
		}
	}

	a := p.Allocate(5000)
	if len(a) != 5000 || cap(a) != 8192 || !zero(a) {
		t.Fatalf("Allocate(5000): len %d cap %d, zeroed %v", len(a), cap(a), zero(a))
	}
	fill(a, 0xff)
	grown := p.Reallocate(8000, a)
	if &grown[0] != &a[0] || grown[4999] != 0xff || !zero(grown[5000:]) {
		t.Fatal("Reallocate within the class moved the buffer, lost its contents or showed non-zero bytes")
	}
	fill(grown, 0xff)
	back := p.Reallocate(8000, p.Reallocate(100, grown))
	if bytes.Count(back, []byte{0xff}) != 8000 {
		t.Fatal("a shrink and a regrow lost the bytes")
	}
	p.Free(back)

	again := p.Allocate(6000)
	if &again[0] != &a[0] {
		t.Error("a freed buffer was not reused")
	}
	if !zero(again) {
		t.Fatal("a reused buffer is not zeroed")
	}
	full := p.Reallocate(8192, again)
	if !zero(full) {
		t.Fatal("growing a reused buffer showed an earlier user's bytes")
	}
	fill(full[:10], 7)
	moved := p.Reallocate(20000, full[:10])
	if cap(moved) != 32768 || bytes.Count(moved[:10], []byte{7}) != 10 || !zero(moved[10:]) {
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
