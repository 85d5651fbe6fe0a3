package wasmtest

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/orders"
)

// OrdersSchema is the schema of Orders: four columns of the benchmark
// orders table, the ones the guest kernels read.
var OrdersSchema = orders.Columns("id", "email", "country", "amount")

// Orders is the Wasm benchmarks' batch: n order rows, ~22-byte emails,
// six countries (one of them XX), ~5% negative amounts, no nulls. The
// wasmabi and per-language guest benchmarks share it so their figures
// are for the same data.
func Orders(mem memory.Allocator, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, OrdersSchema)
	defer b.Release()
	countries := []string{"FR", "DE", "US", "JP", "XX", "GB"}
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("user%d@example%d.com", i, i%50))
		b.Field(2).(*array.StringBuilder).Append(countries[i%len(countries)])
		b.Field(3).(*array.Float64Builder).Append(float64(i%1000)/7 - 7)
	}
	return b.NewRecordBatch()
}
