package wasmabi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dataweaver/dataweaver/internal/gather"
	"github.com/dataweaver/dataweaver/internal/guesttext"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
)

// Stage is a Wasm module run as an engine.Stage.
type Stage struct {
	name, module string
	cfg          Config
	mem          memory.Allocator
	out          *outPool // the written columns' buffers (outpool.go)
	conf         json.RawMessage
	// rt may be shared with other stages running the same module
	// (runtimes.go): key releases it. log is this stage's log import.
	rt  *runtime
	key runtimeKey
	log *guestLog
	// ready is closed once rt (or rtErr) is set: NewStage with
	// WithBackgroundCompile returns before the module has compiled.
	ready chan struct{}
	rtErr error
	// warm is what making an instance in the background with the module
	// gave (warm.go), for the first Bind to take.
	warm    warmInstance
	batches atomic.Int64
	stats   engine.GuestStats
	v2      v2Stage
	keys    keyed // keyed.go

	mu   sync.Mutex
	free []*instance
	plan *plan // set by Bind; instances in free are bound to it
}

// plan is the outcome of the handshake for one input schema.
type plan struct {
	in, out *arrow.Schema
	req     []byte
	resp    bindAnswer
	// bound: resp holds the first instance's answer. Set once, at Bind,
	// before workers exist; pool refills then only read resp, so they may
	// run concurrently.
	bound  bool
	reads  []int    // input column index per read slot
	codes  []uint8  // type code per read slot
	writes []outCol // declared output columns
	wtypes []arrow.DataType
	// outFrom says where each output column comes from: >= 0 an input
	// column, < 0 the write -1-i.
	outFrom []int
	// ABI v2 (v2.go): the module's version and the request it gets;
	// whether it keeps state, and whether any input column passes through.
	abi      int32
	req2     []byte
	stateful bool
	hasState bool // the module exports dw_snapshot and dw_restore
	passes   bool
	// evIdx is the event-time column (-1: none) and lateness the
	// watermark's distance behind it, in its unit (watermark.go).
	evIdx    int
	lateness int64
}

type abiField struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

type bindAnswer struct {
	Reads  []string   `json:"reads"`
	Writes []abiField `json:"writes"`
	Drops  []string   `json:"drops"`
	Filter bool       `json:"filter"`
	Error  string     `json:"error"`
	// DropAll (v2 only) drops every input column; State (v2 only) says
	// the stage keeps state for the host to save (dw_snapshot).
	DropAll bool `json:"drop_all"`
	State   bool `json:"state"`
}

// NewStage compiles wasm into a stage with cfg's limits, name and guest
// configuration (NewConfig().WithName(…).WithGuestConfig(…)).
func NewStage(ctx context.Context, wasm []byte, cfg Config) (*Stage, error) {
	name, module := cfg.name, cfg.module
	if name == "" {
		name = "wasm"
	}
	if module == "" {
		module = "wasm"
	}
	raw, err := json.Marshal(cfg.guestConfig)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: config: %w", engine.ErrInvalidConfig, name, err)
	}
	module = filepath.Base(module)
	mem := cfg.mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	s := &Stage{name: name, module: module, cfg: cfg, mem: mem, out: newOutPool(mem), conf: raw, ready: make(chan struct{}),
		log: newGuestLog(cfg.loggerOrDefault().With("stage", name))}
	if cfg.background {
		go func() {
			s.rt, s.key, s.rtErr = acquireRuntime(ctx, name, module, wasm, cfg)
			if s.rtErr == nil {
				s.warm = s.rt.prepare(ctx, s.cfg.timeout, s.log)
			}
			close(s.ready)
		}()
		return s, nil
	}
	s.rt, s.key, s.rtErr = acquireRuntime(ctx, name, module, wasm, cfg)
	close(s.ready)
	if s.rtErr != nil {
		return nil, s.rtErr
	}
	return s, nil
}

