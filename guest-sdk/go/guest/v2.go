package guest

import (
	"errors"
	"strconv"
	"unsafe"
)

// ABI v2 (wasmabi/ABI.md, "Version 2"): a stage registered with StageV2
// emits any number of rows per batch, each naming its input row of
// origin, may emit more at end of input (Setup.OnFinish) and may keep
// state the host saves at checkpoints (Setup.KeepState).

// NoOrigin is the origin of an emitted row that comes from no input row.
const NoOrigin = -1

// abi is the version the module answers dw_abi_version with: 1 unless
// the stage was registered with StageV2 (from init, which runs before the
// host asks).
var abi int32 = 1

// v2 is the stage's v2 declarations and the rows of the call in progress.
var v2 struct {
	dropAll  bool
	state    bool
	snapshot func() []byte
	restore  func([]byte) error
	finish   ProcessFunc
	mark     func(b *Batch, watermark int64) error
	origins  []uint32
	any      bool // some row has an origin
}

// StageV2 registers a v2 transform. Call it once, from init(). Its
// process function emits rows with Batch.Emit and the columns' Put
// methods; Batch.Drop, KeepBits, Values and Builder are v1's.
func StageV2(f SetupFunc) { registered, abi = f, 2 }

// DropAll (v2) drops every input column: the output is the written
// columns only, and rows need no origin (an aggregate). Without it, the
// input columns pass through, taken from each emitted row's origin.
func (s *Setup) DropAll() { v2.dropAll = true }

// KeepState (v2) declares that the stage keeps state across batches:
// at every checkpoint the host saves what snapshot returns with the
// source's position, and a resumed run calls restore with it, after
// setup and before any batch. restore must return an error for bytes it
// cannot read rather than start from nothing. A stage keeping state runs
// on one worker.
func (s *Setup) KeepState(snapshot func() []byte, restore func([]byte) error) {
	v2.state, v2.snapshot, v2.restore = true, snapshot, restore
}

// OnFinish (v2) sets the function run once at end of input, to emit what
// the stage held back (with NoOrigin: there is no input row then).
func (s *Setup) OnFinish(f ProcessFunc) { v2.finish = f }

// EventTime (v2) is the event-time column the pipeline declared for the
// stage (the wasm stage's event_time), or "" when it declared none: then
// no watermark comes.
func (s *Setup) EventTime() string { return s.eventTime }

// OnWatermark (v2) sets the function the host calls after a batch when
// the watermark (the latest event time seen minus the allowed lateness,
// in the event-time column's unit) has advanced: it emits what the
// watermark closes, with NoOrigin.
func (s *Setup) OnWatermark(f func(b *Batch, watermark int64) error) { v2.mark = f }

// Tumble is the start of the tumbling window of width w (> 0) holding t,
// rounding down also before 0.
func Tumble(t, w int64) int64 {
	r := t % w
	if r < 0 {
		r += w
	}
	return t - r
}

// Emit (v2) starts an output row coming from input row origin (or
// NoOrigin) and returns its index. Give every written column one value
// for it with Put or PutNull.
func (b *Batch) Emit(origin int) int {
	if origin != NoOrigin && (origin < 0 || origin >= b.n) {
		panic("guest: Emit with origin " + strconv.Itoa(origin) + " of a " + strconv.Itoa(b.n) + "-row batch")
	}
	v2.origins = append(v2.origins, uint32(origin))
	v2.any = v2.any || origin != NoOrigin
	b.emitted++
	return b.emitted - 1
}

// emitCol returns output column slot for the next value of the row being
// emitted.
func (b *Batch) emitCol(slot int) *outCol {
	c := &b.outs[slot]
	if c.rows >= b.emitted {
		panic("guest: a second value for row " + strconv.Itoa(b.emitted-1) + " of column " + quote(c.field.Name) + " (call Emit first)")
	}
	return c
}

// Put (v2) gives the row being emitted its value in the column.
func (o Out[T]) Put(b *Batch, v T) {
	c := b.emitCol(o.slot)
	c.values = append(c.values, unsafe.Slice((*byte)(unsafe.Pointer(&v)), unsafe.Sizeof(v))...)
	c.rows++
}

// PutNull (v2) gives the row being emitted a null.
func (o Out[T]) PutNull(b *Batch) {
	var zero T
	o.Put(b, zero)
	b.outs[o.slot].putNull()
}

// Put (v2) gives the row being emitted its value.
func (o OutBool) Put(b *Batch, v bool) {
	c := b.emitCol(o.slot)
	i := c.rows
	if i%8 == 0 {
		c.values = append(c.values, 0)
	}
	if v {
		c.values[i>>3] |= 1 << (i & 7)
	}
	c.rows++
}

// PutNull (v2) gives the row being emitted a null.
func (o OutBool) PutNull(b *Batch) {
	o.Put(b, false)
	b.outs[o.slot].putNull()
}

// Put (v2) gives the row being emitted its value.
func (o OutStr) Put(b *Batch, s string) {
	c := b.emitCol(o.slot)
	c.values = append(c.values, s...)
	c.offs = append(c.offs, int32(len(c.values)))
	c.rows++
}

// PutNull (v2) gives the row being emitted a null.
func (o OutStr) PutNull(b *Batch) {
	o.Put(b, "")
	b.outs[o.slot].putNull()
}

// putNull marks the column's last value null, growing the validity
// bitmap with the rows (new rows valid until marked).
func (c *outCol) putNull() {
	i := c.rows - 1
	if !c.hasNull {
		c.valid = c.valid[:0]
		c.hasNull = true
	}
	for len(c.valid) <= i>>3 {
		c.valid = append(c.valid, 0xff)
	}
	c.valid[i>>3] &^= 1 << (i & 7)
}

// beginV2 readies the batch's columns for a call's emitted rows.
func (b *Batch) beginV2() {
	b.emitted = 0
	v2.origins, v2.any = v2.origins[:0], false
	for i := range b.outs {
		c := &b.outs[i]
		c.values, c.offs, c.valid = c.values[:0], append(c.offs[:0], 0), c.valid[:0]
		c.hasNull, c.rows, c.touched = false, 0, true
	}
}

// checkV2 fails a call that left a column without a value for a row.
func (b *Batch) checkV2() error {
	for i := range b.outs {
		c := &b.outs[i]
		if c.rows != b.emitted {
			return errors.New("output column " + quote(c.field.Name) + ": " + strconv.Itoa(c.rows) + " values put for " + strconv.Itoa(b.emitted) + " rows emitted")
		}
		if c.hasNull {
			for len(c.valid) < (b.emitted+7)/8 {
				c.valid = append(c.valid, 0xff)
			}
		}
	}
	return nil
}
