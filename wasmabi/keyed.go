package wasmabi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
)

// Keyed parallelism (ABI.md, "Keyed parallelism"): a stage with a key
// declared (WithKey) owns one instance per worker (Partition) and splits
// every batch over them by a hash of the key (keyhash.go), so all rows of
// a key, in their input order, reach the same instance, and what the
// module keeps per key (a window's counts, the keys seen) is whole in
// that instance. The engine calls such a stage from one goroutine; the
// stage runs the instances side by side and merges their outputs in
// instance order. Each instance's state is saved separately, in one
// record (keyedMagic), and restored into the instance of the same number.

// keyedMagic opens a keyed stage's saved state; the 1 is the partition
// function's version (keyhash.go): a state saved under another one would
// send keys to instances that do not hold them.
const keyedMagic = "dw-keys1"

// WithKey declares the input columns whose values decide which instance
// processes a row, for a stage run with several workers (Partition). A
// stage that keeps state per key needs one to run on more than one
// worker. None (the default) runs every batch on whichever instance is
// free.
func (c Config) WithKey(columns ...string) Config {
	c.v2.key = slices.Clone(columns)
	return c
}

// keyed is a Stage's keyed parallelism.
type keyed struct {
	// mu: one batch, snapshot, restore or finish at a time. The engine
	// calls a partitioned stage from one goroutine; the lock keeps a
	// direct caller honest.
	mu    sync.Mutex
	parts int   // Partition's count; 0 (never told) is 1
	plan  *plan // what insts are bound to
	idx   []int // the key columns in plan.in
	// insts[i] owns partition i; nil: to be made (after a failure).
	insts []*instance
	// Reused per batch.
	hashes []uint64
	rows   [][]int
	outs   []partOut
}

// partOut is what one partition's instance did with its rows of a batch.
type partOut struct {
	out, closed arrow.RecordBatch // its output, and what the watermark closed
	rejects     []engine.RowError
	export      string
	err         error
}

// Partition sets how many instances a stage with a key splits its rows
// over (engine.Partitioned): the step's workers. A stage without a key
// answers false and runs its batches on the engine's workers.
func (s *Stage) Partition(workers int) bool {
	if len(s.cfg.v2.key) == 0 {
		return false
	}
	k := &s.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	if n := max(workers, 1); n != k.parts {
		k.closeAll(context.Background())
		k.parts = n
		k.insts = nil
	}
	return true
}

// bindKeys resolves the key columns in p's input; run at Bind.
func (s *Stage) bindKeys(ctx context.Context, p *plan) error {
	if len(s.cfg.v2.key) == 0 {
		return nil
	}
	var idx []int
	for _, name := range s.cfg.v2.key {
		i := p.in.FieldIndices(name)
		if len(i) != 1 {
			return fmt.Errorf("%w: %s: key: no single column %q in the input", engine.ErrSchema, s.name, name)
		}
		if err := keyHashable(p.in.Field(i[0]).Type); err != nil {
			return fmt.Errorf("%w: %s: key: column %q: %w", engine.ErrSchema, s.name, name, err)
		}
		idx = append(idx, i[0])
	}
	k := &s.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closeAll(ctx)
	n := max(k.parts, 1)
	k.plan, k.idx, k.insts = p, idx, make([]*instance, n)
	k.rows, k.outs = make([][]int, n), make([]partOut, n)
	return nil
}

func (k *keyed) closeAll(ctx context.Context) {
	for i, in := range k.insts {
		if in != nil {
			in.close(ctx)
			k.insts[i] = nil
		}
	}
}

// ready makes the partitions' missing instances; k.mu is held.
func (s *Stage) keyedReady(ctx context.Context) (*plan, error) {
	k := &s.keys
	if k.plan == nil {
		return nil, fmt.Errorf("%s: Process before Bind", s.name)
	}
	for i, in := range k.insts {
		if in != nil {
			continue
		}
		in, p, err := s.get(ctx)
		if err != nil {
			return nil, err
		}
		if p != k.plan {
			s.put(ctx, in, p)
			return nil, fmt.Errorf("%s: the stage was bound again while partitioned", s.name)
		}
		k.insts[i] = in
	}
	return k.plan, nil
}

