package wasmabi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// loopTimeout is the timeout of the one stage that must time out (a
// looping guest). The good batches before and after the loop run under it
// too, on the same stage: the slowest call, a fresh instance's start-up and
// handshake, took 55 ms under -race at load 8 on 2 cores, so 3 s leaves a
// wide margin while keeping the test short. (Compilation, which takes
// seconds under -race, happens in NewStage, outside any timeout.)
const loopTimeout = 3 * time.Second

// hostileBatches are what the hostile guests (testdata/hostile) get: good
// is the sample batch with its email column renamed "s" (the column they
// read); boom is the same with "boom" as its first value, on which a
// dw_process mode misbehaves; big carries 128 KiB of values, which makes
// the host ask dw_reserve for more than 64 KiB, where a dw_reserve mode
// misbehaves.
type hostileBatches struct {
	schema          *arrow.Schema
	good, boom, big arrow.RecordBatch
}

func newHostileBatches(tb testing.TB, mem memory.Allocator) hostileBatches {
	tb.Helper()
	renamed := renameEmail(ordersSchema)
	build := func(rows []order) arrow.RecordBatch {
		rec := orders(mem, rows)
		defer rec.Release()
		r := withSchema(rec, renamed)
		tb.Cleanup(r.Release)
		return r
	}
	boom := sample()
	boom[0].email = ptr("boom")
	big := make([]order, 2048)
	for i := range big {
		big[i] = order{id: int64(i), email: ptr(strings.Repeat("x", 64))}
	}
	return hostileBatches{schema: renamed, good: build(sample()), boom: build(boom), big: build(big)}
}

// bindHostile binds s (a hostile guest's stage) to the schema of the
// hostile batches it returns.
func bindHostile(t *testing.T, s *Stage, mem memory.Allocator) hostileBatches {
	t.Helper()
	b := newHostileBatches(t, mem)
	if _, err := s.Bind(context.Background(), b.schema); err != nil {
		t.Fatal(err)
	}
	return b
}

// wantOut processes rec and checks that every value of "out" is want. A
// hostile guest writes "ok <n>" when its instance has now seen n batches.
func wantOut(t *testing.T, s *Stage, rec arrow.RecordBatch, want string) {
	t.Helper()
	out, rejects, err := s.Process(context.Background(), rec)
	if err != nil {
		t.Fatalf("good batch: %v", err)
	}
	defer out.Release()
	if len(rejects) > 0 {
		t.Fatalf("good batch: rejects %v", rejects)
	}
	got := column(out, "out")
	if int64(len(got)) != rec.NumRows() {
		t.Fatalf("good batch: %d rows of out for %d rows in", len(got), rec.NumRows())
	}
	for i, v := range got {
		if v != want {
			t.Fatalf("good batch: out[%d] = %q, want %q", i, v, want)
		}
	}
}