// Ready waits until the module has compiled and returns the error that
// compiling it gave (the same NewStage would return without
// WithBackgroundCompile). A stage that failed to compile fails every Bind
// and Process with that error too.
func (s *Stage) Ready() error {
	<-s.ready
	return s.rtErr
}

func (s *Stage) guestErr(export string, batch int64, rows int, err error) error {
	return &GuestError{Stage: s.name, Module: s.module, Export: export, Batch: batch, Rows: rows, Err: err}
}

// Bind runs the handshake on a fresh instance and derives the output schema.
func (s *Stage) Bind(ctx context.Context, in *arrow.Schema) (*arrow.Schema, error) {
	fields := make([]abiField, in.NumFields())
	codes := make([]uint8, in.NumFields())
	for i, f := range in.Fields() {
		t, code, err := typeName(f.Type)
		if err != nil {
			t = "unsupported:" + f.Type.String() // the guest may still ignore it
		}
		fields[i], codes[i] = abiField{Name: f.Name, Type: t, Nullable: f.Nullable}, code
	}
	req, _ := json.Marshal(struct {
		ABI    int             `json:"abi"`
		Stage  string          `json:"stage"`
		Config json.RawMessage `json:"config"`
		Schema []abiField      `json:"schema"`
	}{Version, s.name, s.conf, fields})
	p := &plan{in: in, req: req, req2: v2Request(req)}
	if err := s.eventTimePlan(p); err != nil {
		return nil, err
	}
	inst, err := s.fresh(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.derive(p, codes); err != nil {
		inst.close(ctx)
		return nil, err
	}
	if err := s.bindKeys(ctx, p); err != nil {
		inst.close(ctx)
		return nil, err
	}
	s.mu.Lock()
	for _, old := range s.free {
		old.close(ctx)
	}
	s.free, s.plan = []*instance{inst}, p
	s.mu.Unlock()
	return p.out, nil
}

// fresh instantiates and binds an instance. When p.resp is already set (a
// pool refill) the answer must match the first one.
func (s *Stage) fresh(ctx context.Context, p *plan) (*instance, error) {
	if err := s.Ready(); err != nil {
		return nil, err
	}
	w := s.takeWarm()
	inst, export, err := w.inst, w.export, w.err
	if inst == nil && err == nil {
		inst, export, err = s.rt.instantiate(ctx, s.cfg.timeout, s.log)
	}
	if err != nil {
		return nil, s.guestErr(export, 0, 0, err)
	}
	req := p.req
	if inst.abi == abiV2 {
		req = p.req2
	}
	body, export, err := inst.bindCall(ctx, req)
	if err != nil {
		inst.close(ctx)
		return nil, s.guestErr(export, 0, 0, err)
	}
	var ans bindAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		inst.close(ctx)
		return nil, s.guestErr(exportBind, 0, 0, fmt.Errorf("%w: bind response is not JSON: %w", ErrGuestOutput, err))
	}
	if ans.Error != "" {
		inst.close(ctx)
		return nil, fmt.Errorf("%w: %s: module[%s]: %s", engine.ErrSchema, s.name, s.module, guesttext.Escape(ans.Error))
	}
	if p.bound {
		if !slices.Equal(ans.Reads, p.resp.Reads) || !slices.Equal(ans.Writes, p.resp.Writes) {
			inst.close(ctx)
			return nil, s.guestErr(exportBind, 0, 0, fmt.Errorf("%w: a new instance answered the handshake differently", ErrGuestOutput))
		}
		return inst, nil
	}
	p.resp, p.bound = ans, true
	p.abi, p.stateful = inst.abi, inst.abi == abiV2 && ans.State
	p.hasState = inst.v2 != nil && inst.v2.snapshot != nil
	return inst, nil
}

