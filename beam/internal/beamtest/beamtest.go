// Package beamtest holds what the Beam adapter's tests share: the jobs
// they run, the committed C guests, and an independent reader of outputs.
package beamtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
)

// root is the repository's root, where the pipeline files' relative paths
// (testdata/orders.csv) point.
// Root is the repository's root (where the pipeline files' relative paths,
// testdata/orders.csv, point), found upwards from the test's directory.
func Root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "testdata/pipelines/demo.yaml")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no repository root above the test's directory")
		}
		dir = up
	}
}

// CGuests is a directory holding the orders job's modules, built in C and
// committed beside their sources, as ${WASM} expects them.
func CGuests(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, m := range []string{"filter", "mask", "derive"} {
		b, err := os.ReadFile(filepath.Join(Root(t), "transforms/c", m, m+".wasm"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, m+".wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Job is a pipeline file of the repository with its sinks pointed at
// directories (parts) under out.
type Job struct {
	Name, File string
	Sinks      []string
	// Source, when set, replaces the source's path (a glob, say).
	Source string // "sinks[0]=parquet", "dead_letter=jsonl"
}

// Jobs are the jobs the issue names: the demo and W1.
var Jobs = []Job{
	{Name: "demo", File: "testdata/pipelines/demo.yaml", Sinks: []string{"sinks[0]=parquet", "sinks[1]=jsonl", "dead_letter=jsonl"}},
	{Name: "w1", File: "testdata/pipelines/wasm_orders.yaml", Sinks: []string{"sinks[0]=jsonl"}},
}

// Load builds j with its sinks writing parts under out and ${WASM} = wasm,
// from the current directory (the repository root).
func (j Job) Load(t *testing.T, wasm, out string) *engine.Pipeline {
	t.Helper()
	env := map[string]string{"WASM": wasm, "OUT": out}
	p, err := config.Load(j.File, config.Options{Set: j.Set(out), NoPositions: true,
		Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Set is the --set overrides that point j's sinks at directories under out.
func (j Job) Set(out string) []string {
	var set []string
	if j.Source != "" {
		set = append(set, fmt.Sprintf("source.file={path: %q}", j.Source))
	}
	for _, s := range j.Sinks {
		step, format, _ := strings.Cut(s, "=")
		// The whole file node is replaced, as W1 gives the sink as a bare path.
		set = append(set, fmt.Sprintf("%s.file={path: %q, format: %s}", step, filepath.Join(out, step)+"/", format))
	}
	return set
}

// SetFlags is Set as weave-beam's command-line flags.
func (j Job) SetFlags(out string) []string {
	var f []string
	for _, s := range j.Set(out) {
		f = append(f, "--set="+s)
	}
	return f
}

// SameRows checks that every sink of j wrote the same rows under onBeam as
// under local (weave run's), and some; it says whether they did.
func (j Job) SameRows(t *testing.T, local, onBeam string) bool {
	t.Helper()
	same := true
	for _, s := range j.Sinks {
		step, format, _ := strings.Cut(s, "=")
		want, got := Rows(t, filepath.Join(local, step), format), Rows(t, filepath.Join(onBeam, step), format)
		if len(want) == 0 {
			t.Fatalf("%s: weave run wrote no rows", step)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: Beam wrote %d rows, weave run %d; first difference at %d", step, len(got), len(want), Diff(got, want))
			same = false
		}
	}
	return same
}

// Diff is the index of the first difference of two sorted row lists.
func Diff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Rows reads every part in dir as one JSON text per row, sorted.
func Rows(t *testing.T, dir, format string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		switch format {
		case "jsonl":
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				out = append(out, Canonical(t, sc.Bytes()))
			}
		case "parquet":
			rd, err := file.NewParquetReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			tbl, err := fr.ReadTable(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			tr := array.NewTableReader(tbl, 0)
			for tr.Next() {
				js, err := tr.RecordBatch().MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				var objs []json.RawMessage
				if err := json.Unmarshal(js, &objs); err != nil {
					t.Fatal(err)
				}
				for _, o := range objs {
					out = append(out, Canonical(t, o))
				}
			}
			tr.Release()
			tbl.Release()
		}
	}
	slices.Sort(out)
	return out
}

// Canonical re-encodes a JSON object with sorted keys.
func Canonical(t *testing.T, b []byte) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	c, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}
