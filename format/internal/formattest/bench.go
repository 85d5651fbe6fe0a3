package formattest

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// BenchRead decodes the 1M-row orders text of each variant with an
// inferred schema on the default number of workers.
func BenchRead(b *testing.B, f *format.Format) {
	for _, v := range Variants {
		b.Run(v.Name, func(b *testing.B) {
			b.ReportAllocs()
			BenchPipeline(b, f, v.Quoted, func(*arrow.Schema) (RecordWriter, error) { return discard{}, nil })
		})
	}
}

type discard struct{}

func (discard) Write(arrow.RecordBatch) error { return nil }
func (discard) Close() error                  { return nil }

// BenchWrite encodes the 1M-row orders table of each variant.
func BenchWrite(b *testing.B, f *format.Format) {
	for _, v := range Variants {
		b.Run(v.Name, func(b *testing.B) {
			recs := OrdersRecords(memory.DefaultAllocator, BenchRows, 65536, v.Quoted)
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			b.SetBytes(int64(len(OrdersText(b, f, v.Quoted))))
			b.ReportAllocs()
			b.ResetTimer()
			rows, cpu0 := 0, CPUTime()
			for range b.N {
				w, err := f.NewWriter(io.Discard, recs[0].Schema(), format.WriteOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					if err := w.Write(r); err != nil {
						b.Fatal(err)
					}
					rows += int(r.NumRows())
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			ReportRows(b, rows, cpu0)
		})
	}
}

// RecordWriter is where BenchPipeline sends batches: a format.Writer, or
// another library's writer with the same two methods.
type RecordWriter interface {
	Write(arrow.RecordBatch) error
	Close() error
}

// BenchPipeline reads the orders text of one variant with f and writes
// every batch to a sink made for the reader's schema: a whole pipeline, as
// the throughput targets are stated. The orders text has no bad rows, so a
// reject fails the benchmark.
func BenchPipeline(b *testing.B, f *format.Format, quoted bool, sink func(*arrow.Schema) (RecordWriter, error)) {
	data := OrdersText(b, f, quoted)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	rows, cpu0 := 0, CPUTime()
	for range b.N {
		r, err := f.NewReader(format.Input{R: bytes.NewReader(data), Name: "orders." + f.Name}, format.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		w, err := sink(r.Schema())
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, rej, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if len(rej) > 0 {
				b.Fatalf("reject: %v", &rej[0])
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
	ReportRows(b, rows, cpu0)
}

// BenchDecode times decode, one worker's share of a read without the
// pipeline: each call turns one chunk of size bytes into a record, on one
// goroutine, and must reject nothing.
func BenchDecode(b *testing.B, size int, decode func() (arrow.RecordBatch, []format.RowError, error)) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	n, cpu0 := 0, CPUTime()
	for range b.N {
		rec, rej, err := decode()
		if err != nil || len(rej) > 0 {
			b.Fatal(err, rej)
		}
		n += int(rec.NumRows())
		rec.Release()
	}
	ReportRows(b, n, cpu0)
}
