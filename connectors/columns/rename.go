package columns

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

var renameSpec = spec.New("rename").
	Summary("Renames columns. Zero-copy.").
	Description("Columns not mentioned keep their name and position; types, nullability and "+
		"metadata are kept. Renaming a column the input does not have, or to a name another "+
		"column ends up with, is an error when the pipeline is checked. Swapping two names "+
		"({a: b, b: a}) is allowed.").
	Field(spec.Map("columns").
		Desc("Ordered mapping of old name to new name.").
		Example("{cust: customer, amt: amount}")).
	WithExample("Rename two columns", `stages:
  - rename: {columns: {cust: customer, amt: amount}}`)

// Rename renames columns.
type Rename struct {
	pairs []Pair

	in  *arrow.Schema
	out *arrow.Schema
}

// Pair is one rename, Old to New.
type Pair struct{ Old, New string }

// NewRename returns a stage applying the renames.
func NewRename(pairs ...Pair) *Rename { return &Rename{pairs: pairs} }

func newRenameFromConfig(conf *spec.Parsed, _ engine.Build) (engine.Stage, error) {
	kvs := conf.Map("columns")
	if len(kvs) == 0 {
		return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("columns", "no columns to rename"))
	}
	pairs := make([]Pair, 0, len(kvs))
	seen := map[string]bool{}
	for _, kv := range kvs {
		if seen[kv.Key] {
			return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("columns", "column %q is renamed twice", kv.Key))
		}
		if kv.Value == "" {
			return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("columns", "new name for %q is empty", kv.Key))
		}
		seen[kv.Key] = true
		pairs = append(pairs, Pair{Old: kv.Key, New: kv.Value})
	}
	return NewRename(pairs...), nil
}

// Bind checks that every old name exists and that no two columns end up
// with the same name.
func (r *Rename) Bind(_ context.Context, in *arrow.Schema) (*arrow.Schema, error) {
	fields := append([]arrow.Field(nil), in.Fields()...)
	var missing []string
	renamed := map[int]string{} // index → old name, to explain clashes
	for _, p := range r.pairs {
		i, err := lookup(in, p.Old)
		if errors.Is(err, errNoColumn) {
			missing = append(missing, p.Old)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rename: %w", err)
		}
		if _, dup := renamed[i]; dup {
			return nil, fmt.Errorf("%w: rename: column %q is renamed twice", engine.ErrSchema, p.Old)
		}
		renamed[i] = p.Old
		fields[i].Name = p.New
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: rename: no column %s in the input (columns: %s)", engine.ErrSchema, quoteAll(missing), columnList(in))
	}
	owner := map[string]int{}
	for i, f := range fields {
		j, clash := owner[f.Name]
		if !clash {
			owner[f.Name] = i
			continue
		}
		return nil, fmt.Errorf("%w: rename: %s and %s would both be called %q", engine.ErrSchema, describe(in, renamed, j), describe(in, renamed, i), f.Name)
	}
	r.in, r.out = in, arrow.NewSchema(fields, metadata(in))
	return r.out, nil
}

func describe(in *arrow.Schema, renamed map[int]string, i int) string {
	if old, ok := renamed[i]; ok {
		return fmt.Sprintf("renamed column %q", old)
	}
	return fmt.Sprintf("existing column %q", in.Field(i).Name)
}

// Process relabels the input's arrays with the new schema.
func (r *Rename) Process(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	if r.out == nil {
		return nil, nil, errors.New("rename: Process before Bind")
	}
	if err := sameSchema("rename", r.in, rec); err != nil {
		return nil, nil, err
	}
	return array.NewRecordBatch(r.out, rec.Columns(), rec.NumRows()), nil, nil
}

// Close has nothing to release.
func (r *Rename) Close() error { return nil }