// runKeyed is run for a stage with a key: rec's rows (sel, nil: all) are
// split by key over the instances, which process their parts at once.
func (s *Stage) runKeyed(ctx context.Context, rec arrow.RecordBatch, sel []int) (arrow.RecordBatch, []engine.RowError, error) {
	if err := s.stateLost(); err != nil {
		return nil, nil, err
	}
	k := &s.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	p, err := s.keyedReady(ctx)
	if err != nil {
		s.countFailure(err)
		return nil, nil, err
	}
	seq := s.batches.Add(1)
	n := int(rec.NumRows())
	if sel != nil {
		n = len(sel)
	}
	if sc := rec.Schema(); sc != p.in && !sc.Equal(p.in) {
		return nil, nil, fmt.Errorf("%w: batch schema %s differs from the bound schema %s", engine.ErrSchema, rec.Schema(), p.in)
	}
	if err := partitions(rec, k.idx, sel, len(k.insts), &k.hashes, k.rows); err != nil {
		return nil, nil, s.guestErr(exportProcess, seq, n, err)
	}
	if p.evIdx >= 0 {
		// Every instance hears the same watermark, whatever the order
		// the parts finish in: the batch's event times count before any.
		s.observe(p, rec, sel)
	}
	var wg sync.WaitGroup
	for i := 1; i < len(k.insts); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runPart(ctx, p, i, rec)
		}()
	}
	s.runPart(ctx, p, 0, rec)
	wg.Wait()
	return s.mergeParts(ctx, p, seq, n)
}

// runPart runs partition i's rows of rec on its instance, then tells it
// the watermark.
func (s *Stage) runPart(ctx context.Context, p *plan, i int, rec arrow.RecordBatch) {
	k := &s.keys
	o := &k.outs[i]
	*o = partOut{export: exportProcess}
	inst := k.insts[i]
	if rows := k.rows[i]; len(rows) > 0 {
		o.out, _, o.rejects, o.export, o.err = s.process(ctx, inst, p, rec, rows, false)
	}
	if o.err == nil && p.evIdx >= 0 {
		o.export = exportWatermark
		o.closed, o.err = s.advance(ctx, inst, p)
	}
}

// mergeParts joins the partitions' outputs in instance order, and their
// rejects in input order, or fails the batch with the first partition's
// failure.
func (s *Stage) mergeParts(ctx context.Context, p *plan, seq int64, n int) (arrow.RecordBatch, []engine.RowError, error) {
	k := &s.keys
	var recs []arrow.RecordBatch
	var rejects []engine.RowError
	var failed *partOut
	for i := range k.outs {
		o := &k.outs[i]
		for _, r := range []arrow.RecordBatch{o.out, o.closed} {
			if r != nil {
				recs = append(recs, r)
			}
		}
		rejects = append(rejects, o.rejects...)
		if o.err != nil {
			s.countFailure(o.err)
			if failed == nil {
				failed = o
			}
		}
	}
	if failed != nil {
		for _, r := range recs {
			r.Release()
		}
		for i, o := range k.outs {
			// A stateful stage's other instances hold state that the
			// batch half changed: all of it goes (loseState).
			if o.err != nil || p.stateful {
				if k.insts[i] != nil {
					k.insts[i].close(ctx)
					k.insts[i] = nil
					s.stats.Replaced.Add(1)
				}
			}
		}
		if errors.Is(failed.err, context.Canceled) {
			return nil, nil, s.loseState(p, failed.err)
		}
		return nil, nil, s.loseState(p, s.guestErr(failed.export, seq, n, failed.err))
	}
	slices.SortStableFunc(rejects, func(a, b engine.RowError) int { return a.Row - b.Row })
	out, err := concatRecords(s.mem, p.out, recs)
	return out, rejects, err
}

// concatRecords joins recs (which it consumes) into one record of schema.
func concatRecords(mem memory.Allocator, schema *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	var rows int64
	var full []arrow.RecordBatch
	for _, r := range recs {
		if r.NumRows() > 0 {
			full = append(full, r)
			rows += r.NumRows()
		}
	}
	if len(full) == 1 {
		full[0].Retain()
		return full[0], nil
	}
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(full))
	for i, f := range schema.Fields() {
		if len(full) == 0 {
			cols[i] = array.MakeArrayOfNull(mem, f.Type, 0)
			continue
		}
		for j, r := range full {
			parts[j] = r.Column(i)
		}
		c, err := array.Concatenate(parts, mem)
		if err != nil {
			return nil, fmt.Errorf("joining the instances' outputs: %w", err)
		}
		cols[i] = c
	}
	return array.NewRecordBatch(schema, cols, rows), nil
}

