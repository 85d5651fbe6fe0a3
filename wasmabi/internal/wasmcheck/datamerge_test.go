package wasmcheck

import (
	"bytes"
	"context"
	"testing"

	"github.com/dataweaver/dataweaver/internal/leb128"
	"github.com/tetratelabs/wazero"
)

// secData is the data section's id.
const secData = 11

// dataSec is a data section of active segments for memory 0 at the
// given offsets, segment i holding bytes i+1 repeated lens[i] times.
func dataSec(offs []int32, lens []int) string {
	body := leb128.AppendU32(nil, uint32(len(offs)))
	for i, off := range offs {
		body = append(body, 0x00, 0x41)
		body = leb128.AppendS32(body, off)
		body = append(body, 0x0b)
		body = leb128.AppendU32(body, uint32(lens[i]))
		body = append(body, bytes.Repeat([]byte{byte(i + 1)}, lens[i])...)
	}
	return string(appendSection(nil, secData, body))
}

// memoryOf instantiates wasm and returns its first 64 KiB of memory.
func memoryOf(t *testing.T, wasm []byte) []byte {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := mod.ExportedMemory("memory").Read(0, 65536)
	if !ok {
		t.Fatal("memory read out of range")
	}
	return bytes.Clone(b)
}

// segmentCount is how many segments wasm's data section holds.
func segmentCount(t *testing.T, wasm []byte) int {
	t.Helper()
	r := &reader{b: wasm, off: 8}
	for r.off < len(wasm) {
		id, _ := r.byte()
		size, err := r.u32()
		if err != nil {
			t.Fatal(err)
		}
		if id == secData {
			n, _ := r.u32()
			return int(n)
		}
		_ = r.skip(int(size))
	}
	return 0
}

// TestLoopChecksMergeData: the rewrite also merges a module's small
// active segments (wasmdata.Merge, neighbours up to wasmdata.Gap bytes
// apart, in any order in the section) and an instance's memory holds the
// same bytes; segments that overlap, where the order they are written in
// matters, are left as they are. internal/wasmdata tests the merge's
// cases; this tests that LoopChecks' output carries it.
func TestLoopChecksMergeData(t *testing.T) {
	for _, c := range []struct {
		name string
		offs []int32
		lens []int
		want int // segments after
	}{
		// 100..107, a gap of 32, 140..146, a gap of 33, 180..; then an
		// earlier one listed last (as Go's data section has one).
		{"merged", []int32{100, 140, 180, 20, 40000}, []int{8, 7, 7, 80, 1}, 2},
		{"adjacent", []int32{10, 13, 16}, []int{3, 3, 3}, 1},
		{"overlapping", []int32{12, 10, 100}, []int{3, 3, 1}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			wasm := []byte(header + typeSec + funcSec + memSec + exportFM + spinCode + dataSec(c.offs, c.lens))
			checked, err := LoopChecks(wasm)
			if err != nil {
				t.Fatal(err)
			}
			if got := segmentCount(t, checked); got != c.want {
				t.Errorf("%d segments after, want %d", got, c.want)
			}
			if !bytes.Equal(memoryOf(t, checked), memoryOf(t, wasm)) {
				t.Error("the memory differs from the unchanged module's")
			}
		})
	}
}
