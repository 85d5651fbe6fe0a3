package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// StepSchema is the schema a step emits.
type StepSchema struct {
	Name   string
	Schema *arrow.Schema
}

// envelope carries one source batch through the pipeline. rec may be nil
// or empty (everything filtered or skipped): the envelope still travels to
// the sinks so the batch is acknowledged in order.
type envelope struct {
	seq     int64
	rowBase int64 // source rows before this batch, for error messages
	rec     arrow.RecordBatch
	// sel, when set, lists the rows of rec that make up the batch (set by
	// a Selecting stage for the next one; see Selecting).
	sel []int
	// rejects a stage with several ordered workers found, applied (dead
	// letters written) by its collector in batch order, not by the
	// worker when it finishes.
	rejects []heldRejects
	bar     *barrier // set on a checkpoint barrier, which carries no batch
	// tick, when not 0, makes this an idle tick (idle.go): the clock's
	// time, in unix nanoseconds, when the source was found waiting.
	tick  int64
	trace *batchTrace // nil unless the pipeline is traced
	// left counts the sinks still to write the batch; the last one frees
	// its in-flight slot (see runner.slots). Shared by fanOut's copies.
	left *atomic.Int32
}

func (e *envelope) release() {
	if e == nil {
		return
	}
	e.dropRecord()
	for _, h := range e.rejects {
		h.src.Release()
	}
	e.rejects = nil
}

// dropRecord releases the batch's record but keeps its held rejects.
func (e *envelope) dropRecord() {
	if e.rec != nil {
		e.rec.Release()
		e.rec = nil
	}
	e.sel = nil
}

// heldRejects are rows a stage rejected, with the record they point into.
type heldRejects struct {
	rows []RowError
	src  arrow.RecordBatch
}

func (e *envelope) rows() int64 {
	if e.rec == nil {
		return 0
	}
	if e.sel != nil {
		return int64(len(e.sel))
	}
	return e.rec.NumRows()
}

// Validate checks that the steps fit together without moving any data: it
// opens the source to learn its schema, binds each stage to the schema
// before it, asks sinks that can whether they accept theirs, and closes the
// source again. It returns each step's output schema.
func (p *Pipeline) Validate(ctx context.Context) ([]StepSchema, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if p.Warm != nil {
		if err := p.Warm(); err != nil {
			return nil, err
		}
	}
	schema, err := p.Source.Source.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", at(p.Source.Origin), p.Source.Name, err)
	}
	defer p.Source.Source.Close()
	return p.bind(ctx, schema)
}

// at prefixes an error with where the step was declared, when known.
func at(origin string) string {
	if origin == "" {
		return ""
	}
	return origin + ": "
}

func (p *Pipeline) check() error {
	var errs []error
	if p.Source.Source == nil {
		errs = append(errs, fmt.Errorf("%w: pipeline %q has no source", ErrInvalidConfig, p.Name))
	}
	if len(p.Sinks) == 0 {
		errs = append(errs, fmt.Errorf("%w: pipeline %q has no sink", ErrInvalidConfig, p.Name))
	}
	needDLQ := p.Source.OnError == DeadLetter
	for _, s := range p.Stages {
		if s.Stage == nil {
			errs = append(errs, fmt.Errorf("%w: stage %q is nil", ErrInvalidConfig, s.Name))
		}
		needDLQ = needDLQ || s.OnError == DeadLetter
	}
	for _, s := range p.Sinks {
		if s.Sink == nil {
			errs = append(errs, fmt.Errorf("%w: sink %q is nil", ErrInvalidConfig, s.Name))
		}
		needDLQ = needDLQ || s.OnError == DeadLetter
	}
	if err := p.checkBudget(); err != nil {
		errs = append(errs, err)
	}
	if needDLQ && p.DeadLetter == nil {
		errs = append(errs, fmt.Errorf("%w: a step uses the dead_letter policy but the pipeline has no dead_letter sink", ErrInvalidConfig))
	}
	// Metrics, traces, positions and the summary tell steps apart by name:
	// two steps of one name would add up into one line and one label set.
	names := []string{p.Source.Name}
	for _, s := range p.Stages {
		names = append(names, s.Name)
	}
	for _, s := range p.Sinks {
		names = append(names, s.Name)
	}
	if p.DeadLetter != nil {
		names = append(names, deadLetterName)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n != "" && seen[n] {
			errs = append(errs, fmt.Errorf("%w: two steps are named %q: give each step its own name (metrics and the summary tell them apart by it)", ErrInvalidConfig, n))
		}
		seen[n] = true
	}
	return errors.Join(errs...)
}

