package main

import (
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

// maskFastGo is the fast path of maskRows, row i on, in Go: it masks each
// row whose value is 1-32 bytes, starts with an ASCII byte, is valid, lies
// at least 32 bytes from both ends of data, and has 36 bytes of room in
// vals past p, and stops at the first row that is not such a row (or at
// n). Row k's output end goes to oo[k-i]. It returns that row and the new
// length of vals. The last '@' is found from four 8-byte loads ending at
// the value's end, and the output is written as one 4-byte store (first
// byte and "***") plus four 8-byte copies (the domain, at most 31 bytes):
// bytes written past the row's end are scratch the next row overwrites.
//
// On wasm maskFast is kernel_wasm.s, the same loop written as one wasm
// loop: the Go compiler's wasm code for this function (a loop around a
// br_table over its blocks, values spilled to the Go stack) cost ~30 ns a
// row against C's ~12 (BENCHMARKS.md, "The guests' own CPU per row").
func maskFastGo(data *byte, dataLen int, offs *int32, i, n int, valid *byte, vals *byte, p, capv int, oo *int32) (next, q int) {
	src := unsafe.Pointer(data)
	for ; i < n; i++ {
		o0 := int(*(*int32)(unsafe.Add(unsafe.Pointer(offs), 4*i)))
		o1 := int(*(*int32)(unsafe.Add(unsafe.Pointer(offs), 4*i+4)))
		if !(uint(o1-o0-1) < 32 && o1 >= 32 && o1+32 <= dataLen && *(*byte)(unsafe.Add(src, o0)) < utf8.RuneSelf &&
			*(*byte)(unsafe.Add(unsafe.Pointer(valid), i>>3))&(1<<(i&7)) != 0 && capv-p >= 36) {
			break
		}
		// The last '@' at index 1 or more of the value, from the four
		// words ending at o1 (atIn inlines); the tail is data[from:o1],
		// the last '@' on, or nothing.
		from := atIn(src, o1-32, o0, o1)
		from = atIn(src, o1-24, o0, from)
		from = atIn(src, o1-16, o0, from)
		from = atIn(src, o1-8, o0, from)
		dst := unsafe.Add(unsafe.Pointer(vals), p)
		*(*uint32)(dst) = uint32(*(*byte)(unsafe.Add(src, o0))) | '*'<<8 | '*'<<16 | '*'<<24
		s := unsafe.Add(src, from)
		*(*uint64)(unsafe.Add(dst, 4)) = *(*uint64)(s)
		*(*uint64)(unsafe.Add(dst, 12)) = *(*uint64)(unsafe.Add(s, 8))
		*(*uint64)(unsafe.Add(dst, 20)) = *(*uint64)(unsafe.Add(s, 16))
		*(*uint64)(unsafe.Add(dst, 28)) = *(*uint64)(unsafe.Add(s, 24))
		p += 4 + o1 - from
		*oo = int32(p)
		oo = (*int32)(unsafe.Add(unsafe.Pointer(oo), 4))
	}
	return i, p
}

// atIn returns the position in data of the last '@' in the word at
// data[start:start+8] if it lies after o0 (so at index 1 or more of the
// value starting at o0), else pos. Branch-free: the highest '@' of the
// word is the only candidate, since a later word overrides it.
func atIn(base unsafe.Pointer, start, o0, pos int) int {
	const (
		low7 = 0x7f7f7f7f7f7f7f7f
		at   = '@' * 0x0101010101010101
	)
	x := *(*uint64)(unsafe.Add(base, start)) ^ at
	// High bit set in each byte of x that is zero (exact: no borrow
	// between bytes), i.e. each '@'.
	z := ^(((x & low7) + low7) | x | low7)
	// h is 8*(index of the last '@' byte)+8, or 0 when there is none;
	// then nz is 0 and cand is -1, which never passes cand > o0.
	h := 64 - bits.LeadingZeros64(z)
	nz := (h | -h) >> 63
	cand := (start + h>>3 - 1) | ^nz
	// pos = cand if cand > o0, in arithmetic: an `if` here would be a jump,
	// since the compiler keeps branches for values that feed a load
	// address (the tail copy below).
	m := (o0 - cand) >> 63
	return pos ^ (pos^cand)&m
}
