package pipetest_test

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/pipetest"
)

// A pipeline file's real Wasm stage runs on records built in Go; the
// file's source and sinks are replaced, so nothing is read or written.
func Example() {
	p, err := pipetest.Load("testdata/cents.yaml", pipetest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{19.99, 1e300}, nil)
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()

	res, err := p.Run(context.Background(), pipetest.Records(schema, rec))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Release()
	for _, out := range res.Steps() {
		fmt.Printf("%s (%s): %d rows of %d columns\n", out.Name, out.Kind, out.Rows(), out.Schema.NumFields())
	}
	cents := res.Step("cents")
	fmt.Println(cents.Schema.Field(2).Name, cents.Schema.Field(2).Type, cents.Records[0].Column(2))
	for _, d := range res.DeadLetters {
		fmt.Println("dead letter:", d.Step, d.Error)
	}
	// Output:
	// source.file (source): 2 rows of 2 columns
	// cents (stage): 1 rows of 3 columns
	// sinks[0].file (sink): 1 rows of 3 columns
	// amount_cents int64 [1999]
	// dead letter: cents amount: 1e+300 × 100 does not fit in int64
}

// A test file runs the same way weave test runs it.
func ExampleSuite_Run() {
	s, err := pipetest.ReadSuite("testdata/cents.test.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	res := s.Run(context.Background(), pipetest.Options{})
	if res.Err != nil {
		fmt.Println(res.Err)
		return
	}
	for _, c := range res.Cases {
		fmt.Println(c.Passed(), c.Case.Name)
	}
	// Output:
	// true cents are rounded half away from zero
	// true too large for cents
}