func (p *Pipeline) bind(ctx context.Context, schema *arrow.Schema) ([]StepSchema, error) {
	out := []StepSchema{{Name: p.Source.Name, Schema: schema}}
	for _, s := range p.Stages {
		s.goroutines() // tells a Partitioned stage its workers before Bind
		next, err := s.Stage.Bind(ctx, schema)
		if err != nil {
			return out, fmt.Errorf("%sstage %s: %w", at(s.Origin), s.Name, err)
		}
		if next == nil {
			return out, fmt.Errorf("stage %s: %w: Bind returned no schema", s.Name, ErrSchema)
		}
		schema = next
		out = append(out, StepSchema{Name: s.Name, Schema: schema})
	}
	for _, s := range p.Sinks {
		if c, ok := s.Sink.(SchemaChecker); ok {
			if err := c.CheckSchema(schema); err != nil {
				return out, fmt.Errorf("%ssink %s: %w", at(s.Origin), s.Name, err)
			}
		}
	}
	if c, ok := p.DeadLetter.(SchemaChecker); ok {
		if err := c.CheckSchema(DeadLetterSchema); err != nil {
			return out, fmt.Errorf("dead_letter: %w", err)
		}
	}
	return out, nil
}

// Run moves every batch from the source through the stages to the sinks and
// returns the run's metrics. It returns when the source is exhausted and
// every sink has flushed, when Drain is closed and the batches in flight are
// done, or at the first error that the steps' policies do not absorb.
// Cancelling ctx aborts at once. Every goroutine Run starts has ended when
// it returns, and p.Positions is closed.
func (p *Pipeline) Run(ctx context.Context) (*Metrics, error) {
	if p.Positions != nil {
		// Run owns the store from here: it holds the pipeline's state
		// locked for the whole run, and lets go of it when the run ends.
		defer p.Positions.Close()
	}
	r, err := p.newRun()
	if err != nil {
		return r.metrics, errors.Join(err, p.Close())
	}
	err = r.run(ctx)
	r.spans.endAll(err)
	r.metrics.End.Store(time.Now().UnixNano())
	return r.metrics, err
}

type runner struct {
	p       *Pipeline
	log     *slog.Logger
	mem     memory.Allocator
	metrics *Metrics
	src     *StepMetrics
	stages  []*StepMetrics
	sinks   []*StepMetrics
	dlq     *deadLetters
	acker   *acker
	buffer  int
	// slots holds a token for every source batch not yet written by all
	// sinks: the source takes one before it reads, the last sink to write
	// the batch gives it back (Pipeline.InFlight).
	slots chan struct{}
	// held[i] are the batches sink i has flushed but that only become
	// safe when it closes (CommitsOnClose); closed marks sinks commit
	// already closed (the dead-letter sink last).
	held   [][]int64
	closed []bool
	// ckpt runs checkpoints; nil when the run takes none (no position
	// store and no sink that publishes in steps).
	ckpt *checkpoints
	// interrupted is set when Drain stopped the source before its end.
	interrupted atomic.Bool
	// abandoned[i] marks sinks whose output an interrupted run threw away.
	abandoned []bool
	// dlqAtCheckpoint is set when the dead-letter sink publishes at
	// checkpoints (a Committer): then no batch is acknowledged before one.
	dlqAtCheckpoint bool
	// limits holds each step's RejectLimit, by its metrics.
	limits map[*StepMetrics]limitOf
	// spans are the batch spans not yet ended; nil when not traced. Set
	// on the source's goroutine, read after every step has stopped.
	spans *openSpans
	// idle runs idle advance (idle.go); nil when no stage asks for it.
	idle *idleTicks
	// ahead holds what the source read while the stages warmed
	// (warmup.go); nil when it read nothing ahead. Only the source's
	// goroutine touches it once the run has started.
	ahead *readAhead
	// warming, when set, is a Pipeline.Warm a Drain left running; run
	// waits for it once the steps are closed.
	warming chan error
}

