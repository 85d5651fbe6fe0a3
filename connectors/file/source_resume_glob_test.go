package file

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
)

// globFixture is three CSV files of 20 rows (ids 0..59) read by a glob,
// with batches of 7: a.csv ends on a batch edge's neighbour (7, 7, 6), so
// its last batch ends the file exactly.
type globFixture struct {
	dir   string
	build conformance.SourceBuilder
	b     engine.Build
	want  arrow.RecordBatch
}

func newGlobFixture(t *testing.T) *globFixture {
	t.Helper()
	mem := conformance.Checked(t)
	f := &globFixture{dir: t.TempDir(), b: conformance.Build(mem, 7, "source")}
	f.want = conformance.Sample(mem, conformance.SampleSchema, 0, 60)
	t.Cleanup(f.want.Release)
	for i, name := range []string{"a.csv", "b.csv", "c.csv"} {
		part := f.want.NewSlice(int64(20*i), int64(20*i+20))
		writeWith(t, filepath.Join(f.dir, name), "csv", compNone, mem, part.Schema(), part)
		part.Release()
	}
	f.build = conformance.SourceFromConfig(t, "file", "{path: "+q(filepath.Join(f.dir, "*.csv"))+
		", schema: "+conformance.SchemaYAML(f.want.Schema())+"}")
	return f
}

// checkpoint returns the first checkpoint of a full read that matches ok
// and the count of input records up to it (over all files).
func (f *globFixture) checkpoint(t *testing.T, ok func(Position) bool) (Position, int64) {
	t.Helper()
	r := readRun(t, f.build, f.b, nil)
	defer r.release()
	conformance.EqualRows(t, f.want, r.recs)
	for k, cp := range r.cps {
		if ok(cp) {
			return cp, r.upto[k]
		}
	}
	t.Fatalf("no checkpoint matches among %v", r.cps)
	return Position{}, 0
}

func inside(name string) func(Position) bool {
	return func(p Position) bool { return filepath.Base(p.File) == name && !p.Done && p.Row > 0 }
}

// TestResumeGlob resumes in the middle of the second of three files, and
// after the first file's last batch: the files before are skipped (and
// count as done in Progress), the rest read, nothing twice.
func TestResumeGlob(t *testing.T) {
	f := newGlobFixture(t)
	for _, tc := range []struct {
		name string
		at   func(Position) bool
	}{
		{"inside b.csv", inside("b.csv")},
		{"a.csv done", func(p Position) bool { return filepath.Base(p.File) == "a.csv" && p.Done }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp, upto := f.checkpoint(t, tc.at)
			if tc.name == "a.csv done" && (cp.Row != 20 || upto != 20) {
				t.Errorf("a.csv's last checkpoint %v after %d rows, want row 20 of 20", cp, upto)
			}
			if want := fmt.Sprintf("(file %d of %s)", cp.Index+1, cp.Path); !strings.Contains(cp.String(), want) {
				t.Errorf("String() = %q, want it to say %q", cp.String(), want)
			}
			got := readRun(t, f.build, f.b, marshal(t, cp))
			defer got.release()
			rest := f.want.NewSlice(upto, 60)
			defer rest.Release()
			conformance.EqualRows(t, rest, got.recs)

			info, _ := os.Stat(filepath.Join(f.dir, "a.csv"))
			if got.progress < info.Size() {
				t.Errorf("Progress right after resuming in %s: %d, want at least a.csv's %d bytes", cp.File, got.progress, info.Size())
			}
			var total int64
			for _, n := range []string{"a.csv", "b.csv", "c.csv"} {
				info, _ := os.Stat(filepath.Join(f.dir, n))
				total += info.Size()
			}
			if got.end != total || got.total != total {
				t.Errorf("progress at the end %d/%d, want %d/%d: skipped files count as done", got.end, got.total, total, total)
			}
			if got.bytes > total-info.Size() {
				t.Errorf("resumed batches claim %d bytes, more than the %d after a.csv", got.bytes, total-info.Size())
			}
		})
	}
}

