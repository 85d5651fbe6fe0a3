package jsonl

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
	"github.com/dataweaver/dataweaver/internal/orders"
)

// BenchmarkReadOrders decodes the 1M-row orders JSONL with an inferred schema
// on the default number of workers.
func BenchmarkReadOrders(b *testing.B) { formattest.BenchRead(b, jsonlFormat) }

// BenchmarkWriteOrders encodes the 1M-row orders table as JSONL.
func BenchmarkWriteOrders(b *testing.B) { formattest.BenchWrite(b, jsonlFormat) }

// BenchmarkDecodeChunk is one worker's share without the pipeline: decode
// one 65536-line chunk of orders into a record, on one goroutine.
func BenchmarkDecodeChunk(b *testing.B) {
	for _, v := range formattest.Variants {
		b.Run(v.Name, func(b *testing.B) {
			data := formattest.OrdersText(b, jsonlFormat, v.Quoted)
			end := 0
			for range 65536 {
				end += bytes.IndexByte(data[end:], '\n') + 1
			}
			c := &rowcodec.Chunk{Data: data[:end], Line: 1}
			schema := orders.Schema
			root, _ := rowcodec.NewColumn("", arrow.StructOf(schema.Fields()...), true)
			setTokens(root)
			d := &decoder{Batch: rowcodec.Batch{Mem: memory.DefaultAllocator, Schema: schema, File: "orders.jsonl"}, root: root}
			formattest.BenchDecode(b, len(c.Data), func() (arrow.RecordBatch, []format.RowError, error) {
				return d.Decode(c)
			})
		})
	}
}

// BenchmarkPipelineOrders is JSONL→JSONL: read and re-encode the 1M-row
// orders table, the whole pipeline the 1M rows/s target is stated for.
func BenchmarkPipelineOrders(b *testing.B) {
	for _, v := range formattest.Variants {
		b.Run(v.Name, func(b *testing.B) {
			b.ReportAllocs()
			formattest.BenchPipeline(b, jsonlFormat, v.Quoted, func(s *arrow.Schema) (formattest.RecordWriter, error) {
				return NewWriter(io.Discard, s, format.WriteOptions{})
			})
		})
	}
}
