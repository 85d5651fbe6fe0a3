package engine_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
)

// wordSource is a custom source: it turns lines of text into batches of
// (line int64, text utf8), two lines per batch.
type wordSource struct {
	engine.NoAck // nothing to acknowledge: the input is in memory
	lines        []string
	next         int
}

var wordSchema = arrow.NewSchema([]arrow.Field{
	{Name: "line", Type: arrow.PrimitiveTypes.Int64},
	{Name: "text", Type: arrow.BinaryTypes.String},
}, nil)

func (s *wordSource) Open(context.Context) (*arrow.Schema, error) { s.next = 0; return wordSchema, nil }

func (s *wordSource) Read(context.Context) (*engine.Batch, error) {
	if s.next >= len(s.lines) {
		return nil, engine.ErrEndOfInput
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, wordSchema)
	defer b.Release()
	for i := 0; i < 2 && s.next < len(s.lines); i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(s.next + 1))
		b.Field(1).(*array.StringBuilder).Append(s.lines[s.next])
		s.next++
	}
	return &engine.Batch{Record: b.NewRecordBatch()}, nil
}

func (s *wordSource) Close() error { return nil }

// upper is a native Go stage: it upper-cases the text column and keeps
// the others as they are (zero-copy).
type upper struct{}

func (upper) Bind(_ context.Context, in *arrow.Schema) (*arrow.Schema, error) {
	if idx := in.FieldIndices("text"); len(idx) == 0 {
		return nil, fmt.Errorf("%w: upper needs a text column", engine.ErrSchema)
	}
	return in, nil
}

func (upper) Process(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	idx := rec.Schema().FieldIndices("text")[0]
	text := rec.Column(idx).(*array.String)
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	for i := 0; i < text.Len(); i++ {
		b.Append(strings.ToUpper(text.Value(i)))
	}
	col := b.NewArray()
	defer col.Release()
	cols := append([]arrow.Array(nil), rec.Columns()...)
	cols[idx] = col
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows()), nil, nil
}

func (upper) Close() error { return nil }

// printSink is a custom sink that prints every row.
type printSink struct{}

func (printSink) Open(context.Context, *arrow.Schema) error { return nil }
func (printSink) Write(_ context.Context, rec arrow.RecordBatch) error {
	for i := 0; i < int(rec.NumRows()); i++ {
		fmt.Printf("%s: %s\n", rec.Column(0).ValueStr(i), rec.Column(1).ValueStr(i))
	}
	return nil
}
func (printSink) Flush(context.Context) error { return nil }
func (printSink) Close() error                { return nil }

// A pipeline built in Go, without a pipeline file: a custom source, a
// native stage and a custom sink.
func Example() {
	p := &engine.Pipeline{
		Name:   "shout",
		Source: engine.SourceStep{Name: "words", Source: &wordSource{lines: []string{"hello", "columnar", "world"}}},
		Stages: []engine.StageStep{{Name: "upper", Stage: upper{}}},
		Sinks:  []engine.SinkStep{{Name: "print", Sink: printSink{}}},
	}
	m, err := p.Run(context.Background())
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("rows written:", m.Step("print").RowsOut.Load())
	// Output:
	// 1: HELLO
	// 2: COLUMNAR
	// 3: WORLD
	// rows written: 3
}
