package wasmabi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/tetratelabs/wazero/api"

	"github.com/dataweaver/dataweaver/engine"
)

// Watermarks (ABI.md, "Event time and watermarks"): with an event-time
// column declared, the host keeps the largest event time it has passed
// to the stage and, after each batch, tells the instance that processed
// it the watermark, that largest time minus the allowed lateness, when it
// has advanced: dw_watermark(lo, hi) with the i64 split in two u32
// halves. The module emits what the watermark closes (rows of no origin),
// which the host appends to the batch's output.

const exportWatermark = "dw_watermark"

// noWatermark is "no watermark yet" (no event time seen).
const noWatermark = math.MinInt64

// WithEventTime declares the input column holding each row's event time
// (a timestamp) and how late a row may arrive behind the latest one seen:
// a v2 module exporting dw_watermark is then told the watermark after
// each batch, and gets the column's name in its bind request
// ("event_time"). "" (the default) sends no watermarks.
func (c Config) WithEventTime(column string, lateness time.Duration) Config {
	c.v2.eventTime, c.v2.lateness = column, lateness
	return c
}

// watermarks is a stage's event-time bookkeeping.
type watermarks struct {
	max atomic.Int64 // largest event time passed to the stage, in the column's unit
}

// eventTimePlan resolves the event-time column at bind: its index and
// the lateness in its unit.
func (s *Stage) eventTimePlan(p *plan) error {
	p.evIdx = -1
	name := s.cfg.v2.eventTime
	if name == "" {
		return nil
	}
	idx := p.in.FieldIndices(name)
	if len(idx) != 1 {
		return fmt.Errorf("%w: %s: event_time: no single column %q in the input", engine.ErrSchema, s.name, name)
	}
	ts, ok := p.in.Field(idx[0]).Type.(*arrow.TimestampType)
	if !ok {
		return fmt.Errorf("%w: %s: event_time: column %q is %s, want a timestamp", engine.ErrSchema, s.name, name, p.in.Field(idx[0]).Type)
	}
	p.evIdx = idx[0]
	p.lateness = s.cfg.v2.lateness.Nanoseconds() / int64(ts.Unit.Multiplier())
	s.v2.wm.max.Store(noWatermark)
	// A v2 module learns the column in its bind request (a v1 module,
	// which cannot use it, is refused by deriveV2).
	js, _ := json.Marshal(name)
	p.req2 = append(append(append(p.req2[:len(p.req2)-1:len(p.req2)-1], `,"event_time":`...), js...), '}')
	return nil
}

// observe raises the stage's largest event time with the rows sel of rec
// (nil: all).
func (s *Stage) observe(p *plan, rec arrow.RecordBatch, sel []int) {
	col, ok := rec.Column(p.evIdx).(*array.Timestamp)
	if !ok {
		return
	}
	hi, seen := int64(noWatermark), false
	vals := col.TimestampValues()
	consider := func(i int) {
		if col.IsValid(i) && int64(vals[i]) > hi {
			hi, seen = int64(vals[i]), true
		}
	}
	if sel == nil {
		for i := range vals {
			consider(i)
		}
	} else {
		for _, i := range sel {
			consider(i)
		}
	}
	for seen {
		cur := s.v2.wm.max.Load()
		if hi <= cur || s.v2.wm.max.CompareAndSwap(cur, hi) {
			return
		}
	}
}

// watermark returns the stage's watermark, or noWatermark.
func (s *Stage) watermark(p *plan) int64 {
	m := s.v2.wm.max.Load()
	if m == noWatermark || m-p.lateness > m {
		return noWatermark
	}
	return m - p.lateness
}

// advance tells inst the watermark if it moved since inst last heard it,
// and returns what the module emitted (nil for nothing).
func (s *Stage) advance(ctx context.Context, inst *instance, p *plan) (arrow.RecordBatch, error) {
	wm := s.watermark(p)
	if wm == noWatermark || inst.v2 == nil || inst.v2.watermark == nil || (inst.v2.wmSent && wm <= inst.v2.wm) {
		return nil, nil
	}
	ptr, err := inst.call(ctx, inst.v2.watermark, uint32(uint64(wm)), uint32(uint64(wm)>>32))
	if err != nil {
		return nil, err
	}
	inst.v2.wm, inst.v2.wmSent = wm, true
	whole, _ := inst.mem.Read(0, inst.mem.Size())
	rec, _, err := s.resultV2(inst, p, nil, nil, whole, ptr, 0)
	if rec != nil && rec.NumRows() == 0 {
		rec.Release()
		rec = nil
	}
	return rec, err
}

// withWatermark runs the watermark step after a batch's call: it appends
// what the watermark closed to out (which it consumes).
func (s *Stage) withWatermark(ctx context.Context, inst *instance, p *plan, rec arrow.RecordBatch, sel []int, out arrow.RecordBatch) (arrow.RecordBatch, error) {
	s.observe(p, rec, sel)
	closed, err := s.advance(ctx, inst, p)
	if err != nil || closed == nil {
		if err != nil {
			out.Release()
		}
		return out, err
	}
	defer closed.Release()
	if out == nil || out.NumRows() == 0 {
		if out != nil {
			out.Release()
		}
		closed.Retain()
		return closed, nil
	}
	defer out.Release()
	cols := make([]arrow.Array, out.NumCols())
	for i := range cols {
		c, err := array.Concatenate([]arrow.Array{out.Column(i), closed.Column(i)}, s.mem)
		if err != nil {
			for _, done := range cols[:i] {
				done.Release()
			}
			return nil, fmt.Errorf("appending the rows the watermark closed: %w", err)
		}
		cols[i] = c
	}
	joined := array.NewRecordBatch(out.Schema(), cols, out.NumRows()+closed.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return joined, nil
}

// The host's part of a stateful stage's snapshot when it has an event
// time: its largest event time, 8 bytes before the module's state, so
// that a resumed run's watermark starts where the killed one's stood.
func (s *Stage) wrapState(p *plan, state []byte) []byte {
	if p.evIdx < 0 {
		return state
	}
	return append(le.AppendUint64(make([]byte, 0, 8+len(state)), uint64(s.v2.wm.max.Load())), state...)
}

func (s *Stage) unwrapState(p *plan, state []byte) ([]byte, error) {
	if p.evIdx < 0 {
		return state, nil
	}
	if len(state) < 8 {
		return nil, errors.New("the saved state lacks the event time the host keeps with it")
	}
	s.v2.wm.max.Store(int64(le.Uint64(state)))
	return state[8:], nil
}

// lookupWatermark finds the optional dw_watermark export: (i32, i32) -> i32.
func lookupWatermark(mod api.Module) (api.Function, error) {
	fn := mod.ExportedFunction(exportWatermark)
	if fn == nil {
		return nil, nil
	}
	d := fn.Definition()
	if len(d.ParamTypes()) != 2 || d.ParamTypes()[0] != api.ValueTypeI32 || d.ParamTypes()[1] != api.ValueTypeI32 ||
		len(d.ResultTypes()) != 1 || d.ResultTypes()[0] != api.ValueTypeI32 {
		return nil, fmt.Errorf("%w: export %s takes %d and returns %d values, want 2 i32 arguments and one i32 result", ErrModule, exportWatermark, len(d.ParamTypes()), len(d.ResultTypes()))
	}
	return fn, nil
}
