package codec_test

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/codec"
)

// A message connector decodes a batch of messages into one record, and
// encodes a record back into one message per row; a message that does not
// decode is a row error carrying its index and bytes, not a failed batch.
func Example() {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "city", Type: arrow.BinaryTypes.String},
		{Name: "people", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	conf := codec.Config{Name: codec.JSON, Schema: schema}
	mem := memory.NewGoAllocator()

	dec, err := codec.NewDecoder(conf, mem)
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, rejects, err := dec.Decode([][]byte{
		[]byte(`{"city": "Lyon", "people": 522}`),
		[]byte(`{"city": "Oslo", "people": "many"}`),
		[]byte(`{"city": "Kyiv", "people": 2952}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rec.Release()
	for _, r := range rejects {
		fmt.Printf("message %d rejected: %s\n", r.Row, r.Raw)
	}

	enc, err := codec.NewEncoder(conf, schema, mem)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = enc.Encode(rec, func(row int, msg []byte) error {
		fmt.Printf("row %d: %s\n", row, msg)
		return nil
	})
	// Output:
	// message 1 rejected: {"city": "Oslo", "people": "many"}
	// row 0: {"city":"Lyon","people":522}
	// row 1: {"city":"Kyiv","people":2952}
}
