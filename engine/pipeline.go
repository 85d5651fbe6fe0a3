package engine

import (
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine/position"
)

// Pipeline is a source, a chain of stages and one or more sinks. Build it as
// a plain struct (or from a pipeline file with the config package) and call
// Run; a Pipeline runs once.
type Pipeline struct {
	Name   string
	Source SourceStep
	Stages []StageStep
	// Sinks all receive every batch (fan-out).
	Sinks []SinkStep
	// DeadLetter receives rejected rows from steps whose policy is
	// DeadLetter, as records with the DeadLetterSchema.
	DeadLetter Sink
	// DeadLetterRecipe is how DeadLetter was made, when it came from a
	// registered connector (see Recipe).
	DeadLetterRecipe *Recipe
	// Buffer is how many batches may wait between two steps (default 4).
	// It bounds memory: a slow sink blocks the source.
	Buffer int
	// InFlight is how many source batches may be between the source and
	// the sinks at once, queued or being worked on (default: one for the
	// source, each stage worker and each sink, plus Buffer). Without it
	// every queue fills up behind a slow sink, and a pipeline of n steps
	// held about n*Buffer batches: 4 Wasm stages and a sink at 65,536
	// rows, 170 MB of Arrow data.
	InFlight int
	Logger   *slog.Logger
	// Mem allocates the engine's own records (dead letters); default Go allocator.
	Mem memory.Allocator
	// Drain, when closed, makes the pipeline stop reading, finish the
	// batches in flight, flush the sinks and return without error: a
	// graceful stop (SIGINT). Cancelling Run's context aborts instead.
	Drain <-chan struct{}
	// Limit, when > 0, stops the source after that many rows (rows it
	// delivers; rejected rows do not count) as gracefully as the end of
	// the input: everything read is written, and the position saved is
	// just after the last row taken (exactly so for a RowCapper source), so
	// the next run continues there. Reading the limit is not an
	// interruption: sinks that replace their output do replace it.
	Limit int64
	// Metrics, when set from NewMetrics, is updated live while the pipeline
	// runs (the CLI reads it for its progress line); Run returns it either way.
	Metrics *Metrics
	// Positions keeps the source's position between runs (see Resumer):
	// the run resumes from the stored one and saves a new one at each
	// checkpoint, after every sink has made the batches before it durable.
	// Nil: every run starts from the start (a sink that keeps positions
	// itself, a PositionKeeper, is used either way).
	Positions position.Store
	// FromStart ignores the stored position: the run reads from the start
	// and then saves its own positions over the old ones.
	FromStart bool
	// CheckpointEvery is the time between checkpoints; default
	// DefaultCheckpointEvery. A checkpoint is also taken when the source
	// ends or Drain stops it.
	CheckpointEvery time.Duration
	// Tracer, when set, is told about each batch and each step it goes
	// through (see Tracer); nil traces nothing.
	Tracer Tracer
	// MemoryBudget bounds the host memory the stages that hold memory per
	// worker (MemoryBounded: Wasm instances) may hold together, workers ×
	// MaxMemory summed over the stages; Validate and Run refuse a pipeline
	// over it with ErrInvalidConfig, before any data moves. 0 means the
	// memory this process may use (its cgroup's limit, else the machine's);
	// negative turns the check off. A pipeline file's memory_budget sets it.
	MemoryBudget int64
	// Warm, when set, waits for the steps that still prepare in the
	// background (Warming: Wasm modules compiling) and returns their
	// errors together, as building the pipeline would have. Run calls it
	// once the source is open, and has the source read its first batches
	// meanwhile (at most Buffer); Validate calls it first. config.Build
	// sets it when Options.DeferReady asks it not to wait itself. A
	// Drain interrupts Run's wait; Warm must then return once the steps
	// are closed, which Run does before it returns.
	Warm func() error

	closed bool
	// clock is what idle advance reads (idle.go); nil: the wall clock.
	clock clock
}

// SourceStep is the pipeline's source and its error policy for rows it
// cannot decode.
type SourceStep struct {
	Name string
	// Origin is where the step was declared ("pipeline.yaml:7:5"), put
	// in front of errors found before data flows; empty for Go-built steps.
	Origin     string
	Source     Source
	OnError    Policy
	MaxRejects RejectLimit
	// Recipe is how Source was made, when it came from a registered
	// connector: what a Runner that runs the step elsewhere makes it
	// again from. Nil for a source made by Go code alone.
	Recipe *Recipe
}

// StageStep is one stage in the chain.
type StageStep struct {
	Name       string
	Origin     string // see SourceStep.Origin
	Stage      Stage
	OnError    Policy
	MaxRejects RejectLimit
	// Workers is how many batches the stage processes at once (default 1).
	Workers int
	// Unordered lets batches leave the stage as soon as each is done
	// instead of in input order.
	Unordered bool
	Recipe    *Recipe // see SourceStep.Recipe
}

// SinkStep is one sink.
type SinkStep struct {
	Name       string
	Origin     string // see SourceStep.Origin
	Sink       Sink
	OnError    Policy
	MaxRejects RejectLimit
	Retry      Retry
	Recipe     *Recipe // see SourceStep.Recipe
}
