package columns

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

var selectSpec = spec.New("select").
	Summary("Keeps the listed columns, in that order, or drops the listed ones. Zero-copy.").
	Description("Give exactly one of columns (what to keep, in output order) or drop (what to "+
		"remove; the rest keep their order). Naming a column the input does not have is an error "+
		"when the pipeline is checked, not when data arrives.").
	Field(
		spec.StringList("columns").Optional().
			Desc("Columns to keep, in the order they should appear.").
			Example("[id, email, amount]"),
		spec.StringList("drop").Optional().
			Desc("Columns to remove.").
			Example("[note]"),
	).
	Scalar("columns").
	WithExample("Keep three columns", `stages:
  - select: {columns: [id, country, amount]}`).
	WithExample("Drop a column", `stages:
  - select: {drop: [email]}`)

func init() {
	engine.RegisterStage(selectSpec, newSelectFromConfig)
	engine.RegisterStage(renameSpec, newRenameFromConfig)
}

// Select keeps or drops columns.
type Select struct {
	names []string
	drop  bool

	// Set by Bind, read-only afterwards.
	in  *arrow.Schema
	out *arrow.Schema
	idx []int
}

// NewSelect returns a stage keeping columns, in that order.
func NewSelect(columns ...string) *Select { return &Select{names: columns} }

// NewDrop returns a stage removing columns.
func NewDrop(columns ...string) *Select { return &Select{names: columns, drop: true} }

func newSelectFromConfig(conf *spec.Parsed, b engine.Build) (engine.Stage, error) {
	keep, drop := conf.Given("columns"), conf.Given("drop")
	switch {
	case keep && drop:
		return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("drop", "give either columns or drop, not both"))
	case !keep && !drop:
		return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("columns", "give columns (to keep) or drop (to remove)"))
	}
	field, s := "columns", NewSelect(conf.Strings("columns")...)
	if drop {
		field, s = "drop", NewDrop(conf.Strings("drop")...)
	}
	if len(s.names) == 0 {
		return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf(field, "the list is empty"))
	}
	seen := map[string]bool{}
	for _, n := range s.names {
		if seen[n] {
			return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf(field, "column %q is listed twice", n))
		}
		seen[n] = true
	}
	return s, nil
}

// Bind resolves the column names against in.
func (s *Select) Bind(_ context.Context, in *arrow.Schema) (*arrow.Schema, error) {
	var missing []string
	var idx []int
	if s.drop {
		gone := map[int]bool{}
		for _, n := range s.names {
			i, err := lookup(in, n)
			if err != nil {
				if errors.Is(err, errNoColumn) {
					missing = append(missing, n)
					continue
				}
				return nil, fmt.Errorf("select: %w", err)
			}
			gone[i] = true
		}
		for i := range in.NumFields() {
			if !gone[i] {
				idx = append(idx, i)
			}
		}
	} else {
		for _, n := range s.names {
			i, err := lookup(in, n)
			if err != nil {
				if errors.Is(err, errNoColumn) {
					missing = append(missing, n)
					continue
				}
				return nil, fmt.Errorf("select: %w", err)
			}
			idx = append(idx, i)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: select: no column %s in the input (columns: %s)", engine.ErrSchema, quoteAll(missing), columnList(in))
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("%w: select: dropping %s leaves no columns", engine.ErrSchema, quoteAll(s.names))
	}
	fields := make([]arrow.Field, len(idx))
	for j, i := range idx {
		fields[j] = in.Field(i)
	}
	s.in, s.idx, s.out = in, idx, arrow.NewSchema(fields, metadata(in))
	return s.out, nil
}

// Process builds the output from the input's arrays.
func (s *Select) Process(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	if s.out == nil {
		return nil, nil, errors.New("select: Process before Bind")
	}
	if err := sameSchema("select", s.in, rec); err != nil {
		return nil, nil, err
	}
	cols := make([]arrow.Array, len(s.idx))
	for j, i := range s.idx {
		cols[j] = rec.Column(i)
	}
	return array.NewRecordBatch(s.out, cols, rec.NumRows()), nil, nil
}

// Close has nothing to release: the stage holds no data between batches.
func (s *Select) Close() error { return nil }

var errNoColumn = errors.New("no such column")

// lookup returns the index of the column called name; a name the input
// holds twice is an error because a stage cannot tell which one was meant.
func lookup(in *arrow.Schema, name string) (int, error) {
	idx := in.FieldIndices(name)
	switch len(idx) {
	case 0:
		return 0, errNoColumn
	case 1:
		return idx[0], nil
	}
	return 0, fmt.Errorf("%w: the input has %d columns called %q", engine.ErrSchema, len(idx), name)
}

// sameSchema guards against a batch whose schema differs from the one the
// stage was bound to: picking arrays by bound index would silently mislabel
// data.
func sameSchema(stage string, bound *arrow.Schema, rec arrow.RecordBatch) error {
	if rec.Schema() == bound || rec.Schema().Equal(bound) {
		return nil
	}
	return fmt.Errorf("%w: %s: batch schema %s differs from the schema bound at start, %s", engine.ErrSchema, stage, rec.Schema(), bound)
}

func metadata(s *arrow.Schema) *arrow.Metadata {
	if md := s.Metadata(); md.Len() > 0 {
		return &md
	}
	return nil
}

func columnList(s *arrow.Schema) string {
	names := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
