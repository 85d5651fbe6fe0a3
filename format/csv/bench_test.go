package csv

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
	"github.com/dataweaver/dataweaver/internal/orders"
)

// BenchmarkReadOrders decodes the 1M-row orders CSV with an inferred schema
// on the default number of workers.
func BenchmarkReadOrders(b *testing.B) { formattest.BenchRead(b, csvFormat) }

// BenchmarkWriteOrders encodes the 1M-row orders table as CSV.
func BenchmarkWriteOrders(b *testing.B) { formattest.BenchWrite(b, csvFormat) }

// BenchmarkDecodeChunk is one worker's share without the pipeline: decode
// one 65536-row chunk of orders into a record, on one goroutine.
func BenchmarkDecodeChunk(b *testing.B) {
	for _, v := range formattest.Variants {
		b.Run(v.Name, func(b *testing.B) {
			data := formattest.OrdersText(b, csvFormat, v.Quoted)
			hdr := bytes.IndexByte(data, '\n') + 1
			end := hdr
			rl := &rules{delim: ',', limit: format.DefaultMaxRecordBytes, maxLines: maxQuotedLines}
			split := rl.splitter()
			for range 65536 {
				next, _, st := split(data, end, false)
				if st != rowcodec.Complete {
					break
				}
				end = next
			}
			c := &rowcodec.Chunk{Data: data[hdr:end], Line: 2}
			schema := orders.Schema
			d := &decoder{Batch: rowcodec.Batch{Mem: memory.DefaultAllocator, Schema: schema, File: "orders.csv"}, rules: rl, delim: ',', nullEmpty: true}
			for _, f := range schema.Fields() {
				col, _ := rowcodec.NewColumn(f.Name, f.Type, false)
				d.cols = append(d.cols, col)
			}
			d.slots = d.cols
			formattest.BenchDecode(b, len(c.Data), func() (arrow.RecordBatch, []format.RowError, error) {
				return d.Decode(c)
			})
		})
	}
}
