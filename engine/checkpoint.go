package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dataweaver/dataweaver/engine/position"
)

// DefaultCheckpointEvery is the time between checkpoints when the pipeline
// does not say. Like Kafka Connect's offset flush interval it trades how
// much a killed run reads again against how often positions are written;
// part-file sinks also publish a part per checkpoint, so much shorter
// intervals make many small files.
const DefaultCheckpointEvery = 10 * time.Second

// barrier travels through the pipeline behind the batches it covers, like
// a Flink checkpoint barrier: when every sink has seen it, every batch
// before it is written, and the checkpoint can be taken.
type barrier struct {
	id    int64
	upto  int64      // sequence of the last batch before the barrier, -1 for none
	cp    Checkpoint // that batch's checkpoint
	rows  int64      // source rows read up to here, this run
	final bool       // no batch follows
	eof   bool       // final, and the source reached its end
	// states are the snapshots of stateful stages, by step name, taken
	// as the barrier passed them (stage_state.go).
	states map[string][]byte
}

// checkpoints runs the two-phase checkpoints of one run: it loads the
// stored position before the source opens, collects each sink's arrival
// at a barrier, and when the last one arrives saves the position with
// what Committer sinks prepared, publishes it and acknowledges the
// batches they held.
type checkpoints struct {
	r        *runner
	store    position.Store // nil: barriers only publish parts, nothing is saved
	ownStore bool
	key      position.Key
	rev      uint64
	base     int64 // rows acknowledged by earlier runs since the last reset
	every    time.Duration
	sinkIdx  []int // indexes of Committer sinks in p.Sinks
	// states holds the stage states saved with the position this run
	// resumes from (nil when it starts from the start).
	states map[string][]byte

	mu      sync.Mutex
	arrived map[int64]*arrival
	last    time.Time // when the last barrier was sent
	nextID  int64
	// wanted asks for a barrier although no batch was read since the
	// last one: a stage emitted rows on idle advance (idle.go).
	wanted atomic.Bool
	// resumed is the saved position this run resumes from, saved again
	// by a checkpoint taken before the run has read any batch.
	resumed *position.Record
}

type arrival struct {
	n        int
	prepared map[string][]byte
	held     map[int][]int64 // committer sink index → seqs it wrote before the barrier
}

// setupCheckpoints decides whether this run checkpoints and with which
// store, publishes what a killed run had prepared, and resumes the source.
// It runs before any step opens.
func (r *runner) setupCheckpoints(ctx context.Context) error {
	p := r.p
	c := &checkpoints{r: r, every: p.CheckpointEvery, arrived: map[int64]*arrival{}, last: time.Now()}
	if c.every <= 0 {
		c.every = DefaultCheckpointEvery
	}
	committers := false
	for i, s := range p.Sinks {
		if _, ok := s.Sink.(Committer); ok {
			c.sinkIdx = append(c.sinkIdx, i)
			committers = true
		}
	}
	if _, ok := p.DeadLetter.(Committer); ok {
		committers = true
	}
	store, own, err := r.positionStore(ctx)
	if err != nil {
		return err
	}
	c.store, c.ownStore = store, own
	if !canResume(p.Source.Source) && c.store != nil {
		// Nothing to save: the source has no position a later run could
		// use (an HTTP endpoint receives what clients send).
		r.metrics.Positions = "not used: " + p.Source.Name + " does not resume"
		c.closeStore()
		c.store = nil
	}
	if reason := r.noResume(); reason != "" && c.store != nil {
		r.metrics.Positions = "not used: " + reason
		r.log.Debug("positions not used; starting from the start", "pipeline", p.Name, "reason", reason)
		c.closeStore()
		c.store = nil
	}
	if c.store == nil && !committers {
		return nil
	}
	r.ckpt = c
	if c.store == nil {
		return nil
	}
	c.key = position.Key{Pipeline: p.Name, Step: p.Source.Name}
	rec, err := c.store.Load(ctx, c.key)
	if err != nil {
		return fmt.Errorf("positions: %w", err)
	}
	c.rev = rec.Revision
	// A run killed between saving a checkpoint and publishing it left
	// the prepared output in the record: publish it now, before Open
	// clears what was never prepared.
	for name, prep := range rec.Prepared {
		sink := r.sinkNamed(name)
		cm, ok := sink.(Committer)
		if !ok {
			return fmt.Errorf("positions: %s holds prepared output of sink %q, which is not in the pipeline or does not commit in steps; reset the positions (weave positions --reset)", c.key, name)
		}
		if err := cm.Commit(ctx, prep); err != nil {
			return fmt.Errorf("sink %s: publishing what the last run prepared: %w", name, err)
		}
	}
	switch {
	case p.FromStart:
		r.metrics.StartPosition = "the start (--from-start)"
	case rec.Revision == 0 || len(rec.Source) == 0:
		r.metrics.StartPosition = "the start (no saved position)"
	default:
		res := p.Source.Source.(Resumer)
		if err := res.Resume(rec.Source); err != nil {
			return fmt.Errorf("%s: resume from %s: %w", p.Source.Name, rec.Describe(), err)
		}
		c.base = rec.Rows
		c.states = rec.Stages
		c.resumed = &rec
		r.metrics.StartPosition = rec.Describe()
		r.metrics.Resumed = true
	}
	r.metrics.Positions = "saved in " + storeName(c.store, p.Name)
	r.metrics.live.keepsPositions.Store(true)
	return nil
}

