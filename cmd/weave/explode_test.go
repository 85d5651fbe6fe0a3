package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/cli"
)

// TestExplodePipeline runs testdata/pipelines/wasm_explode.yaml (JSON
// Lines with a list and a list of structs → the committed C explode → JSON
// Lines) through the CLI, from the JSON Lines file and from a Parquet copy
// of it, and checks every written row against the input file read with
// encoding/json alone: one row per tag of each non-null list, in order,
// the other fields unchanged, the tag in place of the list; and, exploding
// the list of structs items instead, one row per item with its fields
// sku and qty as columns (nulls for a null struct).
func TestExplodePipeline(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	f, err := os.Open("testdata/orders_items.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want, wantItems []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		// Exploding items: its structs' fields in its place, a null
		// struct's as nulls.
		items, _ := row["items"].([]any)
		for _, item := range items {
			out := map[string]any{"sku": nil, "qty": nil}
			for k, v := range row {
				if k != "items" {
					out[k] = v
				}
			}
			if st, ok := item.(map[string]any); ok {
				out["sku"], out["qty"] = st["sku"], st["qty"]
			}
			wantItems = append(wantItems, out)
		}
		tags, _ := row["tags"].([]any)
		delete(row, "tags")
		for _, tag := range tags {
			out := map[string]any{"tag": tag}
			for k, v := range row {
				out[k] = v
			}
			want = append(want, out)
		}
	}
	if len(want) < 5 {
		t.Fatalf("the fixture gives %d rows: too few to show anything", len(want))
	}

	out := t.TempDir()
	t.Run("jsonl", func(t *testing.T) {
		weaveRun(t, out, "testdata/pipelines/wasm_explode.yaml")
		checkExploded(t, filepath.Join(out, "tags.jsonl"), want)
	})
	// The same rows through Parquet: written by weave without the stage,
	// then read back (lists of strings and of structs) into explode.
	t.Run("parquet", func(t *testing.T) {
		pq := filepath.Join(out, "items.parquet")
		weaveRun(t, out, "testdata/pipelines/wasm_explode.yaml", "--set", "stages=[]", "--set", "sinks[0].file="+pq)
		weaveRun(t, out, "testdata/pipelines/wasm_explode.yaml", "--set", "source.file.path="+pq,
			"--set", "sinks[0].file="+filepath.Join(out, "from_parquet.jsonl"))
		checkExploded(t, filepath.Join(out, "from_parquet.jsonl"), want)
	})
	// A list of structs, from JSON Lines and from the Parquet copy: one
	// row per item, its fields as columns (DuckDB's unnest recursive).
	for _, src := range []string{"testdata/orders_items.jsonl", filepath.Join(out, "items.parquet")} {
		t.Run("items from "+filepath.Ext(src)[1:], func(t *testing.T) {
			file := filepath.Join(out, "items"+filepath.Ext(src)+".jsonl")
			weaveRun(t, out, "testdata/pipelines/wasm_explode.yaml", "--set", "source.file.path="+src,
				"--set", "stages[0].wasm.config={column: items}", "--set", "sinks[0].file="+file)
			checkExploded(t, file, wantItems)
		})
	}
}

// weaveRun runs weave with args, ${OUT} set to out, and fails the test
// unless it exits 0 having released every Arrow buffer.
func weaveRun(t *testing.T, out string, args ...string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var stdout, stderr bytes.Buffer
	code := cli.Main(append([]string{"weave", "run"}, args...), cli.Options{
		Stdout: &stdout, Stderr: &stderr, Mem: mem, Signals: make(chan os.Signal),
		Lookup: func(k string) (string, bool) {
			v, ok := map[string]string{"OUT": out}[k]
			return v, ok
		},
	})
	mem.AssertSize(t, 0)
	if code != 0 {
		t.Fatalf("weave run %v: exit %d:\n%s", args, code, stderr.String())
	}
}

func checkExploded(t *testing.T, file string, want []map[string]any) {
	t.Helper()
	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(written))
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		got = append(got, row)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("wrote %d rows:\n%s\nwant %d:\n%v", len(got), written, len(want), want)
	}
}
