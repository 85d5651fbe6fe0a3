package wasmabi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dataweaver/dataweaver/internal/gather"
	"github.com/dataweaver/dataweaver/internal/guesttext"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// instance is one instantiated module; it runs one call at a time.
type instance struct {
	rt                     *runtime
	mod                    api.Module
	mem                    api.Memory
	reserve, bind, process api.Function
	arenaPtr, arenaCap     uint32
	stderr                 *tail
	stack                  [2]uint64
	timeout                time.Duration
	// stop bounds each call when the stage can stop a running guest (a
	// timeout or interruptible; nil otherwise).
	stop *stopper
	// Reused per call by Stage.inputs: the read columns and the
	// dictionary columns decoded for them.
	cols    []inCol
	decoded []arrow.Array
	// Reused per call by Stage.process and assemble: the validated
	// result, and the scratch slices that turn it into a record.
	res     result
	written []arrow.Array
	out     []arrow.Array
	keep    []bool
	idx     []int
	// The selections' runs (gather.Rows.Reset): the input's in inputs,
	// the output's two in assemble. Scratch of one call: no array keeps
	// them.
	inRows, srcRows, idxRows gather.Rows

	// abi is the version the module speaks; v2 its v2 exports (v2.go).
	abi int32
	v2  *v2Inst
}

// call runs fn with one i32 argument... or two, and returns its i32 result.
// Traps, exits and timeouts are mapped to the package's sentinels with the
// tail of the guest's stderr (where a Go panic prints) attached. Every
// guest call goes through it (the stopper arms around it), _initialize
// included.
func (in *instance) call(ctx context.Context, fn api.Function, args ...uint32) (uint32, error) {
	stack := in.stack[:]
	for i, a := range args {
		stack[i] = uint64(a)
	}
	in.stderr.reset()
	if in.stop == nil {
		err := fn.CallWithStack(ctx, stack)
		if err == nil {
			return uint32(stack[0]), nil
		}
		return 0, in.classify(ctx, err)
	}
	if err := in.stop.begin(ctx); err != nil {
		return 0, err
	}
	// With the host's loop checks, or detached from wazero's watcher, the
	// call takes the caller's context (for its values; wazero does not
	// watch it) and the stopper stops it through the module's stop global
	// or its exit code; otherwise wazero watches the stopper's Done.
	callCtx := context.Context(in.stop)
	if in.stop.exit != nil || in.stop.loop != nil {
		callCtx = ctx
	}
	err := fn.CallWithStack(callCtx, stack)
	if !in.stop.end() {
		// Stopped, or the deadline passed as the call returned: either way
		// the batch overran and wazero may be closing the module. The
		// caller throws the instance away, as after any failed call.
		if timedOut, ok, cause := in.stop.cause(); ok && !timedOut {
			return 0, cause
		}
		return 0, in.timeoutErr()
	}
	if err == nil {
		return uint32(stack[0]), nil
	}
	return 0, in.classify(ctx, err)
}

func (in *instance) timeoutErr() error {
	return fmt.Errorf("%w after %s (the instance was stopped)", ErrGuestTimeout, in.timeout)
}

func (in *instance) classify(ctx context.Context, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return in.timeoutErr()
		case sys.ExitCodeContextCanceled:
			if err := ctx.Err(); err != nil {
				return err
			}
			return context.Canceled
		}
		return fmt.Errorf("%w: exited with code %d%s", ErrGuestTrap, exit.ExitCode(), in.stderr.suffix())
	}
	// wazero's message carries the whole wasm stack trace; its first line
	// ("wasm error: unreachable") and the guest's own report on stderr (a Go
	// panic's message) are what a user can act on.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("%w: %s%s", ErrGuestTrap, msg, in.stderr.suffix())
}

func (in *instance) close(ctx context.Context) {
	if in.stop != nil && in.stop.close() {
		// The stopper set the exit code as wazero's watcher would, which
		// leaves the module in wazero's store until Close removes it; Close
		// does so only on a module not closed yet. The call has returned
		// (one call at a time), so nothing reads the word now, and Close
		// closes whatever resources the call's unwinding did not.
		in.stop.exit.Store(0)
	}
	in.rt.logs.Delete(in.mod)
	_ = in.mod.Close(ctx)
}

// instantiate starts a fresh instance, runs its _initialize export and
// checks its ABI version. The module's start section, if it has one, runs
// under a plain timeout context; _initialize is called like any export.
// instantiations counts the instances made or tried, for
// TestWarmInstanceFails.
var instantiations atomic.Int64

