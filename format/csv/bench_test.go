package csv

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

const benchRows = 1_000_000

// BenchmarkReadOrders decodes the 1M-row orders CSV with an inferred schema
// on the default number of workers.
func BenchmarkReadOrders(b *testing.B) {
	data := ordersText(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	rows, cpu0 := 0, cpuTime()
	for range b.N {
		r, err := NewReader(format.Input{R: bytes.NewReader(data), Name: "orders.csv"}, format.ReadOptions{})
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
			rows += int(rec.NumRows())
			rec.Release()
		}
		r.Close()
	}
	reportRows(b, rows, cpu0)
}

// BenchmarkWriteOrders encodes the 1M-row orders table as CSV.
func BenchmarkWriteOrders(b *testing.B) {
	recs := ordersRecords(memory.DefaultAllocator, benchRows, 65536)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	b.SetBytes(int64(len(ordersText(b))))
	b.ReportAllocs()
	b.ResetTimer()
	rows, cpu0 := 0, cpuTime()
	for range b.N {
		w, err := NewWriter(io.Discard, ordersSchema, format.WriteOptions{})
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
	reportRows(b, rows, cpu0)
}

// BenchmarkDecodeChunk is one worker's share without the pipeline: decode
// one 65536-row chunk of orders into a record, on one goroutine.
func BenchmarkDecodeChunk(b *testing.B) {
	data := ordersText(b)
	var end, rows int
	for end = bytes.IndexByte(data, '\n') + 1; rows < 65536; rows++ {
		_, next, _, ok := (&pipeline{split: splitter(','), buf: data, eof: true}).row(end)
		if !ok {
			break
		}
		end = next
	}
	hdr := bytes.IndexByte(data, '\n') + 1
	c := &chunk{data: data[hdr:end], line: 2}
	d := &decoder{mem: memory.DefaultAllocator, schema: ordersSchema, file: "orders.csv", delim: ',', nullEmpty: true}
	for _, f := range ordersSchema.Fields() {
		col, _ := newColumn(f.Name, f.Type, false)
		d.cols = append(d.cols, col)
	}
	d.slots = d.cols
	b.SetBytes(int64(len(c.data)))
	b.ReportAllocs()
	b.ResetTimer()
	n, cpu0 := 0, cpuTime()
	for range b.N {
		rec, rej, err := d.decode(c)
		if err != nil || len(rej) > 0 {
			b.Fatal(err, rej)
		}
		n += int(rec.NumRows())
		rec.Release()
	}
	reportRows(b, n, cpu0)
}
