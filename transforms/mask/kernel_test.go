//go:build !wasm

package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

// trickyEmails are n values built to reach every branch of the fast path
// and its exits: lengths 0-45 (the fast path takes 1-32), '@' at every
// position and several of them, a multi-byte first character, nulls, and
// short values at the very start and end of the data (within 32 bytes of
// either end, where the fast path's loads would leave the buffer).
func trickyEmails(seed uint64, n int) []*string {
	r := rand.New(rand.NewPCG(seed, 1))
	pieces := []string{"a", "b", "Z", "0", "@", "@", ".", "-", "é", "日"}
	out := make([]*string, n)
	for i := range out {
		if r.IntN(17) == 0 {
			continue // null
		}
		var b strings.Builder
		size := r.IntN(46)
		if i < 3 || i >= n-3 {
			size = r.IntN(6)
		}
		for b.Len() < size {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		out[i] = &s
	}
	return out
}

// TestMaskFastGo checks the Go kernel, which the wasm one transcribes,
// against split on the tricky values, through maskRows' calling pattern:
// the kernel stops at each row it does not take.
func TestMaskFastGo(t *testing.T) {
	for seed := range uint64(20) {
		vals := trickyEmails(seed, 300)
		var data []byte
		offs := []int32{0}
		valid := make([]byte, (len(vals)+7)/8)
		for i, v := range vals {
			if v != nil {
				data = append(data, *v...)
				valid[i>>3] |= 1 << (i & 7)
			}
			offs = append(offs, int32(len(data)))
		}
		out := make([]byte, 0, 4*len(vals)+len(data)+64)
		outOffs := make([]int32, 1, len(vals)+1)
		for i := 0; i < len(vals); {
			next, q := maskFastGo(unsafe.SliceData(data), len(data), unsafe.SliceData(offs), i, len(vals),
				unsafe.SliceData(valid), unsafe.SliceData(out), len(out), cap(out),
				unsafe.SliceData(outOffs[len(outOffs):cap(outOffs)]))
			outOffs, out = outOffs[:len(outOffs)+next-i], out[:q]
			if i = next; i == len(vals) {
				break
			}
			if vals[i] != nil {
				out = append(out, stageMask(*vals[i])...)
			}
			outOffs = append(outOffs, int32(len(out)))
			i++
		}
		for i, v := range vals {
			if v == nil {
				continue
			}
			if got, want := string(out[outOffs[i]:outOffs[i+1]]), stageMask(*v); got != want {
				t.Fatalf("seed %d row %d: %q masked to %q, want %q", seed, i, *v, got, want)
			}
		}
	}
}

// TestMaskModule runs the module `weave build` makes of this package (on
// wasm, maskFast is kernel_wasm.s) over the tricky values, as one batch
// and as slices of it, and compares each row with what split makes of it.
func TestMaskModule(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mask.wasm")
	if err := wasmtest.Build("transforms/mask", out); err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mem := wasmtesting.Allocator(t)
	s := wasmtesting.NewStage(t, wasm, map[string]any{"columns": []string{"email"}}, mem, wasmtesting.Config())
	schema := arrow.NewSchema([]arrow.Field{{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	if _, err := s.Bind(context.Background(), schema); err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(10) {
		vals := trickyEmails(seed, 2000)
		b := array.NewStringBuilder(mem)
		for _, v := range vals {
			if v == nil {
				b.AppendNull()
			} else {
				b.Append(*v)
			}
		}
		col := b.NewArray()
		b.Release()
		whole := array.NewRecordBatch(schema, []arrow.Array{col}, int64(len(vals)))
		col.Release()
		for _, span := range [][2]int{{0, len(vals)}, {5, 1700}, {1999, 2000}} {
			rec := whole.NewSlice(int64(span[0]), int64(span[1]))
			got, rejects, err := wasmtesting.Process(t, s, rec)
			rec.Release()
			if err != nil || len(rejects) > 0 {
				t.Fatalf("seed %d %v: %v %v", seed, span, err, rejects)
			}
			res := got.Column(0).(*array.String)
			for i, v := range vals[span[0]:span[1]] {
				switch {
				case v == nil && res.IsValid(i):
					t.Fatalf("seed %d %v row %d: null masked to %q", seed, span, i, res.Value(i))
				case v != nil && (!res.IsValid(i) || res.Value(i) != stageMask(*v)):
					t.Fatalf("seed %d %v row %d: %q masked to %q (valid %v), want %q", seed, span, i, *v, res.Value(i), res.IsValid(i), stageMask(*v))
				}
			}
			got.Release()
		}
		whole.Release()
	}
}

// stageMask is what the stage writes for s: Mask, except that an empty
// value becomes "***" (split's comment).
func stageMask(s string) string {
	head, tail := split(s)
	return head + "***" + tail
}