func (r *runtime) instantiate(ctx context.Context, timeout time.Duration, log *guestLog) (*instance, string, error) {
	instantiations.Add(1)
	stderr := &tail{}
	ictx := ctx // the start section runs once: a plain timeout context will do
	if timeout > 0 {
		var cancel context.CancelFunc
		ictx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	mod, err := r.rt.InstantiateModule(experimental.WithMemoryAllocator(ictx, linearMemory), r.compiled, r.modCfg.WithStderr(stderr))
	if err != nil {
		in := &instance{stderr: stderr, timeout: timeout}
		return nil, "(instantiate)", in.classify(ictx, err)
	}
	r.logs.Store(mod, log)
	in := &instance{
		rt: r, mod: mod, mem: mod.Memory(), stderr: stderr, timeout: timeout,
		reserve: mod.ExportedFunction(exportReserve),
		bind:    mod.ExportedFunction(exportBind),
		process: mod.ExportedFunction(exportProcess),
	}
	if r.stoppable {
		var exit *atomic.Uint64
		var flags *loopFlags
		switch {
		case r.loopChecks:
			if flags, err = loopFlagsOf(mod); err != nil {
				in.close(ctx)
				return nil, "(instantiate)", err
			}
		case !r.keepWatcher:
			exit = detachWatcher(mod)
		}
		in.stop = newStopper(timeout, exit, flags)
	}
	if init := mod.ExportedFunction(exportInit); init != nil {
		if _, err := in.call(ctx, init); err != nil {
			in.close(ctx)
			return nil, exportInit, err
		}
	}
	v, err := in.call(ctx, mod.ExportedFunction(exportVersion))
	if err != nil {
		in.close(ctx)
		return nil, exportVersion, err
	}
	if err := in.negotiate(int32(v)); err != nil {
		in.close(ctx)
		return nil, exportVersion, err
	}
	return in, "", nil
}

// ensure makes the reserved region at least size bytes, calling dw_reserve
// when it is smaller, and checks the pointer the guest returns.
func (in *instance) ensure(ctx context.Context, size uint32) error {
	if size <= in.arenaCap && in.arenaPtr != 0 {
		return nil
	}
	want := size + size/4 + 64
	p, err := in.call(ctx, in.reserve, want)
	if err != nil {
		return err
	}
	if p == 0 || p%64 != 0 {
		return fmt.Errorf("%w: dw_reserve(%d) returned %#x, want a non-zero 64-byte aligned pointer", ErrGuestOutput, want, p)
	}
	if _, ok := in.mem.Read(p, want); !ok {
		return fmt.Errorf("%w: dw_reserve(%d) returned %#x, outside its %d-byte memory", ErrGuestOutput, want, p, in.mem.Size())
	}
	in.arenaPtr, in.arenaCap = p, want
	return nil
}

// bindCall runs the handshake and returns the response JSON, or the
// export that failed with the error: dw_reserve (making room for the
// request) or dw_bind.
func (in *instance) bindCall(ctx context.Context, req []byte) ([]byte, string, error) {
	if err := in.ensure(ctx, uint32(len(req))); err != nil {
		return nil, exportReserve, err
	}
	if !in.mem.Write(in.arenaPtr, req) {
		return nil, exportReserve, fmt.Errorf("%w: reserved region outside memory", ErrGuestOutput)
	}
	p, err := in.call(ctx, in.bind, in.arenaPtr, uint32(len(req)))
	if err != nil {
		return nil, exportBind, err
	}
	n, ok := in.mem.ReadUint32Le(p)
	if !ok {
		return nil, exportBind, fmt.Errorf("%w: bind response at %#x is outside memory", ErrGuestOutput, p)
	}
	if n > 1<<20 {
		return nil, exportBind, fmt.Errorf("%w: bind response of %d bytes (limit 1 MiB)", ErrGuestOutput, n)
	}
	body, ok := in.mem.Read(p+4, n)
	if !ok {
		return nil, exportBind, fmt.Errorf("%w: bind response of %d bytes at %#x is outside memory", ErrGuestOutput, n, p+4)
	}
	return append([]byte(nil), body...), exportBind, nil
}

// tail keeps the first 1 KiB the guest writes to stderr during a call: a
// Go runtime puts the panic or fatal error first, then goroutine dumps.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const stderrKeep = 1024

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := stderrKeep - len(t.buf); room > 0 {
		t.buf = append(t.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (t *tail) reset() {
	t.mu.Lock()
	t.buf = t.buf[:0]
	t.mu.Unlock()
}

func (t *tail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return ""
	}
	msg := strings.TrimSpace(string(t.buf))
	if i := strings.Index(msg, "\n\ngoroutine "); i > 0 {
		msg = msg[:i]
	}
	return "; guest stderr: " + guesttext.Escape(msg)
}

var le = binary.LittleEndian