// derive turns the handshake answer into the plan and output schema.
func (s *Stage) derive(p *plan, codes []uint8) error {
	in, ans := p.in, p.resp
	fail := func(format string, args ...any) error {
		// The names and types come from the guest: escaped.
		return fmt.Errorf("%w: %s: module[%s]: %s", engine.ErrSchema, s.name, s.module, guesttext.Escape(fmt.Sprintf(format, args...)))
	}
	index := func(name string) (int, error) {
		idx := in.FieldIndices(name)
		switch len(idx) {
		case 0:
			return 0, fail("no column %q in the input", name)
		case 1:
			return idx[0], nil
		}
		return 0, fail("the input has %d columns called %q", len(idx), name)
	}
	for _, r := range ans.Reads {
		i, err := index(r)
		if err != nil {
			return err
		}
		if codes[i] == 0 {
			return fail("column %q is %s, which ABI v1 cannot pass to a guest", r, in.Field(i).Type)
		}
		if isNested(codes[i]) && p.abi != abiV2 {
			return fail("column %q is %s: nested types need an ABI v2 module", r, in.Field(i).Type)
		}
		p.reads, p.codes = append(p.reads, i), append(p.codes, codes[i])
	}
	dropped := map[int]bool{}
	for _, d := range ans.Drops {
		i, err := index(d)
		if err != nil {
			return err
		}
		dropped[i] = true
	}
	if err := deriveV2(p, dropped); err != nil {
		return fail("%v", err)
	}
	replaced := map[int]int{}
	var appended []int
	for j, w := range ans.Writes {
		dt, code, err := parseType(w.Type)
		if err != nil {
			return fail("output column %q: %v", w.Name, err)
		}
		if isNested(code) && p.abi != abiV2 {
			return fail("output column %q: nested types need an ABI v2 module", w.Name)
		}
		p.writes, p.wtypes = append(p.writes, outCol{name: w.Name, code: code, nt: nestedOut(dt, code, w.Name)}), append(p.wtypes, dt)
		if idx := in.FieldIndices(w.Name); len(idx) == 1 && !dropped[idx[0]] {
			replaced[idx[0]] = j
		} else {
			appended = append(appended, j)
		}
	}
	var fields []arrow.Field
	for i, f := range in.Fields() {
		switch j, ok := replaced[i]; {
		case ok:
			fields = append(fields, arrow.Field{Name: f.Name, Type: p.wtypes[j], Nullable: ans.Writes[j].Nullable, Metadata: f.Metadata})
			p.outFrom = append(p.outFrom, -1-j)
		case !dropped[i]:
			fields = append(fields, f)
			p.outFrom = append(p.outFrom, i)
			p.passes = true
		}
	}
	for _, j := range appended {
		fields = append(fields, arrow.Field{Name: ans.Writes[j].Name, Type: p.wtypes[j], Nullable: ans.Writes[j].Nullable})
		p.outFrom = append(p.outFrom, -1-j)
	}
	md := in.Metadata()
	p.out = arrow.NewSchema(fields, &md)
	return nil
}

// get takes an idle instance or makes a bound one.
func (s *Stage) get(ctx context.Context) (*instance, *plan, error) {
	s.mu.Lock()
	p := s.plan
	if n := len(s.free); n > 0 {
		inst := s.free[n-1]
		s.free = s.free[:n-1]
		s.mu.Unlock()
		return inst, p, nil
	}
	s.mu.Unlock()
	if p == nil {
		return nil, nil, fmt.Errorf("%s: Process before Bind", s.name)
	}
	inst, err := s.fresh(ctx, p)
	return inst, p, err
}

func (s *Stage) put(ctx context.Context, inst *instance, p *plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.plan != p || s.rt == nil {
		inst.close(ctx)
		return
	}
	s.free = append(s.free, inst)
}

// InstanceOverhead is the host memory an instance holds besides its linear
// memory: wazero's module instance, globals, tables and call stack, and
// the host's result buffers. Measured at about 120 KiB for the mask
// example (100 instances: RSS grew by 344,532 KiB, of which 332,800 KiB
// were their linear memories); 1 MiB leaves room for larger tables.
const InstanceOverhead = 1 << 20

// MaxMemory is the most host memory one worker's instance may hold: its
// linear memory at the memory limit (whole 64 KiB pages) and the
// instance's own structures. The pool never holds more instances than
// there are workers, and a trapped instance is closed before the next one
// is made, so workers × MaxMemory bounds the stage.
func (s *Stage) MaxMemory() int64 {
	return int64(s.cfg.memoryPages())<<16 + InstanceOverhead
}