// positionStore is the sink's own store when one keeps positions with its
// rows, else the pipeline's.
func (r *runner) positionStore(ctx context.Context) (position.Store, bool, error) {
	var keeper *SinkStep
	for i := range r.p.Sinks {
		if _, ok := r.p.Sinks[i].Sink.(PositionKeeper); ok {
			if keeper != nil {
				return nil, false, fmt.Errorf("%w: sinks %s and %s both keep positions; only one sink of a pipeline can", ErrInvalidConfig, keeper.Name, r.p.Sinks[i].Name)
			}
			keeper = &r.p.Sinks[i]
		}
	}
	if keeper == nil {
		return r.p.Positions, false, nil
	}
	st, err := keeper.Sink.(PositionKeeper).Positions(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("sink %s: positions: %w", keeper.Name, err)
	}
	return st, true, nil
}

// noResume says why positions cannot be used in this run, or "".
func (r *runner) noResume() string {
	for _, s := range r.p.Sinks {
		if replacesOutput(s.Sink) {
			return fmt.Sprintf("sink %s replaces its output every run, so the run must read everything (write to a directory to resume)", s.Name)
		}
		if commitsOnClose(s.Sink) {
			return fmt.Sprintf("sink %s makes its output durable only when the run ends", s.Name)
		}
	}
	if r.p.DeadLetter != nil && (replacesOutput(r.p.DeadLetter) || commitsOnClose(r.p.DeadLetter)) {
		return "the dead_letter sink replaces its output every run"
	}
	return ""
}

func (r *runner) sinkNamed(name string) Sink {
	if name == deadLetterName {
		return r.p.DeadLetter
	}
	for _, s := range r.p.Sinks {
		if s.Name == name {
			return s.Sink
		}
	}
	return nil
}

const deadLetterName = "dead_letter"

// storeName says where a store keeps pipeline's positions: the file of a
// state directory, else the store's type (a sink's table).
func storeName(s position.Store, pipeline string) string {
	if d, ok := s.(*position.DirStore); ok {
		return d.File(pipeline)
	}
	return fmt.Sprintf("%T", s)
}

func (c *checkpoints) closeStore() {
	if c.ownStore && c.store != nil {
		c.store.Close()
	}
}

// due reports whether the source should send a barrier now.
func (c *checkpoints) due() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Since(c.last) >= c.every
}

// newBarrier makes the next barrier.
func (c *checkpoints) newBarrier(upto int64, cp Checkpoint, rows int64) *barrier {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = time.Now()
	c.wanted.Store(false)
	c.nextID++
	return &barrier{id: c.nextID, upto: upto, cp: cp, rows: rows}
}

// arrive records that sink i has written, flushed and prepared everything
// before b. The last sink to arrive takes the checkpoint.
func (c *checkpoints) arrive(ctx context.Context, b *barrier, i int, prepared []byte, held []int64) error {
	c.mu.Lock()
	a := c.arrived[b.id]
	if a == nil {
		a = &arrival{prepared: map[string][]byte{}, held: map[int][]int64{}}
		c.arrived[b.id] = a
	}
	a.n++
	if prepared != nil {
		a.prepared[c.r.p.Sinks[i].Name] = prepared
	}
	if held != nil {
		a.held[i] = held
	}
	last := a.n == len(c.r.p.Sinks)
	if last {
		delete(c.arrived, b.id)
	}
	c.mu.Unlock()
	if !last {
		return nil
	}
	return c.take(ctx, b, a)
}

// take saves and publishes one checkpoint. Barriers reach each sink in
// order and a sink arrives only after the one before, so checkpoints are
// taken in order too.
func (c *checkpoints) take(ctx context.Context, b *barrier, a *arrival) error {
	r := c.r
	ctx = context.WithoutCancel(ctx)
	if r.dlq != nil {
		prep, err := r.dlq.prepare(ctx)
		if err != nil {
			return fmt.Errorf("dead_letter: %w", err)
		}
		if prep != nil {
			a.prepared[deadLetterName] = prep
		}
	}
	// A barrier before the run's first batch saves the position it
	// resumed from again, with the states of stages that emitted on idle
	// advance since (idle.go): the rows they emitted are published below
	// and must not be emitted again by a later run.
	again := b.upto < 0 && c.resumed != nil && len(b.states) > 0
	if c.store != nil && (b.upto >= 0 || again) {
		rec := position.Record{
			Revision: c.rev,
			Prepared: a.prepared,
			Rows:     c.base + b.rows,
			Saved:    time.Now().UTC(),
			Finished: b.eof,
			Stages:   b.states,
		}
		var err error
		if again {
			rec.Source, rec.Text = c.resumed.Source, c.resumed.Text
		} else if rec.Source, err = json.Marshal(b.cp); err != nil {
			return fmt.Errorf("%s: checkpoint %T cannot be saved: %w", r.p.Source.Name, b.cp, err)
		}
		if s, ok := b.cp.(fmt.Stringer); ok && !again {
			rec.Text = s.String()
		}
		rev, err := c.store.Save(ctx, c.key, rec)
		if err != nil {
			if errors.Is(err, position.ErrStale) {
				return fmt.Errorf("positions of %s: %w; is another weave running this pipeline?", c.key, err)
			}
			return fmt.Errorf("positions: %w", err)
		}
		c.rev = rev
		r.metrics.setEnd(rec.Describe())
		r.metrics.checkpointSaved(rec.Saved)
	}
	for name, prep := range a.prepared {
		if err := r.sinkNamed(name).(Committer).Commit(ctx, prep); err != nil {
			return fmt.Errorf("sink %s: commit: %w", name, err)
		}
	}
	for i, seqs := range a.held {
		if err := r.acker.done(ctx, seqs); err != nil {
			return fmt.Errorf("%s: ack: %w (sink %s)", r.p.Source.Name, err, r.p.Sinks[i].Name)
		}
	}
	return nil
}
