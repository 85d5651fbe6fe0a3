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
// Lines) through the CLI and checks every written row against the input
// file read with encoding/json alone: one row per non-null tag list item,
// in order, the other fields unchanged, the tag in place of the list.
func TestExplodePipeline(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	f, err := os.Open("testdata/orders_items.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
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
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var stdout, stderr bytes.Buffer
	code := cli.Main([]string{"weave", "run", "testdata/pipelines/wasm_explode.yaml"}, cli.Options{
		Stdout: &stdout, Stderr: &stderr, Mem: mem, Signals: make(chan os.Signal),
		Lookup: func(k string) (string, bool) {
			v, ok := map[string]string{"OUT": out}[k]
			return v, ok
		},
	})
	mem.AssertSize(t, 0)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	written, err := os.ReadFile(filepath.Join(out, "tags.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	sc = bufio.NewScanner(bytes.NewReader(written))
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
