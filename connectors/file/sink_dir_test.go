package file

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// dirEntries lists the published parts and the hidden temporary parts of
// dir, each sorted.
func dirEntries(t *testing.T, dir string) (parts, temps []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "part-"):
			parts = append(parts, e.Name())
		case strings.HasPrefix(e.Name(), ".part-"):
			temps = append(temps, e.Name())
		}
	}
	sort.Strings(parts)
	sort.Strings(temps)
	return parts, temps
}

// writeSample writes rows start..start+n-1 of the sample to sink.
func writeSample(t *testing.T, sink engine.Sink, mem memory.Allocator, start, n int) {
	t.Helper()
	rec := conformance.Sample(mem, conformance.SampleSchema, start, n)
	defer rec.Release()
	if err := sink.Write(context.Background(), rec); err != nil {
		t.Fatalf("Write rows %d..%d: %v", start, start+n-1, err)
	}
}

// readGlob reads every file matching pattern with the file source, as a
// downstream job would, in path order.
func readGlob(t *testing.T, mem memory.Allocator, pattern, formatName string) []arrow.RecordBatch {
	t.Helper()
	conf := "{path: " + q(pattern) + ", format: " + formatName
	if formatName == "csv" || formatName == "jsonl" {
		conf += ", schema: " + conformance.SchemaYAML(conformance.SampleSchema)
	}
	src := mustSource(t, conf+"}", conformance.Build(mem, 64, "source"))
	return conformance.ReadAll(t, src, 64, false)
}

// dirVariants are the directory layouts tested: every format, and the
// text formats compressed, whose parts carry the compression's suffix.
var dirVariants = []struct{ name, conf, glob, format, compression string }{
	{"parquet", "format: parquet", "part-*.parquet", "parquet", compNone},
	{"csv.gz", "format: csv, compression: gzip", "part-*.csv.gz", "csv", compGzip},
	{"jsonl", "format: jsonl", "part-*.jsonl", "jsonl", compNone},
	{"jsonl.zst", "format: jsonl, compression: zstd", "part-*.jsonl.zst", "jsonl", compZstd},
	{"arrow", "format: arrow", "part-*.arrows", "arrow", compNone},
	{"avro", "format: avro", "part-*.avro", "avro", compNone},
}

// TestDirSinkConformance runs directory mode through the sink suite: with
// no checkpoints (the suite knows nothing of positions), Close publishes
// the run's part.
func TestDirSinkConformance(t *testing.T) {
	for _, v := range dirVariants {
		t.Run(v.name, func(t *testing.T) {
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					dir := t.TempDir()
					sink := conformance.MustBuild[*DirSink](t, engine.KindSink, "file", "{path: "+q(dir+"/")+", "+v.conf+"}", b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch {
						parts, temps := dirEntries(t, dir)
						if len(temps) > 0 {
							t.Errorf("temporary parts left behind: %v", temps)
						}
						var out []arrow.RecordBatch
						for _, p := range parts {
							if ok, _ := filepath.Match(v.glob, p); !ok {
								t.Errorf("part %s does not match %s", p, v.glob)
							}
							out = append(out, readWith(t, filepath.Join(dir, p), v.format, v.compression, mem, conformance.SampleSchema)...)
						}
						return out
					}
				},
			})
		})
	}
}

// TestDirCheckpoints walks one sink through checkpoints: a part appears
// only at Commit, a checkpoint with no new row prepares nothing (no
// empty parts), Commit is idempotent, and part_rows starts new parts.
func TestDirCheckpoints(t *testing.T) {
	for _, v := range dirVariants {
		t.Run(v.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			ctx := context.Background()
			dir := filepath.Join(t.TempDir(), "out")
			sink := conformance.MustBuild[*DirSink](t, engine.KindSink, "file", "{path: "+q(dir+"/")+", "+v.conf+", part_rows: 10}", conformance.Build(mem, 8, "sink"))
			if err := sink.Open(ctx, conformance.SampleSchema); err != nil {
				t.Fatal(err)
			}
			if parts, temps := dirEntries(t, dir); len(parts)+len(temps) != 0 {
				t.Fatalf("Open created parts %v %v before any row", parts, temps)
			}
			writeSample(t, sink, mem, 0, 4)
			if err := sink.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			prep, err := sink.Prepare(ctx)
			if err != nil || prep == nil {
				t.Fatalf("Prepare = %s, %v", prep, err)
			}
			if parts, temps := dirEntries(t, dir); len(parts) != 0 || len(temps) != 1 {
				t.Fatalf("after Prepare: parts %v temps %v, want one hidden temporary part", parts, temps)
			}
			for range 2 { // the second Commit finds the part published
				if err := sink.Commit(ctx, prep); err != nil {
					t.Fatalf("Commit: %v", err)
				}
			}
			if parts, temps := dirEntries(t, dir); len(parts) != 1 || len(temps) != 0 {
				t.Fatalf("after Commit: parts %v temps %v, want one part", parts, temps)
			}
			if prep, err := sink.Prepare(ctx); err != nil || prep != nil {
				t.Fatalf("Prepare with no new row = %s, %v; want nothing (no empty part)", prep, err)
			}
			// 25 rows with part_rows 10: parts of 10, 10 (each ended at the
			// batch that filled it) and 5, published together.
			for i := 4; i < 29; i += 5 {
				writeSample(t, sink, mem, i, 5)
			}
			prep, err = sink.Prepare(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := sink.Commit(ctx, prep); err != nil {
				t.Fatal(err)
			}
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			parts, temps := dirEntries(t, dir)
			wantParts := []string{"part-000001", "part-000002", "part-000003", "part-000004"}
			if len(parts) != len(wantParts) || len(temps) != 0 {
				t.Fatalf("parts %v temps %v; want %v", parts, temps, wantParts)
			}
			for i, p := range parts {
				if !strings.HasPrefix(p, wantParts[i]+".") {
					t.Errorf("part %d is %s, want %s.*", i, p, wantParts[i])
				}
			}
			want := conformance.Sample(mem, conformance.SampleSchema, 0, 29)
			defer want.Release()
			got := readGlob(t, mem, filepath.Join(dir, v.glob), v.format)
			defer conformance.Release(got)
			conformance.EqualRows(t, want, got)
		})
	}
}

