package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	ucli "github.com/urfave/cli/v2"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/internal/progress"
	"github.com/dataweaver/dataweaver/internal/tracing"
)

var stateFlag = &ucli.StringFlag{
	Name:  "state",
	Usage: "directory holding the pipeline's positions (default: the file's state key, or .weave-state beside it)",
}

var setFlag = &ucli.StringSliceFlag{
	Name:  "set",
	Usage: "override a value of the pipeline file, e.g. --set source.file.path=x.csv (repeatable)",
}

func (w *weave) runCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "run",
		Usage:     "run a pipeline file",
		ArgsUsage: "FILE",
		Description: "Runs the pipeline and prints a per-step summary to stderr. It resumes where the " +
			"last run of the same pipeline stopped (positions are kept in the state directory, .weave-state " +
			"beside the pipeline file unless its state key or --state says otherwise); --from-start reads " +
			"everything again. A pipeline whose sink replaces one output file always starts from the start.\n\n" +
			"The first Ctrl-C (or SIGTERM) stops reading, finishes what is in flight, saves the position and " +
			"exits with 130 (143): run again to resume. A sink that replaces one output file keeps its previous " +
			"output then. The second signal aborts at once.\n\n" +
			"--limit N stops after N rows the same graceful way, but as a normal end (exit 0, outputs written): " +
			"the next run continues after them.\n\n" +
			"On a terminal a status line shows progress; otherwise a progress record is logged every " +
			"--progress-every. Under --log-format json the summary is one JSON object on stderr.",
		Flags: []ucli.Flag{setFlag, stateFlag,
			&ucli.BoolFlag{Name: "from-start", Usage: "ignore saved positions: read everything, then save new positions"},
			&ucli.Int64Flag{Name: "limit", Usage: "stop after `N` source rows, write them and save the position after them (0: no limit)"},
			&ucli.DurationFlag{Name: "progress-every", Value: defaultProgressEvery,
				Usage: "when stderr is not a terminal, log progress (rows, rows/s, bytes, percent) this often; 0 turns it off"},
			httpFlag, httpLingerFlag,
		},
		Action: w.run,
	}
}

func (w *weave) validateCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "validate",
		Usage:     "check a pipeline file and print each step's output schema",
		ArgsUsage: "FILE",
		Description: "Checks the file, builds every step, opens the source to learn its schema and " +
			"binds each stage to it. No data moves.\n\n" +
			"With --sample N it also runs the first N rows of the source through every stage (the real " +
			"stages, WebAssembly included) and prints, per step, a table of the rows it emitted and the rows " +
			"it rejected. Sinks are not opened and no position is read or saved: the sample always comes from " +
			"the start of the input.",
		Flags: []ucli.Flag{setFlag,
			&ucli.Int64Flag{Name: "sample", Usage: "run the first `N` rows through every step and print them per step (sinks are not written)"},
			&ucli.IntFlag{Name: "width", Value: 24, Usage: "cut sampled values to `W` characters"},
		},
		Action: w.validate,
	}
}

// load reads the one FILE argument into a pipeline.
func (w *weave) load(c *ucli.Context) (*engine.Pipeline, error) {
	switch c.NArg() {
	case 1:
	case 0:
		return nil, usagef("%s needs a pipeline FILE", c.Command.Name)
	default:
		// Usually an unquoted --set value the shell split at a space.
		return nil, usagef("%s takes one pipeline FILE, got %d arguments: %s (quote --set values that contain spaces)",
			c.Command.Name, c.NArg(), quoteAll(c.Args().Slice()))
	}
	opts := w.configOptions(w.logger)
	opts.Set = c.StringSlice("set")
	opts.State = c.String("state")
	// validate never moves data, so it must not lock or create state.
	opts.NoPositions = c.Command.Name == "validate"
	// A run in this process opens its source while the Wasm modules
	// compile (config.Options.DeferReady); a runner that makes the steps
	// again elsewhere needs them ready here, to report a module that does
	// not load before it starts.
	_, local := w.opts.Runner.(engine.Local)
	opts.DeferReady = c.Command.Name == "run" && local
	return config.Load(c.Args().First(), opts)
}

// configOptions are how every command builds a pipeline from its file:
// weave's connectors, environment, allocator and logger, and positions kept
// beside the file unless told otherwise.
func (w *weave) configOptions(log *slog.Logger) config.Options {
	return config.Options{
		Env: w.opts.Env, Lookup: w.opts.Lookup, Mem: w.opts.Mem,
		Logger: log, DefaultState: true,
		Secret: w.secrets.Add,
	}
}

