package generate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/arrowtype"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/internal/wait"
)

var sourceSpec = spec.New("generate").
	Summary("Generates seeded synthetic rows for a declared schema or a preset table.").
	Description("Give either preset (a ready-made table) or schema (your own columns). The same "+
		"seed always gives the same rows, whatever the batch size, so a benchmark or a test can "+
		"rely on the data. Values stay in ranges that look like data: integers up to a billion, "+
		"amounts with two decimals, dates from 2020, timestamps from 2024-01-01 one second apart, "+
		"strings of two words.\n\n"+
		"The orders preset is the benchmark table: id int64 (1, 2, 3, …), customer, email "+
		"(name@domain, always the same for a customer), country (two letters, skewed towards a "+
		"few, about 0.8% \"XX\"), amount float64 (two decimals, about 1.6% negative refunds), ts "+
		"timestamp[us, UTC] (about 4 per second from 2024-01-01, not sorted) and note (nullable "+
		"string, mostly null). Go code gets the same rows from generate.Orders.").
	Field(
		spec.Int("rows").Default(1000).
			Desc("How many rows to generate in all.").
			Example("10000000").
			Validate(func(v any) error {
				if v.(int) < 0 {
					return errors.New("must not be negative")
				}
				return nil
			}),
		spec.Int("seed").Default(1).
			Desc("Seed of the generator; the same seed gives the same rows."),
		spec.String("preset").OneOf("orders").Optional().
			Desc("A ready-made table instead of schema: orders (see above)."),
		arrowtype.Field("schema").Optional(),
		spec.Float("rows_per_second").Default(0.0).
			Desc("Pace: produce at most this many rows per second (0: as fast as possible). "+
				"Batches then hold about a tenth of a second of rows, so a slow feed still "+
				"arrives in steady small batches, like a live source.").
			Example("5000").
			Validate(func(v any) error {
				if v.(float64) < 0 {
					return errors.New("must not be negative")
				}
				return nil
			}),
		spec.Float("null_fraction").Default(0.0).Advance().
			Desc("Share of null values, between 0 and 1, in each nullable column of schema.").
			Validate(func(v any) error {
				if f := v.(float64); f < 0 || f > 1 {
					return errors.New("must be between 0 and 1")
				}
				return nil
			}),
	).
	WithExample("Ten million benchmark orders", `source:
  generate: {preset: orders, rows: 10000000, seed: 42}`).
	WithExample("Your own columns", `source:
  generate:
    rows: 1000
    schema: {id: int64 not null, sku: utf8, price: "decimal128(9,2)", sold_at: "timestamp[ms, UTC]"}
    null_fraction: 0.1`)

func init() { engine.RegisterSource(sourceSpec, newSourceFromConfig) }

const defaultBatchRows = 65536

// Source generates rows batch by batch.
type Source struct {
	engine.NoAck
	schema    *arrow.Schema
	gen       func(mem memory.Allocator, start, n int) arrow.RecordBatch
	rows      int
	batchRows int
	mem       memory.Allocator

	seed int64
	next int
	from int // row Open starts at: 0, or where Resume says

	rate    float64   // rows per second; 0 is unpaced
	cap     int64     // rows the next Read may make (engine.RowCapper); 0 for no limit
	started time.Time // when Open ran: batches are due at started + rows/rate
}

// Checkpoint is how many rows a generate source has produced: rows depend
// only on the seed and their index, so the next run makes exactly the
// rows that follow.
type Checkpoint struct {
	Row  int   `json:"row"`
	Seed int64 `json:"seed"`
}

func (c Checkpoint) String() string { return fmt.Sprintf("row %d (seed %d)", c.Row, c.Seed) }

// Resume continues after the rows an earlier run produced. A position
// made with another seed is refused: its rows differ from this source's.
func (s *Source) Resume(pos []byte) error {
	var c Checkpoint
	if err := json.Unmarshal(pos, &c); err != nil {
		return fmt.Errorf("generate: saved position %s: %w", pos, err)
	}
	if c.Seed != s.seed {
		return fmt.Errorf("generate: the saved position was made with seed %d, this source uses seed %d: run with --from-start", c.Seed, s.seed)
	}
	if c.Row < 0 {
		return fmt.Errorf("generate: saved position row %d is negative", c.Row)
	}
	s.from = c.Row
	return nil
}

