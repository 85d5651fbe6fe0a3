package conformance

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	memsource "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
)

// recorder is a testing.TB that keeps failures instead of failing, so the
// suite's own checks can be shown to fire.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

// check fails t unless r recorded a failure containing want, or none when
// want is "".
func (r *recorder) check(t *testing.T, name, want string) {
	t.Helper()
	switch {
	case want == "" && len(r.errs) > 0:
		t.Errorf("%s: unexpected failure %v", name, r.errs)
	case want != "" && (len(r.errs) == 0 || !strings.Contains(strings.Join(r.errs, "\n"), want)):
		t.Errorf("%s: failures %v, want one containing %q", name, r.errs, want)
	}
}

func TestNoGoroutineLeakFires(t *testing.T) {
	before := runtime.NumGoroutine()
	stop := make(chan struct{})
	defer close(stop)
	go func() { <-stop }()
	rec := &recorder{TB: t}
	NoGoroutineLeak(rec, before)
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "goroutines still running") || !strings.Contains(rec.errs[0], "TestNoGoroutineLeakFires") {
		t.Fatalf("a blocked goroutine was not reported with its stack: %v", rec.errs)
	}
}

func TestEqualRowsFires(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := Sample(mem, SampleSchema, 0, 10)
	defer want.Release()
	shifted := Sample(mem, SampleSchema, 1, 10)
	defer shifted.Release()
	head, tail, short := want.NewSlice(0, 4), want.NewSlice(4, 10), want.NewSlice(0, 9)
	defer head.Release()
	defer tail.Release()
	defer short.Release()
	other := Sample(mem, arrow.NewSchema(SampleSchema.Fields()[:2], nil), 0, 10)
	defer other.Release()

	for _, tc := range []struct {
		name string
		got  []arrow.RecordBatch
		want string // "" when EqualRows must stay quiet
	}{
		{"same rows in two batches", []arrow.RecordBatch{head, tail}, ""},
		{"a row missing", []arrow.RecordBatch{short}, "got 9 rows in 1 batches, want 10"},
		{"values differ", []arrow.RecordBatch{shifted}, `batch 0, row 0 (overall 0), column "id": got 1, want 0`},
		{"columns differ", []arrow.RecordBatch{other}, "2 columns, want 6"},
		{"batches out of order", []arrow.RecordBatch{tail, head}, `column "id": got 4, want 0`},
	} {
		rec := &recorder{TB: t}
		EqualRows(rec, want, tc.got)
		rec.check(t, tc.name, tc.want)
	}
}

// TestSampleSlices: Sample's rows depend only on their number, which the
// harnesses rely on to build input and expectations separately.
func TestSampleSlices(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	whole := Sample(mem, SampleSchema, 0, 30)
	defer whole.Release()
	part := Sample(mem, SampleSchema, 12, 7)
	defer part.Release()
	slice := whole.NewSlice(12, 19)
	defer slice.Release()
	if !array.RecordEqual(part, slice) {
		t.Fatal("Sample(12, 7) differs from rows 12..18 of Sample(0, 30)")
	}
	if whole.Column(2).NullN() == 0 || whole.Column(0).NullN() != 0 {
		t.Fatal("nullable columns must hold some nulls, others none")
	}
}

func TestSameRowsFires(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := Sample(mem, SampleSchema, 0, 10)
	defer want.Release()
	head, tail, short, dup := want.NewSlice(0, 4), want.NewSlice(4, 10), want.NewSlice(0, 9), want.NewSlice(0, 1)
	defer Release([]arrow.RecordBatch{head, tail, short, dup})
	for _, tc := range []struct {
		name string
		got  []arrow.RecordBatch
		want string
	}{
		{"any order", []arrow.RecordBatch{tail, head}, ""},
		{"a row missing", []arrow.RecordBatch{short}, "row missing"},
		{"a row twice", []arrow.RecordBatch{dup, head, tail}, "came twice"},
	} {
		rec := &recorder{TB: t}
		SameRows(rec, want, tc.got)
		rec.check(t, tc.name, tc.want)
	}
}

func TestCoversRowsFires(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	all := Sample(mem, SampleSchema, 0, 10)
	defer all.Release()
	acked, rest, lost, first := all.NewSlice(0, 4), all.NewSlice(4, 10), all.NewSlice(5, 10), all.NewSlice(0, 1)
	other := Sample(mem, SampleSchema, 10, 1)
	defer Release([]arrow.RecordBatch{acked, rest, lost, first, other})
	for _, tc := range []struct {
		name string
		got  []arrow.RecordBatch
		want string // "" when CoversRows must stay quiet
	}{
		{"exactly the unacknowledged rows", []arrow.RecordBatch{rest}, ""},
		{"acknowledged rows again too, any order", []arrow.RecordBatch{rest, acked}, ""},
		{"an unacknowledged row lost", []arrow.RecordBatch{acked, lost}, "unacknowledged row lost"},
		{"a row never written", []arrow.RecordBatch{rest, other}, "never written"},
		{"a row more often than written", []arrow.RecordBatch{rest, acked, first}, "more often than written"},
	} {
		rec := &recorder{TB: t}
		CoversRows(rec, rest, all, tc.got)
		rec.check(t, tc.name, tc.want)
	}
}

// TestSameObject: the restart checks tell a new source from the one built
// before only by identity, so identity must be what is compared.
func TestSameObject(t *testing.T) {
	a, b := memsource.NewSource(SampleSchema), memsource.NewSource(SampleSchema)
	defer a.Release()
	defer b.Release()
	for _, tc := range []struct {
		name string
		x, y engine.Source
		want bool
	}{
		{"one pointer twice", a, a, true},
		{"two objects of one configuration", a, b, false},
		{"values are never the same object", valueSource{}, valueSource{}, false},
	} {
		if got := sameObject(tc.x, tc.y); got != tc.want {
			t.Errorf("%s: sameObject = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// valueSource is a source held by value, which sameObject must not call
// the same object as an equal copy.
type valueSource struct{ engine.Source }
