package file

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
)

// TestAppend: rows are durable at the path once Flush returns (read here
// without Close), rows written after the last flush stay out of the file,
// and a second run adds to the first run's rows, with one CSV header.
func TestAppend(t *testing.T) {
	for _, formatName := range []string{"csv", "jsonl"} {
		t.Run(formatName, func(t *testing.T) {
			mem := conformance.Checked(t)
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "sub", "out."+formatName)
			conf := "{path: " + q(path) + ", append: true}"
			readAll := func(n int) {
				t.Helper()
				got := readWith(t, path, formatName, compNone, mem, conformance.SampleSchema)
				defer conformance.Release(got)
				want := conformance.Sample(mem, conformance.SampleSchema, 0, n)
				defer want.Release()
				conformance.EqualRows(t, want, got)
			}

			run1 := mustSink(t, conf, conformance.Build(mem, 8, "sink"))
			if run1.CommitsOnClose() {
				t.Error("append mode is durable at Flush; it must not hold acknowledgements until Close")
			}
			writeRows(t, ctx, run1, mem, 3) // Open, Write, Flush
			readAll(3)
			writeSample(t, run1, mem, 3, 2)
			readAll(3) // not flushed: not in the file yet
			if err := run1.Close(); err != nil {
				t.Fatal(err)
			}
			readAll(5)

			run2 := mustSink(t, conf, conformance.Build(mem, 8, "sink"))
			if err := run2.Open(ctx, conformance.SampleSchema); err != nil {
				t.Fatal(err)
			}
			writeSample(t, run2, mem, 5, 4)
			if err := run2.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			readAll(9)
			if err := run2.Close(); err != nil {
				t.Fatal(err)
			}
			readAll(9)
			if data, _ := os.ReadFile(path); formatName == "csv" && strings.Count(string(data), "id,name") != 1 {
				t.Errorf("%d CSV headers in the appended file, want 1", strings.Count(string(data), "id,name"))
			}
		})
	}
}