// NewOrdersSource returns a source of rows rows of the orders table, the
// same as Orders(mem, rows, seed), in batches of batchRows (65536 when 0).
func NewOrdersSource(mem memory.Allocator, rows int, seed int64, batchRows int) *Source {
	return &Source{
		schema:    OrdersSchema,
		gen:       func(mem memory.Allocator, start, n int) arrow.RecordBatch { return OrdersRange(mem, seed, start, n) },
		rows:      rows,
		batchRows: batchRows,
		mem:       mem,
		seed:      seed,
	}
}

func newSourceFromConfig(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	mem := b.Mem
	if mem == nil {
		mem = memory.NewGoAllocator()
	}
	rows, seed := conf.Int("rows"), int64(conf.Int("seed"))
	hasPreset, hasSchema := conf.Given("preset"), conf.Given("schema")
	switch {
	case hasPreset && hasSchema:
		return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("schema", "give either preset or schema, not both"))
	case !hasPreset && !hasSchema:
		return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("schema", "give a preset (orders) or a schema"))
	case hasPreset:
		s := NewOrdersSource(mem, rows, seed, b.BatchRows)
		s.rate = conf.Float("rows_per_second")
		return s, nil
	}
	schema, err := arrowtype.Schema(conf.Map("schema"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("schema", "%v", err))
	}
	gen, err := NewRows(schema, seed, conf.Float("null_fraction"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("schema", "%v", err))
	}
	return &Source{schema: schema, gen: gen, rows: rows, batchRows: b.BatchRows, mem: mem, seed: seed, rate: conf.Float("rows_per_second")}, nil
}

// NewRows returns a function making rows start..start+n-1 of schema for
// seed, with about nullFraction nulls in each nullable column. It fails on
// a column type it cannot generate.
func NewRows(schema *arrow.Schema, seed int64, nullFraction float64) (func(mem memory.Allocator, start, n int) arrow.RecordBatch, error) {
	cols := make([]column, schema.NumFields())
	for i, f := range schema.Fields() {
		c, err := columnFor(f, i, nullFraction)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	k := key(seed)
	return func(mem memory.Allocator, start, n int) arrow.RecordBatch {
		arrs := make([]arrow.Array, len(cols))
		for i, c := range cols {
			arrs[i] = c(mem, k, start, n)
		}
		return newRecord(schema, arrs, n)
	}, nil
}

// Open starts again from row 0 (or the resumed row) and returns the
// schema; nothing is generated until Read.
func (s *Source) Open(context.Context) (*arrow.Schema, error) {
	s.next = s.from
	s.started = time.Now()
	return s.schema, nil
}

// Read generates the next batch.
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.next >= s.rows {
		return nil, engine.ErrEndOfInput
	}
	size := s.batchRows
	if size <= 0 {
		size = defaultBatchRows
	}
	if s.rate > 0 {
		// A paced batch holds a tenth of a second of rows and waits until
		// the rows before it are due, so the feed is steady and a drain or
		// checkpoint never waits long behind a sleeping Read.
		size = max(1, min(size, int(math.Ceil(s.rate/10))))
		if err := s.wait(ctx); err != nil {
			return nil, err
		}
	}
	n := min(size, s.rows-s.next)
	if s.cap > 0 {
		n = min(n, int(s.cap))
		s.cap = 0
	}
	rec := s.gen(s.mem, s.next, n)
	s.next += n
	return &engine.Batch{Record: rec, Checkpoint: Checkpoint{Row: s.next, Seed: s.seed}}, nil
}

// CapNextRead makes the next Read make at most n rows (engine.RowCapper),
// so a run with a row limit saves the position right after it.
func (s *Source) CapNextRead(n int64) { s.cap = n }

// wait sleeps until the rows produced so far are due at the source's
// rate, or ctx ends.
func (s *Source) wait(ctx context.Context) error {
	due := s.started.Add(time.Duration(float64(s.next-s.from) / s.rate * float64(time.Second)))
	return wait.For(ctx, time.Until(due))
}

// Close has nothing to release: each batch belongs to its reader.
func (s *Source) Close() error { return nil }
