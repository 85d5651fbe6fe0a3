package wasmabi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Version is the ABI version this host speaks.
const Version = 1

// Exports every module must have.
const (
	exportVersion = "dw_abi_version"
	exportReserve = "dw_reserve"
	exportBind    = "dw_bind"
	exportProcess = "dw_process"
)

var (
	cachesMu sync.Mutex
	caches   = map[string]wazero.CompilationCache{}
)

// compilationCache returns the process-wide cache for dir, so stages of one
// run share compiled code in memory as well as on disk.
func compilationCache(dir string) (wazero.CompilationCache, error) {
	cachesMu.Lock()
	defer cachesMu.Unlock()
	if c, ok := caches[dir]; ok {
		return c, nil
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, err
	}
	caches[dir] = c
	return c, nil
}

// runtime is one compiled module in its own wazero runtime (the memory
// limit is a runtime setting), with WASI and the dataweaver host module.
type runtime struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	log      *guestLog
}

func newRuntime(ctx context.Context, stage, module string, wasm []byte, cfg Config) (*runtime, error) {
	rc := wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(cfg.memoryPages()).
		// The loop and call instrumentation that lets a timeout stop a
		// running guest costs 2-9x on guest-heavy stages (BENCH_NOTES.md),
		// so it is compiled in only when the stage has a timeout.
		WithCloseOnContextDone(cfg.timeout > 0 || cfg.instrument)
	if cfg.cacheDir != "" {
		cache, err := compilationCache(cfg.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", cfg.cacheDir, err)
		}
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	fail := func(err error) (*runtime, error) {
		_ = rt.Close(ctx)
		return nil, &GuestError{Stage: stage, Module: module, Export: "(load)", Err: err}
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail(err)
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.Default()
	}
	glog := newGuestLog(logger.With("stage", stage))
	_, err := rt.NewHostModuleBuilder("dataweaver").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(glog.hostFunc),
			[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).
		Export("log").
		Instantiate(ctx)
	if err != nil {
		return fail(err)
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrModule, err))
	}
	for _, f := range compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != wasi_snapshot_preview1.ModuleName && mod != "dataweaver" {
			return fail(fmt.Errorf("%w: it imports %s.%s; a stage may import only wasi_snapshot_preview1 and dataweaver.log", ErrModule, mod, name))
		}
	}
	exports := compiled.ExportedFunctions()
	var missing []string
	for _, e := range []string{exportVersion, exportReserve, exportBind, exportProcess} {
		if _, ok := exports[e]; !ok {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		return fail(fmt.Errorf("%w: missing exports %v (is it built with the DataWeaver guest SDK?)", ErrModule, missing))
	}
	// Checked here, not on the instance: wazero's Module.Memory returns a
	// non-nil interface holding a nil memory when there is none.
	if len(compiled.ExportedMemories()) == 0 {
		return fail(fmt.Errorf("%w: it exports no memory", ErrModule))
	}
	modCfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	return &runtime{rt: rt, compiled: compiled, modCfg: modCfg, log: glog}, nil
}

func (r *runtime) close(ctx context.Context) error {
	r.log.flush(ctx)
	return errors.Join(r.compiled.Close(ctx), r.rt.Close(ctx))
}
