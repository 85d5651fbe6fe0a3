package wasmabi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/tetratelabs/wazero/api"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/gather"
)

// ABI version 2 (ABI.md, "Version 2"): a module that answers 2 to
// dw_abi_version emits any number of rows per call, each naming its input
// row of origin, may emit more at end of input (dw_finish) and may keep
// state across batches that the host saves at checkpoints (dw_snapshot,
// dw_restore). The batch it receives and the column descriptors are v1's.
const (
	abiV2          = 2
	exportFinish   = "dw_finish"
	exportSnapshot = "dw_snapshot"
	exportRestore  = "dw_restore"
)

var (
	// ErrStateTooLarge: a v2 stage's snapshot is over its state limit.
	ErrStateTooLarge = errors.New("stage state too large")
	// ErrStateRefused: a v2 module refused the state it was given back.
	ErrStateRefused = errors.New("stage refused its saved state")
	// ErrStateLost: a call failed on the instance holding a stage's
	// state, which cannot be rebuilt mid-run.
	ErrStateLost = errors.New("stage state lost")
)

// v2Inst is what an instance of a v2 module has besides v1's: its
// optional exports and the scratch its results are read into.
type v2Inst struct {
	finish, snapshot, restore api.Function
	res                       resultV2
	idx                       []int
	// watermark is the optional dw_watermark; wm the last watermark this
	// instance was told (wmSent: any).
	watermark api.Function
	wm        int64
	wmSent    bool
}

// v2Stage is a Stage's v2 bookkeeping.
type v2Stage struct {
	// lost is the failure that threw away a stateful stage's instance;
	// an atomic, read before every batch at the cost of a load.
	lost atomic.Pointer[error]
	wm   watermarks
}

// negotiate accepts the versions this host speaks and, for v2, looks up
// the module's optional exports, checking their types: a hostile module
// must not get a call with the wrong number of arguments through.
func (in *instance) negotiate(v int32) error {
	switch v {
	case Version:
		in.abi = Version
		return nil
	case abiV2:
	default:
		return fmt.Errorf("%w: module speaks v%d, this host speaks v%d and v%d", ErrABIVersion, v, Version, abiV2)
	}
	in.abi = abiV2
	x := &v2Inst{}
	for _, e := range []struct {
		name   string
		params int
		fn     *api.Function
	}{{exportFinish, 0, &x.finish}, {exportSnapshot, 0, &x.snapshot}, {exportRestore, 2, &x.restore}} {
		fn := in.mod.ExportedFunction(e.name)
		if fn == nil {
			continue
		}
		d := fn.Definition()
		ok := len(d.ParamTypes()) == e.params && len(d.ResultTypes()) == 1 && d.ResultTypes()[0] == api.ValueTypeI32
		for _, t := range d.ParamTypes() {
			ok = ok && t == api.ValueTypeI32
		}
		if !ok {
			return fmt.Errorf("%w: export %s takes %d and returns %d values, want %d i32 arguments and one i32 result", ErrModule, e.name, len(d.ParamTypes()), len(d.ResultTypes()), e.params)
		}
		*e.fn = fn
	}
	var err error
	if x.watermark, err = lookupWatermark(in.mod); err != nil {
		return err
	}
	if (x.snapshot == nil) != (x.restore == nil) {
		return fmt.Errorf("%w: a module that keeps state exports both %s and %s", ErrModule, exportSnapshot, exportRestore)
	}
	in.v2 = x
	return nil
}

// v2Request is the bind request for a v2 module: the same JSON with
// "abi": 2, so the guest sees which version the host agreed to.
func v2Request(v1 []byte) []byte {
	return slices.Concat([]byte(fmt.Sprintf(`{"abi":%d`, abiV2)), v1[len(fmt.Sprintf(`{"abi":%d`, Version)):])
}

// deriveV2 applies what is v2's in the bind answer: "drop_all" drops every
// input column (a stage that emits rows of its own making, like an
// aggregate), and "filter" is refused, since a v2 stage keeps rows by
// emitting them.
func deriveV2(p *plan, dropped map[int]bool) error {
	if p.abi != abiV2 {
		if p.evIdx >= 0 {
			return fmt.Errorf("event_time needs an ABI v2 module; this one speaks v%d", p.abi)
		}
		return nil
	}
	if p.resp.Filter {
		return fmt.Errorf(`"filter" is ABI v1's; a v2 stage keeps a row by emitting it`)
	}
	if p.resp.State && !p.hasState {
		return fmt.Errorf(`the stage says it keeps state ("state": true) but the module does not export %s and %s`, exportSnapshot, exportRestore)
	}
	if p.resp.DropAll {
		for i := range p.in.NumFields() {
			dropped[i] = true
		}
	}
	return nil
}

