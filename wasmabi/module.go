package wasmabi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dataweaver/dataweaver/wasmabi/internal/wasmcheck"
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
	// exportInit is WASI's reactor initialiser (a Go, C or Rust guest's
	// runtime start-up), called once per instance before anything else.
	exportInit = "_initialize"
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

// CompilationCache is the process-wide compilation cache of cfg's cache
// directory, shared with every stage, or nil when cfg has none. A tool
// that compiles a module itself (weave inspect) uses it to find the code
// stages compiled before instead of compiling again (about a second for
// a Go guest): the runtime must then be configured as a stage's is (the
// cache key includes the memory limit and the stop instrumentation).
func CompilationCache(cfg Config) (wazero.CompilationCache, error) {
	if cfg.cacheDir == "" {
		return nil, nil
	}
	return compilationCache(cfg.cacheDir)
}

// defaultLimits bound a module's structure before it is compiled, so
// that compiling costs time and memory in proportion to the module's size.
// wazero's compile time grows faster than linearly in one br_table's
// targets and one function's block depth (64k targets: 1.4 s and 171 MB;
// 16k nested blocks: 1.8 s), so those two are bounded per function and
// the module's size bounds how many such functions there can be: at
// these limits a module of nothing but worst-case functions compiles at
// about 3 s/MB, against 0.3 s/MB for a Go guest (wazero 1.12, 2 cores).
// Our largest guests need 965 targets, depth 549, 2,300 functions,
// 29 KB bodies and 76 locals (the Go ones, which carry the Go runtime;
// TestGuestsWithinLimits keeps a 3x margin over every guest we build).
func defaultLimits() wasmcheck.Limits {
	return wasmcheck.Limits{
		Functions:      50_000,
		BodyBytes:      1 << 20,
		Locals:         10_000,
		BrTableTargets: 4096,
		Nesting:        2048,
		BrTableTotal:   1 << 20,
	}
}

// CheckModule refuses, before compiling it, a module over cfg's size
// limit or, unless cfg is trusted, over a structural limit: compiling
// such a module could take minutes and gigabytes. The error wraps
// ErrModule and names the limit and the function (by its index in the
// code section); the caller adds the module's name. The scan reads the
// binary once and allocates nothing in proportion to it. NewStage calls
// it; weave inspect, which compiles on its own, does too. With a cache
// directory a pass is recorded there, and checking the same bytes under
// the same limits again skips the scan (checked.go).
func CheckModule(wasm []byte, cfg Config) error {
	if cfg.cacheDir != "" {
		return checkModule(wasm, sha256.Sum256(wasm), cfg)
	}
	checkScans.Add(1)
	return checkErr(wasmcheck.Check(wasm, checkLimits(cfg)))
}

// checkLimits are the structural limits a module is checked against.
func checkLimits(cfg Config) wasmcheck.Limits {
	lim := defaultLimits()
	if cfg.trusted {
		lim = wasmcheck.Limits{}
	}
	lim.ModuleBytes = int(min(cfg.maxModuleBytes, int64(^uint(0)>>1)))
	return lim
}

// checkErr turns a scan's outcome into CheckModule's error.
func checkErr(_ wasmcheck.Stats, err error) error {
	var over *wasmcheck.Limit
	switch {
	case errors.As(err, &over) && over.Function < 0 && over.Name == wasmcheck.ModuleSize:
		return fmt.Errorf("%w: %w (raise max_module_bytes for a module you trust)", ErrModule, err)
	case errors.As(err, &over):
		return fmt.Errorf("%w: %w (set trusted: true for a module you trust)", ErrModule, err)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrModule, err)
	}
	return nil
}

// ReadModule reads the module at path, refusing one larger than cfg's
// max_module_bytes without reading past the limit (a pipeline could name
// /dev/zero or a huge file). Stages that read the same unchanged file
// get the same bytes (samemodule.go): they must not be modified.
func ReadModule(path string, cfg Config) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, ferr := f.Stat()
	if ferr == nil && fi.Mode().IsRegular() {
		if wasm := sameRead(path, fi); wasm != nil && (cfg.maxModuleBytes <= 0 || int64(len(wasm)) <= cfg.maxModuleBytes) {
			return wasm, nil
		}
	}
	r := io.Reader(f)
	if cfg.maxModuleBytes > 0 {
		r = io.LimitReader(f, cfg.maxModuleBytes+1)
	}
	// Sized from the file when it says (a regular file), so a 3.4 MB Go
	// guest is read into one buffer instead of io.ReadAll's ~20 growths
	// and copies; the byte past the size sees a file that grew.
	size := int64(512)
	if ferr == nil && fi.Mode().IsRegular() {
		size = fi.Size() + 1
		if cfg.maxModuleBytes > 0 {
			size = min(size, cfg.maxModuleBytes+1)
		}
	}
	wasm := make([]byte, 0, size)
	for {
		if len(wasm) == cap(wasm) {
			wasm = append(wasm, 0)[:len(wasm)]
		}
		n, err := r.Read(wasm[len(wasm):cap(wasm)])
		wasm = wasm[:len(wasm)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if cfg.maxModuleBytes > 0 && int64(len(wasm)) > cfg.maxModuleBytes {
		return nil, fmt.Errorf("%w: module[%s]: %s: over the limit of %d (raise max_module_bytes for a module you trust)",
			ErrModule, filepath.Base(path), wasmcheck.ModuleSize, cfg.maxModuleBytes)
	}
	if ferr == nil && fi.Mode().IsRegular() && int64(len(wasm)) == fi.Size() {
		rememberRead(path, fi, wasm)
	}
	return wasm, nil
}

// runtime is one compiled module in its own wazero runtime (the memory
// limit is a runtime setting), with WASI and the dataweaver host module,
// shared by the stages that run the same module with the same settings
// (runtimes.go).
type runtime struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	// log is the first stage's log, for what no instance claims; logs
	// maps each instance (api.Module) to its stage's *guestLog.
	log  *guestLog
	logs sync.Map
	// stoppable: compiled with the checks that let a call be stopped,
	// so every call runs under a stopper. loopChecks: the checks are the
	// host's, written into the module (loopchecks.go); otherwise they are
	// wazero's. keepWatcher leaves wazero's per-call watcher on
	// (detachWatcher) for a benchmark to compare.
	stoppable, loopChecks, keepWatcher bool
}