// TestAppendFailedRun: rows written after the last flush of a failed run
// were never acknowledged and will be read again; they must not reach the
// file, or the next run would append them twice.
func TestAppendFailedRun(t *testing.T) {
	for _, how := range []string{"cancelled", "abort"} {
		t.Run(how, func(t *testing.T) {
			mem := conformance.Checked(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			path := filepath.Join(t.TempDir(), "out.jsonl")
			sink := mustSink(t, "{path: "+q(path)+", append: true}", conformance.Build(mem, 8, "sink"))
			writeRows(t, ctx, sink, mem, 3)
			flushed, _ := os.Stat(path)
			// More than the 1 MiB write buffer, so a plain buffered file
			// would already hold some of it, cut anywhere in a row.
			writeSample(t, sink, mem, 3, 20000)
			if now, _ := os.Stat(path); now.Size() != flushed.Size() {
				t.Fatalf("the file grew from %d to %d bytes before a flush", flushed.Size(), now.Size())
			}
			if how == "cancelled" {
				cancel()
			} else {
				sink.Abort()
			}
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(path); strings.Count(string(data), "\n") != 3 {
				t.Fatalf("file holds %d lines; want the 3 flushed rows only", strings.Count(string(data), "\n"))
			}
		})
	}
}

// TestAppendHoldLimit: past holdLimit unflushed bytes, whole rows go to the
// file early, so memory stays bounded; the file still never ends inside a
// row.
func TestAppendHoldLimit(t *testing.T) {
	for _, formatName := range []string{"csv", "jsonl"} {
		t.Run(formatName, func(t *testing.T) {
			mem := conformance.Checked(t)
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "out."+formatName)
			sink := mustSink(t, "{path: "+q(path)+", append: true}", conformance.Build(mem, 8, "sink"))
			if err := sink.Open(ctx, conformance.SampleSchema); err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			const batch = 10000 // about 1 MB
			for i := 0; i < 6; i++ {
				writeSample(t, sink, mem, i*batch, batch)
				if held := sink.stream.Held(); held > blob.HoldLimit {
					t.Fatalf("after batch %d the sink holds %d bytes, over the %d limit", i, held, blob.HoldLimit)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) == 0 || data[len(data)-1] != '\n' {
				t.Fatalf("before Flush the file holds %d bytes, ending %q; want whole rows written early", len(data), data[max(len(data)-20, 0):])
			}
			if end, _ := completeEnd(bytes.NewReader(data), int64(len(data)), formatName); end != int64(len(data)) {
				t.Fatalf("before Flush the file ends inside a row: whole rows end at byte %d of %d", end, len(data))
			}
			if err := sink.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			got := readWith(t, path, formatName, compNone, mem, conformance.SampleSchema)
			defer conformance.Release(got)
			want := conformance.Sample(mem, conformance.SampleSchema, 0, 6*batch)
			defer want.Release()
			conformance.EqualRows(t, want, got)
		})
	}
}

// TestAppendRepair: a file that ends halfway through a row (a crash during
// a write) is cut back to its last complete row before the run appends.
func TestAppendRepair(t *testing.T) {
	tests := []struct {
		name, format, before, after string
	}{
		{"jsonl cut", "jsonl", "{\"a\":1}\n{\"a\":2}\n{\"a\":", "{\"a\":1}\n{\"a\":2}\n"},
		{"jsonl whole", "jsonl", "{\"a\":1}\n", "{\"a\":1}\n"},
		{"jsonl no line", "jsonl", "{\"a", ""},
		{"csv cut", "csv", "a,b\n1,x\n2,y", "a,b\n1,x\n"},
		{"csv cut in a quoted line break", "csv", "a,b\n1,x\n2,\"multi\nline", "a,b\n1,x\n"},
		{"csv whole with quoted line break", "csv", "a,b\n1,\"multi\nline\"\n", "a,b\n1,\"multi\nline\"\n"},
		{"csv doubled quotes", "csv", "a,b\n1,\"say \"\"hi\"\"\n\"\n2,\"x", "a,b\n1,\"say \"\"hi\"\"\n\"\n"},
		{"csv header cut", "csv", "a,", ""},
		{"jsonl whole value without line break", "jsonl", "{\"a\":1}\n{\"a\":2}", "{\"a\":1}\n{\"a\":2}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			writeFile(t, path, tc.before)
			f, size, cut, err := openAppend(path, tc.format, false)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			data, _ := os.ReadFile(path)
			if string(data) != tc.after || size != int64(len(tc.after)) || cut != max(int64(len(tc.before)-len(tc.after)), 0) {
				t.Fatalf("file %q, size %d, cut %d; want %q", data, size, cut, tc.after)
			}
		})
	}
}

// TestAppendRepairRefused: a file whose tail is far more than a crash
// leaves (a stray quote early in a CSV file from another tool) is left
// alone and the run refused.
func TestAppendRepairRefused(t *testing.T) {
	for _, tc := range []struct{ name, format, content string }{
		{"csv stray quote", "csv", "a,b\n1,O\"Brien\n" + strings.Repeat("2,x\n", maxCut/4+1)},
		{"jsonl long last line", "jsonl", "{\"a\":1}\n{\"a\":\"" + strings.Repeat("x", maxCut+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			writeFile(t, path, tc.content)
			f, _, _, err := openAppend(path, tc.format, false)
			if err == nil {
				f.Close()
			}
			if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("openAppend = %v, want a refusal", err)
			}
			if data, _ := os.ReadFile(path); string(data) != tc.content {
				t.Fatalf("the file was changed (%d bytes, was %d)", len(data), len(tc.content))
			}
		})
	}
}

// TestAppendRepairedHeader: after a crash cut the whole file, including
// its header, the next run writes the header again.
func TestAppendRepairedHeader(t *testing.T) {
	mem := conformance.Checked(t)
	path := filepath.Join(t.TempDir(), "out.csv")
	writeFile(t, path, "id,na")
	sink := mustSink(t, "{path: "+q(path)+", append: true}", conformance.Build(mem, 8, "sink"))
	writeRows(t, context.Background(), sink, mem, 2)
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	got := readWith(t, path, "csv", compNone, mem, conformance.SampleSchema)
	defer conformance.Release(got)
	want := conformance.Sample(mem, conformance.SampleSchema, 0, 2)
	defer want.Release()
	conformance.EqualRows(t, want, got)
}

