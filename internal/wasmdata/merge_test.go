package wasmdata

import (
	"bytes"
	"context"
	"testing"

	"github.com/dataweaver/dataweaver/internal/leb128"
	"github.com/tetratelabs/wazero"
)

const (
	header    = "\x00asm\x01\x00\x00\x00"
	memSec    = "\x05\x03\x01\x00\x01"                      // one page
	exportMem = "\x07\x0a\x01\x06memory\x02\x00"            // memory 0 as "memory"
	importMem = "\x02\x0f\x01\x03env\x06memory\x02\x00\x01" // env.memory, one page
)

// seg is a segment of a test's data section.
type seg struct {
	off  int32
	data string
}

// dataBody is a data section's contents: active segments for memory 0.
func dataBody(segs ...seg) []byte {
	b := leb128.AppendU32(nil, uint32(len(segs)))
	for _, s := range segs {
		b = append(b, 0x00, 0x41)
		b = leb128.AppendS32(b, s.off)
		b = append(b, 0x0b)
		b = leb128.AppendU32(b, uint32(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}

func section(id byte, body []byte) string {
	return string(append(leb128.AppendU32([]byte{id}, uint32(len(body))), body...))
}

// module is a module with its own one-page memory, exported, and body as
// its data section.
func module(body []byte) []byte {
	return []byte(header + memSec + exportMem + section(secData, body))
}

// segmentCount is how many segments wasm's data section holds (-1: none).
func segmentCount(wasm []byte) int {
	for r := (reader{wasm, 8}); r.off < len(wasm); {
		id, _ := r.byte()
		size, _ := r.u32()
		if id == secData {
			n, _ := r.u32()
			return int(n)
		}
		r.off += int(size)
	}
	return -1
}

// memoryOf instantiates wasm with wazero and returns its whole memory, or
// the error instantiating it.
func memoryOf(t testing.TB, wasm []byte) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		return nil, err
	}
	mem := mod.ExportedMemory("memory")
	if mem == nil {
		return nil, nil
	}
	b, _ := mem.Read(0, mem.Size())
	return bytes.Clone(b), nil
}

// sameMemory fails t when merged does not initialise memory as orig does:
// both instantiate with the same bytes, or both fail.
func sameMemory(t testing.TB, orig, merged []byte) {
	t.Helper()
	want, werr := memoryOf(t, orig)
	got, gerr := memoryOf(t, merged)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("instantiating: original %v, merged %v", werr, gerr)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the merged module's memory differs from the original's")
	}
}

