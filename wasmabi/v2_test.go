package wasmabi

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// Where the v2 raw modules keep what their constant exports point at:
// above the region the host writes the (small) input batch to at 1024.
const (
	v2Result  = 32768
	v2Origins = 33024
	v2Descs   = 33536
	v2Values  = 34048
	v2Errors  = 34560
	v2Message = 34816
	v2Snap    = 35072
	v2Finish  = 36864
)

// v2Module is a raw ABI v2 module (see rawModule) answering bind with
// answer and every dw_process with the result header hdr (10 words) and
// the data at the addresses above.
func v2Module(answer string, hdr []uint32, data map[uint32][]byte) rawModule {
	m := rawModule{
		pages:   1,
		exports: map[string]int32{exportVersion: abiV2, exportReserve: 1024, exportBind: 16, exportProcess: v2Result},
		data:    map[uint32][]byte{16: bindAnswerBytes(answer), v2Result: words(hdr...)},
	}
	for a, b := range data {
		m.data[a] = b
	}
	return m
}

func words(w ...uint32) []byte {
	var b []byte
	for _, v := range w {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// desc is a 32-byte column descriptor.
func desc(index uint32, code uint8, validity, offsets, values, valuesLen uint32) []byte {
	d := words(index, uint32(code), 0, validity, offsets, values, valuesLen, 0)
	return d
}

const (
	v2Passing = `{"reads":["id"],"writes":[{"name":"k","type":"int32","nullable":false}],"drops":[]}`
	v2Own     = `{"reads":["id"],"writes":[{"name":"k","type":"int32","nullable":false}],"drop_all":true}`
	v2State   = `{"reads":["id"],"writes":[{"name":"k","type":"int32","nullable":false}],"drop_all":true,"state":true}`
)

// explode is a good v2 answer to the 5-row sample batch: 7 rows, rows 0
// and 2 emitted two and three times, row 3 rejected, row 4 once; k
// numbers each input row's copies.
func explode() (hdr []uint32, data map[uint32][]byte) {
	hdr = []uint32{statusOK, 0, 0, 7, v2Origins, 1, v2Descs, 1, v2Errors, 0}
	vals := words(0, 1, 0, 0, 1, 2, 0)
	data = map[uint32][]byte{
		v2Origins: words(0, 0, 1, 2, 2, 2, 4),
		v2Descs:   desc(0, codeInt32, 0, 0, v2Values, uint32(len(vals))),
		v2Values:  vals,
		v2Errors:  words(3, v2Message, 3),
		v2Message: []byte("bad"),
	}
	return hdr, data
}

// TestV2Process: a v2 module emits any number of rows per batch, each
// naming its input row; the host gathers the passed-through columns by
// origin, builds the written ones from the guest's buffers and reports
// the rejected rows as input rows. v1 modules are unchanged (every other
// test in the package runs one).
func TestV2Process(t *testing.T) {
	tests := []struct {
		name     string
		answer   string
		hdr      func() ([]uint32, map[uint32][]byte)
		wantIDs  []string // nil: the output has no id column
		wantK    []string
		rejected []int
	}{
		{name: "explode", answer: v2Passing, hdr: explode,
			wantIDs: []string{"1", "1", "2", "3", "3", "3", "5"}, wantK: []string{"0", "1", "0", "0", "1", "2", "0"}, rejected: []int{3}},
		{name: "none", answer: v2Passing, hdr: func() ([]uint32, map[uint32][]byte) {
			return []uint32{statusOK, 0, 0, 0, 0, 1, v2Descs, 0, 0, 0}, map[uint32][]byte{v2Descs: desc(0, codeInt32, 0, 0, 0, 0)}
		}, wantIDs: []string{}, wantK: []string{}},
		{name: "rows of its own", answer: v2Own, hdr: func() ([]uint32, map[uint32][]byte) {
			return []uint32{statusOK, 0, 0, 2, 0, 1, v2Descs, 0, 0, 0}, map[uint32][]byte{
				v2Descs: desc(0, codeInt32, 0, 0, v2Values, 8), v2Values: words(7, 9)}
		}, wantK: []string{"7", "9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			hdr, data := tc.hdr()
			s := newStageOf(t, "v2.wasm", v2Module(tc.answer, hdr, data).bytes(), nil, mem, testConfig())
			if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
				t.Fatal(err)
			}
			rec := orders(mem, sample())
			t.Cleanup(rec.Release)
			out, rejects, err := s.Process(context.Background(), rec)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			if tc.wantIDs == nil {
				if out.NumCols() != 1 {
					t.Errorf("output schema %s, want only k", out.Schema())
				}
			} else if got := column(out, "id"); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("ids %q, want %q", got, tc.wantIDs)
			}
			if got := column(out, "k"); !slices.Equal(got, tc.wantK) {
				t.Errorf("k %q, want %q", got, tc.wantK)
			}
			var rows []int
			for _, r := range rejects {
				rows = append(rows, r.Row)
			}
			if !slices.Equal(rows, tc.rejected) {
				t.Errorf("rejected rows %v, want %v", rows, tc.rejected)
			}
		})
	}
	t.Run("identity passes columns on uncopied", func(t *testing.T) {
		mem := conformance.Checked(t)
		hdr := []uint32{statusOK, 0, 0, 5, v2Origins, 0, 0, 0, 0, 0}
		s := newStageOf(t, "v2.wasm", v2Module(`{"reads":[],"writes":[]}`, hdr, map[uint32][]byte{v2Origins: words(0, 1, 2, 3, 4)}).bytes(), nil, mem, testConfig())
		if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
			t.Fatal(err)
		}
		rec := orders(mem, sample())
		t.Cleanup(rec.Release)
		out, _, err := s.Process(context.Background(), rec)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		if out.Column(1) != rec.Column(1) {
			t.Error("a column passed through in input order was copied")
		}
	})
}

