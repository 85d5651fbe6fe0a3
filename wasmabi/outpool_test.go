package wasmabi

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestSizeClass(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 128, 511, 512, 513, 1000, 4096, 4097, 65535, 1 << 20, 1<<20 + 1, 3<<20 + 7} {
		c := sizeClass(n)
		if c < n || c%64 != 0 || c > n+n/8+64 || sizeClass(c) != c {
			t.Errorf("sizeClass(%d) = %d: want a multiple of 64 in [n, n+n/8+64], its own class", n, c)
		}
	}
}

func TestOutPoolReuse(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newOutPool(mem)
	a := p.buffer(4096)
	for i := range a.Bytes() {
		a.Bytes()[i] = 0xff
	}
	first := unsafe.SliceData(a.Buf())
	a.Release()
	// 4000 is in 4096's class: the same memory, its tail zeroed again.
	b := p.buffer(4000)
	if unsafe.SliceData(b.Buf()) != first || b.Len() != 4000 {
		t.Fatalf("a released buffer of the class was not reused (len %d)", b.Len())
	}
	if tail := b.Buf()[4000:]; slices.ContainsFunc(tail, func(x byte) bool { return x != 0 }) {
		t.Errorf("bytes past the length are not zero: %v", tail[:8])
	}
	// One held, one more asked: a second buffer, not the held one.
	c := p.buffer(4096)
	if unsafe.SliceData(c.Buf()) == first {
		t.Fatal("a buffer still referenced was handed out again")
	}
	c.Release()
	b.Release()
	if got := mem.CurrentAlloc(); got != 2*4096 {
		t.Errorf("idle: %d bytes allocated, want both buffers kept (%d)", got, 2*4096)
	}
	p.close()
	if got := mem.CurrentAlloc(); got != 0 {
		t.Errorf("after close: %d bytes still allocated", got)
	}
	// Released after close: straight back to the allocator.
	d := p.buffer(100)
	d.Release()
	if got := mem.CurrentAlloc(); got != 0 {
		t.Errorf("a buffer released after close stayed allocated: %d bytes", got)
	}
}

func TestOutPoolBounded(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newOutPool(mem)
	defer p.close()
	var held []*memory.Buffer
	for range 2 * poolIdleBufs {
		held = append(held, p.buffer(1024))
	}
	big := p.buffer(poolIdleBytes)
	for _, b := range held {
		b.Release()
	}
	big.Release() // over the byte bound with the small ones idle
	if got := mem.CurrentAlloc(); got != poolIdleBufs*1024 {
		t.Errorf("idle: %d bytes kept, want %d (%d buffers of 1 KiB)", got, poolIdleBufs*1024, poolIdleBufs)
	}
}

// TestOutPoolHeldBatch: a batch the downstream still holds keeps its
// buffers while the stage runs more batches; released ones are reused.
func TestOutPoolHeldBatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) }) // after the stage's Close
	ctx := context.Background()
	s := newStage(t, "mask", map[string]any{"columns": []string{"email"}}, mem, testConfig())
	if _, err := s.Bind(ctx, ordersSchema); err != nil {
		t.Fatal(err)
	}
	batch := func(i int) []order {
		rows := sample()
		for r := range rows {
			if rows[r].email != nil {
				rows[r].email = ptr(fmt.Sprintf("%c%s", 'a'+i, *rows[r].email))
			}
		}
		return rows
	}
	// bufs is the memory of a column's buffers.
	bufs := func(a arrow.Array) []*byte {
		var ps []*byte
		for _, b := range a.Data().Buffers() {
			if b != nil {
				ps = append(ps, unsafe.SliceData(b.Buf()))
			}
		}
		return ps
	}
	shares := func(a, b []*byte) bool {
		return slices.ContainsFunc(a, func(p *byte) bool { return slices.Contains(b, p) })
	}
	in0 := orders(mem, batch(0))
	defer in0.Release()
	held, _, err := s.Process(ctx, in0)
	if err != nil {
		t.Fatal(err)
	}
	want := column(held, "email")
	var reused bool
	var prev []*byte // the last released batch's column's buffers
	for i := 1; i < 5; i++ {
		in := orders(mem, batch(i))
		out, _, err := s.Process(ctx, in)
		in.Release()
		if err != nil {
			t.Fatal(err)
		}
		if shares(bufs(out.Column(1)), bufs(held.Column(1))) {
			t.Fatal("batch 0's column buffer was reused while batch 0 is held")
		}
		if got := column(out, "email"); got[0] != fmt.Sprintf("%c***@example.com", 'a'+i) {
			t.Errorf("batch %d: email[0] = %q", i, got[0])
		}
		reused = reused || shares(bufs(out.Column(1)), prev)
		prev = bufs(out.Column(1))
		out.Release()
	}
	if got := column(held, "email"); !slices.Equal(got, want) {
		t.Errorf("held batch changed under later batches: %q, was %q", got, want)
	}
	held.Release()
	if !reused {
		t.Error("no batch reused the released batch's buffer")
	}
}