// TestMerge: neighbours at most gap bytes apart join, in any order in the
// section, and an instance's memory holds the same bytes; what Merge must
// not or cannot rewrite comes back unchanged.
func TestMerge(t *testing.T) {
	for _, c := range []struct {
		name string
		wasm []byte
		gap  int
		want int // segments after; 0: unchanged
	}{
		// 0..2, 10..12 and 76..78 join (gaps 8 and 64); 200 is 122 past
		// 78; 40000 and 40003 touch.
		{"gap 64", module(dataBody(seg{200, "gh"}, seg{0, "ab"}, seg{10, "cd"}, seg{76, "ef"}, seg{40000, "far"}, seg{40003, "adjacent"})), 64, 3},
		// 20..100 touch 100..108; a gap of 32 to 140..147, a gap of 33 to
		// 180; the earliest is listed last, as in Go's data sections.
		{"gap 32", module(dataBody(seg{100, "aaaaaaaa"}, seg{140, "bbbbbbb"}, seg{180, "ccccccc"}, seg{20, string(bytes.Repeat([]byte{'d'}, 80))}, seg{40000, "e"})), 32, 3},
		{"adjacent", module(dataBody(seg{10, "aaa"}, seg{13, "bbb"}, seg{16, "ccc"})), Gap, 1},
		{"offsets past 2^31", module(dataBody(seg{-8, "ab"}, seg{-4, "cd"})), Gap, 1}, // fails to instantiate, before and after
		{"past the memory's end", module(dataBody(seg{65530, "aaaaaaa"}, seg{65520, "bbbbbbbb"})), Gap, 1},
		{"nothing to join", module(dataBody(seg{0, "a"}, seg{1000, "b"})), Gap, 0},
		{"overlapping", module(dataBody(seg{12, "abc"}, seg{10, "XYZ"}, seg{100, "d"})), Gap, 0},
		// 5 and 8 would join over bytes of the segment at 0.
		{"one inside another", module(dataBody(seg{0, "aaaaaaaaaa"}, seg{5, "B"}, seg{8, "C"})), Gap, 0},
		{"imported memory", []byte(header + importMem + section(secData, dataBody(seg{0, "a"}, seg{4, "b"}))), Gap, 0},
		// Memory 0 is the imported one when a module has both (multi-memory).
		{"imported memory and its own", []byte(header + importMem + memSec + section(secData, dataBody(seg{0, "a"}, seg{4, "b"}))), Gap, 0},
		{"no memory", []byte(header + section(secData, dataBody(seg{0, "a"}, seg{4, "b"}))), Gap, 0},
		{"a data count section", []byte(header + memSec + exportMem + section(secDataCount, []byte{2}) + section(secData, dataBody(seg{0, "a"}, seg{4, "b"}))), Gap, 0},
		{"two data sections", []byte(string(module(dataBody(seg{0, "a"}, seg{4, "b"}))) + section(secData, dataBody(seg{2, "c"}))), Gap, 0},
		{"a passive segment", module([]byte{2, 0, 0x41, 0, 0x0b, 1, 'a', 1, 1, 'b'}), Gap, 0},
		{"memory 1", module([]byte{2, 0, 0x41, 0, 0x0b, 1, 'a', 2, 1, 0x41, 4, 0x0b, 1, 'b'}), Gap, 0},
		{"an offset from a global", module([]byte{2, 0, 0x41, 0, 0x0b, 1, 'a', 0, 0x23, 0, 0x0b, 1, 'b'}), Gap, 0},
		{"a truncated section", module([]byte{2, 0, 0x41, 0, 0x0b, 5, 'a'}), Gap, 0},
		{"bytes after the segments", module(append(dataBody(seg{0, "a"}, seg{4, "b"}), 0)), Gap, 0},
		{"no data section", []byte(header + memSec + exportMem), Gap, 0},
		{"not wasm", []byte("hello, world"), Gap, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			orig := bytes.Clone(c.wasm)
			got, merged := Merge(c.wasm, c.gap)
			if !bytes.Equal(c.wasm, orig) {
				t.Fatal("Merge wrote into its input")
			}
			if c.want == 0 {
				if merged || !bytes.Equal(got, c.wasm) {
					t.Fatalf("changed (merged %v):\n%x\nwant\n%x", merged, got, c.wasm)
				}
				return
			}
			if !merged {
				t.Fatal("not merged")
			}
			if n := segmentCount(got); n != c.want {
				t.Errorf("%d segments after, want %d", n, c.want)
			}
			sameMemory(t, c.wasm, got)
			if again, m := Merge(got, c.gap); m || !bytes.Equal(again, got) {
				t.Error("a second Merge changed the module again")
			}
		})
	}
}

// FuzzMerge: Merge never panics, and a module it rewrites initialises
// memory as the original does. An input starting with an even byte is a
// module as it stands; with an odd one the rest is read as segments
// (offset byte pairs and lengths) of a module with its own memory, so
// most inputs are modules that merge.
func FuzzMerge(f *testing.F) {
	f.Add([]byte{1, 0, 0, 2, 0, 1, 3, 0, 9, 4})
	f.Add([]byte{1, 0, 0, 2, 0, 1, 1, 0xff, 0xff, 8})
	f.Add(append([]byte{0}, module(dataBody(seg{12, "abc"}, seg{10, "XYZ"}))...))
	f.Add(append([]byte{0}, header+importMem+section(secData, dataBody(seg{0, "a"}, seg{4, "b"}))...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		wasm := in[1:]
		if in[0]&1 == 1 {
			var segs []seg
			for b := in[1:]; len(b) >= 3; b = b[3:] {
				off := int32(b[0]) | int32(b[1])<<8
				segs = append(segs, seg{off, string(bytes.Repeat([]byte{byte(len(segs) + 1)}, int(b[2]%40)))})
			}
			wasm = module(dataBody(segs...))
		}
		orig := bytes.Clone(wasm)
		got, merged := Merge(wasm, int(in[0]>>1))
		if !bytes.Equal(wasm, orig) {
			t.Fatal("Merge wrote into its input")
		}
		if !merged {
			if !bytes.Equal(got, wasm) {
				t.Fatal("not merged, yet changed")
			}
			return
		}
		sameMemory(t, wasm, got)
	})
}
