package columns_test

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/columns"
)

func orders() arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "email", Type: arrow.BinaryTypes.String},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"ada@example.com", "alan@example.org"}, nil)
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{9.5, -3}, nil)
	return b.NewRecordBatch()
}

// Select keeps amount and id, in that order, sharing the input's arrays.
func ExampleNewSelect() {
	rec := orders()
	defer rec.Release()

	sel := columns.NewSelect("amount", "id")
	out, err := sel.Bind(context.Background(), rec.Schema())
	if err != nil {
		panic(err)
	}
	fmt.Println(out)

	got, _, _ := sel.Process(context.Background(), rec)
	defer got.Release()
	fmt.Println(got.Column(0), got.Column(1))

	_, err = columns.NewSelect("amnt").Bind(context.Background(), rec.Schema())
	fmt.Println(err)
	// Output:
	// schema:
	//   fields: 2
	//     - amount: type=float64
	//     - id: type=int64
	// [9.5 -3] [1 2]
	// schema mismatch: select: no column "amnt" in the input (columns: id, email, amount)
}

func ExampleNewRename() {
	rec := orders()
	defer rec.Release()

	ren := columns.NewRename(columns.Pair{Old: "email", New: "contact"})
	out, _ := ren.Bind(context.Background(), rec.Schema())
	fmt.Println(out.Field(1).Name)

	_, err := columns.NewRename(columns.Pair{Old: "email", New: "id"}).Bind(context.Background(), rec.Schema())
	fmt.Println(err)
	// Output:
	// contact
	// schema mismatch: rename: existing column "id" and renamed column "email" would both be called "id"
}
