package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Options are what Load, Parse and Build need beyond the file itself. The
// zero value uses the default environment, the process environment, the
// default logger and the Go allocator.
type Options struct {
	// Env resolves connector names; default engine.DefaultEnvironment().
	Env *engine.Environment
	// Lookup reads environment variables for ${VAR}; default os.LookupEnv.
	Lookup func(string) (string, bool)
	// Set holds "path=value" overrides (--set), applied in order.
	Set []string
	// Logger is given to the pipeline and, tagged with the step name, to
	// each constructor; default slog.Default().
	Logger *slog.Logger
	// Mem is the allocator for the pipeline and its steps; default memory.DefaultAllocator.
	Mem memory.Allocator
	// MaxFileSize is the largest pipeline file Load and Parse accept, in
	// bytes; default DefaultMaxFileSize.
	MaxFileSize int64
	// State, when set, replaces the file's state directory (weave run --state).
	State string
	// DefaultState keeps positions in DefaultStateDir beside the pipeline
	// file when neither State nor the file's state key names a directory.
	// weave run sets it; a program that builds pipelines itself chooses
	// where (or whether) to keep positions with State or the state key.
	DefaultState bool
	// NoPositions builds the pipeline without a position store: every run
	// starts from the start and saves nothing.
	NoPositions bool
	// DeferReady makes Build return without waiting for the steps that
	// prepare in the background (engine.Warming: Wasm modules compiling)
	// when nothing else failed: it sets the pipeline's Warm, which Run
	// calls once its source is open, so the source reads its first
	// batches while they compile. A step that fails to prepare then fails
	// Run (or Validate) before anything is written, with the error Build
	// would have returned. weave run sets it.
	DeferReady bool
	// MemoryBudget, when positive, replaces the file's memory_budget and the
	// default, the machine's memory (see sysmem.Limit).
	MemoryBudget int64
	// Secret, when set, is called by Parse with every secret the file's
	// steps were given (the values of fields marked spec.Field.Secret),
	// even when the file has errors, so a program can redact them from
	// all it prints before it prints anything about the file.
	Secret func(string)
}

// StateDir is the state directory a pipeline built from f with opts keeps
// its positions in, or "" for none.
func (o Options) StateDir(f *File) string {
	switch {
	case o.NoPositions:
		return ""
	case o.State != "":
		return o.State
	case f.State != "":
		return f.State
	case o.DefaultState:
		return stateDir(f.Filename, "")
	}
	return ""
}

func (o Options) maxFileSize() int64 {
	if o.MaxFileSize > 0 {
		return o.MaxFileSize
	}
	return DefaultMaxFileSize
}

func (o Options) env() *engine.Environment {
	if o.Env != nil {
		return o.Env
	}
	return engine.DefaultEnvironment()
}

func (o Options) lookup() func(string) (string, bool) {
	if o.Lookup != nil {
		return o.Lookup
	}
	return os.LookupEnv
}

// File is a pipeline file after parsing: plain values, every default
// filled in, connectors resolved but not yet constructed.
type File struct {
	// Filename is the file it was parsed from, for messages.
	Filename   string
	Name       string
	Source     Step
	Stages     []Step
	Sinks      []Step
	DeadLetter *Step // nil when the file has none
	Batch      Batch
	Buffer     int // 0: the engine's default
	OnError    engine.Policy
	// State is the directory the state key names, resolved against the
	// file's directory ("" when the file has none: see Options.StateDir);
	// CheckpointEvery the time between checkpoints.
	State           string
	CheckpointEvery time.Duration
	// MemoryBudget is the memory_budget key, zero when the file has none
	// (see Options.MemoryBudget).
	MemoryBudget Budget
	// Coordinator is the coordinator section (see RegisterCoordinator),
	// nil when the file runs alone.
	Coordinator *spec.Parsed

	secrets []string
}

// Secrets returns the values of the secret fields the file's steps were
// given (spec.Field.Secret), for a program to redact from what it prints.
func (f *File) Secrets() []string { return f.secrets }

// Budget is a memory budget in bytes and where the file gave it.
type Budget struct {
	Bytes        int64
	Line, Column int
}

// DefaultStateDir is where a pipeline keeps its positions unless its file
// or the caller says otherwise: beside the pipeline file, so two copies of
// a project never share positions by accident and a test's temporary
// pipeline takes its state with it.
const DefaultStateDir = ".weave-state"

// stateDir resolves a state directory against the pipeline file's
// directory; "" means DefaultStateDir.
func stateDir(file, dir string) string {
	if dir == "" {
		dir = DefaultStateDir
	}
	if filepath.IsAbs(dir) || file == "" || file == "-" {
		return dir
	}
	return filepath.Join(filepath.Dir(file), dir)
}

