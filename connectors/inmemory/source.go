package inmemory

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/arrowtype"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

var sourceSpec = spec.New("memory").
	Summary("Serves rows held in memory: inline rows from the pipeline file, or records handed in from Go.").
	Description("Meant for tests and examples. The rows are given in the pipeline file as a list of "+
		"mappings and decoded into the declared schema when the pipeline runs. A row that does not "+
		"fit (wrong type, unknown column, missing non-nullable value) is rejected with its line, "+
		"like a malformed line of a file, so a test pipeline can exercise error policies.\n\n"+
		"Go programs use memory.NewSource(schema, records...) instead.").
	Field(
		arrowtype.Field("schema").Desc("Ordered mapping of column name to Arrow type (see the file source's "+
			"schema field for the type names). Values in rows are read the way Arrow reads JSON: "+
			"numbers, strings, booleans, null; timestamps and dates as ISO-8601 strings; decimals as strings or numbers."),
		spec.Any("rows").Optional().
			Desc("The rows, in order: a list of mappings from column name to value. Columns left out are null.").
			Example("[{id: 1, name: ada}, {id: 2, name: grace}]"),
	).
	WithExample("Three known rows", `source:
  memory:
    schema: {id: int64, name: utf8, ts: "timestamp[us, UTC]"}
    rows:
      - {id: 1, name: ada, ts: "2024-05-01T10:00:00Z"}
      - {id: 2, name: grace, ts: "2024-05-01T10:00:01Z"}
      - {id: 3, name: null, ts: "2024-05-01T10:00:02Z"}`)

var sinkSpec = spec.New("memory").
	Summary("Keeps every batch in memory, for tests and Go programs.").
	Description("Nothing is written anywhere. With a name, a Go program that built the pipeline "+
		"finds the sink with memory.Lookup(name) and reads the rows after the run; from the CLI "+
		"the rows are simply held until the process exits.").
	Field(spec.String("name").Optional().
		Desc("Name under which Go code finds this sink with memory.Lookup. A later sink with the same name replaces it.").
		Example("results")).
	WithExample("Collect rows for a Go caller", `sinks:
  - memory: {name: results}`)

func init() {
	engine.RegisterSource(sourceSpec, newSourceFromConfig)
	engine.RegisterSink(sinkSpec, newSinkFromConfig)
}

// Source serves record batches from memory. It is read by one goroutine,
// as the engine does with every source.
type Source struct {
	engine.NoAck
	schema    *arrow.Schema
	recs      []arrow.RecordBatch
	batchRows int
	rows      *inlineRows // set instead of recs when built from a pipeline file

	next   int   // index in recs of the record being served
	off    int64 // rows of recs[next] already served
	opened bool
}

// NewSource returns a source serving recs, in order, one batch per record
// (records with no rows are skipped). It retains the records until Release:
// Close only rewinds, because the engine opens a source twice (Validate,
// then Run). Open fails, wrapping engine.ErrSchema, if a record's schema is
// not schema.
func NewSource(schema *arrow.Schema, recs ...arrow.RecordBatch) *Source {
	s := &Source{schema: schema, recs: make([]arrow.RecordBatch, len(recs))}
	for i, r := range recs {
		r.Retain()
		s.recs[i] = r
	}
	return s
}

func newSourceFromConfig(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	schema, err := arrowtype.Schema(conf.Map("schema"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: schema: %w", engine.ErrInvalidConfig, b.Name, err)
	}
	rows, err := newInlineRows(conf, schema, b)
	if err != nil {
		return nil, err
	}
	return &Source{schema: schema, rows: rows, batchRows: b.BatchRows}, nil
}

// Open checks the records against the schema and starts from the first
// row; it does no I/O.
func (s *Source) Open(context.Context) (*arrow.Schema, error) {
	s.next, s.off = 0, 0
	if s.rows != nil {
		s.rows.next = 0
	}
	if s.schema == nil {
		return nil, fmt.Errorf("%w: memory source has no schema", engine.ErrInvalidConfig)
	}
	for i, r := range s.recs {
		if !r.Schema().Equal(s.schema) {
			return nil, fmt.Errorf("%w: memory source: record %d has schema %s, want %s", engine.ErrSchema, i, r.Schema(), s.schema)
		}
	}
	s.opened = true
	return s.schema, nil
}

// Read returns the next record (or the next BatchRows of it), retained for
// the caller.
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) {
	if !s.opened {
		return nil, errors.New("memory source: Read before Open")
	}
	if s.rows != nil {
		return s.rows.read(s.batchRows)
	}
	for s.next < len(s.recs) && s.off >= s.recs[s.next].NumRows() {
		s.next, s.off = s.next+1, 0
	}
	if s.next >= len(s.recs) {
		return nil, engine.ErrEndOfInput
	}
	r := s.recs[s.next]
	end := r.NumRows()
	if s.batchRows > 0 && end-s.off > int64(s.batchRows) {
		end = s.off + int64(s.batchRows)
	}
	var out arrow.RecordBatch
	if s.off == 0 && end == r.NumRows() {
		r.Retain()
		out = r
	} else {
		out = r.NewSlice(s.off, end)
	}
	s.off = end
	return &engine.Batch{Record: out, Checkpoint: s.next}, nil
}

// Close ends a reading; the records stay for the next Open until Release.
func (s *Source) Close() error {
	s.opened = false
	if s.rows != nil {
		s.rows.releaseScratch()
	}
	return nil
}

// Release frees the records given to NewSource. The source serves nothing
// afterwards.
func (s *Source) Release() {
	s.Close()
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
}

// allocator returns b.Mem, or the Go allocator when a caller left it unset.
func allocator(b engine.Build) memory.Allocator {
	if b.Mem != nil {
		return b.Mem
	}
	return memory.NewGoAllocator()
}