// TestDeadLetterDefaults: a dead-letter file is never replaced by a later
// run: text formats append, the others need a directory.
func TestDeadLetterDefaults(t *testing.T) {
	dl := engine.Build{DeadLetter: true}
	tests := []struct {
		name, conf string
		wantErr    string // empty: builds
		wantAppend bool
		wantDir    bool
	}{
		{name: "jsonl appends", conf: "{path: dl.jsonl}", wantAppend: true},
		{name: "csv appends", conf: "{path: dl.csv, csv: {header: false}}", wantAppend: true},
		{name: "overwrite false never replaces", conf: "{path: dl.jsonl, overwrite: false}"},
		{name: "stdout", conf: `{path: "-", format: jsonl}`},
		{name: "parquet directory", conf: "{path: dl/, format: parquet}", wantDir: true},
		{name: "parquet file", conf: "{path: out/dl.parquet}", wantErr: "(path: out/dl/)"},
		{name: "avro file", conf: "{path: dl.avro}", wantErr: "write parts to a directory"},
		{name: "append false", conf: "{path: dl.jsonl, append: false}", wantErr: "must not be replaced by a later run"},
		{name: "gzip", conf: "{path: out/dl.jsonl.gz}", wantErr: "(path: out/dl/, format: jsonl, compression: gzip)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newSinkYAML(t, tc.conf, dl)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, isDir := s.(*DirSink); isDir != tc.wantDir {
				t.Fatalf("built a %T", s)
			}
			if fs, ok := s.(*Sink); ok && fs.append != tc.wantAppend {
				t.Errorf("append %v, want %v", fs.append, tc.wantAppend)
			}
			// Without the dead-letter flag the same file is replaced.
			if s, err := newSinkYAML(t, tc.conf, engine.Build{}); err == nil {
				if fs, ok := s.(*Sink); ok && fs.append {
					t.Errorf("a sink that is not the dead-letter sink appends")
				}
			}
		})
	}
}

// TestDeadLetterKeepsEarlierRuns is loss path 1 of issue 10: the second
// run used to replace the first run's dead-letter file.
func TestDeadLetterKeepsEarlierRuns(t *testing.T) {
	mem := conformance.Checked(t)
	path := filepath.Join(t.TempDir(), "rejects.jsonl")
	b := conformance.Build(mem, 8, "dead_letter")
	b.DeadLetter = true
	for run, rows := range []int{2, 0, 1} {
		sink := mustSink(t, "{path: "+q(path)+"}", b)
		writeRows(t, context.Background(), sink, mem, rows)
		if err := sink.Close(); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	if data, _ := os.ReadFile(path); strings.Count(string(data), "\n") != 3 {
		t.Fatalf("after three runs the dead-letter file holds %q; want all 3 rows", data)
	}
}

// TestAppendHeaderMismatch: CSV rows are never appended under another
// table's header.
func TestAppendHeaderMismatch(t *testing.T) {
	for _, tc := range []struct{ name, conf, wantErr string }{
		{name: "other header", conf: "", wantErr: "appending would mix two tables"},
		{name: "no header configured", conf: ", csv: {header: false}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			path := filepath.Join(t.TempDir(), "out.csv")
			writeFile(t, path, "a,b\n1,2\n")
			sink := mustSink(t, "{path: "+q(path)+", append: true"+tc.conf+"}", conformance.Build(mem, 8, "sink"))
			err := sink.Open(context.Background(), conformance.SampleSchema)
			sink.Close()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Open = %v, want error containing %q", err, tc.wantErr)
			}
			if data, _ := os.ReadFile(path); tc.wantErr != "" && string(data) != "a,b\n1,2\n" {
				t.Fatalf("file changed to %q", data)
			}
		})
	}
}
