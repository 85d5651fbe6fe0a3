package wasmtesting

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// fakeTB records cleanups and errors instead of acting on them, so a test
// can run the cleanups as testing would (last registered first) and see
// what they reported.
type fakeTB struct {
	testing.TB
	cleanups []func()
	errs     []string
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Cleanup(fn func())         { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(s string, a ...any) { f.errs = append(f.errs, fmt.Sprintf(s, a...)) }

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// TestAllocatorChecksLast: a record registered with Release after the
// allocator is released before the allocator's check runs, so it is not
// reported; one never released is.
func TestAllocatorChecksLast(t *testing.T) {
	for _, release := range []bool{true, false} {
		f := &fakeTB{TB: t}
		mem := Allocator(f)
		b := array.NewInt64Builder(mem)
		b.AppendValues([]int64{1, 2, 3}, nil)
		arr := b.NewArray()
		b.Release()
		if release {
			Release(f, arr)
		}
		f.runCleanups()
		leaked := len(f.errs) > 0
		if leaked == release {
			t.Errorf("released in a cleanup: %t; leak reported: %v", release, f.errs)
		}
		if !release {
			arr.Release()
		}
	}
}

func TestConfigTimeout(t *testing.T) {
	if Timeout < 10*time.Minute {
		t.Errorf("Timeout %v is shorter than go test's default -timeout", Timeout)
	}
}

func TestCommittedMissing(t *testing.T) {
	_, err := load("transforms/nope", "transforms/nope/nope.wasm", false)
	if err == nil || !strings.Contains(err.Error(), "weave build transforms/nope -o transforms/nope/nope.wasm") {
		t.Errorf("error %v, want one naming the command that builds the module", err)
	}
}
