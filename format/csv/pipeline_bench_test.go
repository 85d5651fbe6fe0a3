//go:build pipelinebench

package csv

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/dataweaver/dataweaver/format"
)

// BenchmarkCSVToParquet (go test -tags pipelinebench) is the CSV→Parquet
// pipeline the 1.5M rows/s target is stated for, with arrow's own pqarrow
// writer (snappy) standing in for format/parquet, which this package may not
// import. Behind a build tag so that ordinary test runs do not compile the
// Parquet packages.
func BenchmarkCSVToParquet(b *testing.B) {
	data := ordersData(b, false)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	rows, cpu0 := 0, cpuTime()
	for range b.N {
		r, err := NewReader(format.Input{R: bytes.NewReader(data), Name: "orders.csv"}, format.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
		w, err := pqarrow.NewFileWriter(r.Schema(), io.Discard, props, pqarrow.DefaultWriterProps())
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, _, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Write(rec); err != nil {
				b.Fatal(err)
			}
			rows += int(rec.NumRows())
			rec.Release()
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	reportRows(b, rows, cpu0)
}
