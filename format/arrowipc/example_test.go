package arrowipc_test

import (
	"bytes"
	"fmt"
	"io"
	"log"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	_ "github.com/dataweaver/dataweaver/format/arrowipc" // registers "arrow"
)

// Example writes a batch in the arrow format and reads it back through
// the format registry, as the file connector does.
func Example() {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "city", Type: arrow.BinaryTypes.String},
		{Name: "temp", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"Oslo", "Lagos", "Zürich"}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{-3.5, 31, 0}, []bool{true, true, false})
	rec := b.NewRecordBatch()
	defer rec.Release()

	f, err := format.ForPath("weather.arrows")
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, schema, format.WriteOptions{Mem: mem, Name: "weather.arrows", Compression: ""})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	r, err := f.NewReader(format.Input{R: &buf, Name: "weather.arrows"}, format.ReadOptions{Mem: mem})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for {
		got, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Name, got.NumRows(), got.Column(0), got.Column(1))
		got.Release()
	}
	// Output: arrow 3 ["Oslo" "Lagos" "Zürich"] [-3.5 31 (null)]
}
