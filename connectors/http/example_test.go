package http_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	weavehttp "github.com/dataweaver/dataweaver/connectors/http"
	"github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
)

// The sink POSTs each batch to a URL, here a test server that prints what
// it receives. The http source is the other end: a server that takes such
// POSTs into a pipeline (SourceConfig.Address).
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("%s %s %s\n%s\n", r.Method, r.Header.Get("Content-Type"), r.URL.Path, body)
	}))
	defer srv.Close()

	sink, err := weavehttp.SinkConfig{URL: srv.URL + "/cities"}.Build(engine.Build{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := cities()
	defer rec.Release()
	src := inmemory.NewSource(rec.Schema(), rec)
	defer src.Release()
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "cities", Source: src},
		Sinks:  []engine.SinkStep{{Name: "webhook", Sink: sink}},
	}
	if _, err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// POST application/json /cities
	// [{"city":"Lyon","people":522},{"city":"Oslo","people":709}]
}

// cities is a record of two rows built in Go.
func cities() arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "city", Type: arrow.BinaryTypes.String},
		{Name: "people", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"Lyon", "Oslo"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{522, 709}, nil)
	return b.NewRecordBatch()
}
