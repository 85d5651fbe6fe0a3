package testrecords

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/orders"
)

// OrdersSchema is the schema of Orders, the project's one orders table.
var OrdersSchema = orders.Schema

// Orders builds rows orders in batches of batch rows (the last batch may
// be shorter): 50,000 customers, 40 countries, amounts with ~10% refunds
// (negative), timestamps about a second apart, a note on one order in
// five. The same seed gives the same table every time. The rows are not
// connectors/generate's: the Avro and Parquet writer benchmarks have been
// measured on these, and changing the data would change their figures.
func Orders(mem memory.Allocator, rows, batch int) []arrow.RecordBatch {
	rng := rand.New(rand.NewSource(42))
	countries := []string{"US", "DE", "FR", "GB", "JP", "CN", "IN", "BR", "CA", "AU", "ES", "IT", "NL", "SE", "NO", "DK", "FI", "PL", "CZ", "AT",
		"CH", "BE", "PT", "IE", "MX", "AR", "CL", "CO", "ZA", "NG", "EG", "KE", "KR", "SG", "TH", "VN", "ID", "PH", "NZ", "TR"}
	notes := []string{"gift wrap", "leave at door", "call before delivery", "fragile", "expedite — VIP customer"}
	b := array.NewRecordBuilder(mem, OrdersSchema)
	defer b.Release()
	var out []arrow.RecordBatch
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	for row := 0; row < rows; row++ {
		c := rng.Intn(50000)
		b.Field(0).(*array.Int64Builder).Append(int64(row) + 1_000_000)
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("Customer %05d", c))
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("customer%05d@example.com", c))
		b.Field(3).(*array.StringBuilder).Append(countries[rng.Intn(len(countries))])
		amount := float64(rng.Intn(100000)) / 100
		if rng.Intn(10) == 0 {
			amount = -amount
		}
		b.Field(4).(*array.Float64Builder).Append(amount)
		ts += int64(1_000_000 + rng.Intn(1000))
		b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(ts))
		if rng.Intn(5) == 0 {
			b.Field(6).(*array.StringBuilder).Append(notes[rng.Intn(len(notes))])
		} else {
			b.Field(6).AppendNull()
		}
		if (row+1)%batch == 0 || row == rows-1 {
			out = append(out, b.NewRecordBatch())
		}
	}
	return out
}