func (w *weave) run(c *ucli.Context) error {
	limit := c.Int64("limit")
	if limit < 0 {
		return usagef("--limit %d: want a number of rows, or 0 for no limit", limit)
	}
	every := c.Duration("progress-every")
	if every < 0 {
		return usagef("--progress-every %s: want a duration such as 5s, or 0 to turn progress records off", every)
	}
	if f, opts, ok, err := w.coordinated(c); err != nil || ok {
		if err != nil {
			return err
		}
		return w.runWorker(c, f, opts)
	}
	p, err := w.load(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	drain := make(chan struct{})
	p.Drain = drain
	p.FromStart = c.Bool("from-start")
	p.Limit = limit
	// NewMetrics fixes the step list before Run starts, so the progress
	// line can read the counters from its own goroutine without a race.
	p.Metrics = p.NewMetrics()
	stopTracing, err := tracing.Trace(ctx, p, w.opts.Lookup, w.logger)
	if err != nil {
		return errors.Join(err, p.Close())
	}
	defer stopTracing()
	stopHTTP, err := w.serveHTTP(c, p, drain)
	if err != nil {
		return errors.Join(err, p.Close())
	}
	defer stopHTTP()
	signals := w.watchSignals(ctx, drain, cancel)

	meter := w.meterWhenReady(p, every)
	m, err := w.opts.Runner.Run(ctx, p)
	meter.stop()
	first, second := signals()
	switch {
	case second != nil && err != nil:
		err = &abortError{sig: second, err: err}
	case err == nil && m != nil && m.Interrupted.Load():
		err = &abortError{sig: first, err: interrupted(m), drained: true}
	}
	// A step that failed to prepare (a module that does not load) is a
	// problem of the file found after Build returned (DeferReady): it is
	// reported as Build reports one, without a summary of a run that
	// never started.
	var late *config.Error
	if m != nil && !errors.As(err, &late) {
		w.writeSummary(p.Name, m, err)
	}
	return err
}

// interrupted says what a drained run left behind, so the user knows that
// running again is safe and what it will do.
func interrupted(m *engine.Metrics) error {
	var rows int64
	if len(m.Steps) > 0 {
		rows = m.Steps[0].RowsIn.Load()
	}
	msg := fmt.Sprintf("interrupted after %d rows", rows)
	if len(m.Steps) > 0 && rows == 0 && m.Steps[0].Batches.Load() == 0 {
		msg = "interrupted during start-up, before the first row"
	}
	if len(m.Abandoned) > 0 {
		msg += fmt.Sprintf("; the output of %s was not replaced (an earlier complete one is kept)", strings.Join(m.Abandoned, ", "))
	}
	switch {
	case m.EndPosition() != "":
		msg += "; run again to resume from " + m.EndPosition()
	case m.Resumed:
		// Nothing was saved this time: the position this run started
		// from is still the one the next run takes.
		msg += "; run again to resume from " + m.StartPosition
	default:
		msg += "; run again to start over"
	}
	return errors.New(msg)
}

// abortError is a run ended by a signal: aborted by a second one, or
// drained by the first before its end. It exits with 128 plus the
// signal's number (130 for SIGINT, 143 for SIGTERM), as a shell reports a
// process the signal killed, so a script tells an abort from a failure.
type abortError struct {
	sig     os.Signal
	err     error
	drained bool // stopped by the first signal, not aborted by the second
}

func (e *abortError) Error() string {
	if e.drained {
		return e.err.Error()
	}
	return "aborted: " + e.err.Error()
}
func (e *abortError) Unwrap() error { return e.err }

// ExitCode is 128+n for a signal numbered n, 1 for a signal without one.
func (e *abortError) ExitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, " ")
}

// watchSignals drains on the first signal and cancels on the second. The
// returned func reports the first and the second signal (nil when there
// was none). After the second signal SIGINT and SIGTERM go back to
// Go's default, so a third one kills the process at once, whatever the
// abort is still waiting for (a sink's write, say).
func (w *weave) watchSignals(ctx context.Context, drain chan struct{}, cancel context.CancelFunc) (signals func() (first, second os.Signal)) {
	sigs := w.opts.Signals
	release := func() {}
	if sigs == nil {
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		release = func() { signal.Stop(ch) }
		context.AfterFunc(ctx, release)
		sigs = ch
	}
	abort, drained := make(chan struct{}), make(chan struct{})
	var first, second os.Signal
	go func() {
		select {
		case first = <-sigs:
		case <-ctx.Done():
			return
		}
		close(drained)
		w.logger.Warn("draining; press Ctrl-C again to abort")
		close(drain)
		var sig os.Signal
		select {
		case sig = <-sigs:
		case <-ctx.Done():
			return
		}
		release()
		w.logger.Warn("aborting; a third signal kills weave without cleaning up", "signal", sig.String())
		second = sig
		close(abort)
		cancel()
	}()
	return func() (os.Signal, os.Signal) {
		var f, s os.Signal
		select {
		case <-drained:
			f = first
		default:
		}
		select {
		case <-abort:
			s = second
		default:
		}
		return f, s
	}
}

// meterInterval gives about four redraws a second: fast enough to look
// live, slow enough not to cost anything.
const meterInterval = 250 * time.Millisecond

// defaultProgressEvery spaces progress records in a log: often enough
// that a stalled run shows within seconds, rarely enough that a day-long
// run logs about 17,000 lines.
const defaultProgressEvery = 5 * time.Second

