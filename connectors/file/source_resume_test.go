package file

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
)

// run is what one source read from Open to the end: its records, rejects
// and the checkpoint of every batch with how many input records (rows and
// rejects) the batches up to it held.
type run struct {
	recs    []arrow.RecordBatch
	rejects []engine.RowError
	cps     []Position
	upto    []int64 // input records up to and including batch i
	bytes   int64   // sum of Batch.Bytes
	// progress is Progress().done right after Open; end and total are
	// Progress() at the end.
	progress, end, total int64
}

func (r *run) release() { conformance.Release(r.recs) }

// readRun builds a new source with build (a restarted process), resumes it
// from pos when pos is not nil, and reads it to the end.
func readRun(t *testing.T, build conformance.SourceBuilder, b engine.Build, pos []byte) *run {
	t.Helper()
	r, err := tryRun(t, build, b, pos)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func tryRun(t *testing.T, build conformance.SourceBuilder, b engine.Build, pos []byte) (*run, error) {
	t.Helper()
	ctx := context.Background()
	src := build(b)
	if pos != nil {
		if err := src.(engine.Resumer).Resume(pos); err != nil {
			return nil, err
		}
	}
	if _, err := src.Open(ctx); err != nil {
		return nil, err
	}
	defer src.Close()
	out := &run{}
	out.progress, _ = src.(engine.Sized).Progress()
	var n int64
	for {
		bt, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			out.end, out.total = src.(engine.Sized).Progress()
			return out, nil
		}
		if err != nil {
			out.release()
			return nil, err
		}
		if bt.Record != nil {
			out.recs = append(out.recs, bt.Record)
			n += bt.Record.NumRows()
		}
		out.rejects = append(out.rejects, bt.Rejects...)
		n += int64(len(bt.Rejects))
		cp, ok := bt.Checkpoint.(Position)
		if !ok {
			t.Fatalf("batch checkpoint is %T, want file.Position", bt.Checkpoint)
		}
		out.cps = append(out.cps, cp)
		out.upto = append(out.upto, n)
		out.bytes += bt.Bytes
	}
}

func marshal(t *testing.T, cp Position) []byte {
	t.Helper()
	b, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeUnits writes recs to path in a binary format, one storage unit per
// record: a Parquet row group, an Arrow IPC record batch, an Avro block.
// parquet-delta encodes id with DELTA_BINARY_PACKED, which the Parquet
// reader reads a whole row group at a time (another path through it).
func writeUnits(t *testing.T, path, formatName string, mem memory.Allocator, recs ...arrow.RecordBatch) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasPrefix(formatName, "parquet") {
		opts := []pq.WriterProperty{pq.WithAllocator(mem), pq.WithMaxRowGroupLength(1 << 20)}
		if formatName == "parquet-delta" {
			opts = append(opts, pq.WithDictionaryFor("id", false), pq.WithEncodingFor("id", pq.Encodings.DeltaBinaryPacked))
		}
		w, err := pqarrow.NewFileWriter(recs[0].Schema(), f, pq.NewWriterProperties(opts...),
			pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Write(r); err != nil { // one row group per call
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
	var w format.Writer
	if formatName == "arrow-file" {
		// The format's writer writes the stream format.
		fw, err := ipc.NewFileWriter(f, ipc.WithSchema(recs[0].Schema()), ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		w = ipcFile{fw}
	} else {
		fm, err := format.Lookup(formatName)
		if err != nil {
			t.Fatal(err)
		}
		if w, err = fm.NewWriter(f, recs[0].Schema(), format.WriteOptions{Mem: mem, Name: path}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil { // ends an Avro block
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

type ipcFile struct{ *ipc.FileWriter }

func (ipcFile) Flush() error { return nil }

// unitSizes cut the sample into storage units: smaller and larger than
// the batch size (7), so positions fall inside units and on their edges.
var unitSizes = []int64{13, 1, 30, 20, 7, 29}

// sliced cuts want into records of unitSizes rows (released by t.Cleanup).
func sliced(t *testing.T, want arrow.RecordBatch) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	var off int64
	for _, n := range unitSizes {
		out = append(out, want.NewSlice(off, off+n))
		off += n
	}
	t.Cleanup(func() { conformance.Release(out) })
	if off != want.NumRows() {
		t.Fatalf("unitSizes add up to %d, the sample has %d rows", off, want.NumRows())
	}
	return out
}

// resumeFormats are the layouts TestResumeEveryBatch runs.
var resumeFormats = []struct {
	name, ext string
	text      bool
	write     func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch)
}{
	{"csv", ".csv", true, func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch) {
		writeWith(t, path, "csv", compNone, mem, want.Schema(), want)
	}},
	{"jsonl", ".jsonl", true, func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch) {
		writeWith(t, path, "jsonl", compNone, mem, want.Schema(), want)
	}},
	{"jsonl.gz", ".jsonl.gz", true, func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch) {
		writeWith(t, path, "jsonl", compGzip, mem, want.Schema(), want)
	}},
	{"csv.zst", ".csv.zst", true, func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch) {
		writeWith(t, path, "csv", compZstd, mem, want.Schema(), want)
	}},
	{"parquet", ".parquet", false, func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch) {
		writeUnits(t, path, "parquet", mem, sliced(t, want)...)
	}},
	{"parquet-delta", ".parquet", false, func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch) {
		writeUnits(t, path, "parquet-delta", mem, sliced(t, want)...)
	}},
	{"arrow", ".arrow", false, func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch) {
		writeUnits(t, path, "arrow-file", mem, sliced(t, want)...)
	}},
	{"arrow stream", ".arrows", false, func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch) {
		writeUnits(t, path, "arrow", mem, sliced(t, want)...)
	}},
	{"avro", ".avro", false, func(t *testing.T, path string, mem memory.Allocator, want arrow.RecordBatch) {
		writeUnits(t, path, "avro", mem, sliced(t, want)...)
	}},
}