// TestV2Hostile: every way a v2 result can lie is refused with
// ErrGuestOutput naming the rule (ABI.md, "What the host checks"), and a
// v2 bind answer that asks for v1's selection is refused at bind.
func TestV2Hostile(t *testing.T) {
	good, data := explode()
	with := func(word int, v uint32) []uint32 {
		h := slices.Clone(good)
		h[word] = v
		return h
	}
	tests := []struct {
		name string
		hdr  []uint32
		data map[uint32][]byte
		cfg  func(Config) Config
		msg  string
	}{
		{name: "origin past the input", data: map[uint32][]byte{v2Origins: words(0, 0, 1, 2, 2, 2, 5)},
			msg: "emitted row 6 gives input row 5 as its origin, but the call had 5 input rows"},
		{name: "origin of a rejected row", data: map[uint32][]byte{v2Origins: words(0, 0, 1, 3, 2, 2, 4)},
			msg: "emitted row 3 comes from input row 3, which the guest rejected"},
		{name: "no origin where columns pass through", hdr: with(4, 0),
			msg: "emitted rows without an origin, but the stage passes input columns through"},
		{name: "one row without an origin", data: map[uint32][]byte{v2Origins: words(0, 0, 1, noOrigin, 2, 2, 4)},
			msg: "emitted rows without an origin"},
		{name: "origins outside memory", hdr: with(4, 65530),
			msg: "origins: 28 bytes at 0xfffa are outside the guest's 65536-byte memory"},
		{name: "rows past the limit", hdr: with(3, 0xFFFF_FFFF),
			msg: "emitted 4294967295 rows, over the stage's limit of 1048576 per call (max_emit_rows)"},
		{name: "rows past a lowered limit", hdr: good, cfg: func(c Config) Config { return c.WithMaxEmit(6, 0) },
			msg: "emitted 7 rows, over the stage's limit of 6 per call (max_emit_rows)"},
		{name: "bytes past the limit", hdr: good, cfg: func(c Config) Config { return c.WithMaxEmit(0, 16) },
			msg: `column "k": 28 value bytes bring the call's output past the stage's limit of 16 bytes (max_emit_bytes)`},
		{name: "values shorter than the rows", data: map[uint32][]byte{v2Descs: desc(0, codeInt32, 0, 0, v2Values, 24)},
			msg: "k: 24 value bytes for 7 rows (want 28)"},
		{name: "row error past the input", data: map[uint32][]byte{v2Errors: words(5, v2Message, 3)},
			msg: "row error 0 names input row 5 of 5"},
		{name: "more row errors than rows", hdr: with(7, 6), msg: "6 row errors for 5 input rows"},
		{name: "reserved word", hdr: with(9, 1), msg: "result header word 9 is 1 (reserved, must be 0)"},
		{name: "column count", hdr: with(5, 2), msg: "2 output columns, the stage declared 1"},
		{name: "type code", data: map[uint32][]byte{v2Descs: desc(0, codeInt64, 0, 0, v2Values, 56)},
			msg: `column "k": type code 5, declared 4`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			hdr := tc.hdr
			if hdr == nil {
				hdr = good
			}
			d := map[uint32][]byte{}
			for a, b := range data {
				d[a] = b
			}
			for a, b := range tc.data {
				d[a] = b
			}
			cfg := testConfig()
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			s := newStageOf(t, "v2.wasm", v2Module(v2Passing, hdr, d).bytes(), nil, mem, cfg)
			if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
				t.Fatal(err)
			}
			rec := orders(mem, sample())
			t.Cleanup(rec.Release)
			out, _, err := s.Process(context.Background(), rec)
			if out != nil {
				out.Release()
				t.Fatal("the host accepted a result that breaks the ABI")
			}
			wantGuestErr(t, err, ErrGuestOutput, exportProcess, 5, tc.msg)
		})
	}
	t.Run("filter at bind", func(t *testing.T) {
		s := newStageOf(t, "v2.wasm", v2Module(`{"reads":[],"writes":[],"filter":true}`, good, data).bytes(), nil, conformance.Checked(t), testConfig())
		_, err := s.Bind(context.Background(), ordersSchema)
		if !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), `"filter" is ABI v1's`) {
			t.Fatalf("Bind: %v; want a schema error refusing filter", err)
		}
	})
}