// wantGuestErr checks that err is a *GuestError from stages[0].wasm,
// function export, wrapping sentinel, for a batch of rows (0: no batch),
// whose message says each of msgs.
func wantGuestErr(t *testing.T, err, sentinel error, export string, rows int, msgs ...string) *GuestError {
	t.Helper()
	var ge *GuestError
	if !errors.As(err, &ge) || !errors.Is(err, sentinel) {
		t.Fatalf("error %v, want a *GuestError wrapping %v", err, sentinel)
	}
	t.Log(err)
	if ge.Stage != "stages[0].wasm" || ge.Export != export || ge.Rows != rows {
		t.Errorf("GuestError{Stage: %q, Export: %q, Rows: %d}, want stages[0].wasm, %s, %d", ge.Stage, ge.Export, ge.Rows, export, rows)
	}
	msgs = append(msgs, "stages[0].wasm: module["+ge.Module+"] function["+export+"]")
	for _, want := range msgs {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	return ge
}

// TestHostile sends each misbehaviour of the hostile Go guest between
// good batches on one stage. The bad batch must fail with a clear
// *GuestError, and the good batches after it must be served by a fresh
// instance: the guest counts the batches its instance has seen, so an
// instance kept after the failure would answer "ok 3" (or "ok 2" after a
// dw_reserve failure, which never reached dw_process), or fail again.
func TestHostile(t *testing.T) {
	tests := []struct {
		mode   string
		big    bool // the bad batch is the big one, not boom
		want   error
		export string
		msg    string
	}{
		{mode: "trap", want: ErrGuestTrap, export: exportProcess, msg: "assignment to entry in nil map"},
		{mode: "loop", want: ErrGuestTimeout, export: exportProcess, msg: "timed out after " + loopTimeout.String()},
		{mode: "bomb", want: ErrGuestTrap, export: exportProcess, msg: "out of memory"},
		{mode: "oob-header", want: ErrGuestOutput, export: exportProcess, msg: "result header: 40 bytes at 0xffffffc0"},
		{mode: "oob-column", want: ErrGuestOutput, export: exportProcess, msg: `column "out": values: 20 bytes at 0xfffffff0`},
		{mode: "nonmonotonic", want: ErrGuestOutput, export: exportProcess, msg: `column "out": offsets not monotonic at row 4`},
		{mode: "lying-length", want: ErrGuestOutput, export: exportProcess, msg: `column "out": values: 1073741824 bytes at`},
		{mode: "bad-utf8", want: ErrGuestOutput, export: exportProcess, msg: `column "out": row 0 is not valid UTF-8`},
		{mode: "bad-status", want: ErrGuestOutput, export: exportProcess, msg: "result status 7"},
		{mode: "wrong-count", want: ErrGuestOutput, export: exportProcess, msg: "3 output columns, the stage declared 1"},
		{mode: "bad-selection", want: ErrGuestOutput, export: exportProcess, msg: "selection index 12 at position 1"},
		{mode: "bad-error-row", want: ErrGuestOutput, export: exportProcess, msg: "row error 0 names row"},
		{mode: "reserve-zero", big: true, want: ErrGuestOutput, export: exportReserve, msg: "returned 0x0, want a non-zero 64-byte aligned pointer"},
		{mode: "reserve-misaligned", big: true, want: ErrGuestOutput, export: exportReserve, msg: "8, want a non-zero 64-byte aligned pointer"},
		{mode: "reserve-oob", big: true, want: ErrGuestOutput, export: exportReserve, msg: "returned 0xffffffc0, outside its"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			mem := conformance.Checked(t)
			cfg := testConfig().WithMemoryLimit(64 << 20).WithLogger(slog.New(slog.DiscardHandler))
			if tc.want == ErrGuestTimeout {
				cfg = cfg.WithTimeout(loopTimeout)
			}
			s := newStage(t, "hostile", map[string]any{"mode": tc.mode}, mem, cfg)
			b := bindHostile(t, s, mem)
			bad := b.boom
			if tc.big {
				bad = b.big
			}
			wantOut(t, s, b.good, "ok 1")
			out, _, err := s.Process(context.Background(), bad)
			if out != nil {
				out.Release()
				t.Fatal("the host accepted the bad batch")
			}
			rows := int(bad.NumRows())
			ge := wantGuestErr(t, err, tc.want, tc.export, rows, tc.msg, fmt.Sprintf("batch 2 (rows 0-%d)", rows-1))
			if ge.Module != "hostile.wasm" || ge.Batch != 2 {
				t.Errorf("GuestError{Module: %q, Batch: %d}, want hostile.wasm, 2", ge.Module, ge.Batch)
			}
			wantOut(t, s, b.good, "ok 1")
			wantOut(t, s, b.good, "ok 2")
		})
	}
}

// logBuffer collects a slog text handler's lines; hook, when set, sees
// each line as it is written (inside the guest's log call).
type logBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	hook func(line string)
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	l.mu.Unlock()
	if l.hook != nil {
		l.hook(string(p))
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// logger writes to l without timestamps, so lines can be compared.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// TestCallerCancel: a looping guest under a timeout that never fires is
// stopped when the caller's context is cancelled (the guest logs just
// before it loops, and that log line cancels), and the error is the
// caller's, not a timeout. The stage then serves good batches with a fresh
// instance. The same holds without a timeout (interruptible). (wazero's
// checks, detached or with the watcher kept, stop a call the same way
// for a cancel as for a timeout: the stopper fires alike; they are
// tested on a small module in TestInitializeLoop, as compiling the Go
// hostile guest once more took ~20 s under -race.)
func TestCallerCancel(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"timeout", testConfig()},
		{"interruptible", testConfig().WithTimeout(0).WithInterruptible(true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			logs := &logBuffer{hook: func(line string) {
				if strings.Contains(line, "msg=looping") {
					cancel()
				}
			}}
			s := newStage(t, "hostile", map[string]any{"mode": "loop"}, mem, tc.cfg.WithLogger(logs.logger()))
			b := bindHostile(t, s, mem)
			wantOut(t, s, b.good, "ok 1")
			out, _, err := s.Process(ctx, b.boom)
			if out != nil {
				out.Release()
				t.Fatal("the host returned a result for a cancelled batch")
			}
			if !errors.Is(err, context.Canceled) || errors.Is(err, ErrGuestTimeout) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			if !strings.Contains(logs.String(), "msg=looping") {
				t.Fatalf("the guest never reached its loop; log:\n%s", logs)
			}
			wantOut(t, s, b.good, "ok 1")
			wantOut(t, s, b.good, "ok 2")
		})
	}
}

// TestWatcherDetached: a stage that can stop its guest with wazero's
// checks (a module the host's loop checks leave alone, loopchecks.go)
// runs its calls without wazero's per-call watcher goroutine
// (watcher.go). If a wazero upgrade changes the internals detachWatcher
// reaches, stages still work (with the watcher) but this fails, so the
// cost does not come back unnoticed.
func TestWatcherDetached(t *testing.T) {
	mem := conformance.Checked(t)
	cfg := testConfig()
	cfg.wazeroChecks = true
	// A small module: compiling the Go hostile guest once more, with
	// wazero's checks, took seconds under -race.
	s := newStageOf(t, "raw.wasm", goodModule().bytes(), nil, mem, cfg)
	if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) != 1 || s.free[0].stop == nil {
		t.Fatalf("%d idle instances, want 1 with a stopper", len(s.free))
	}
	if s.free[0].stop.exit == nil {
		t.Fatal("wazero's per-call watcher is still on: detachWatcher does not recognise this wazero version")
	}
}