// Close releases every instance and the compiled module.
func (s *Stage) Close() error {
	ctx := context.Background()
	// A compile in the background cannot be stopped; wait for it, so its
	// runtime is closed rather than leaked.
	_ = s.Ready()
	s.closeKeyed(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.warm.inst != nil {
		s.warm.inst.close(ctx)
	}
	s.warm = warmInstance{}
	for _, in := range s.free {
		in.close(ctx)
	}
	s.free, s.plan = nil, nil
	s.out.close()
	if s.rt == nil {
		return nil
	}
	s.log.flush(ctx)
	err := releaseRuntime(ctx, s.key)
	s.rt = nil
	return err
}

// GuestStats reports the stage's guest calls, traps and replaced
// instances (engine.GuestStager), for monitoring.
func (s *Stage) GuestStats() *engine.GuestStats { return &s.stats }

// countFailure files a failed call under its kind in s.stats.
func (s *Stage) countFailure(err error) {
	switch {
	case errors.Is(err, ErrGuestTimeout):
		s.stats.Timeouts.Add(1)
	case errors.Is(err, ErrGuestTrap):
		s.stats.Traps.Add(1)
	}
}

// Process runs one batch through the guest.
func (s *Stage) Process(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	out, _, rejects, err := s.run(ctx, rec, nil, false)
	return out, rejects, err
}

// ProcessSelected runs the rows sel of rec (nil: all) through the guest
// (engine.Selecting). Only the columns the guest reads are gathered into
// its memory; a stage that writes no column (a filter) answers with rec
// itself and the rows it kept, so a chain of filters copies rows once,
// wherever the engine or a writing stage next needs them.
func (s *Stage) ProcessSelected(ctx context.Context, rec arrow.RecordBatch, sel []int) (arrow.RecordBatch, []int, []engine.RowError, error) {
	return s.run(ctx, rec, sel, true)
}

func (s *Stage) run(ctx context.Context, rec arrow.RecordBatch, sel []int, selOut bool) (arrow.RecordBatch, []int, []engine.RowError, error) {
	if len(s.cfg.v2.key) > 0 {
		out, rejects, err := s.runKeyed(ctx, rec, sel)
		return out, nil, rejects, err
	}
	if err := s.stateLost(); err != nil {
		return nil, nil, nil, err
	}
	inst, p, err := s.get(ctx)
	if err != nil {
		// A fresh instance failed to start or bind.
		s.countFailure(err)
		return nil, nil, nil, err
	}
	seq := s.batches.Add(1)
	n := int(rec.NumRows())
	if sel != nil {
		n = len(sel)
	}
	out, outSel, rejects, export, err := s.process(ctx, inst, p, rec, sel, selOut)
	if err == nil && p.evIdx >= 0 {
		if out, err = s.withWatermark(ctx, inst, p, rec, sel, out); err != nil {
			export, rejects = exportWatermark, nil
		}
	}
	if err != nil {
		// Whatever happened, the instance's state is suspect: replace it.
		inst.close(ctx)
		s.stats.Replaced.Add(1)
		s.countFailure(err)
		if errors.Is(err, context.Canceled) {
			return nil, nil, nil, s.loseState(p, err)
		}
		return nil, nil, nil, s.loseState(p, s.guestErr(export, seq, n, err))
	}
	s.put(ctx, inst, p)
	return out, outSel, rejects, nil
}

func (s *Stage) process(ctx context.Context, inst *instance, p *plan, rec arrow.RecordBatch, sel []int, selOut bool) (arrow.RecordBatch, []int, []engine.RowError, string, error) {
	if sc := rec.Schema(); sc != p.in && !sc.Equal(p.in) {
		return nil, nil, nil, exportProcess, fmt.Errorf("%w: batch schema %s differs from the bound schema %s", engine.ErrSchema, rec.Schema(), p.in)
	}
	n := int(rec.NumRows())
	if sel != nil {
		n = len(sel)
	}
	cols, err := s.inputs(inst, rec, sel, p)
	defer inst.release()
	if err != nil {
		return nil, nil, nil, exportProcess, err
	}
	size := layoutSize(cols)
	if size > 1<<32-1 {
		return nil, nil, nil, exportProcess, fmt.Errorf("batch of %d input bytes is too large for a 32-bit guest", size)
	}
	if err := inst.ensure(ctx, uint32(size)); err != nil {
		return nil, nil, nil, exportReserve, err
	}
	view, ok := inst.mem.Read(inst.arenaPtr, uint32(size))
	if !ok {
		return nil, nil, nil, exportReserve, fmt.Errorf("%w: reserved region outside memory", ErrGuestOutput)
	}
	writeBatch(view, inst.arenaPtr, n, cols)
	start := time.Now()
	ptr, err := inst.call(ctx, inst.process, inst.arenaPtr)
	s.stats.Calls.Since(start)
	if err != nil {
		return nil, nil, nil, exportProcess, err
	}
	// The call may have grown memory: take a fresh view of all of it.
	whole, _ := inst.mem.Read(0, inst.mem.Size())
	if p.abi == abiV2 {
		out, rejects, err := s.resultV2(inst, p, rec, sel, whole, ptr, n)
		return out, nil, rejects, exportProcess, err
	}
	res := &inst.res
	if err := readResult(whole, ptr, n, p.writes, res); err != nil {
		return nil, nil, nil, exportProcess, err
	}
	if res.failed != "" {
		return nil, nil, nil, exportProcess, fmt.Errorf("%w: %s", ErrGuestFailed, res.failed)
	}
	out, outSel, rejects, err := s.assemble(inst, rec, sel, selOut, p, res)
	return out, outSel, rejects, exportProcess, err
}

// inputs returns the arrays the guest reads, dictionary columns decoded
// and, with a selection, only the selected rows (a flat column's gathered
// by writeBatch straight into guest memory), in inst's reused slice;
// release frees what it made.
func (s *Stage) inputs(inst *instance, rec arrow.RecordBatch, sel []int, p *plan) ([]inCol, error) {
	cols := slices.Grow(inst.cols[:0], len(p.reads))[:len(p.reads)]
	inst.cols = cols
	var rows *gather.Rows // sel's runs, shared by the columns
	for slot, i := range p.reads {
		a := rec.Column(i)
		if sel != nil && selectable(a, p.codes[slot]) {
			if rows == nil {
				inst.inRows.Reset(sel)
				rows = &inst.inRows
			}
			c := inCol{index: uint32(i), code: p.codes[slot], arr: a, sel: rows}
			if lay, _ := layoutOf(c.code); lay.offsets > 0 {
				c.selVals = selVarSize(a, lay.offsets, rows)
			}
			cols[slot] = c
			continue
		}
		if sel != nil {
			g, err := gather.Take(s.mem, a, sel)
			if err != nil {
				return nil, err
			}
			inst.decoded = append(inst.decoded, g)
			a = g
		}
		if d, ok := a.(*array.Dictionary); ok {
			dec, err := decodeDictionary(s.mem, d)
			if err != nil {
				return nil, err
			}
			inst.decoded = append(inst.decoded, dec)
			a = dec
		}
		cols[slot] = inCol{index: uint32(i), code: p.codes[slot], arr: a}
	}
	return cols, nil
}

// release drops what inputs decoded and the references it kept.
func (in *instance) release() {
	for i, a := range in.decoded {
		a.Release()
		in.decoded[i] = nil
	}
	in.decoded = in.decoded[:0]
	clear(in.cols)
}

// assemble builds the output record from the passed-through columns and the
// guest's validated buffers, applying selection and row errors. The input
// is the rows sel of rec (nil: all); rejects name rows of rec. With selOut
// and no written columns, the output is rec's columns with the kept rows
// as its selection instead of a copy of them. Its scratch slices are
// inst's, reused batch to batch.
func (s *Stage) assemble(inst *instance, rec arrow.RecordBatch, sel []int, selOut bool, p *plan, res *result) (arrow.RecordBatch, []int, []engine.RowError, error) {
	n := int(rec.NumRows())
	if sel != nil {
		n = len(sel)
	}
	written := slices.Grow(inst.written[:0], len(p.writes))[:len(p.writes)]
	inst.written = written
	cols := slices.Grow(inst.out[:0], len(p.outFrom))[:len(p.outFrom)]
	inst.out = cols
	defer func() {
		for _, a := range written {
			if a != nil {
				a.Release()
			}
		}
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
		clear(written)
		clear(cols)
	}()
	for j := range p.writes {
		written[j] = buildArray(s.out, p.wtypes[j], p.writes[j].code, n, res.cols[j])
	}
	idx, rejects := kept(inst, res, n, sel) // kept positions of the guest's input (nil: all)
	// src: the rows of rec the output's rows come from (nil: all of rec).
	src := sel
	if idx != nil {
		src = idx
		if sel != nil {
			src = make([]int, len(idx))
			for k, j := range idx {
				src[k] = sel[j]
			}
		}
	}
	if selOut && len(p.writes) == 0 {
		// A filter: hand on rec's columns and the rows kept. src is
		// inst's scratch when it is idx: the selection travels with the
		// batch, so it gets its own copy.
		for k, from := range p.outFrom {
			a := rec.Column(from)
			a.Retain()
			cols[k] = a
		}
		outSel := src
		if src != nil && sel == nil {
			outSel = slices.Clone(src)
		}
		return array.NewRecordBatch(p.out, cols, rec.NumRows()), outSel, rejects, nil
	}
	// Each selection is split into runs once, for all the columns
	// gathered with it.
	var srcRows, idxRows *gather.Rows
	for k, from := range p.outFrom {
		var a arrow.Array
		var rows **gather.Rows
		var sel []int
		var scratch *gather.Rows
		if from >= 0 {
			a, rows, sel, scratch = rec.Column(from), &srcRows, src, &inst.srcRows
		} else {
			// Written columns have the guest's rows.
			a, rows, sel, scratch = written[-1-from], &idxRows, idx, &inst.idxRows
		}
		if sel == nil {
			a.Retain()
			cols[k] = a
			continue
		}
		if *rows == nil {
			scratch.Reset(sel)
			*rows = scratch
		}
		t, err := (*rows).Take(s.mem, a)
		if err != nil {
			return nil, nil, nil, err
		}
		cols[k] = t
	}
	rows := int64(n)
	if idx != nil {
		rows = int64(len(idx))
	}
	return array.NewRecordBatch(p.out, cols, rows), nil, rejects, nil
}

// selection turns the guest's selection into a keep mask (nil: all rows),
// in *buf's storage.
func selection(res *result, n int, buf *[]bool) ([]bool, int) {
	switch res.selKind {
	case selBitmap:
		keep, kept := grownBools(buf, n), 0
		for i := range keep {
			k := res.selBits[i>>3]&(1<<(i&7)) != 0
			keep[i] = k
			if k {
				kept++
			}
		}
		return keep, kept
	case selIndices:
		keep := grownBools(buf, n)
		clear(keep)
		for _, i := range res.selIdx {
			keep[i] = true
		}
		return keep, len(res.selIdx)
	}
	return nil, n
}

func grownBools(buf *[]bool, n int) []bool {
	*buf = slices.Grow((*buf)[:0], n)[:n]
	return *buf
}

// keptRows lists the rows keep selects, in *buf's storage.
func keptRows(keep []bool, kept int, buf *[]int) []int {
	idx := slices.Grow((*buf)[:0], kept)
	for i, k := range keep {
		if k {
			idx = append(idx, i)
		}
	}
	*buf = idx
	return idx
}

func allTrue(n int, buf *[]bool) []bool {
	k := grownBools(buf, n)
	for i := range k {
		k[i] = true
	}
	return k
}