// KeepsState reports whether the bound module keeps state across batches
// (its bind answer says "state": true): engine.Stateful.
func (s *Stage) KeepsState() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plan != nil && s.plan.stateful
}

// loseState marks a stateful stage's state as gone after err threw its
// instance away, and makes err fatal: a fresh instance would start from
// nothing mid-run, and its counts would silently miss what came before.
// The run fails; the next one resumes from the last checkpoint, whose
// state matches its position.
func (s *Stage) loseState(p *plan, err error) error {
	if p == nil || !p.stateful {
		return err
	}
	s.v2.lost.CompareAndSwap(nil, &err)
	return engine.Fatal(err)
}

func (s *Stage) stateLost() error {
	lost := s.v2.lost.Load()
	if lost == nil {
		return nil
	}
	return engine.Fatal(fmt.Errorf("%w: %s: an earlier call failed (%w); rerun to resume from the last checkpoint", ErrStateLost, s.name, *lost))
}

// Snapshot asks the module for its state (engine.Stateful); nil for a
// module that keeps none.
func (s *Stage) Snapshot(ctx context.Context) ([]byte, error) {
	if len(s.cfg.v2.key) > 0 {
		return s.snapshotKeyed(ctx)
	}
	if err := s.stateLost(); err != nil {
		return nil, err
	}
	inst, p, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	if !p.stateful {
		s.put(ctx, inst, p)
		return nil, nil
	}
	state, err := s.snapshot(ctx, inst)
	if err != nil {
		inst.close(ctx)
		return nil, s.loseState(p, s.guestErr(exportSnapshot, 0, 0, err))
	}
	s.put(ctx, inst, p)
	return s.wrapState(p, state), nil
}

func (s *Stage) snapshot(ctx context.Context, inst *instance) ([]byte, error) {
	ptr, err := inst.call(ctx, inst.v2.snapshot)
	if err != nil {
		return nil, err
	}
	whole, _ := inst.mem.Read(0, inst.mem.Size())
	hdr, err := span(whole, uint64(ptr), 8, "snapshot header")
	if err != nil {
		return nil, err
	}
	p, n := uint64(le.Uint32(hdr)), uint64(le.Uint32(hdr[4:]))
	if lim := s.cfg.v2.maxState(); n > lim {
		return nil, fmt.Errorf("%w: a snapshot of %d bytes, over the stage's limit of %d (max_state)", ErrStateTooLarge, n, lim)
	}
	state, err := span(whole, p, n, "snapshot")
	if err != nil {
		return nil, err
	}
	return append(make([]byte, 0, n), state...), nil
}

// Restore hands the module the state a snapshot took (engine.Stateful).
// It runs after Bind, before any batch.
func (s *Stage) Restore(ctx context.Context, state []byte) error {
	if len(s.cfg.v2.key) > 0 {
		return s.restoreKeyed(ctx, state)
	}
	inst, p, err := s.get(ctx)
	if err != nil {
		return err
	}
	if !p.stateful {
		s.put(ctx, inst, p)
		return fmt.Errorf("%w: %s: module[%s] keeps no state, but the positions hold %d bytes of it (was the module replaced? reset the positions to start over)", ErrStateRefused, s.name, s.module, len(state))
	}
	state, err = s.unwrapState(p, state)
	if err == nil {
		err = s.restore(ctx, inst, state)
	}
	if err != nil {
		inst.close(ctx)
		return s.loseState(p, s.guestErr(exportRestore, 0, 0, err))
	}
	s.put(ctx, inst, p)
	return nil
}

func (s *Stage) restore(ctx context.Context, inst *instance, state []byte) error {
	if lim := s.cfg.v2.maxState(); uint64(len(state)) > lim {
		return fmt.Errorf("%w: the saved state has %d bytes, over the stage's limit of %d (max_state)", ErrStateTooLarge, len(state), lim)
	}
	if err := inst.ensure(ctx, uint32(len(state))); err != nil {
		return err
	}
	if !inst.mem.Write(inst.arenaPtr, state) {
		return fmt.Errorf("%w: reserved region outside memory", ErrGuestOutput)
	}
	ret, err := inst.call(ctx, inst.v2.restore, inst.arenaPtr, uint32(len(state)))
	if err != nil || ret == 0 {
		return err
	}
	whole, _ := inst.mem.Read(0, inst.mem.Size())
	hdr, err := span(whole, uint64(ret), 4, "restore refusal")
	if err != nil {
		return err
	}
	msg, err := span(whole, uint64(ret)+4, uint64(le.Uint32(hdr)), "restore refusal message")
	if err != nil {
		return err
	}
	return fmt.Errorf("%w (%d bytes): %s", ErrStateRefused, len(state), sanitize(msg[:min(len(msg), maxMessage)]))
}