type limitOf struct {
	step  string
	limit RejectLimit
}

// NewMetrics returns the metrics a run of p fills in: one entry per step,
// in pipeline order. Set p.Metrics to it before Run to read the figures
// live from another goroutine (the CLI's progress line); Run only updates
// the counters, never the slice.
func (p *Pipeline) NewMetrics() *Metrics {
	m := &Metrics{Start: time.Now()}
	m.Steps = append(m.Steps, &StepMetrics{Name: p.Source.Name, Kind: KindSource})
	for _, s := range p.Stages {
		m.Steps = append(m.Steps, &StepMetrics{Name: s.Name, Kind: KindStage})
	}
	for _, s := range p.Sinks {
		m.Steps = append(m.Steps, &StepMetrics{Name: s.Name, Kind: KindSink})
	}
	if p.DeadLetter != nil {
		m.Steps = append(m.Steps, &StepMetrics{Name: "dead_letter", Kind: KindSink})
	}
	if sz, ok := p.Source.Source.(Sized); ok {
		m.Source = sz
	}
	return m
}

func (p *Pipeline) newRun() (*runner, error) {
	r := &runner{p: p, log: p.Logger, mem: p.Mem, metrics: p.Metrics, buffer: p.Buffer}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.mem == nil {
		r.mem = memory.DefaultAllocator
	}
	if r.buffer <= 0 {
		r.buffer = 4
	}
	inFlight := p.InFlight
	if inFlight <= 0 {
		inFlight = defaultInFlight(p, r.buffer)
	}
	r.slots = make(chan struct{}, inFlight)
	if r.metrics == nil || len(r.metrics.Steps) != p.numSteps() {
		r.metrics = p.NewMetrics()
	}
	r.metrics.Limit = p.Limit
	steps := r.metrics.Steps
	r.src = steps[0]
	r.stages = steps[1 : 1+len(p.Stages)]
	r.sinks = steps[1+len(p.Stages) : 1+len(p.Stages)+len(p.Sinks)]
	r.limits = map[*StepMetrics]limitOf{}
	add := func(m *StepMetrics, name string, l RejectLimit) {
		if l != (RejectLimit{}) {
			r.limits[m] = limitOf{name, l}
		}
	}
	add(r.src, p.Source.Name, p.Source.MaxRejects)
	for i, s := range p.Stages {
		add(r.stages[i], s.Name, s.MaxRejects)
	}
	for i, s := range p.Sinks {
		add(r.sinks[i], s.Name, s.MaxRejects)
	}
	return r, p.check()
}

// defaultInFlight is Pipeline.InFlight's default: a batch for the source,
// one for each worker of each stage (fewer would leave a parallel stage's
// workers idle), one for each sink, and buffer more to absorb jitter.
func defaultInFlight(p *Pipeline, buffer int) int {
	n := 1 + len(p.Sinks) + buffer
	for _, s := range p.Stages {
		n += max(s.Workers, 1)
	}
	return n
}

// numSteps counts the steps NewMetrics makes an entry for.
func (p *Pipeline) numSteps() int {
	n := 1 + len(p.Stages) + len(p.Sinks)
	if p.DeadLetter != nil {
		n++
	}
	return n
}

// abortSinks tells sinks that can discard their output that the run failed.
func (p *Pipeline) abortSinks() {
	for _, s := range p.Sinks {
		if a, ok := s.Sink.(Aborter); ok {
			a.Abort()
		}
	}
	if a, ok := p.DeadLetter.(Aborter); ok {
		a.Abort()
	}
}

// Close closes every step of a pipeline that will not be run (after
// Validate, say). Run closes the steps itself; Close after Run does nothing.
func (p *Pipeline) Close() error { return p.closeSteps(nil) }

