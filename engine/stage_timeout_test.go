package engine_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// The guest-call timeout of TestOneTimeoutFailsTheStage, and how far past
// it the run may end.
const (
	loopTimeout  = 4 * time.Second
	timingMargin = 2 * time.Second
)

// TestOneTimeoutFailsTheStage: a stage of two workers running a guest that
// loops on every batch, under on_error: fail, fails the run after one
// timeout, not one per worker (the cleanup used to wait for the other
// worker's call, and that worker could even take the next batch first: a
// 10 s timeout took 20 s). Only the ordered dispatch is tested: there a
// worker that has just failed takes the next batch before the collector
// stops the dispatcher, and its new call used to run to a second timeout.
// Unordered workers stop taking batches after an error and start their
// calls together, so they end within one timeout with or without the
// cancellation, and a test of them could not fail.
//
// This is a timing property, so the bound leaves room for a loaded machine.
// A run that waits for a second timeout takes at least 2 × loopTimeout; one
// that does not takes loopTimeout plus Bind (instantiating the guest) and
// the cleanup: 50-85 ms over the timeout on an idle 2-core machine, but
// up to 1.5 s with a load average of 12 (a race build, two fuzzers and
// three test runs at once), which failed a 1 s timeout with a 500 ms
// margin. The bound, loopTimeout + timingMargin, sits halfway between
// the two outcomes: 4 s + 2 s, against at least 8 s for the bug.
func TestOneTimeoutFailsTheStage(t *testing.T) {
	wasm := hostileGuest(t)
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	// make test's shared cache holds hostile's code (wasmabi's tests
	// compiled it without -race); the timing starts after NewStage.
	cfg := wasmabi.NewConfig().WithTimeout(loopTimeout).WithCacheDir(wasmtest.CacheDir()).WithLogger(slog.New(slog.DiscardHandler))
	guest, err := wasmabi.NewStage(context.Background(), wasm, cfg.WithName("loop", "hostile.wasm").WithGuestConfig(map[string]any{"mode": "loop", "always": true}).WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 8, rows: 4}},
		Stages: []engine.StageStep{
			{Name: "text", Stage: toStrings(mem)},
			{Name: "loop", Stage: guest, Workers: 2},
		},
		Sinks: []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
		Mem:   mem,
	}
	start := time.Now()
	_, err = p.Run(context.Background())
	took := time.Since(start)
	if !errors.Is(err, wasmabi.ErrGuestTimeout) {
		t.Fatalf("err = %v, want a guest timeout", err)
	}
	t.Logf("failed after %s with a %s timeout and 2 workers: %v", took, loopTimeout, err)
	if limit := loopTimeout + timingMargin; took > limit {
		t.Fatalf("the run took %s to fail, over %s (the %s timeout + %s): it waited for more than one timeout", took, limit, loopTimeout, timingMargin)
	}
}

var stringSchema = arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)

// toStrings turns seqSource's int64 column into the utf8 column "s" the
// hostile guest reads.
func toStrings(mem memory.Allocator) funcStage {
	return funcStage{f: func(rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
		col := rec.Column(0).(*array.Int64)
		b := array.NewStringBuilder(mem)
		defer b.Release()
		for i := 0; i < col.Len(); i++ {
			b.Append(strconv.FormatInt(col.Value(i), 10))
		}
		arr := b.NewArray()
		defer arr.Release()
		return array.NewRecordBatch(stringSchema, []arrow.Array{arr}, int64(arr.Len())), nil, nil
	}, schema: stringSchema}
}

// hostileGuest builds wasmabi's hostile Go guest (the one `weave build`
// would build) into the test's temporary directory.
func hostileGuest(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hostile.wasm")
	if err := wasmtest.Build("wasmabi/testdata/hostile", out); err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}
