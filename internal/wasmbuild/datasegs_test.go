package wasmbuild

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// dataModule is a wasm header, a one-page memory and the given data section
// body (nil: none), plus a data count section when count >= 0.
func dataModule(data []byte, count int) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 5, 3, 1, 0, 1) // memory: one, min 1 page
	if count >= 0 {
		b = append(b, 12, 1, byte(count))
	}
	if data != nil {
		b = append(b, 11)
		b = binary.AppendUvarint(b, uint64(len(data)))
		b = append(b, data...)
	}
	return b
}

func segments(segs []dataSeg) []byte { return writeSegments(segs) }

// dataBody is the body of wasm's data section.
func dataBody(wasm []byte) []byte {
	for i := 8; i < len(wasm); {
		size, n := binary.Uvarint(wasm[i+1:])
		if wasm[i] == 11 {
			return wasm[i+1+n : i+1+n+int(size)]
		}
		i += 1 + n + int(size)
	}
	return nil
}

// image is the memory the module's data segments leave, by applying them
// in order.
func image(t *testing.T, wasm []byte) []byte {
	t.Helper()
	mem := make([]byte, 1<<16)
	segs, err := readSegmentsUnsorted(dataBody(wasm))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		copy(mem[s.off:], s.data)
	}
	return mem
}

// readSegmentsUnsorted is readSegments' parse without its sort and check.
func readSegmentsUnsorted(b []byte) ([]dataSeg, error) {
	count, i, _ := uleb(b, 0)
	var segs []dataSeg
	for range count {
		_, i, _ = uleb(b, i)
		off, j, _ := sleb(b, i+1)
		size, k, _ := uleb(b, j+1)
		segs = append(segs, dataSeg{uint32(off), b[k : k+int(size)]})
		i = k + int(size)
	}
	return segs, nil
}

func TestMergeDataSegments(t *testing.T) {
	in := dataModule(segments([]dataSeg{{200, []byte("gh")}, {0, []byte("ab")}, {10, []byte("cd")}, {76, []byte("ef")},
		{40000, []byte("far")}, {40003, []byte("adjacent")}}), -1)
	out := MergeDataSegments(in, 64)
	if !bytes.Equal(image(t, in), image(t, out)) {
		t.Fatal("merged segments leave a different memory")
	}
	segs, err := readSegments(dataBody(out))
	if err != nil {
		t.Fatal(err)
	}
	var offs []uint32
	for _, s := range segs {
		offs = append(offs, s.off)
	}
	// 0..12 and 76 join (gaps 8 and 64); 200 is 122 past 78; 40000 and 40003 touch.
	if want := []uint32{0, 200, 40000}; len(offs) != len(want) || offs[0] != want[0] || offs[1] != want[1] || offs[2] != want[2] {
		t.Errorf("segments at %v, want %v", offs, want)
	}
}

// TestMergeDataSegmentsLeavesOthers: what the merge does not understand
// comes back unchanged.
func TestMergeDataSegmentsLeavesOthers(t *testing.T) {
	for _, tc := range []struct {
		name string
		wasm []byte
	}{
		{"not wasm", []byte("hello, world")},
		{"no data section", dataModule(nil, -1)},
		{"a data count section", dataModule(segments([]dataSeg{{0, []byte("a")}, {4, []byte("b")}}), 2)},
		{"overlapping segments", dataModule(segments([]dataSeg{{0, []byte("abcd")}, {2, []byte("X")}}), -1)},
		{"a passive segment", dataModule([]byte{1, 1, 1, 'a'}, -1)},
		{"an offset from a global", dataModule([]byte{1, 0, 0x23, 0, 0x0b, 1, 'a'}, -1)},
		{"a truncated section", dataModule([]byte{2, 0, 0x41, 0, 0x0b, 5, 'a'}, -1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MergeDataSegments(tc.wasm, 64); !bytes.Equal(got, tc.wasm) {
				t.Errorf("changed: %x\nwant     %x", got, tc.wasm)
			}
		})
	}
}
