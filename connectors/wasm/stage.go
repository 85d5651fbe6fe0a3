package wasm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/wasmabi"
)

var stageSpec = spec.New("wasm").
	Summary("Runs a WebAssembly transform (built with the DataWeaver guest SDK) on every batch.").
	Description("The module is compiled once (and cached on disk), then one sandboxed instance per worker "+
		"processes whole batches: only the columns it declares it reads are copied in, and what it "+
		"returns is validated before it becomes Arrow data. The module sees its config and the input "+
		"schema when the pipeline is checked, so a wrong column name fails `weave validate`. It gets no "+
		"files, no environment and no network.").
	Field(
		spec.String("path").Desc("The .wasm module, relative to the working directory.").
			Example("transforms/mask/mask.wasm"),
		spec.Any("config").Optional().Desc("The module's own configuration, passed to it as JSON."),
		spec.ByteSize("memory_limit").Default(int64(wasmabi.DefaultMemoryLimit)).
			Desc("Most linear memory one instance may use; a module that needs more traps.").
			Validate(func(v any) error {
				if n, _ := v.(int64); n < 64<<10 || n > 4<<30 {
					return errors.New("must be between 64KiB and 4GiB")
				}
				return nil
			}).Advance(),
		spec.Duration("timeout").Default(wasmabi.DefaultTimeout).
			Desc("Longest one batch may take in the module; a module still running then is stopped and the batch fails. "+
				"0 turns the limit off; the module can still be stopped by a second Ctrl-C unless interruptible is false.").
			Validate(func(v any) error {
				if d, _ := v.(time.Duration); d < 0 {
					return errors.New("must not be negative")
				}
				return nil
			}).Advance(),
		spec.ByteSize("max_module_bytes").Default(int64(wasmabi.DefaultMaxModuleBytes)).
			Desc("Largest module file accepted. It is checked before the module is compiled, with limits on its "+
				"structure (functions, body size, locals, br_table targets, block nesting) that keep a hostile "+
				"module from costing minutes and gigabytes to compile; the error names the function and the limit.").
			Validate(func(v any) error {
				if n, _ := v.(int64); n < 1<<10 || n > 1<<30 {
					return errors.New("must be between 1KiB and 1GiB")
				}
				return nil
			}).Advance(),
		spec.Bool("interruptible").Default(true).
			Desc("false, with timeout: 0, compiles the module without the checks that let a timeout or a signal stop "+
				"a running guest: guest code runs 2-9x faster, but a module that loops forever then freezes the "+
				"whole process, which only kill -9 ends. Use it only for modules you trust not to loop.").Advance(),
		spec.Int("max_emit_rows").Default(wasmabi.DefaultMaxEmitRows).
			Desc("ABI v2 modules: most rows one call may emit (an explode of a batch into more rows); a call over "+
				"it fails its batch with the limit named.").
			Validate(func(v any) error {
				if n, _ := v.(int); n < 1 {
					return errors.New("must be 1 or more")
				}
				return nil
			}).Advance(),
		spec.ByteSize("max_emit_bytes").Default(int64(wasmabi.DefaultMaxEmitBytes)).
			Desc("ABI v2 modules: most column bytes one call may emit (what the host copies out of the module per call).").
			Validate(func(v any) error {
				if n, _ := v.(int64); n < 1<<10 {
					return errors.New("must be 1KiB or more")
				}
				return nil
			}).Advance(),
		spec.ByteSize("max_state").Default(int64(wasmabi.DefaultMaxState)).
			Desc("ABI v2 modules that keep state (windows, seen keys): largest snapshot saved with the source position "+
				"at each checkpoint. A larger one fails the run, since a state that cannot be saved cannot be resumed.").
			Validate(func(v any) error {
				if n, _ := v.(int64); n < 1<<10 {
					return errors.New("must be 1KiB or more")
				}
				return nil
			}).Advance(),
		spec.String("event_time").Optional().
			Desc("ABI v2 modules: the input's event-time column (a timestamp). After each batch the module is told the "+
				"watermark, the latest event time seen minus lateness, so windows close when it passes their end even "+
				"when rows arrive out of order. The module must speak ABI v2.").Advance(),
		spec.Duration("lateness").Default(time.Duration(0)).
			Desc("With event_time: how far behind the latest event time seen a row may still arrive; the watermark "+
				"stays that far behind.").
			Validate(func(v any) error {
				if d, _ := v.(time.Duration); d < 0 {
					return errors.New("must not be negative")
				}
				return nil
			}).Advance(),
		spec.Duration("idle_advance").Default(time.Duration(0)).
			Desc("With event_time, on a stream (not a file, whose end closes every window): when no rows have reached "+
				"the stage for this long, the watermark moves on by the wall time since the last row, and again every "+
				"idle_advance while the stream stays quiet, so the windows a quiet stream leaves open close and their rows "+
				"are emitted without more input. Rows that then arrive behind the moved watermark are late (the module "+
				"rejects them; on_error decides). The moved watermark is saved with the state. 0 (the default) moves "+
				"event time only with rows.").
			Example("30s").
			Validate(func(v any) error {
				if d, _ := v.(time.Duration); d < 0 {
					return errors.New("must not be negative")
				}
				return nil
			}).Advance(),
		spec.StringList("key").Optional().
			Desc("The column(s) whose values decide which of the stage's workers processes a row: with workers: N, "+
				"each batch is split by a hash of the key over N instances, so the rows of one key go to one instance, "+
				"in their input order, and a module that keeps state per key (windows, seen keys) can run on several "+
				"workers. Their outputs are joined in instance order. Each instance's state is saved separately; a run "+
				"resuming such state must have the same workers.").
			Example("[country]").Advance(),
		spec.Bool("trusted").Default(false).
			Desc("Lifts the limits on the module's structure (not max_module_bytes), for a module you trust that "+
				"needs more than they allow. Its compile time and memory are then unbounded.").Advance(),
	).
	Scalar("path").
	WithExample("Mask emails", `stages:
  - wasm:
      path: transforms/mask/mask.wasm
      config: {columns: [email]}`).
	WithExample("Scalar form", `stages:
  - wasm: build/identity.wasm`)