// TestResumeEveryBatch reads a file once, then for every batch k resumes a
// new source from batch k's checkpoint (through JSON, as the engine saves
// it): it must read exactly the rows of batches k+1 onwards, by value.
func TestResumeEveryBatch(t *testing.T) {
	for _, tc := range resumeFormats {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			want := conformance.Sample(mem, conformance.SampleSchema, 0, 100)
			defer want.Release()
			path := filepath.Join(t.TempDir(), "input"+tc.ext)
			tc.write(t, path, mem, want)
			conf := "{path: " + q(path)
			if tc.text {
				conf += ", schema: " + conformance.SchemaYAML(want.Schema())
			}
			build := conformance.SourceFromConfig(t, "file", conf+"}")
			b := conformance.Build(mem, 7, "source")

			first := readRun(t, build, b, nil)
			defer first.release()
			conformance.EqualRows(t, want, first.recs)
			last := first.cps[len(first.cps)-1]
			if !last.Done || last.File != path {
				t.Errorf("last checkpoint %+v: want %s done", last, path)
			}
			for k, cp := range first.cps {
				if k < len(first.cps)-1 && cp.Done {
					t.Errorf("batch %d of %d: checkpoint %v says done", k, len(first.cps), cp)
				}
				if !tc.text && !cp.Done && cp.Unit == "" {
					t.Errorf("batch %d: checkpoint %v names no storage unit", k, cp)
				}
				rest := want.NewSlice(first.upto[k], want.NumRows())
				got := readRun(t, build, b, marshal(t, cp))
				conformance.EqualRows(t, rest, got.recs)
				// Bytes before the position count as done, and once.
				if got.end != got.total || got.bytes > got.total {
					t.Errorf("progress %d/%d at the end, batches claim %d bytes", got.end, got.total, got.bytes)
				}
				if cp.Row > 0 && got.bytes >= got.total {
					t.Errorf("resumed at row %d, the batches claim all %d bytes: those read to reach the position count", cp.Row, got.bytes)
				}
				if t.Failed() {
					t.Fatalf("resumed from batch %d's checkpoint %v", k, cp)
				}
				rest.Release()
				got.release()
			}
			// A pipeline whose batch size changed between runs: the
			// second run serves in 3s (a text file is cut in the saved
			// 7s and sliced), and a third run resumes from positions
			// inside those cuts.
			for k := 0; k < len(first.cps); k += 3 {
				second := readRun(t, build, conformance.Build(mem, 3, "source"), marshal(t, first.cps[k]))
				for j := 0; j < len(second.cps); j += 2 {
					cp := second.cps[j]
					rest := want.NewSlice(cp.Row, want.NumRows())
					got := readRun(t, build, conformance.Build(mem, 5, "source"), marshal(t, cp))
					conformance.EqualRows(t, rest, got.recs)
					rest.Release()
					got.release()
					if t.Failed() {
						second.release()
						t.Fatalf("resumed from %v, taken in a run resumed from %v", cp, first.cps[k])
					}
				}
				second.release()
			}
		})
	}
}

// TestResumeUnits checks the storage unit a position names against the
// units the file was written in.
func TestResumeUnits(t *testing.T) {
	for _, tc := range []struct{ name, ext, unit string }{
		{"parquet", ".parquet", "row group"},
		{"arrow", ".arrow", "record batch"},
		{"avro", ".avro", "block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			want := conformance.Sample(mem, conformance.SampleSchema, 0, 100)
			defer want.Release()
			path := filepath.Join(t.TempDir(), "input"+tc.ext)
			writeUnits(t, path, tc.name, mem, sliced(t, want)...)
			first := readRun(t, conformance.SourceFromConfig(t, "file", "{path: "+q(path)+"}"), conformance.Build(mem, 7, "source"), nil)
			defer first.release()
			for k, cp := range first.cps[:len(first.cps)-1] {
				unit, row := int64(0), first.upto[k]
				for row >= unitSizes[unit] {
					row -= unitSizes[unit]
					unit++
				}
				if cp.Unit != tc.unit || cp.UnitIndex != unit || cp.UnitRow != row || cp.Row != first.upto[k] {
					t.Errorf("batch %d: %v, want row %d (%s %d, row %d)", k, cp, first.upto[k], tc.unit, unit, row)
				}
			}
		})
	}
}