// TestGuestLog: the log import writes the guest's line to the stage's
// logger with its stage, and a log call whose pointer lies outside guest
// memory (or wraps past 2^32) is a warning, not a crash or a failed
// batch; the instance goes on serving.
func TestGuestLog(t *testing.T) {
	mem := conformance.Checked(t)
	logs := &logBuffer{}
	s := newStage(t, "hostile", map[string]any{"mode": "log"}, mem, testConfig().WithLogger(logs.logger()))
	b := bindHostile(t, s, mem)
	wantOut(t, s, b.good, "logged 1")
	wantOut(t, s, b.good, "logged 2")
	got := logs.String()
	for _, want := range []string{
		`level=INFO msg="logged 1" stage=stages[0].wasm`,
		`level=WARN msg="guest log call pointed outside its memory" stage=stages[0].wasm ptr=4294967280 len=100`,
		`level=WARN msg="guest log call pointed outside its memory" stage=stages[0].wasm ptr=4294967295 len=2`,
		`level=INFO msg="logged 2" stage=stages[0].wasm`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log does not say %q; log:\n%s", want, got)
		}
	}
}

// sandbox mirrors what testdata/hostile's "sandbox" mode reports.
type sandbox struct {
	Environ   []string `json:"environ"`
	Secret    string   `json:"secret"`
	Args      []string `json:"args"`
	Read      string   `json:"read"`
	ReadBytes int      `json:"read_bytes"`
	ListRoot  string   `json:"list_root"`
	ListDot   string   `json:"list_dot"`
	Create    string   `json:"create"`
}

// TestGuestSandbox: a guest that reads the environment and arguments,
// opens a host file by its path, lists directories and creates a file
// sees nothing and changes nothing, and the host carries on. The control
// runs the same guest on a host configured to share its environment and
// that directory: the guest then finds them, so the sandboxed run's empty
// findings are the host's doing, not a probe that cannot see.
func TestGuestSandbox(t *testing.T) {
	const secret = "host-only-value"
	t.Setenv("DW_HOSTILE_SECRET", secret)
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	written := filepath.Join(dir, "written-by-guest")
	probe := func(t *testing.T, share bool) sandbox {
		t.Helper()
		mem := conformance.Checked(t)
		s := newStage(t, "hostile", map[string]any{"mode": "sandbox", "path": path}, mem, testConfig())
		if share {
			s.rt.modCfg = s.rt.modCfg.WithEnv("DW_HOSTILE_SECRET", secret).WithArgs("weave").
				WithFSConfig(wazero.NewFSConfig().WithDirMount(dir, dir))
		}
		b := bindHostile(t, s, mem)
		out, _, err := s.Process(context.Background(), b.good)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		var got sandbox
		if err := json.Unmarshal([]byte(column(out, "out")[0]), &got); err != nil {
			t.Fatalf("guest report %q: %v", column(out, "out")[0], err)
		}
		t.Logf("%+v", got)
		return got
	}
	t.Run("sandboxed", func(t *testing.T) {
		got := probe(t, false)
		if len(got.Environ) > 0 || got.Secret != "" || len(got.Args) > 0 {
			t.Errorf("the guest saw environment %q, $DW_HOSTILE_SECRET %q, arguments %q; want none", got.Environ, got.Secret, got.Args)
		}
		if got.Read == "" || got.ReadBytes > 0 {
			t.Errorf("the guest read %d bytes of %s (error %q)", got.ReadBytes, path, got.Read)
		}
		if got.ListRoot == "" || got.ListDot == "" {
			t.Errorf(`the guest listed "/" (error %q) or "." (error %q)`, got.ListRoot, got.ListDot)
		}
		if _, err := os.Stat(written); got.Create == "" || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the guest created %s (its error %q, stat: %v)", written, got.Create, err)
		}
	})
	t.Run("control: a host that shares them", func(t *testing.T) {
		t.Cleanup(func() { _ = os.Remove(written) })
		got := probe(t, true)
		if !slices.Equal(got.Environ, []string{"DW_HOSTILE_SECRET=" + secret}) || got.Secret != secret || len(got.Args) != 1 {
			t.Errorf("the guest saw environment %q, $DW_HOSTILE_SECRET %q, arguments %q; want what the host shared", got.Environ, got.Secret, got.Args)
		}
		if got.Read != "" || got.ReadBytes != len(secret) {
			t.Errorf("the guest read %d bytes of %s (error %q), want %d", got.ReadBytes, path, got.Read, len(secret))
		}
		if _, err := os.Stat(written); got.Create != "" || err != nil {
			t.Errorf("the guest did not create %s (its error %q, stat: %v)", written, got.Create, err)
		}
	})
}
