package wasmbuild

import (
	"encoding/binary"
	"errors"
	"slices"
)

// mergeGap is the longest run of zero bytes between two data segments that
// MergeDataSegments fills in to join them. Go's linker starts a new
// segment at nearly every gap between its symbols (about 24,000 segments
// in a 2 MB guest, most gaps 17-32 bytes), and the host decodes each
// segment, evaluates its offset and copies it into every instance: about
// 12% of a Go guest's warm start (BENCHMARKS.md, "Go guests' data
// segments"). At 64 bytes they become 8-17 segments for ~260 KB of zeros.
const mergeGap = 64

var errDataSection = errors.New("data section not in the form MergeDataSegments rewrites")

type dataSeg struct {
	off  uint32
	data []byte
}

// MergeDataSegments returns wasm with the active data segments of memory 0
// that lie at most gap bytes apart joined into one, the bytes between them
// zero (what the memory holds there anyway). A module whose data section
// holds anything else (passive segments, other memories, offsets that are
// not constants, overlapping segments, a data count section) is returned
// unchanged, as is one that is not a wasm module at all.
func MergeDataSegments(wasm []byte, gap int) []byte {
	out, err := mergeDataSegments(wasm, gap)
	if err != nil {
		return wasm
	}
	return out
}

func mergeDataSegments(wasm []byte, gap int) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, errDataSection
	}
	out := append([]byte(nil), wasm[:8]...)
	for i := 8; i < len(wasm); {
		id := wasm[i]
		size, n := binary.Uvarint(wasm[i+1:])
		if n <= 0 || uint64(len(wasm)-i-1-n) < size {
			return nil, errDataSection
		}
		body := wasm[i+1+n : i+1+n+int(size)]
		next := i + 1 + n + int(size)
		switch id {
		case 12: // data count: would have to match
			return nil, errDataSection
		case 11:
			segs, err := readSegments(body)
			if err != nil {
				return nil, err
			}
			nb := writeSegments(joinSegments(segs, gap))
			out = append(out, 11)
			out = binary.AppendUvarint(out, uint64(len(nb)))
			out = append(out, nb...)
		default:
			out = append(out, wasm[i:next]...)
		}
		i = next
	}
	return out, nil
}

// readSegments reads a data section of active memory-0 segments whose
// offsets are i32.const.
func readSegments(b []byte) ([]dataSeg, error) {
	count, i, ok := uleb(b, 0)
	if !ok || count > uint64(len(b)) {
		return nil, errDataSection
	}
	segs := make([]dataSeg, 0, count)
	for range count {
		var flags, size uint64
		var off int64
		if flags, i, ok = uleb(b, i); !ok || flags != 0 || i >= len(b) || b[i] != 0x41 { // i32.const
			return nil, errDataSection
		}
		if off, i, ok = sleb(b, i+1); !ok || off < 0 || off > 1<<32-1 || i >= len(b) || b[i] != 0x0b { // end
			return nil, errDataSection
		}
		if size, i, ok = uleb(b, i+1); !ok || uint64(len(b)-i) < size {
			return nil, errDataSection
		}
		segs = append(segs, dataSeg{uint32(off), b[i : i+int(size)]})
		i += int(size)
	}
	if i != len(b) {
		return nil, errDataSection
	}
	slices.SortStableFunc(segs, func(a, b dataSeg) int { return int(int64(a.off) - int64(b.off)) })
	for k := 1; k < len(segs); k++ {
		if uint64(segs[k].off) < uint64(segs[k-1].off)+uint64(len(segs[k-1].data)) {
			// Overlapping segments are applied in order: sorting
			// would change what memory holds.
			return nil, errDataSection
		}
	}
	return segs, nil
}

// joinSegments joins sorted, disjoint segments at most gap bytes apart.
func joinSegments(segs []dataSeg, gap int) []dataSeg {
	var out []dataSeg
	for _, s := range segs {
		if k := len(out) - 1; k >= 0 {
			end := uint64(out[k].off) + uint64(len(out[k].data))
			if uint64(s.off)-end <= uint64(gap) {
				out[k].data = append(append(out[k].data, make([]byte, uint64(s.off)-end)...), s.data...)
				continue
			}
		}
		out = append(out, dataSeg{s.off, slices.Clip(s.data)})
	}
	return out
}

func writeSegments(segs []dataSeg) []byte {
	b := binary.AppendUvarint(nil, uint64(len(segs)))
	for _, s := range segs {
		b = append(b, 0, 0x41)
		b = appendSleb(b, int64(s.off))
		b = append(b, 0x0b)
		b = binary.AppendUvarint(b, uint64(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}

// uleb reads an unsigned LEB128 (binary.Uvarint's encoding) at b[i:].
func uleb(b []byte, i int) (uint64, int, bool) {
	if i > len(b) {
		return 0, i, false
	}
	v, n := binary.Uvarint(b[i:])
	return v, i + n, n > 0
}

// sleb reads a signed LEB128 at b[i:] (wasm's, not Go's zigzag varint).
func sleb(b []byte, i int) (int64, int, bool) {
	var v int64
	for shift := 0; i < len(b) && shift < 64; shift += 7 {
		c := b[i]
		i++
		v |= int64(c&0x7f) << shift
		if c < 0x80 {
			if shift+7 < 64 && c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v, i, true
		}
	}
	return 0, i, false
}

func appendSleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