// TestDirResume is what the engine does across a crash: run 1 checkpoints
// rows 0-9 (Prepare, position saved) and dies before Commit, with rows
// 10-14 written but never prepared. Run 2 builds a new sink from the same
// configuration, commits run 1's prepared parts before Open, resumes the
// source at row 10 and writes to the end. Readers then see every row
// exactly once.
func TestDirResume(t *testing.T) {
	mem := conformance.Checked(t)
	ctx := context.Background()
	dir := t.TempDir()
	conf := "{path: " + q(dir+"/") + ", format: parquet}"

	run1 := conformance.MustBuild[*DirSink](t, engine.KindSink, "file", conf, conformance.Build(mem, 8, "sink"))
	if err := run1.Open(ctx, conformance.SampleSchema); err != nil {
		t.Fatal(err)
	}
	writeSample(t, run1, mem, 0, 10)
	saved, err := run1.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeSample(t, run1, mem, 10, 5)
	if err := run1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// kill -9 here: nothing more runs in run 1. Its open part file is
	// released at the end of the test without touching the directory.
	t.Cleanup(func() { run1.cur.Discard(); run1.curFile.Close() })
	if _, temps := dirEntries(t, dir); len(temps) != 2 {
		t.Fatalf("temps %v, want the prepared part and the unprepared one", temps)
	}

	run2 := conformance.MustBuild[*DirSink](t, engine.KindSink, "file", conf, conformance.Build(mem, 8, "sink"))
	if run2 == run1 {
		t.Fatal("the restarted sink must be a new object")
	}
	if err := run2.Commit(ctx, saved); err != nil {
		t.Fatalf("Commit before Open: %v", err)
	}
	if err := run2.Open(ctx, conformance.SampleSchema); err != nil {
		t.Fatal(err)
	}
	parts, temps := dirEntries(t, dir)
	if len(parts) != 1 || len(temps) != 0 {
		t.Fatalf("after roll-forward and Open: parts %v temps %v; want run 1's committed part and no temporary part", parts, temps)
	}
	writeSample(t, run2, mem, 10, 12)
	prep, err := run2.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := run2.Commit(ctx, prep); err != nil {
		t.Fatal(err)
	}
	if err := run2.Close(); err != nil {
		t.Fatal(err)
	}
	if parts, _ := dirEntries(t, dir); strings.Join(parts, " ") != "part-000001.parquet part-000002.parquet" {
		t.Fatalf("parts %v: numbering must continue after run 1's part", parts)
	}
	want := conformance.Sample(mem, conformance.SampleSchema, 0, 22)
	defer want.Release()
	got := readGlob(t, mem, filepath.Join(dir, "part-*.parquet"), "parquet")
	defer conformance.Release(got)
	conformance.EqualRows(t, want, got)
}