// Steps is every step of the file in the order it appears: the source,
// the stages, the sinks and last the dead-letter sink if there is one.
func (f *File) Steps() []*Step {
	steps := make([]*Step, 0, 2+len(f.Stages)+len(f.Sinks))
	steps = append(steps, &f.Source)
	for i := range f.Stages {
		steps = append(steps, &f.Stages[i])
	}
	for i := range f.Sinks {
		steps = append(steps, &f.Sinks[i])
	}
	if f.DeadLetter != nil {
		steps = append(steps, f.DeadLetter)
	}
	return steps
}

// Batch is the pipeline's batching: sources aim for Rows rows per batch and
// emit a partial one after Linger without new input.
type Batch struct {
	Rows   int
	Linger time.Duration
}

// Default batching, used for keys the file leaves out.
const (
	DefaultBatchRows   = engine.DefaultBatchRows
	DefaultBatchLinger = 100 * time.Millisecond
)

// Step is one source, stage or sink of a File.
type Step struct {
	Kind      string // engine.KindSource, KindStage or KindSink (also for the dead-letter sink)
	Name      string // given, or the default "stages[1].select"
	Connector string // registered name
	Config    *spec.Parsed
	OnError   engine.Policy
	// MaxRejects bounds what OnError may absorb (zero: no limit).
	MaxRejects engine.RejectLimit
	Workers    int          // stages
	Unordered  bool         // stages
	Retry      engine.Retry // sinks
	// Path is where the step sits in the file ("source", "stages[1]").
	Path         string
	Line, Column int

	plugin *engine.Plugin
	// node is the step's settings as written (aliases expanded), for its
	// engine.Recipe; nil in a File assembled by hand.
	node *yaml.Node
}

// Error is a failed Parse, Build or Load: every problem found, each with its
// file, line, column and dotted path. It wraps engine.ErrInvalidConfig and
// the spec.Errors it lists, so errors.As reaches the individual problems.
type Error struct {
	Problems spec.Errors
}

func (e *Error) Error() string   { return e.Problems.Error() }
func (e *Error) Unwrap() []error { return []error{engine.ErrInvalidConfig, e.Problems} }

// invalid returns nil for no problems, so call sites can return it directly.
func invalid(errs spec.Errors) error {
	if len(errs) == 0 {
		return nil
	}
	// Problems come from several passes (substitution, parse, build); the
	// reader wants them in file order. Problems without a line (a bad
	// --set) come first.
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Column < errs[j].Column
	})
	return &Error{Problems: errs}
}

// Load reads the pipeline file at path, parses it and builds the pipeline.
// A file over Options.MaxFileSize is refused before it is read.
func Load(path string, opts Options) (*engine.Pipeline, error) {
	f, err := ParseFile(path, opts)
	if err != nil {
		return nil, err
	}
	return Build(f, opts)
}

// ParseFile reads and parses the pipeline file at path without building
// its steps (weave positions needs only its name and state directory).
func ParseFile(path string, opts Options) (*File, error) {
	data, err := ReadFile(path, opts)
	if err != nil {
		return nil, err
	}
	return Parse(data, path, opts)
}

// ReadFile reads a configuration file (a pipeline, a pipeline's tests),
// refusing one over Options.MaxFileSize before reading it whole. Its
// errors wrap engine.ErrInvalidConfig and name the file.
func ReadFile(path string, opts Options) ([]byte, error) {
	data, rerr := readFile(path, opts.maxFileSize())
	if rerr != nil {
		return nil, invalid(spec.Errors{rerr})
	}
	return data, nil
}

// Parse checks a pipeline file held in data; file names it in messages.
// It reports every problem at once in an *Error. Data over
// Options.MaxFileSize, or whose aliases would expand past
// MaxAliasExpansion values, is refused before it is looked at further.
func Parse(data []byte, file string, opts Options) (*File, error) {
	root, err := DecodeDocument(data, file, opts)
	if err != nil {
		return nil, err
	}
	fromSet, errs := applySets(root, opts.Set)
	errs = append(errs, substitute(root, opts.lookup(), file, fromSet)...)
	f, perrs := parseFile(root, file, opts.env())
	errs = append(errs, perrs...)
	if f != nil && opts.Secret != nil {
		for _, s := range f.secrets {
			opts.Secret(s)
		}
	}
	if err := invalid(errs); err != nil {
		return nil, err
	}
	return f, nil
}

func defaultName(file string) string {
	if file == "" || file == "-" {
		return "pipeline"
	}
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
