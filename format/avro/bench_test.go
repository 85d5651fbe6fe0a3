package avro

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

const (
	benchRows  = 256 << 10
	benchBatch = 65536
)

var (
	ordersOnce sync.Once
	orders     []arrow.RecordBatch
)

func ordersTable() []arrow.RecordBatch {
	ordersOnce.Do(func() { orders = testrecords.Orders(memory.NewGoAllocator(), benchRows, benchBatch) })
	return orders
}

func writeOrders(b *testing.B, w io.Writer, codec string) {
	aw, err := NewWriter(w, testrecords.OrdersSchema, format.WriteOptions{Compression: codec})
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range ordersTable() {
		if err := aw.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := aw.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkWriteAvro(b *testing.B) {
	ordersTable()
	for _, codec := range []string{"null", "deflate", "snappy", "zstd"} {
		b.Run(codec, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				writeOrders(b, io.Discard, codec)
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkReadAvro(b *testing.B) {
	for _, codec := range []string{"null", "deflate", "zstd"} {
		b.Run(codec, func(b *testing.B) {
			var buf bytes.Buffer
			writeOrders(b, &buf, codec)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := NewReader(format.Input{R: bytes.NewReader(buf.Bytes()), Name: "orders.avro"}, format.ReadOptions{BatchRows: benchBatch})
				if err != nil {
					b.Fatal(err)
				}
				var rows int64
				for {
					rec, _, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rows += rec.NumRows()
					rec.Release()
				}
				r.Close()
				if rows != benchRows {
					b.Fatalf("%d rows", rows)
				}
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
