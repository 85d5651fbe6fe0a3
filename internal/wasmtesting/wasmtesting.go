// Package wasmtesting is what tests that run guests through wasmabi share,
// so that no correctness test depends on how fast the machine is and a
// failing test does not cascade into leak reports.
//
// # Timeouts
//
// A stage's default guest-call timeout (wasmabi.DefaultTimeout, 10 s) is a
// production limit: on a loaded machine a large batch can take longer, and
// the test then fails for a reason that is not a bug. Correctness tests use
// Config, whose timeout is far longer than any test may run, so the code
// path a production stage takes (a module compiled with the stop
// instrumentation, a stopper per call) is the one tested, but it never
// fires; a hang is caught by go test's own -timeout. Tests of the timeout
// itself set a short one on a guest that loops.
//
// # Cleanup
//
// Allocator and NewStage register their checks and Close with t.Cleanup,
// which runs after a t.Fatal too and in reverse order: the allocator,
// created first, is checked last, after every stage and record registered
// later has been released.
package wasmtesting

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// Timeout is the guest-call timeout of Config: longer than any test run
// (go test's -timeout defaults to 10 minutes).
const Timeout = 24 * time.Hour

// Config is wasmabi.NewConfig() with Timeout instead of the production
// default; chain WithCacheDir, WithLogger… on it as usual.
func Config() wasmabi.Config { return wasmabi.NewConfig().WithTimeout(Timeout) }

// Allocator returns a checked allocator whose every byte must be released
// by the end of the test (checked in t.Cleanup, after the test's later
// cleanups have run).
func Allocator(tb testing.TB) *memory.CheckedAllocator {
	tb.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	tb.Cleanup(func() { mem.AssertSize(tb, 0) })
	return mem
}

// NewStage creates a stage named "stages[0].wasm" from wasm and conf and
// closes it in t.Cleanup; it fails the test when the module does not load.
func NewStage(tb testing.TB, wasm []byte, conf any, mem memory.Allocator, cfg wasmabi.Config) *wasmabi.Stage {
	tb.Helper()
	s, err := wasmabi.NewStage(context.Background(), wasm, cfg.WithName("stages[0].wasm", "test.wasm").WithGuestConfig(conf).WithAllocator(mem))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Release releases rec in t.Cleanup (before the allocator's check when
// the allocator came from Allocator) and returns it.
func Release[R interface{ Release() }](tb testing.TB, rec R) R {
	tb.Cleanup(rec.Release)
	return rec
}

// Process runs rec through s and releases the output in t.Cleanup.
func Process(tb testing.TB, s *wasmabi.Stage, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	tb.Helper()
	out, rejects, err := s.Process(context.Background(), rec)
	if err == nil {
		tb.Cleanup(out.Release)
	}
	return out, rejects, err
}

// Logs is a log destination that guest calls may write concurrently
// (stages run batches in parallel).
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger returns a text logger of every level, debug up, writing to l:
// give it to Config().WithLogger to see what a guest logged.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
