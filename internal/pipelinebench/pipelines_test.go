package pipelinebench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestPipelines runs every measured pipeline file on a small input and
// checks that each moves every row and writes its output, so the
// benchmarks and the rss command cannot rot unnoticed. It times nothing.
func TestPipelines(t *testing.T) {
	const rows = 20_000
	in, out := t.TempDir(), t.TempDir()
	sizes, err := writeInputs(context.Background(), in, rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Inputs {
		if sizes[name] == 0 {
			t.Fatalf("input %s is empty", name)
		}
	}
	vars := map[string]string{"BENCH_IN": in, "BENCH_OUT": out, "BENCH_ROWS": strconv.Itoa(rows)}
	for _, p := range append(append([]Pipeline(nil), Pipelines...), Baselines...) {
		t.Run(p.Name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			pl, err := build(p, vars, mem)
			if err != nil {
				t.Fatal(err)
			}
			m, err := pl.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsOut(m, pl); got != rows {
				t.Errorf("%d rows reached the sink, want %d", got, rows)
			}
			if p.Output != "" {
				st, err := os.Stat(filepath.Join(out, p.Output))
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() == 0 {
					t.Errorf("%s is empty", p.Output)
				}
			}
		})
	}
}

// TestUnsetDirectory checks that a pipeline file run without BENCH_IN
// fails with the configuration error naming the variable, rather than
// reading from the filesystem root.
func TestUnsetDirectory(t *testing.T) {
	t.Setenv("BENCH_IN", "")
	os.Unsetenv("BENCH_IN")
	_, err := build(Pipelines[0], map[string]string{"BENCH_OUT": t.TempDir()}, nil)
	if err == nil || !strings.Contains(err.Error(), "BENCH_IN") {
		t.Fatalf("got %v, want an error naming BENCH_IN", err)
	}
}
