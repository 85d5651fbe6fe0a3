package coordinator_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
)

// writeParquet writes ids 0..groups*per-1 as one Parquet file of groups
// row groups.
func writeParquet(t *testing.T, path string, groups, per int) int {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "name", Type: arrow.BinaryTypes.String}}, nil)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(int64(per))),
		pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	n := groups * per
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append("n")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

const parquetPipeline = `
name: rowgroups
source:
  file: {path: "${IN}/*.parquet"}
sinks:
  - file: {path: "${OUT}/", format: csv}
coordinator:
  urls: ["${NATS}"]
`

// TestParquetRowGroupSplits: one Parquet file of five row groups is five
// splits, read by two workers, each row once in the output.
func TestParquetRowGroupSplits(t *testing.T) {
	url := startNATS(t)
	in, out := t.TempDir(), t.TempDir()
	n := writeParquet(t, filepath.Join(in, "a.parquet"), 5, 200)
	f, opts := parse(t, parquetPipeline, map[string]string{"IN": in, "OUT": out, "NATS": url})
	var wg sync.WaitGroup
	results := make([]coordinator.Result, 2)
	errs := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = coordinator.RunFile(context.Background(), f, opts, nil, nil)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := results[0].Planned + results[1].Planned; got != 5 {
		t.Errorf("planned %d splits, want one per row group (5)", got)
	}
	ids, parts := readIDs(t, out)
	if parts != 5 {
		t.Errorf("%d parts, want 5", parts)
	}
	checkExactlyOnce(t, ids, n)
}