// startMeter shows the progress line while the pipeline runs when stderr
// is a terminal, and otherwise logs a progress record every interval (none
// when it is 0); it returns the function that stops either.
func (w *weave) startMeter(p *engine.Pipeline, every time.Duration) (stop func()) {
	m := p.Metrics
	read := func() progress.Stats {
		var s progress.Stats
		s.Elapsed = m.Elapsed()
		if src := m.Step(p.Source.Name); src != nil {
			s.Rows, s.Bytes = src.RowsOut.Load(), src.Bytes.Load()
		}
		if m.Source != nil {
			s.Done, s.Total = m.Source.Progress()
		}
		return s
	}
	tty, width := w.opts.Terminal()
	if !tty {
		if every <= 0 {
			return func() {}
		}
		t := progress.StartTicker(w.logger.With("pipeline", p.Name), every, read)
		return t.Stop
	}
	meter := progress.Start(w.opts.Stderr, meterInterval, read, width)
	w.stderr.set(meter.Writer())
	return func() {
		meter.Stop()
		w.stderr.set(w.opts.Stderr)
	}
}

// readyMeter is the progress meter of a run whose stages may still be
// preparing when it starts (engine.Pipeline.Warm: Wasm modules
// compiling, seconds with an empty compile cache). It starts once they
// are ready: until then no row moves, and a record of 0 rows at 100%
// read (the source reads ahead meanwhile) would only say that the start
// is slow, and would make a run's log depend on its cache.
type readyMeter struct {
	mu      sync.Mutex
	stopped bool
	stopFn  func() // nil until started
}

// meterWhenReady starts the meter when p's steps are ready: at once, or
// when p.Warm, which it wraps, succeeds.
func (w *weave) meterWhenReady(p *engine.Pipeline, every time.Duration) *readyMeter {
	m := &readyMeter{}
	start := func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.stopped && m.stopFn == nil {
			m.stopFn = w.startMeter(p, every)
		}
	}
	warm := p.Warm
	if warm == nil {
		start()
		return m
	}
	p.Warm = func() error {
		err := warm()
		if err == nil {
			start()
		}
		return err
	}
	return m
}

// stop stops the meter, or keeps it from starting.
func (m *readyMeter) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopped = true
	if m.stopFn != nil {
		m.stopFn()
	}
}

func (w *weave) validate(c *ucli.Context) error {
	n, width := c.Int64("sample"), c.Int("width")
	if n < 0 {
		return usagef("--sample %d: want a number of rows", n)
	}
	if width < 4 {
		return usagef("--width %d: want at least 4", width)
	}
	p, err := w.load(c)
	if err != nil {
		return err
	}
	if n > 0 {
		return w.sample(p, c, n, width)
	}
	schemas, err := p.Validate(c.Context)
	if err != nil {
		return err
	}
	notes, err := w.checkWorkers(c, p)
	if err != nil {
		return err
	}
	out := w.opts.Stdout
	for _, n := range notes {
		fmt.Fprintln(out, "note: "+n)
	}
	for _, s := range schemas {
		fmt.Fprintln(out, s.Name)
		writeSchema(out, s.Schema)
	}
	fmt.Fprintf(out, "pipeline %q is valid: %d step(s) checked\n", p.Name, 1+len(p.Stages)+len(p.Sinks))
	return nil
}

// sample is validate --sample: the rows each step makes of the first n.
func (w *weave) sample(p *engine.Pipeline, c *ucli.Context, n int64, width int) error {
	samples, err := p.Sample(c.Context, n)
	defer func() {
		for i := range samples {
			samples[i].Release()
		}
	}()
	// What was sampled before an error is shown: it is often the clue.
	writeSamples(w.opts.Stdout, samples, width)
	if err != nil {
		return err
	}
	sinks := make([]string, 0, len(p.Sinks))
	for _, s := range p.Sinks {
		sinks = append(sinks, s.Name)
	}
	fmt.Fprintf(w.opts.Stdout, "pipeline %q is valid: %d step(s) checked; %s %s sampled, not written to %s\n",
		p.Name, 1+len(p.Stages)+len(p.Sinks), progress.Grouped(samples[0].Rows), progress.Plural(samples[0].Rows, "row", "rows"),
		strings.Join(sinks, ", "))
	return nil
}

// writeSchema prints one indented line per field: name, type, and
// "not null" where the field is not nullable (the rarer case).
func writeSchema(w io.Writer, s *arrow.Schema) {
	if s == nil || s.NumFields() == 0 {
		fmt.Fprintln(w, "  (no columns)")
		return
	}
	nameW, typeW := 0, 0
	for _, f := range s.Fields() {
		nameW, typeW = max(nameW, len(f.Name)), max(typeW, len(f.Type.String()))
	}
	for _, f := range s.Fields() {
		line := fmt.Sprintf("  %-*s  %-*s", nameW, f.Name, typeW, f.Type)
		if !f.Nullable {
			line += "  not null"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}