func init() { engine.RegisterStage(stageSpec, newStage) }

func newStage(conf *spec.Parsed, b engine.Build) (engine.Stage, error) {
	path := conf.String("path")
	cfg := wasmabi.NewConfig().
		WithMemoryLimit(conf.ByteSize("memory_limit")).
		WithTimeout(conf.Duration("timeout")).
		WithInterruptible(conf.Bool("interruptible")).
		WithMaxModuleBytes(conf.ByteSize("max_module_bytes")).
		WithTrusted(conf.Bool("trusted")).
		WithMaxEmit(int64(conf.Int("max_emit_rows")), conf.ByteSize("max_emit_bytes")).
		WithMaxState(conf.ByteSize("max_state")).
		WithEventTime(conf.String("event_time"), conf.Duration("lateness")).
		WithIdleAdvance(conf.Duration("idle_advance")).
		WithKey(conf.Strings("key")...)
	if !conf.Bool("interruptible") && conf.Duration("timeout") > 0 {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig,
			conf.Errorf("interruptible", "false needs timeout: 0 (a timeout stops the guest through the same checks)"))
	}
	if conf.Duration("idle_advance") > 0 && conf.String("event_time") == "" {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig,
			conf.Errorf("idle_advance", "needs event_time: it moves the watermark, which comes from the event-time column"))
	}
	wasm, err := wasmabi.ReadModule(path, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, conf.Errorf("path", "%w", err))
	}
	if b.Logger != nil {
		cfg = cfg.WithLogger(b.Logger)
	}
	cfg = cfg.WithName(b.Name, path).WithGuestConfig(conf.Any("config")).WithAllocator(b.Mem).
		// config.Build constructs every stage before it waits for any
		// (engine.Warming), so a pipeline's modules compile in parallel.
		WithBackgroundCompile(true)
	s, err := wasmabi.NewStage(context.Background(), wasm, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, conf.Errorf("path", "%w", err))
	}
	return &stage{Stage: s, conf: conf}, nil
}

// stage is a Wasm stage that reports a failed compile at its path field,
// as NewStage's errors are.
type stage struct {
	*wasmabi.Stage
	conf *spec.Parsed
}

func (s *stage) Ready() error {
	if err := s.Stage.Ready(); err != nil {
		return fmt.Errorf("%w: %w", engine.ErrInvalidConfig, s.conf.Errorf("path", "%w", err))
	}
	return nil
}