// absent leaves an export out of stateModule.
const absent = -1

// stateModule is v2Module with dw_finish, dw_snapshot and dw_restore
// returning the given constants (absent: no such export).
func stateModule(answer string, finish, snapshot, restore int32, data map[uint32][]byte) rawModule {
	hdr := []uint32{statusOK, 0, 0, 0, 0, 1, v2Descs, 0, 0, 0}
	m := v2Module(answer, hdr, map[uint32][]byte{v2Descs: desc(0, codeInt32, 0, 0, 0, 0)})
	for name, v := range map[string]int32{exportFinish: finish, exportSnapshot: snapshot, exportRestore: restore} {
		if v != absent {
			m.exports[name] = v
		}
	}
	for a, b := range data {
		m.data[a] = b
	}
	return m
}

// TestV2Finish: dw_finish emits rows of no input row, which only a stage
// that drops every input column may do; an origin at end of input is a lie.
func TestV2Finish(t *testing.T) {
	finished := func(origins []byte) map[uint32][]byte {
		d := map[uint32][]byte{
			v2Finish:       words(statusOK, 0, 0, 2, 0, 1, v2Finish+64, 0, 0, 0),
			v2Finish + 64:  desc(0, codeInt32, 0, 0, v2Finish+128, 8),
			v2Finish + 128: words(41, 42),
		}
		if origins != nil {
			d[v2Finish] = words(statusOK, 0, 0, 2, v2Finish+192, 1, v2Finish+64, 0, 0, 0)
			d[v2Finish+192] = origins
		}
		return d
	}
	tests := []struct {
		name, answer string
		origins      []byte
		want         []string
		msg          string
	}{
		{name: "rows of its own", answer: v2Own, want: []string{"41", "42"}},
		{name: "rows that say no origin", answer: v2Own, origins: words(noOrigin, noOrigin), want: []string{"41", "42"}},
		{name: "an origin at end of input", answer: v2Own, origins: words(noOrigin, 0),
			msg: "emitted row 1 gives input row 0 as its origin, but the call had 0 input rows"},
		{name: "columns to pass through", answer: v2Passing, msg: "emitted rows without an origin, but the stage passes input columns through"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			s := newStageOf(t, "v2.wasm", stateModule(tc.answer, v2Finish, absent, absent, finished(tc.origins)).bytes(), nil, mem, testConfig())
			if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
				t.Fatal(err)
			}
			recs, err := s.Finish(context.Background())
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			if tc.msg != "" {
				wantGuestErr(t, err, ErrGuestOutput, exportFinish, 0, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || !slices.Equal(column(recs[0], "k"), tc.want) {
				t.Fatalf("Finish gave %v, want one record with k %q", recs, tc.want)
			}
		})
	}
}