// closeSteps closes every step but the sinks already closed (marked in
// done, indexed like p.Sinks, with the dead-letter sink last).
func (p *Pipeline) closeSteps(done []bool) error {
	if p.closed {
		return nil
	}
	p.closed = true
	skip := func(i int) bool { return i < len(done) && done[i] }
	var errs []error
	for i, s := range p.Sinks {
		if s.Sink != nil && !skip(i) {
			if err := s.Sink.Close(); err != nil {
				errs = append(errs, fmt.Errorf("sink %s: %w", s.Name, err))
			}
		}
	}
	if p.DeadLetter != nil && !skip(len(p.Sinks)) {
		if err := p.DeadLetter.Close(); err != nil {
			errs = append(errs, fmt.Errorf("dead_letter: %w", err))
		}
	}
	for _, s := range p.Stages {
		if s.Stage != nil {
			if err := s.Stage.Close(); err != nil {
				errs = append(errs, fmt.Errorf("stage %s: %w", s.Name, err))
			}
		}
	}
	if p.Source.Source != nil {
		if err := p.Source.Source.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Source.Name, err))
		}
	}
	return errors.Join(errs...)
}

// commit closes the sinks that only commit on Close (and the dead-letter
// sink, whose rows must be durable before their batches count as safe),
// then acknowledges the batches those sinks were holding back.
func (r *runner) commit(ctx context.Context) error {
	p := r.p
	ctx = context.WithoutCancel(ctx)
	if r.dlq != nil {
		if err := r.dlq.flush(ctx); err != nil {
			return fmt.Errorf("dead_letter: %w", err)
		}
		if commitsOnClose(p.DeadLetter) {
			r.closed[len(p.Sinks)] = true
			if err := p.DeadLetter.Close(); err != nil {
				return fmt.Errorf("dead_letter: %w", err)
			}
		}
	}
	for i, s := range p.Sinks {
		if !commitsOnClose(s.Sink) || r.abandoned[i] {
			continue
		}
		r.closed[i] = true
		if err := s.Sink.Close(); err != nil {
			return fmt.Errorf("sink %s: %w", s.Name, err)
		}
		if err := r.acker.done(ctx, r.held[i]); err != nil {
			return fmt.Errorf("%s: ack: %w", p.Source.Name, err)
		}
	}
	return nil
}

// abandon throws away the output of sinks that replace their whole output
// or publish it only at Close, after Drain stopped the source early: a
// truncated file must not replace a complete one from an earlier run.
// Sinks that append (a directory of parts, a table, a topic) keep what the
// last checkpoint published, and the next run resumes after it.
func (r *runner) abandon() {
	for i, s := range r.p.Sinks {
		if !replacesOutput(s.Sink) && !commitsOnClose(s.Sink) {
			continue
		}
		if a, ok := s.Sink.(Aborter); ok {
			a.Abort()
		}
		r.abandoned[i] = true
		r.metrics.Abandoned = append(r.metrics.Abandoned, s.Name)
	}
}

// errStartInterrupted ends a start-up that Drain interrupted.
var errStartInterrupted = errors.New("interrupted during start-up")