// snapshotKeyed saves every instance's state, in instance order:
// keyedMagic, the count (u32), then each state as a u32 length and its
// bytes; wrapped with the host's event time like any state.
func (s *Stage) snapshotKeyed(ctx context.Context) ([]byte, error) {
	if err := s.stateLost(); err != nil {
		return nil, err
	}
	k := &s.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	p, err := s.keyedReady(ctx)
	if err != nil || !p.stateful {
		return nil, err
	}
	buf := le.AppendUint32([]byte(keyedMagic), uint32(len(k.insts)))
	for i, inst := range k.insts {
		state, err := s.snapshot(ctx, inst)
		if err != nil {
			k.closeAll(ctx)
			return nil, s.loseState(p, s.guestErr(exportSnapshot, 0, 0, fmt.Errorf("instance %d of %d: %w", i, len(k.insts), err)))
		}
		buf = append(le.AppendUint32(buf, uint32(len(state))), state...)
	}
	return s.wrapState(p, buf), nil
}

// restoreKeyed gives each instance the state its number saved. A state
// saved by another number of instances is refused: the host cannot move
// keys between them, since what each holds is the module's own bytes.
func (s *Stage) restoreKeyed(ctx context.Context, state []byte) error {
	k := &s.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	p, err := s.keyedReady(ctx)
	if err != nil {
		return err
	}
	if !p.stateful {
		return fmt.Errorf("%w: %s: module[%s] keeps no state, but the positions hold %d bytes of it (was the module replaced? reset the positions to start over)", ErrStateRefused, s.name, s.module, len(state))
	}
	inner, err := s.unwrapState(p, state)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrStateRefused, s.name, err)
	}
	states, err := splitKeyedState(inner)
	if err != nil {
		return fmt.Errorf("%w: %s: %w (reset the positions to start over)", ErrStateRefused, s.name, err)
	}
	if len(states) != len(k.insts) {
		return fmt.Errorf("%w: %s: the state was saved by %d instances (workers: %d), and this run has workers: %d; "+
			"run with workers: %d to resume (each instance's state holds its own keys, which the host cannot move between instances), "+
			"or reset the positions to start over", ErrStateRefused, s.name, len(states), len(states), len(k.insts), len(states))
	}
	for i, st := range states {
		if err := s.restore(ctx, k.insts[i], st); err != nil {
			k.closeAll(ctx)
			return s.loseState(p, s.guestErr(exportRestore, 0, 0, fmt.Errorf("instance %d of %d: %w", i, len(states), err)))
		}
	}
	return nil
}

// splitKeyedState reads a keyed state record, checking every length.
func splitKeyedState(b []byte) ([][]byte, error) {
	if len(b) < len(keyedMagic)+4 || string(b[:len(keyedMagic)]) != keyedMagic {
		return nil, errors.New("the saved state is not a keyed stage's (was key: added to the stage since?)")
	}
	n := uint64(le.Uint32(b[len(keyedMagic):]))
	b = b[len(keyedMagic)+4:]
	if n == 0 || n > uint64(len(b))/4 {
		return nil, fmt.Errorf("the saved state claims %d instances in %d bytes", n, len(b))
	}
	states := make([][]byte, 0, n)
	for i := range n {
		if len(b) < 4 {
			return nil, fmt.Errorf("the saved state ends before instance %d's", i)
		}
		m := uint64(le.Uint32(b))
		if m > uint64(len(b)-4) {
			return nil, fmt.Errorf("instance %d's saved state claims %d bytes, %d are left", i, m, len(b)-4)
		}
		states = append(states, b[4:4+m])
		b = b[4+m:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("the saved state has %d bytes after its last instance's", len(b))
	}
	return states, nil
}

// finishKeyed calls dw_finish on every instance, in instance order.
func (s *Stage) finishKeyed(ctx context.Context) ([]arrow.RecordBatch, error) {
	if err := s.stateLost(); err != nil {
		return nil, err
	}
	k := &s.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	p, err := s.keyedReady(ctx)
	if err != nil || p.abi != abiV2 {
		return nil, err
	}
	var out []arrow.RecordBatch
	for i, inst := range k.insts {
		if inst.v2.finish == nil {
			continue
		}
		rec, err := s.finishOne(ctx, inst, p)
		if err != nil {
			for _, r := range out {
				r.Release()
			}
			k.closeAll(ctx)
			s.countFailure(err)
			return nil, s.loseState(p, s.guestErr(exportFinish, 0, 0, fmt.Errorf("instance %d of %d: %w", i, len(k.insts), err)))
		}
		if rec != nil {
			out = append(out, rec)
		}
	}
	return out, nil
}

// closeKeyed releases the partitions' instances, at Close.
func (s *Stage) closeKeyed(ctx context.Context) {
	k := &s.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closeAll(ctx)
	k.plan = nil
}