// Finish calls dw_finish on every idle instance at end of input and
// returns what they emit (engine.Finisher); nil for a module without it.
func (s *Stage) Finish(ctx context.Context) ([]arrow.RecordBatch, error) {
	if len(s.cfg.v2.key) > 0 {
		return s.finishKeyed(ctx)
	}
	if err := s.stateLost(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	p, insts := s.plan, s.free
	s.free = nil
	s.mu.Unlock()
	if p == nil || p.abi != abiV2 {
		for _, inst := range insts {
			s.put(ctx, inst, p)
		}
		return nil, nil
	}
	var out []arrow.RecordBatch
	for i, inst := range insts {
		var rec arrow.RecordBatch
		var err error
		if inst.v2.finish != nil {
			rec, err = s.finishOne(ctx, inst, p)
		}
		if err != nil {
			for _, r := range out {
				r.Release()
			}
			for _, in := range insts[i:] {
				in.close(ctx)
			}
			s.countFailure(err)
			return nil, s.loseState(p, s.guestErr(exportFinish, 0, 0, err))
		}
		if rec != nil {
			out = append(out, rec)
		}
		s.put(ctx, inst, p)
	}
	return out, nil
}

func (s *Stage) finishOne(ctx context.Context, inst *instance, p *plan) (arrow.RecordBatch, error) {
	ptr, err := inst.call(ctx, inst.v2.finish)
	if err != nil {
		return nil, err
	}
	whole, _ := inst.mem.Read(0, inst.mem.Size())
	rec, _, err := s.resultV2(inst, p, nil, nil, whole, ptr, 0)
	if rec != nil && rec.NumRows() == 0 {
		rec.Release()
		rec = nil
	}
	return rec, err
}

// resultV2 validates a v2 result for a call on n input rows (the rows sel
// of rec, nil: all) and builds the output: the written columns from the
// guest's buffers, the passed-through ones gathered from rec by origin.
func (s *Stage) resultV2(inst *instance, p *plan, rec arrow.RecordBatch, sel []int, whole []byte, ptr uint32, n int) (arrow.RecordBatch, []engine.RowError, error) {
	res := &inst.v2.res
	if err := readResultV2(whole, ptr, n, p.writes, s.cfg.v2, res); err != nil {
		return nil, nil, err
	}
	if res.failed != "" {
		return nil, nil, fmt.Errorf("%w: %s", ErrGuestFailed, res.failed)
	}
	var rejects []engine.RowError
	for _, e := range res.errs {
		row := e.row
		if sel != nil {
			row = sel[row]
		}
		rejects = append(rejects, engine.RowError{Row: row, Err: errors.New(e.msg)})
	}
	m := res.rows
	if rec == nil && m == 0 {
		return nil, rejects, nil // dw_finish emitted nothing
	}
	// idx: the rows of rec the emitted rows come from; nil when they are
	// rec's rows as they stand, which are then passed on without a copy.
	var idx []int
	if p.passes && m > 0 {
		if res.anyNone {
			return nil, nil, fmt.Errorf("%w: emitted rows without an origin, but the stage passes input columns through (a stage whose rows come from no input row answers the handshake with drop_all)", ErrGuestOutput)
		}
		if !res.identity || sel != nil || m != int(rec.NumRows()) {
			idx = slices.Grow(inst.v2.idx[:0], m)[:m]
			inst.v2.idx = idx
			for k, o := range res.origins {
				if sel != nil {
					idx[k] = sel[o]
				} else {
					idx[k] = int(o)
				}
			}
		}
	}
	cols := slices.Grow(inst.out[:0], len(p.outFrom))[:len(p.outFrom)]
	inst.out = cols
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
		clear(cols)
	}()
	for k, from := range p.outFrom {
		if from < 0 {
			j := -1 - from
			cols[k] = buildArray(s.out, p.wtypes[j], p.writes[j].code, m, res.cols[j])
			continue
		}
		a := rec.Column(from)
		switch {
		case m == 0:
			cols[k] = array.NewSlice(a, 0, 0)
		case idx == nil:
			a.Retain()
			cols[k] = a
		default:
			t, err := gather.Take(s.mem, a, idx)
			if err != nil {
				return nil, nil, err
			}
			cols[k] = t
		}
	}
	return array.NewRecordBatch(p.out, cols, int64(m)), rejects, nil
}
