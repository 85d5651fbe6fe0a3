package jsonl

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

const benchRows = 1_000_000

// variants are the two orders datasets (see ordersRecords).
var variants = []struct {
	name   string
	quoted bool
}{{"generate", false}, {"quoted-notes", true}}

// BenchmarkReadOrders decodes the 1M-row orders JSONL with an inferred schema
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
				r, err := NewReader(format.Input{R: bytes.NewReader(data), Name: "orders.jsonl"}, format.ReadOptions{})
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

// BenchmarkWriteOrders encodes the 1M-row orders table as JSONL.
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
// one 65536-line chunk of orders into a record, on one goroutine.
func BenchmarkDecodeChunk(b *testing.B) {
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			data := ordersData(b, v.quoted)
			end := 0
			for range 65536 {
				end += bytes.IndexByte(data[end:], '\n') + 1
			}
			c := &chunk{data: data[:end], line: 1}
			schema := ordersRecords(memory.DefaultAllocator, 1, 1, v.quoted)[0].Schema()
			root, _ := newColumn("", arrow.StructOf(schema.Fields()...), true)
			setTokens(root)
			d := &decoder{mem: memory.DefaultAllocator, schema: schema, file: "orders.jsonl", root: root}
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

// BenchmarkPipelineOrders is JSONL→JSONL: read and re-encode the 1M-row
// orders table, the whole pipeline the 1M rows/s target is stated for.
func BenchmarkPipelineOrders(b *testing.B) {
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			data := ordersData(b, v.quoted)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			rows, cpu0 := 0, cpuTime()
			for range b.N {
				r, err := NewReader(format.Input{R: bytes.NewReader(data), Name: "orders.jsonl"}, format.ReadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				w, err := NewWriter(io.Discard, r.Schema(), format.WriteOptions{})
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
		})
	}
}