func newRuntime(ctx context.Context, stage, module string, wasm []byte, sum [sha256.Size]byte, cfg Config) (*runtime, error) {
	if err := checkModule(wasm, sum, cfg); err != nil {
		return nil, &GuestError{Stage: stage, Module: module, Export: "(load)", Err: err}
	}
	wasm, own := withLoopChecks(wasm, sum, cfg)
	r, err := buildRuntime(ctx, stage, module, wasm, cfg, own)
	var bad *badCacheEntry
	if !errors.As(err, &bad) {
		return r, err
	}
	// wazero fails every later compile of this module on a damaged entry
	// (a crash or a full disk while it was written) until the file is
	// deleted: replace it and say so once, instead of failing every run.
	if rerr := repairCache(ctx, wasm, cfg, own); rerr != nil {
		return nil, &GuestError{Stage: stage, Module: module, Export: "(load)",
			Err: fmt.Errorf("%w: %w; replacing the entry failed: %w", ErrModule, bad.err, rerr)}
	}
	cfg.loggerOrDefault().Warn("compilation cache: dropped an unreadable entry and recompiled the module",
		"stage", stage, "module", module, "dir", cfg.cacheDir, "error", bad.err.Error())
	return buildRuntime(ctx, stage, module, wasm, cfg, own)
}

// badCacheEntry is a compile that failed reading the compilation cache.
type badCacheEntry struct{ err error }

func (e *badCacheEntry) Error() string { return e.err.Error() }

// runtimeConfig is the wazero configuration of a stage; repairCache must
// compile with the same one, since the cache key depends on it. own: the
// module carries the host's loop checks (withLoopChecks).
func runtimeConfig(cfg Config, own bool) wazero.RuntimeConfig {
	return wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(cfg.memoryPages()).
		// wazero's loop instrumentation, which lets a timeout or a
		// cancelled context stop a running guest, costs 2-9x on
		// guest-heavy stages (BENCH_NOTES.md): it is compiled in only for a
		// stoppable stage whose module could not take the host's own.
		WithCloseOnContextDone((cfg.timeout > 0 || cfg.interruptible) && !own)
}

// repairCache compiles wasm into an empty cache beside cfg's and moves the
// entry it writes over the damaged one. wazero names an entry by a hash of
// the module, its settings and the CPU's features, which only wazero
// knows: compiling into a fresh cache is how to learn the file's name.
func repairCache(ctx context.Context, wasm []byte, cfg Config, own bool) error {
	tmp, err := os.MkdirTemp(cfg.cacheDir, "repair-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cache, err := wazero.NewCompilationCacheWithDir(tmp)
	if err != nil {
		return err
	}
	defer cache.Close(ctx)
	rt := wazero.NewRuntimeWithConfig(ctx, runtimeConfig(cfg, own).WithCompilationCache(cache))
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		_ = rt.Close(ctx)
		return err
	}
	_ = compiled.Close(ctx)
	if err := rt.Close(ctx); err != nil {
		return err
	}
	moved := 0
	err = filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(tmp, p)
		if err != nil {
			return err
		}
		moved++
		// A rename within one file system replaces the entry atomically,
		// so a concurrent run reads the old file or the new, never half.
		return os.Rename(p, filepath.Join(cfg.cacheDir, rel))
	})
	if err == nil && moved == 0 {
		err = errors.New("the fresh compile wrote no cache entry")
	}
	return err
}

func buildRuntime(ctx context.Context, stage, module string, wasm []byte, cfg Config, own bool) (*runtime, error) {
	rc := runtimeConfig(cfg, own)
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
	// One log import for the runtime, which stages with the same module
	// share (runtimes.go): it finds the calling instance's stage's log.
	r := &runtime{rt: rt, log: newGuestLog(cfg.loggerOrDefault().With("stage", stage))}
	_, err := rt.NewHostModuleBuilder("dataweaver").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(r.hostLog),
			[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).
		Export("log").
		Instantiate(ctx)
	if err != nil {
		return fail(err)
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil && cfg.cacheDir != "" && strings.HasPrefix(err.Error(), "compilationcache:") {
		// wazero's errors reading an entry have no type to test for.
		_ = rt.Close(ctx)
		return nil, &badCacheEntry{err}
	}
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
		// instantiate calls _initialize itself, through the stopper.
		WithStartFunctions().
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	r.compiled, r.modCfg = compiled, modCfg
	r.stoppable, r.keepWatcher = cfg.timeout > 0 || cfg.interruptible, cfg.keepWatcher
	r.loopChecks = r.stoppable && own
	return r, nil
}

// hostLog is the dataweaver.log import: the message goes to the log of
// the stage whose instance calls it (r.log, the first stage's, for a
// module's start section, which runs before its instance is known).
func (r *runtime) hostLog(ctx context.Context, m api.Module, stack []uint64) {
	g := r.log
	if v, ok := r.logs.Load(m); ok {
		g = v.(*guestLog)
	}
	g.hostFunc(ctx, m, stack)
}

func (r *runtime) close(ctx context.Context) error {
	return errors.Join(r.compiled.Close(ctx), r.rt.Close(ctx))
}
