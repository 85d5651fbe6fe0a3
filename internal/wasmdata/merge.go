// Package wasmdata joins a wasm module's small data segments into a few.
//
// Go's linker writes a Go guest's initial memory as ~24,000 active data
// segments of a few bytes each, 9-32 bytes apart, and the host decodes
// every segment, evaluates its offset and copies it into every instance on
// every start (~12% of a warm Go-guest start, BENCHMARKS.md "Go guests'
// data segments"). Merge joins neighbours with the zeros between them.
// Both `weave build` (internal/wasmbuild, for the Go guests it builds) and
// the host's cached loop-check rewrite (wasmabi/internal/wasmcheck, for
// modules built otherwise) call it; with the same gap the second pass
// finds nothing left to join.
package wasmdata

import (
	"slices"

	"github.com/dataweaver/dataweaver/internal/leb128"
)

// Gap is the longest run of zero bytes Merge fills in between two
// segments. Go separates its symbols by 17-32 bytes: at 16 almost nothing
// joins (mask: 23,679 segments → 22,471); at 32 they become 69 for
// 257,520 more bytes, at 64 8 for 259,722 (bench/results/
// 2026-12-08-datamerge-gap.txt): 64 saves the per-segment work left at 32
// for 0.1% more size. Go's remaining gaps are large holes, which a larger
// gap would start filling with zeros every start decodes and hashes.
const Gap = 64

// Section ids.
const (
	secImport    = 2
	secMemory    = 5
	secData      = 11
	secDataCount = 12
)

type segment struct {
	off  uint32
	data []byte
}

// Merge returns wasm with the active data segments at most gap bytes
// apart joined into one, the bytes between them zero, and whether it
// joined any. It does so only where the result provably initialises
// memory to the same bytes:
//
//   - the memory is the module's own (declared, not imported): a fresh
//     one is all zeros, so a zero written into a gap changes nothing,
//     where an imported memory's gap may hold bytes of the importer's;
//   - every segment is active, for memory 0, at an i32.const offset;
//   - no two segments overlap: then the order they are applied in does
//     not matter and no gap holds another segment's bytes;
//   - there is no data count section (memory.init and data.drop name
//     segments by index).
//
// An instance whose segments do not fit its memory fails as before: each
// joined segment starts and ends where originals did. Anything else, or
// anything Merge does not understand (a truncated section, a second data
// section, not wasm at all), comes back unchanged with false: Merge never
// turns a module the runtime would accept into one it rejects.
func Merge(wasm []byte, gap int) (out []byte, merged bool) {
	if gap < 0 || len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return wasm, false
	}
	type section struct{ id, start, end, hdr int }
	var secs []section
	ownMemory, dataSec := false, -1
	for r := (reader{wasm, 8}); r.off < len(wasm); {
		hdr := r.off
		id, ok1 := r.byte()
		size, ok2 := r.u32()
		if !ok1 || !ok2 || uint64(len(wasm)-r.off) < uint64(size) {
			return wasm, false
		}
		s := section{int(id), r.off, r.off + int(size), hdr}
		r.off = s.end
		switch s.id {
		case secImport:
			imported, ok := importsMemory(reader{wasm[:s.end], s.start})
			if imported || !ok {
				return wasm, false
			}
		case secMemory:
			sr := reader{wasm[:s.end], s.start}
			n, ok := sr.u32()
			if !ok {
				return wasm, false
			}
			ownMemory = n > 0
		case secDataCount:
			return wasm, false
		case secData:
			if dataSec >= 0 {
				return wasm, false
			}
			dataSec = len(secs)
		}
		secs = append(secs, s)
	}
	if !ownMemory || dataSec < 0 {
		return wasm, false
	}
	d := secs[dataSec]
	segs, ok := readSegments(reader{wasm[:d.end], d.start})
	if !ok {
		return wasm, false
	}
	joined := join(segs, gap)
	if len(joined) == len(segs) {
		return wasm, false
	}
	body := writeSegments(joined)
	out = make([]byte, 0, len(wasm)-(d.end-d.hdr)+len(body)+6)
	out = append(out, wasm[:d.hdr]...)
	out = append(out, secData)
	out = leb128.AppendU32(out, uint32(len(body)))
	out = append(out, body...)
	out = append(out, wasm[d.end:]...)
	return out, true
}

// importsMemory reports whether the import section read by r imports a
// memory; ok is false when it cannot tell.
func importsMemory(r reader) (memory, ok bool) {
	n, ok := r.u32()
	if !ok {
		return false, false
	}
	for range n {
		for range 2 { // module and field names
			l, ok := r.u32()
			if !ok || !r.skip(int(l)) {
				return false, false
			}
		}
		kind, ok := r.byte()
		if !ok {
			return false, false
		}
		switch kind {
		case 0x00: // function: type index
			_, ok = r.u32()
		case 0x01: // table: reference type, limits
			if _, ok = r.byte(); ok {
				ok = r.limits()
			}
		case 0x02: // memory
			return true, true
		case 0x03: // global: value type, mutability
			ok = r.skip(2)
		default: // a tag, or something newer: do not guess
			return false, false
		}
		if !ok {
			return false, false
		}
	}
	return false, r.off == len(r.b)
}

// readSegments reads a data section of active memory-0 segments at
// i32.const offsets, sorted by offset; ok is false for anything else,
// overlapping segments included.
func readSegments(r reader) ([]segment, bool) {
	n, ok := r.u32()
	if !ok || uint64(n) > uint64(len(r.b)) {
		return nil, false
	}
	segs := make([]segment, 0, n)
	for range n {
		flags, ok1 := r.u32()
		op, ok2 := r.byte()
		if !ok1 || !ok2 || flags != 0 || op != 0x41 { // active, memory 0; i32.const
			return nil, false
		}
		off, ok1 := r.s32()
		end, ok2 := r.byte()
		if !ok1 || !ok2 || end != 0x0b {
			return nil, false
		}
		l, ok := r.u32()
		start := r.off
		if !ok || !r.skip(int(l)) {
			return nil, false
		}
		// i32.const's value is an unsigned address.
		segs = append(segs, segment{uint32(off), r.b[start:r.off]})
	}
	if r.off != len(r.b) {
		return nil, false
	}
	slices.SortStableFunc(segs, func(a, b segment) int {
		switch {
		case a.off < b.off:
			return -1
		case a.off > b.off:
			return 1
		}
		return 0
	})
	for i := 1; i < len(segs); i++ {
		if uint64(segs[i-1].off)+uint64(len(segs[i-1].data)) > uint64(segs[i].off) {
			return nil, false // overlapping: the order would matter
		}
	}
	return segs, true
}

// join joins sorted, disjoint segments at most gap bytes apart.
func join(segs []segment, gap int) []segment {
	var out []segment
	for _, s := range segs {
		if k := len(out) - 1; k >= 0 {
			end := uint64(out[k].off) + uint64(len(out[k].data))
			if z := uint64(s.off) - end; z <= uint64(gap) {
				// out[k].data starts clipped (below): the first
				// append copies, never writing into the module.
				out[k].data = append(append(out[k].data, make([]byte, z)...), s.data...)
				continue
			}
		}
		out = append(out, segment{s.off, slices.Clip(s.data)})
	}
	return out
}

func writeSegments(segs []segment) []byte {
	b := leb128.AppendU32(nil, uint32(len(segs)))
	for _, s := range segs {
		b = append(b, 0x00, 0x41)
		b = leb128.AppendS32(b, int32(s.off))
		b = append(b, 0x0b)
		b = leb128.AppendU32(b, uint32(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}
