package wasmabi

import (
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Defaults for the per-stage limits.
const (
	DefaultMemoryLimit = 256 << 20
	DefaultTimeout     = 10 * time.Second
	// DefaultMaxModuleBytes bounds a module's size before it is read
	// further. Our largest guests (Go, with its runtime) are 3.3-3.6 MB;
	// at the structural limits (module.go) a hostile module of this size
	// compiles in under a minute.
	DefaultMaxModuleBytes = 16 << 20
)

// Config holds a stage's runtime limits. It is an immutable value: each
// WithX returns a changed copy (the same choice as wazero's configs).
type Config struct {
	// name is the pipeline step ("stages[2].wasm") and module the file it
	// came from, for messages; guestConfig is sent to the guest as JSON at
	// bind time; mem allocates the stage's output batches.
	name, module string
	guestConfig  any
	mem          memory.Allocator

	memoryLimit int64
	timeout     time.Duration
	cacheDir    string
	logger      *slog.Logger
	// maxModuleBytes bounds the binary; trusted lifts the per-function
	// limits (module.go's moduleLimits) but not that one.
	maxModuleBytes int64
	trusted        bool
	// background: NewStage returns at once and compiles in the background
	// (see WithBackgroundCompile).
	background bool
	// interruptible compiles in wazero's close-on-context-done checks even
	// without a timeout, so cancelling the call's context (a second
	// Ctrl-C) stops a looping guest.
	interruptible bool
	// v2 holds ABI v2's limits (config_v2.go).
	v2 v2Limits
	// keepWatcher keeps wazero's per-call context watcher instead of
	// detaching it (watcher.go); set only by tests and benchmarks.
	keepWatcher bool
	// wazeroChecks compiles a stoppable module with wazero's loop checks
	// instead of writing the host's into it (loopchecks.go); set only by
	// tests and benchmarks. keepWatcher implies it.
	wazeroChecks bool
}

// NewConfig returns the defaults: 256 MiB of guest memory, 10 s per call,
// compilation cached under the user cache directory.
func NewConfig() Config {
	c := Config{memoryLimit: DefaultMemoryLimit, timeout: DefaultTimeout, logger: slog.Default(),
		maxModuleBytes: DefaultMaxModuleBytes}
	if dir, err := os.UserCacheDir(); err == nil {
		c.cacheDir = filepath.Join(dir, "dataweaver", "wazero")
	}
	return c
}

// WithName names the stage in messages and metrics: step is the pipeline
// step ("stages[2].wasm"), module the module's file (its base name is
// used). Both default to "wasm".
func (c Config) WithName(step, module string) Config { c.name, c.module = step, module; return c }

// WithGuestConfig sets the stage's configuration, marshalled to JSON and
// given to the guest at bind time (the pipeline file's config: key). nil
// sends null.
func (c Config) WithGuestConfig(v any) Config { c.guestConfig = v; return c }

// WithAllocator sets the allocator of the stage's output batches; the
// default is memory.DefaultAllocator.
func (c Config) WithAllocator(mem memory.Allocator) Config { c.mem = mem; return c }

// WithBackgroundCompile makes NewStage return before the module is
// compiled; Stage.Ready waits for it and returns its error. A program
// building several stages starts them all and then waits, so their
// modules compile in parallel, up to one per core (a Go guest takes
// 30-60 ms warm and about a second cold). Compile errors then come from
// Ready, Bind or Process instead of NewStage.
func (c Config) WithBackgroundCompile(on bool) Config { c.background = on; return c }

// WithMemoryLimit caps each instance's linear memory, in bytes (rounded up
// to 64 KiB pages).
func (c Config) WithMemoryLimit(bytes int64) Config { c.memoryLimit = bytes; return c }

// WithTimeout bounds every guest call. 0 means no limit; unless the config
// is also WithInterruptible(true), it compiles the module without the
// checks that let anything stop a running guest, which makes guest code
// several times faster, but a looping guest then hangs its worker and,
// once Go's collector waits for it, the whole process (signals included).
func (c Config) WithTimeout(d time.Duration) Config { c.timeout = d; return c }

// WithInterruptible keeps the checks that let a cancelled context stop a
// running guest even when there is no timeout. A stage with a timeout has
// them anyway. Pipeline files turn it on by default (the wasm stage's
// interruptible field), so that a second Ctrl-C ends a looping guest.
func (c Config) WithInterruptible(on bool) Config { c.interruptible = on; return c }

// WithCacheDir sets where compiled modules are cached; "" disables the cache.
func (c Config) WithCacheDir(dir string) Config { c.cacheDir = dir; return c }

// WithLogger sets the logger the guest's log import writes to.
func (c Config) WithLogger(l *slog.Logger) Config { c.logger = l; return c }

// WithMaxModuleBytes bounds the size of the module's binary, checked
// before anything else reads it; 0 means no bound.
func (c Config) WithMaxModuleBytes(n int64) Config { c.maxModuleBytes = n; return c }

// WithTrusted lifts the limits on the module's structure (functions, body
// size, locals, br_table targets, block nesting) that keep a hostile
// module from costing minutes and gigabytes to compile. Use it only for a
// module whose author you trust and that needs more than the limits allow.
func (c Config) WithTrusted(trusted bool) Config { c.trusted = trusted; return c }

func (c Config) loggerOrDefault() *slog.Logger {
	if c.logger == nil {
		return slog.Default()
	}
	return c.logger
}

func (c Config) memoryPages() uint32 {
	p := (c.memoryLimit + 65535) / 65536
	switch {
	case p < 1:
		return 1
	case p > 65536:
		return 65536
	}
	return uint32(p)
}
