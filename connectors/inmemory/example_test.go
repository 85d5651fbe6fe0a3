package inmemory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	arrowmem "github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
)

// A memory source serves records built in Go; a memory sink collects what
// reaches it. Here they are driven by hand, as the engine would.
func Example() {
	mem := arrowmem.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{{Name: "city", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"Lyon", "Oslo"}, nil)
	rec := b.NewRecordBatch()
	b.Release()

	src := inmemory.NewSource(schema, rec)
	defer src.Release()
	rec.Release() // the source retained it
	sink := inmemory.NewSink()
	defer sink.Release()

	ctx := context.Background()
	s, _ := src.Open(ctx)
	_ = sink.Open(ctx, s)
	for {
		batch, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		_ = sink.Write(ctx, batch.Record)
		batch.Record.Release()
	}
	_ = src.Close()
	_ = sink.Close()

	tbl := sink.Table()
	defer tbl.Release()
	fmt.Println(sink.Rows(), "rows;", tbl.Schema().Field(0).Name, "=", tbl.Column(0).Data().Chunk(0))
	// Output: 2 rows; city = ["Lyon" "Oslo"]
}
