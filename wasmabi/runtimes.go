package wasmabi

import (
	"context"
	"crypto/sha256"
	"errors"
	goruntime "runtime"
	"sync"
)

// Stages that run the same module with the same settings share one
// compiled module and its wazero runtime, and each instantiates its own
// instances from it. Compiling is per distinct module per process: the
// orders job's two filter stages decode, validate and load filter.wasm
// once. With the compilation cache warm, wazero still decodes and
// validates the whole module on every CompileModule (for a 3.4 MB Go
// guest about 35 ms of CPU; BENCHMARKS.md), and our structural check
// reads it once more.

// runtimeKey is what a runtime depends on: the module's bytes and every
// setting that changes how it is checked, compiled or run. The stage's
// name, logger, guest configuration and timeout are per stage (the
// timeout is the stopper's; only whether there is one is compiled in).
type runtimeKey struct {
	sum            [sha256.Size]byte
	pages          uint32
	stoppable      bool
	keepWatcher    bool
	wazeroChecks   bool
	trusted        bool
	maxModuleBytes int64
	cacheDir       string
}

func keyOf(wasm []byte, cfg Config) runtimeKey {
	return runtimeKey{
		sum:            sumOf(wasm), // once for stages of one file (samemodule.go)
		pages:          cfg.memoryPages(),
		stoppable:      cfg.timeout > 0 || cfg.interruptible,
		keepWatcher:    cfg.keepWatcher,
		wazeroChecks:   cfg.wazeroChecks,
		trusted:        cfg.trusted,
		maxModuleBytes: cfg.maxModuleBytes,
		cacheDir:       cfg.cacheDir,
	}
}

// sharedRuntime is one registry entry: ready is closed once rt or err
// is set; refs counts the stages holding rt.
type sharedRuntime struct {
	ready chan struct{}
	rt    *runtime
	err   error
	refs  int
}

// compiling bounds the modules compiled in the background at once to the
// cores: more would only share them, with every compile's memory held.
var compiling = make(chan struct{}, max(1, goruntime.GOMAXPROCS(0)))

var (
	sharedMu sync.Mutex
	shared   = map[runtimeKey]*sharedRuntime{}
)

// acquireRuntime returns the runtime for wasm under cfg, compiling it
// unless a stage holds one already (or is compiling it: then it waits).
// Every successful call is paired with releaseRuntime.
func acquireRuntime(ctx context.Context, stage, module string, wasm []byte, cfg Config) (*runtime, runtimeKey, error) {
	key := keyOf(wasm, cfg)
	sharedMu.Lock()
	e, ok := shared[key]
	if ok {
		e.refs++
		sharedMu.Unlock()
		<-e.ready
		if e.err == nil {
			return e.rt, key, nil
		}
		// The compile this stage waited for failed (and left the
		// registry): report it under this stage's names.
		return nil, key, relabel(e.err, stage, module)
	}
	e = &sharedRuntime{ready: make(chan struct{}), refs: 1}
	shared[key] = e
	sharedMu.Unlock()

	if cfg.background {
		// Only the stage that compiles takes a slot: one that shares a
		// module waits above without holding a core's turn from the
		// next distinct module.
		compiling <- struct{}{}
		defer func() { <-compiling }()
	}
	e.rt, e.err = newRuntime(ctx, stage, module, wasm, key.sum, cfg)
	if e.err != nil {
		sharedMu.Lock()
		delete(shared, key)
		sharedMu.Unlock()
	}
	close(e.ready)
	return e.rt, key, e.err
}

// releaseRuntime drops a stage's hold on rt and closes it with the last.
func releaseRuntime(ctx context.Context, key runtimeKey) error {
	sharedMu.Lock()
	e, ok := shared[key]
	if !ok {
		sharedMu.Unlock()
		return nil
	}
	e.refs--
	if e.refs > 0 {
		sharedMu.Unlock()
		return nil
	}
	delete(shared, key)
	sharedMu.Unlock()
	return e.rt.close(ctx)
}

// relabel is err with a *GuestError's stage and module set to this
// stage's, so a stage that shared a failed compile names itself.
func relabel(err error, stage, module string) error {
	var ge *GuestError
	if !errors.As(err, &ge) {
		return err
	}
	c := *ge
	c.Stage, c.Module = stage, module
	return &c
}