// TestResumeChangedFile: the file a position points into was appended to,
// touched or removed since: Open refuses, naming the file, what changed
// and the way out, rather than skipping or repeating rows.
func TestResumeChangedFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
		want   []string
	}{
		{"appended", func(t *testing.T, path string) {
			fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(fh, `99,x,1,true,,2024-01-01T00:00:00Z`)
			fh.Close()
		}, []string{"size ", " → "}},
		{"touched", func(t *testing.T, path string) {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		}, []string{"modified "}},
		{"removed", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, []string{"no longer exists"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGlobFixture(t)
			cp, _ := f.checkpoint(t, inside("b.csv"))
			tc.change(t, cp.File)
			_, err := tryRun(t, f.build, f.b, marshal(t, cp))
			if err == nil {
				t.Fatal("resume after the file changed: no error")
			}
			if !errors.Is(err, blob.ErrResume) {
				t.Errorf("error %v does not wrap blob.ErrResume", err)
			}
			for _, w := range append(tc.want, cp.File, "--from-start", "weave positions") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestResumeNewFiles: files that appear in the glob after the position
// are read when they sort after its file (incremental ingest of a growing
// directory); one sorting before it counts as read. A file read to its
// end is not checked again: rows appended to it are not read.
func TestResumeNewFiles(t *testing.T) {
	f := newGlobFixture(t)
	cp, upto := f.checkpoint(t, inside("b.csv"))
	done, _ := f.checkpoint(t, func(p Position) bool { return filepath.Base(p.File) == "a.csv" && p.Done })
	mem := f.b.Mem
	extra := conformance.Sample(mem, conformance.SampleSchema, 60, 10)
	defer extra.Release()
	writeWith(t, filepath.Join(f.dir, "d.csv"), "csv", compNone, mem, extra.Schema(), extra)
	early := conformance.Sample(mem, conformance.SampleSchema, 70, 5)
	defer early.Release()
	writeWith(t, filepath.Join(f.dir, "0.csv"), "csv", compNone, mem, early.Schema(), early)

	got := readRun(t, f.build, f.b, marshal(t, cp))
	defer got.release()
	rest := f.want.NewSlice(upto, 60)
	defer rest.Release()
	all := append(append([]arrow.RecordBatch{}, rest), extra)
	wantRows := concat(t, mem, all)
	defer wantRows.Release()
	conformance.EqualRows(t, wantRows, got.recs)

	// a.csv was read whole; a row appended to it now is not read again.
	fh, err := os.OpenFile(filepath.Join(f.dir, "a.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(fh, `99,x,1,true,,2024-01-01T00:00:00Z`)
	fh.Close()
	var log bytes.Buffer
	b := f.b
	b.Logger = slog.New(slog.NewTextHandler(&log, nil))
	got2 := readRun(t, f.build, b, marshal(t, done))
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "a.csv") {
		t.Errorf("no warning that the finished a.csv changed; log: %s", log.String())
	}
	defer got2.release()
	after := f.want.NewSlice(20, 60)
	defer after.Release()
	want2 := concat(t, mem, []arrow.RecordBatch{after, extra})
	defer want2.Release()
	conformance.EqualRows(t, want2, got2.recs)
}

// concat joins records of one schema into one.
func concat(t *testing.T, mem memory.Allocator, recs []arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	cols := make([]arrow.Array, recs[0].NumCols())
	for c := range cols {
		var parts []arrow.Array
		for _, r := range recs {
			parts = append(parts, r.Column(c))
		}
		a, err := array.Concatenate(parts, mem)
		if err != nil {
			t.Fatal(err)
		}
		cols[c] = a
	}
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	rec := array.NewRecordBatch(recs[0].Schema(), cols, n)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// rejectsCSV is 40 records, ids 0..39, of which those in bad have an id
// that is not a number: rejected rows the position must count.
var rejectsBad = map[int64]bool{3: true, 8: true, 9: true, 10: true, 15: true, 27: true, 34: true, 35: true, 36: true, 37: true, 38: true, 39: true}

func rejectsCSV(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,v\n")
	for i := int64(0); i < 40; i++ {
		if rejectsBad[i] {
			fmt.Fprintf(&b, "x%d,bad\n", i)
		} else {
			fmt.Fprintf(&b, "%d,v%d\n", i, i)
		}
	}
	path := filepath.Join(t.TempDir(), "rejects.csv")
	writeFile(t, path, b.String())
	return path
}

// checkRest checks that a run resumed from cp read exactly the records
// cp does not account for: good ones as rows, bad ones as rejects with
// their line. cp accounts for every record before BatchStart and, in the
// batch of BatchRows records starting there, for its rejects first, then
// for its rows in order (see Position.Row).
func checkRest(t *testing.T, cp Position, got *run) {
	t.Helper()
	end := min(cp.BatchStart+int64(cp.BatchRows), 40)
	var rejects int64
	for i := cp.BatchStart; i < end; i++ {
		if rejectsBad[i] {
			rejects++
		}
	}
	var wantIDs, wantLines []int64
	var rank int64 // good rows of the batch before i
	for i := int64(0); i < 40; i++ {
		var done bool
		switch {
		case cp.Done || i < cp.BatchStart:
			done = true
		case i < end && rejectsBad[i]:
			done = cp.Row > cp.BatchStart
		case i < end:
			done = rank < cp.Row-cp.BatchStart-rejects
			rank++
		}
		switch {
		case done:
		case rejectsBad[i]:
			wantLines = append(wantLines, i+2) // the header is line 1
		default:
			wantIDs = append(wantIDs, i)
		}
	}
	var lines []int64
	for _, r := range got.rejects {
		lines = append(lines, r.Line)
	}
	if ids := ids(t, got.recs, 0); !equalInts(ids, wantIDs) || !equalInts(lines, wantLines) {
		t.Fatalf("resumed from %v (batch rows %d): rows %v and rejected lines %v, want %v and %v", cp, cp.BatchRows, ids, lines, wantIDs, wantLines)
	}
}

// TestResumeRejects: rejected rows are counted in the position, so a
// resumed run neither rejects a row twice nor skips a good one, also when
// the pipeline's batch size changed between runs (the file the position
// points into is cut as before and served in the new size), and across
// a second resume from a position taken inside such a re-cut batch.
func TestResumeRejects(t *testing.T) {
	mem := conformance.Checked(t)
	path := rejectsCSV(t)
	build := conformance.SourceFromConfig(t, "file", "{path: "+q(path)+", schema: {id: int64, v: utf8}}")
	first := readRun(t, build, conformance.Build(mem, 7, "source"), nil)
	defer first.release()
	checkRest(t, Position{}, first)
	for k, cp := range first.cps {
		if cp.Row != first.upto[k] {
			t.Errorf("batch %d: position row %d, but %d records were read", k, cp.Row, first.upto[k])
		}
		second := readRun(t, build, conformance.Build(mem, 3, "source"), marshal(t, cp))
		checkRest(t, cp, second)
		for _, cp2 := range second.cps {
			third := readRun(t, build, conformance.Build(mem, 5, "source"), marshal(t, cp2))
			checkRest(t, cp2, third)
			third.release()
		}
		second.release()
	}
}

// TestResumeRecutBatches: a position whose batches cannot be cut again as
// they were (here: its batch size altered) is either still exact, where
// its batch holds no rejects, or refused: never guessed.
func TestResumeRecutBatches(t *testing.T) {
	mem := conformance.Checked(t)
	path := rejectsCSV(t)
	build := conformance.SourceFromConfig(t, "file", "{path: "+q(path)+", schema: {id: int64, v: utf8}}")
	b := conformance.Build(mem, 7, "source")
	first := readRun(t, build, b, nil)
	defer first.release()
	refused := 0
	for _, cp := range first.cps {
		altered := cp
		altered.BatchRows = 4
		got, err := tryRun(t, build, b, marshal(t, altered))
		if err != nil {
			if !errors.Is(err, blob.ErrResume) || !strings.Contains(err.Error(), "--from-start") {
				t.Errorf("resume from %v: %v", cp, err)
			}
			refused++
			continue
		}
		checkRest(t, cp, got)
		got.release()
	}
	if refused == 0 {
		t.Error("no position was refused: the check for re-cut batches never ran")
	}
}

// TestResumeStdin: a stdin source's checkpoints say so, and a saved
// position cannot be resumed (a new run reads a new stream).
func TestResumeStdin(t *testing.T) {
	mem := conformance.Checked(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	go func() { fmt.Fprint(w, "id\n1\n2\n3\n"); w.Close() }()

	build := conformance.SourceFromConfig(t, "file", `{path: "-", format: csv}`)
	got := readRun(t, build, conformance.Build(mem, 2, "source"), nil)
	defer got.release()
	last := got.cps[len(got.cps)-1]
	if !last.Stdin || last.Row != 3 || last.String() != "stdin row 3" {
		t.Errorf("last checkpoint %+v (%s), want stdin row 3", last, last)
	}
	src := build(conformance.Build(mem, 2, "source")).(engine.Resumer)
	if err := src.Resume(nil); err != nil {
		t.Errorf("Resume without a position: %v", err)
	}
	err = src.Resume(marshal(t, last))
	if err == nil || !errors.Is(err, blob.ErrResume) || !strings.Contains(err.Error(), "standard input") || !strings.Contains(err.Error(), "--from-start") {
		t.Errorf("Resume of a stdin position: %v, want a refusal naming standard input and --from-start", err)
	}
}

// TestResumeOtherPath: a position saved for another path, or bytes that
// are no position, are refused.
func TestResumeOtherPath(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{path: data/*.csv}", conformance.Build(mem, 2, "source"))
	for _, pos := range []string{`{"path": "logs/*.csv", "file": "logs/a.csv", "row": 3}`, `[1, 2]`, `{"path": "data/*.csv", "row": -1}`} {
		if err := src.Resume([]byte(pos)); !errors.Is(err, blob.ErrResume) {
			t.Errorf("Resume(%s): %v, want blob.ErrResume", pos, err)
		}
	}
}