// TestDirEnd: how a run's end treats the parts not yet published.
func TestDirEnd(t *testing.T) {
	tests := []struct {
		name       string
		checkpoint bool // the engine checkpointed (rows 0-2 prepared, not committed)
		end        func(s *DirSink, cancel context.CancelFunc) error
		wantParts  int
		wantTemps  int
	}{
		// Without positions, Close publishes the run as a single file would.
		{name: "close without checkpoints", end: func(s *DirSink, _ context.CancelFunc) error { return s.Close() }, wantParts: 1},
		// After a checkpoint, rows after it are covered by no saved
		// position: they are read again, so they must not be published.
		{name: "close after a checkpoint", checkpoint: true, end: func(s *DirSink, _ context.CancelFunc) error { return s.Close() }, wantTemps: 1},
		{name: "abort", end: func(s *DirSink, _ context.CancelFunc) error { s.Abort(); return s.Close() }},
		// Abort keeps the prepared part: the engine may have saved it.
		{name: "abort after a checkpoint", checkpoint: true, end: func(s *DirSink, _ context.CancelFunc) error { s.Abort(); return s.Close() }, wantTemps: 1},
		{name: "cancelled", end: func(s *DirSink, cancel context.CancelFunc) error { cancel(); return s.Close() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dir := t.TempDir()
			sink := conformance.MustBuild[*DirSink](t, engine.KindSink, "file", "{path: "+q(dir)+", format: jsonl}", conformance.Build(mem, 8, "sink"))
			if err := sink.Open(ctx, conformance.SampleSchema); err != nil {
				t.Fatal(err)
			}
			if tc.checkpoint {
				writeSample(t, sink, mem, 0, 3)
				if _, err := sink.Prepare(ctx); err != nil {
					t.Fatal(err)
				}
			}
			writeSample(t, sink, mem, 3, 4)
			if err := tc.end(sink, cancel); err != nil {
				t.Fatal(err)
			}
			parts, temps := dirEntries(t, dir)
			if len(parts) != tc.wantParts || len(temps) != tc.wantTemps {
				t.Fatalf("parts %v temps %v; want %d parts and %d temporary", parts, temps, tc.wantParts, tc.wantTemps)
			}
		})
	}
}

// TestDirCommitLost: a prepared part that vanished is an error naming it,
// never a silent success.
func TestDirCommitLost(t *testing.T) {
	dir := t.TempDir()
	sink := conformance.MustBuild[*DirSink](t, engine.KindSink, "file", "{path: "+q(dir+"/")+", format: csv}", engine.Build{})
	for _, tc := range []struct{ prepared, want string }{
		{`{"parts":[{"temp":".part-000007.csv.tmp","final":"part-000007.csv"}]}`, "part-000007.csv.tmp is gone"},
		{`{"parts":[{"temp":"../x","final":"../y"}]}`, "not a part file name"},
		{`not json`, "prepared parts"},
	} {
		err := sink.Commit(context.Background(), []byte(tc.prepared))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Commit(%s) = %v, want an error containing %q", tc.prepared, err, tc.want)
		}
	}
	if err := sink.Commit(context.Background(), nil); err != nil {
		t.Errorf("Commit(nil) = %v: a checkpoint with no rows has nothing to commit", err)
	}
}

// TestDirKinds: a directory sink resumes (no OutputReplacer) and is a
// Committer; a single file replaces its output.
func TestDirKinds(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	if err := os.Mkdir(existing, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		conf      string
		committer bool
		replaces  bool
	}{
		{conf: "{path: " + q(dir+"/new/") + ", format: parquet}", committer: true},
		{conf: "{path: " + q(existing) + ", format: csv}", committer: true},
		{conf: "{path: out.parquet}", replaces: true},
		{conf: "{path: out.csv, atomic: false}", replaces: true},
		{conf: "{path: out.csv, append: true}"},
		{conf: `{path: "-", format: jsonl}`},
	} {
		s, err := newSinkYAML(t, tc.conf, engine.Build{})
		if err != nil {
			t.Fatalf("%s: %v", tc.conf, err)
		}
		_, committer := s.(engine.Committer)
		r, ok := s.(engine.OutputReplacer)
		replaces := ok && r.ReplacesOutput()
		if committer != tc.committer || replaces != tc.replaces {
			t.Errorf("%s: Committer %v, ReplacesOutput %v; want %v, %v", tc.conf, committer, replaces, tc.committer, tc.replaces)
		}
		if _, ok := s.(*DirSink); ok {
			if _, ok := s.(engine.OutputReplacer); ok {
				t.Errorf("%s: a directory sink must not implement OutputReplacer: it is added to across runs", tc.conf)
			}
			// The engine does not resume a pipeline whose sink commits
			// on close.
			if c, ok := s.(engine.CommitsOnClose); ok && c.CommitsOnClose() {
				t.Errorf("%s: a directory sink publishes at checkpoints, not on close", tc.conf)
			}
		}
	}
}

// TestDirOpenErrors: Open fails with the path when the directory cannot
// be made.
func TestDirOpenErrors(t *testing.T) {
	dir := t.TempDir()
	sink := conformance.MustBuild[*DirSink](t, engine.KindSink, "file", "{path: "+q(dir+"/a/b/")+", format: csv, mkdir: false}", engine.Build{})
	if err := sink.Open(context.Background(), conformance.SampleSchema); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open with mkdir false and no directory: %v, want ErrNotExist", err)
	}
	sink.Close()
}