// TestV2State: the hostile cases of the state exports. A snapshot over
// the state limit or outside memory fails with the limit named; a module
// refusing the state it is given back fails Restore with its reason; a
// module with one of the two exports is unusable; and once a call fails
// on a stateful stage, every later call fails too (the state is gone) and
// the error is one no error policy absorbs.
func TestV2State(t *testing.T) {
	ctx := context.Background()
	snap := func(p, n uint32) map[uint32][]byte { return map[uint32][]byte{v2Snap: words(p, n)} }
	bound := func(t *testing.T, m rawModule, cfg Config) *Stage {
		s := newStageOf(t, "v2.wasm", m.bytes(), nil, conformance.Checked(t), cfg)
		if _, err := s.Bind(ctx, ordersSchema); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("snapshot", func(t *testing.T) {
		s := bound(t, stateModule(v2State, absent, v2Snap, 0, snap(v2Values, 8)), testConfig())
		if !s.KeepsState() {
			t.Fatal("KeepsState is false for a module exporting dw_snapshot")
		}
		state, err := s.Snapshot(ctx)
		if err != nil || len(state) != 8 {
			t.Fatalf("Snapshot: %d bytes, %v; want 8", len(state), err)
		}
		if err := s.Restore(ctx, state); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("snapshot too large", func(t *testing.T) {
		s := bound(t, stateModule(v2State, absent, v2Snap, 0, snap(v2Values, 4096)), testConfig().WithMaxState(1000))
		_, err := s.Snapshot(ctx)
		wantGuestErr(t, err, ErrStateTooLarge, exportSnapshot, 0, "a snapshot of 4096 bytes, over the stage's limit of 1000 (max_state)")
		if !engine.IsFatal(err) {
			t.Error("a failed snapshot is not fatal")
		}
		if _, err := s.Snapshot(ctx); !errors.Is(err, ErrStateLost) {
			t.Errorf("the snapshot after a failed one: %v, want ErrStateLost", err)
		}
	})
	t.Run("snapshot outside memory", func(t *testing.T) {
		s := bound(t, stateModule(v2State, absent, v2Snap, 0, snap(60000, 10000)), testConfig())
		_, err := s.Snapshot(ctx)
		wantGuestErr(t, err, ErrGuestOutput, exportSnapshot, 0, "snapshot: 10000 bytes at 0xea60 are outside the guest's 65536-byte memory")
	})
	t.Run("restore refusing its own snapshot", func(t *testing.T) {
		refusal := append(words(8), "not mine"...)
		d := snap(v2Values, 8)
		d[v2Message] = refusal
		s := bound(t, stateModule(v2State, absent, v2Snap, v2Message, d), testConfig())
		state, err := s.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Restore(ctx, state)
		wantGuestErr(t, err, ErrStateRefused, exportRestore, 0, "stage refused its saved state (8 bytes): not mine")
	})
	t.Run("restore into a module without state", func(t *testing.T) {
		s := bound(t, stateModule(v2Own, absent, absent, absent, nil), testConfig())
		if err := s.Restore(ctx, []byte("x")); !errors.Is(err, ErrStateRefused) || !strings.Contains(err.Error(), "keeps no state") {
			t.Fatalf("Restore: %v, want ErrStateRefused saying the module keeps no state", err)
		}
	})
	t.Run("state without the exports", func(t *testing.T) {
		s := newStageOf(t, "v2.wasm", stateModule(v2State, absent, absent, absent, nil).bytes(), nil, conformance.Checked(t), testConfig())
		if _, err := s.Bind(ctx, ordersSchema); !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), "does not export dw_snapshot and dw_restore") {
			t.Fatalf("Bind: %v; want the claim of state refused", err)
		}
	})
	t.Run("exports without state", func(t *testing.T) {
		s := bound(t, stateModule(v2Own, absent, v2Snap, 0, snap(v2Values, 8)), testConfig())
		if s.KeepsState() {
			t.Fatal("KeepsState for a module whose bind answer does not say state")
		}
	})
	t.Run("snapshot without restore", func(t *testing.T) {
		s := newStageOf(t, "v2.wasm", stateModule(v2State, absent, v2Snap, absent, nil).bytes(), nil, conformance.Checked(t), testConfig())
		_, err := s.Bind(ctx, ordersSchema)
		wantGuestErr(t, err, ErrModule, exportVersion, 0, "a module that keeps state exports both dw_snapshot and dw_restore")
	})
	t.Run("a failed batch loses the state", func(t *testing.T) {
		m := stateModule(v2State, absent, v2Snap, v2Message, snap(v2Values, 8))
		m.exports[exportProcess] = 65530 // the result header runs past memory
		s := bound(t, m, testConfig())
		rec := orders(conformance.Checked(t), sample())
		t.Cleanup(rec.Release)
		_, _, err := s.Process(ctx, rec)
		wantGuestErr(t, err, ErrGuestOutput, exportProcess, 5, "result header")
		if !engine.IsFatal(err) {
			t.Error("a failed batch of a stateful stage is not fatal")
		}
		if _, _, err := s.Process(ctx, rec); !errors.Is(err, ErrStateLost) || !engine.IsFatal(err) {
			t.Errorf("the batch after: %v, want a fatal ErrStateLost", err)
		}
	})
}

// TestV2Watermark: with an event-time column declared, dw_watermark is
// called after a batch and its rows are appended to the batch's output;
// rows it emits are checked like dw_finish's (an origin is a lie); the
// event-time column must exist, be a timestamp, and the module speak v2.
func TestV2Watermark(t *testing.T) {
	ctx := context.Background()
	tsSchema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Second}}}, nil)
	rec := func(mem memory.Allocator) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, tsSchema)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
		b.Field(1).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{100, 50}, nil)
		return b.NewRecordBatch()
	}
	// dw_process emits nothing; dw_watermark emits two rows of k.
	closed := func(origins []byte) map[uint32][]byte {
		d := map[uint32][]byte{
			v2Descs:        desc(0, codeInt32, 0, 0, 0, 0),
			v2Finish:       words(statusOK, 0, 0, 2, 0, 1, v2Finish+64, 0, 0, 0),
			v2Finish + 64:  desc(0, codeInt32, 0, 0, v2Finish+128, 8),
			v2Finish + 128: words(7, 8),
		}
		if origins != nil {
			d[v2Finish] = words(statusOK, 0, 0, 2, v2Finish+192, 1, v2Finish+64, 0, 0, 0)
			d[v2Finish+192] = origins
		}
		return d
	}
	module := func(origins []byte) []byte {
		m := v2Module(v2Own, []uint32{statusOK, 0, 0, 0, 0, 1, v2Descs, 0, 0, 0}, closed(origins))
		m.exports[exportWatermark] = v2Finish
		return m.bytes()
	}
	t.Run("rows appended", func(t *testing.T) {
		mem := conformance.Checked(t)
		s := newStageOf(t, "v2.wasm", module(nil), nil, mem, testConfig().WithEventTime("ts", 10*time.Second))
		if _, err := s.Bind(ctx, tsSchema); err != nil {
			t.Fatal(err)
		}
		in := rec(mem)
		defer in.Release()
		out, _, err := s.Process(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		if got := column(out, "k"); !slices.Equal(got, []string{"7", "8"}) {
			t.Fatalf("k %q, want the watermark's two rows", got)
		}
		// The watermark (100 - 10) has not moved: no second call.
		out2, _, err := s.Process(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		defer out2.Release()
		if out2.NumRows() != 0 {
			t.Fatalf("%d rows after a batch that did not move the watermark", out2.NumRows())
		}
	})
	t.Run("an origin from dw_watermark", func(t *testing.T) {
		mem := conformance.Checked(t)
		s := newStageOf(t, "v2.wasm", module(words(0, noOrigin)), nil, mem, testConfig().WithEventTime("ts", 0))
		if _, err := s.Bind(ctx, tsSchema); err != nil {
			t.Fatal(err)
		}
		in := rec(mem)
		defer in.Release()
		out, _, err := s.Process(ctx, in)
		if out != nil {
			out.Release()
		}
		wantGuestErr(t, err, ErrGuestOutput, exportWatermark, 2, "emitted row 0 gives input row 0 as its origin, but the call had 0 input rows")
	})
	for _, tc := range []struct {
		name, column string
		wasm         []byte
		msg          string
	}{
		{"no such column", "when", module(nil), `event_time: no single column "when"`},
		{"not a timestamp", "id", module(nil), `event_time: column "id" is int64, want a timestamp`},
		{"a v1 module", "ts", goodModule().bytes(), "event_time needs an ABI v2 module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStageOf(t, "v2.wasm", tc.wasm, nil, conformance.Checked(t), testConfig().WithEventTime(tc.column, 0))
			if _, err := s.Bind(ctx, tsSchema); !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Bind: %v; want a schema error saying %q", err, tc.msg)
			}
		})
	}
}
