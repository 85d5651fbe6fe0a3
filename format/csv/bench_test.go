package csv

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

const benchRows = 1_000_000

// variants are the two orders datasets (see ordersRecords).
var variants = []struct {
	name   string
	quoted bool
}{{"generate", false}, {"quoted-notes", true}}

// BenchmarkReadOrders decodes the 1M-row orders CSV with an inferred schema
// on the default number of workers.
func BenchmarkReadOrders(b *testing.B) {
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			data := ordersData(b, v.quoted)
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
		})
	}
}

// BenchmarkWriteOrders encodes the 1M-row orders table as CSV.
func BenchmarkWriteOrders(b *testing.B) {
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			recs := ordersRecords(memory.DefaultAllocator, benchRows, 65536, v.quoted)
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			b.SetBytes(int64(len(ordersData(b, v.quoted))))
			b.ReportAllocs()
			b.ResetTimer()
			rows, cpu0 := 0, cpuTime()
			for range b.N {
				w, err := NewWriter(io.Discard, recs[0].Schema(), format.WriteOptions{})
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
		})
	}
}

// BenchmarkDecodeChunk is one worker's share without the pipeline: decode
// one 65536-row chunk of orders into a record, on one goroutine.
func BenchmarkDecodeChunk(b *testing.B) {
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			data := ordersData(b, v.quoted)
			hdr := bytes.IndexByte(data, '\n') + 1
			end := hdr
			p := &pipeline{split: splitter(','), buf: data, eof: true}
			for range 65536 {
				_, next, _, ok := p.row(end)
				if !ok {
					break
				}
				end = next
			}
			c := &chunk{data: data[hdr:end], line: 2}
			schema := ordersRecords(memory.DefaultAllocator, 1, 1, v.quoted)[0].Schema()
			d := &decoder{mem: memory.DefaultAllocator, schema: schema, file: "orders.csv", delim: ',', nullEmpty: true}
			for _, f := range schema.Fields() {
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
		})
	}
}
