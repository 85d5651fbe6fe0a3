package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/engine"
)

// BenchmarkSource reads 1M orders rows through the source, to show what
// the connector adds (counting, buffering, decompression, slicing) on top
// of the format's own speed (see format/*/bench_test.go).
func BenchmarkSource(b *testing.B) {
	const rows = 1_000_000
	mem := memory.NewGoAllocator()
	dir := b.TempDir()
	rec := generate.Orders(mem, rows, 1)
	defer rec.Release()
	for _, v := range []struct{ file, format, comp string }{
		{"o.csv", "csv", compNone},
		{"o.csv.zst", "csv", compZstd},
		{"o.csv.gz", "csv", compGzip},
		{"o.jsonl", "jsonl", compNone},
		{"o.parquet", "parquet", compNone},
	} {
		path := filepath.Join(dir, v.file)
		b.Run(v.file, func(b *testing.B) {
			// Written on first use, so -bench filters skip the others' setup.
			if !exists(path) {
				writeWith(b, path, v.format, v.comp, mem, rec.Schema(), rec)
			}
			info, _ := os.Stat(path)
			b.SetBytes(info.Size()) // compressed bytes: MB/s is disk throughput
			b.ResetTimer()
			for b.Loop() {
				src := mustSource(b, "{path: "+q(path)+"}", engine.Build{Mem: mem, BatchRows: 65536})
				ctx := context.Background()
				if _, err := src.Open(ctx); err != nil {
					b.Fatal(err)
				}
				var n int64
				for {
					batch, err := src.Read(ctx)
					if errors.Is(err, engine.ErrEndOfInput) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n += batch.Record.NumRows()
					batch.Record.Release()
				}
				src.Close()
				if n != rows {
					b.Fatalf("%d rows", n)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
