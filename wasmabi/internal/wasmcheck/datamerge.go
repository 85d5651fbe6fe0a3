package wasmcheck

import (
	"fmt"
	"slices"
)

// A Go guest's data section holds ~23,600 active segments, most of a few
// bytes 9-32 bytes apart (0.59 MB of data over 1 MB of memory). wazero
// decodes, validates and, for every instance, evaluates and copies each
// one: ~5 ms of CPU per Go module per process start, and ~2 ms per
// instance, with the compile cache warm (BENCHMARKS.md). mergeData
// rewrites such a section into a few segments, filling the gaps of up to
// mergeGap bytes with zeros.
//
// The result initialises memory to the same bytes: it merges only when
// the memory is the module's own (zeroed when an instance is made, so a
// zero written into a gap changes nothing) and every segment is active,
// for memory 0, at an i32.const offset, with no two overlapping (then the
// order they are applied in does not matter, and no gap holds another
// segment's bytes). An instance whose segments do not fit its memory
// fails as before: each merged segment ends where one of the originals
// does. A module with a data count section is left alone (memory.init and
// data.drop name segments by index).

// mergeGap is the largest gap merged: a Go guest's small segments are
// 9-32 bytes apart (at 32, 23,624 segments become 70 and 0.42 MB of
// zeros are added; 16 would leave 22,418).
const mergeGap = 32

// secData and secDataCount are the data and data count sections' ids.
const (
	secData      = 11
	secDataCount = 12
)

type dataSegment struct {
	off  uint32
	data []byte
}

// mergeData returns the data section's contents with neighbouring
// segments merged, or ok false when it must be left as it is.
func mergeData(r *reader) (body []byte, ok bool, err error) {
	n, err := r.u32()
	if err != nil {
		return nil, false, err
	}
	segs := make([]dataSegment, 0, n)
	for range n {
		flags, err := r.u32()
		if err != nil {
			return nil, false, err
		}
		op, err := r.byte()
		if err != nil {
			return nil, false, err
		}
		if flags != 0 || op != 0x41 { // active, memory 0; i32.const
			return nil, false, nil
		}
		off, err := r.s32()
		if err != nil {
			return nil, false, err
		}
		if end, err := r.byte(); err != nil || end != 0x0b {
			return nil, false, err
		}
		l, err := r.u32()
		if err != nil {
			return nil, false, err
		}
		start := r.off
		if err := r.skip(int(l)); err != nil {
			return nil, false, err
		}
		segs = append(segs, dataSegment{uint32(off), r.b[start:r.off]})
	}
	if r.off != len(r.b) {
		return nil, false, r.fail("data section: %d bytes after its segments", len(r.b)-r.off)
	}
	slices.SortStableFunc(segs, func(a, b dataSegment) int {
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
			return nil, false, nil // overlapping: the order would matter
		}
	}
	var merged []dataSegment
	var buf []byte
	for i, s := range segs {
		if i > 0 {
			last := &merged[len(merged)-1]
			end := uint64(last.off) + uint64(len(last.data))
			if gap := uint64(s.off) - end; gap <= mergeGap {
				buf = append(buf, make([]byte, gap)...)
				buf = append(buf, s.data...)
				last.data = buf
				continue
			}
		}
		buf = append([]byte(nil), s.data...)
		merged = append(merged, dataSegment{s.off, buf})
	}
	body = appendU32(nil, uint32(len(merged)))
	for _, s := range merged {
		body = append(body, 0x00, 0x41)
		body = appendS32(body, int32(s.off))
		body = append(body, 0x0b)
		body = appendU32(body, uint32(len(s.data)))
		body = append(body, s.data...)
	}
	return body, true, nil
}

// s32 reads a signed LEB128 of at most 32 bits.
func (r *reader) s32() (int32, error) {
	var v int32
	var shift uint
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= int32(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 32 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: an s32 longer than 5 bytes", ErrMalformed)
}