func (r *runner) run(ctx context.Context) (err error) {
	p := r.p
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Opening can wait a long time (a database that does not answer, a
	// broker still electing a leader). A Drain then has nothing to drain,
	// so it cancels the opening: a first Ctrl-C or SIGTERM stops weave
	// during start-up as promptly as during the run. Steps may keep the
	// context they were opened with, so it is cancelled only by a Drain
	// before the run starts, or when the run is over.
	startCtx, interruptStart := context.WithCancelCause(ctx)
	defer interruptStart(nil)
	var startMu sync.Mutex // orders a Drain against the end of start-up
	started := make(chan struct{})
	startOver := func() bool {
		select {
		case <-started:
			return true
		default:
			return false
		}
	}
	endStart := func() (interrupted bool) {
		startMu.Lock()
		defer startMu.Unlock()
		if !startOver() {
			close(started)
		}
		return errors.Is(context.Cause(startCtx), errStartInterrupted)
	}
	if p.Drain != nil {
		go func() {
			select {
			case <-p.Drain:
				startMu.Lock()
				if !startOver() {
					interruptStart(errStartInterrupted)
				}
				startMu.Unlock()
			case <-started:
			case <-ctx.Done():
			}
		}()
	}
	// opened is set once every step is open: what fails after that failed
	// while running (see ErrRuntime).
	opened := false
	// Registered before the deferred close below, so it runs after it:
	// the sinks are aborted (err is still set) and closed by then.
	defer func() {
		if opened && err != nil {
			err = runtimeError{err}
			return
		}
		if endStart() && err != nil {
			// Nothing was sent on (batches read ahead are released,
			// unacknowledged), so nothing is lost: the run ends as a
			// drained one does, and the outputs of sinks already opened
			// were thrown away rather than replaced by empty ones.
			r.log.Warn("interrupted during start-up; nothing was written", "pipeline", p.Name, "while", err.Error())
			r.interrupted.Store(true)
			r.metrics.Interrupted.Store(true)
			err = nil
		}
	}()

	// Every step is closed whatever happens, opened or not (a Close
	// without Open is valid for every step); a Close error (a Parquet footer
	// that failed to write) fails the run too.
	r.closed = make([]bool, len(p.Sinks)+1)
	r.held = make([][]int64, len(p.Sinks))
	r.abandoned = make([]bool, len(p.Sinks))
	defer func() {
		if r.warming != nil {
			<-r.warming // ended by closing the steps, just before
		}
	}()
	defer func() {
		if err == nil && r.acker != nil {
			if r.interrupted.Load() {
				r.abandon()
			}
			err = r.commit(ctx)
		}
		if err != nil {
			p.abortSinks()
		}
		if cerr := p.closeSteps(r.closed); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := r.setupCheckpoints(startCtx); err != nil {
		return err
	}
	if r.ckpt != nil {
		defer r.ckpt.closeStore()
	}
	schema, err := p.Source.Source.Open(startCtx)
	if err != nil {
		if werr := r.warm(startCtx); werr != nil {
			// A step that failed to prepare is reported as building the
			// pipeline would have, before anything was opened.
			return werr
		}
		return fmt.Errorf("%s%s: %w", at(p.Source.Origin), p.Source.Name, err)
	}
	// Registered after the close above, so it runs before it: the source
	// is not closed under a read still going on.
	r.ahead = r.startReadAhead(ctx)
	defer r.ahead.stop()
	if err := r.warm(startCtx); err != nil {
		return err
	}
	schemas, err := p.bind(startCtx, schema)
	if err != nil {
		return err
	}
	if err := r.restoreStages(startCtx); err != nil {
		return err
	}
	r.setupIdle()
	final := schemas[len(schemas)-1].Schema
	if p.DeadLetter != nil {
		if err := p.DeadLetter.Open(startCtx, DeadLetterSchema); err != nil {
			return fmt.Errorf("dead_letter: %w", err)
		}
		r.dlq = &deadLetters{sink: p.DeadLetter, mem: r.mem, metrics: r.metrics.Steps[len(r.metrics.Steps)-1]}
	}
	for _, s := range p.Sinks {
		if err := s.Sink.Open(startCtx, final); err != nil {
			return fmt.Errorf("sink %s: %w", s.Name, err)
		}
	}
	if endStart() {
		return errStartInterrupted // the Drain came as the last step opened
	}
	opened = true
	_, r.dlqAtCheckpoint = p.DeadLetter.(Committer)
	r.acker = newAcker(p.Source.Source, len(p.Sinks))
	if r.dlq != nil {
		r.acker.beforeAck = r.dlq.flush
	}

	var (
		wg       sync.WaitGroup
		chans    []chan *envelope
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		if err == nil {
			return
		}
		errOnce.Do(func() { firstErr = err; cancel(err) })
	}
	newChan := func() chan *envelope {
		c := make(chan *envelope, r.buffer)
		chans = append(chans, c)
		return c
	}
	goStep := func(f func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); fail(f()) }()
	}

	in := newChan()
	first := in
	goStep(func() error { return r.readSource(ctx, first) })
	for i := range p.Stages {
		out := newChan()
		stIn, stOut, i := in, out, i
		goStep(func() error { return r.runStage(ctx, i, stIn, stOut) })
		in = out
	}
	sinkIns := make([]chan *envelope, len(p.Sinks))
	for i := range p.Sinks {
		sinkIns[i] = newChan()
	}
	last := in
	goStep(func() error { return fanOut(ctx, last, sinkIns) })
	for i := range p.Sinks {
		i := i
		goStep(func() error { return r.runSink(ctx, i, sinkIns[i]) })
	}
	r.watchQueues(chans)
	r.metrics.setPhase(PhaseRunning)
	wg.Wait()
	// Everything has stopped; whatever an abort left queued is released so
	// no Arrow memory outlives the run.
	for _, c := range chans {
		for e := range c {
			e.release()
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if !r.interrupted.Load() {
		// A ratio is only checked during the run past RatioMinRows rows;
		// at the end of the input it applies to any count.
		for m, l := range r.limits {
			if err := l.limit.exceeded(l.step, m, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// readSource reads until end of input, Drain, or an error. It owns out and
// closes it, which lets the rest of the pipeline finish. When the run takes
// checkpoints it sends a barrier behind the batches every CheckpointEvery,
// and a last one when reading stops for good.
func (r *runner) readSource(ctx context.Context, out chan<- *envelope) error {
	defer close(out)
	defer r.metrics.setPhase(PhaseDraining)
	p := r.p
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	if p.Drain != nil {
		go func() {
			select {
			case <-p.Drain:
				r.metrics.setPhase(PhaseDraining)
				stopRead()
			case <-readCtx.Done():
			}
		}()
	}
	var seq, rows int64
	var lastCP Checkpoint
	sentUpTo := int64(-1) // last batch a barrier covered
	cutSeq := int64(-2)   // the batch the limit cut, if any (always the last)
	// sendMu orders what goes out: a batch and the counters it moves, or
	// a barrier covering every batch sent before it. Barriers come from
	// this loop after a batch and from a timer while Read waits, so that a
	// source gone quiet (a polling cursor, an idle stream) still gets its
	// last rows published and its position saved.
	var sendMu sync.Mutex
	barrierAt := func(final, eof bool) error {
		// A stage that emitted rows on idle advance asks for a barrier
		// although the source has not moved (idle.go).
		if r.ckpt == nil || (!final && sentUpTo == seq-1 && !r.ckpt.wanted.Load()) {
			return nil
		}
		upto := seq - 1
		if upto == cutSeq {
			// The last batch was cut by the limit: lastCP is the one
			// before it, and so is what the barrier covers for saving.
			upto--
		}
		b := r.ckpt.newBarrier(upto, lastCP, rows)
		b.final, b.eof = final, eof
		sentUpTo = seq - 1
		return send(ctx, out, &envelope{seq: -1, bar: b})
	}
	if r.ckpt != nil {
		stopTimer := make(chan struct{})
		timerDone := make(chan struct{})
		go func() {
			defer close(timerDone)
			t := time.NewTicker(r.ckpt.every)
			defer t.Stop()
			for {
				select {
				case <-t.C:
				case <-stopTimer:
					return
				case <-ctx.Done():
					return
				}
				sendMu.Lock()
				var err error
				if r.ckpt.due() {
					err = barrierAt(false, false)
				}
				sendMu.Unlock()
				if err != nil {
					return
				}
			}
		}()
		// Runs before close(out): no barrier is sent on a closed channel.
		defer func() { close(stopTimer); <-timerDone }()
	}
	defer r.startTicks(ctx, out, &sendMu)()
	stopped := func() error {
		if err := r.drained(ctx); err != nil {
			return err
		}
		r.interrupted.Store(true)
		r.metrics.Interrupted.Store(true)
		sendMu.Lock()
		defer sendMu.Unlock()
		return barrierAt(true, false)
	}
	lim := newLimit(p.Limit)
	for {
		if readCtx.Err() != nil {
			return stopped()
		}
		if lim.reached() {
			return r.stopAtLimit(ctx, &sendMu, barrierAt)
		}
		lim.cap(p.Source.Source)
		// Wait for a batch to leave the pipeline before reading another.
		select {
		case r.slots <- struct{}{}:
		case <-readCtx.Done():
			return stopped()
		}
		start := time.Now()
		b, err := r.read(readCtx)
		if err != nil {
			<-r.slots // nothing was read into it
		}
		if errors.Is(err, ErrEndOfInput) {
			sendMu.Lock()
			defer sendMu.Unlock()
			return barrierAt(true, true)
		}
		if err != nil {
			if readCtx.Err() != nil {
				return stopped()
			}
			return fmt.Errorf("%s: %w", p.Source.Name, err)
		}
		r.src.Latency.Since(start)
		cut := lim.take(b)
		if cut {
			sendMu.Lock() // the checkpoint timer reads it in barrierAt
			cutSeq = seq
			sendMu.Unlock()
			r.log.Warn("the source cannot stop inside a batch: the position saved is before its last batch, which the next run reads again",
				"pipeline", p.Name, "source", p.Source.Name, "limit", p.Limit)
		}
		// seq is only written on this goroutine, so reading it unlocked is safe.
		tr := r.traceBatch(b, seq, start)
		if err := r.sendBatch(ctx, out, b, tr, cut, &sendMu, &seq, &rows, &lastCP); err != nil {
			return err
		}
		sendMu.Lock()
		if r.ckpt != nil && r.ckpt.due() {
			err = barrierAt(false, false)
		}
		sendMu.Unlock()
		if err != nil {
			return err
		}
	}
}

// sendBatch counts one batch read from the source, applies the source's
// policy to its rejects and sends it on, under mu. A batch the limit cut
// (cut) is written but its checkpoint is neither saved nor acknowledged.
func (r *runner) sendBatch(ctx context.Context, out chan<- *envelope, b *Batch, tr *batchTrace, cut bool, mu *sync.Mutex, seq, rows *int64, lastCP *Checkpoint) error {
	p := r.p
	mu.Lock()
	defer mu.Unlock()
	env := &envelope{seq: *seq, rowBase: *rows, rec: b.Record, trace: tr, left: new(atomic.Int32)}
	env.left.Store(int32(len(p.Sinks)))
	*seq++
	n := env.rows()
	cp := b.Checkpoint
	if cut {
		cp = uncommitted{}
	} else {
		*rows += n + int64(len(b.Rejects))
		*lastCP = b.Checkpoint
	}
	r.src.Batches.Add(1)
	r.src.RowsIn.Add(n + int64(len(b.Rejects)))
	r.src.RowsOut.Add(n)
	r.src.Bytes.Add(b.Bytes)
	if len(b.Rejects) > 0 {
		if err := r.reject(ctx, p.Source.Name, p.Source.OnError, r.src, b.Rejects, nil); err != nil {
			env.release()
			return err
		}
	}
	r.acker.add(env.seq, cp)
	select {
	case out <- env:
		return nil
	case <-ctx.Done():
		env.release()
		return context.Cause(ctx)
	}
}

// drained tells a graceful stop (nil) from an abort.
func (r *runner) drained(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	r.log.Info("stopped reading; finishing batches in flight", "pipeline", r.p.Name)
	return nil
}

// fanOut hands every batch to every sink.
func fanOut(ctx context.Context, in <-chan *envelope, outs []chan *envelope) error {
	defer func() {
		for _, o := range outs {
			close(o)
		}
	}()
	for env := range in {
		if env.tick != 0 {
			continue // every stage has seen it; sinks have no use for it
		}
		for i, o := range outs {
			e := env
			if i < len(outs)-1 {
				e = &envelope{seq: env.seq, rowBase: env.rowBase, rec: env.rec, sel: env.sel, bar: env.bar, trace: env.trace, left: env.left}
				if e.rec != nil {
					e.rec.Retain()
				}
			}
			select {
			case o <- e:
			case <-ctx.Done():
				e.release()
				if i < len(outs)-1 {
					env.release()
				}
				return context.Cause(ctx)
			}
		}
	}
	return nil
}
