package schemareg

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// projection maps the columns of records decoded with a writer schema onto
// the pipeline's, by name: the Avro rule for a reader resolving a writer
// schema, limited to null defaults (a column the writer lacks is all null,
// so the pipeline's column must be nullable; a column only the writer has
// is dropped; a type must be the same or one of Avro's promotions of a
// top-level column, see promote).
type projection struct {
	target *arrow.Schema
	from   []int       // per target column: the writer's column, or -1 for nulls
	conv   []promotion // per target column: nil, or the writer column's conversion
	same   bool        // the writer's columns are the target's: records pass as they are
}

func newProjection(writer, target *arrow.Schema) (*projection, error) {
	p := &projection{target: target, from: make([]int, target.NumFields()), conv: make([]promotion, target.NumFields()),
		same: writer.NumFields() == target.NumFields()}
	for i, f := range target.Fields() {
		idx := writer.FieldIndices(f.Name)
		if len(idx) == 0 {
			if !f.Nullable {
				return nil, fmt.Errorf("the writer schema has no field %q, and the pipeline's column is not nullable", f.Name)
			}
			p.from[i], p.same = -1, false
			continue
		}
		w := writer.Field(idx[0])
		if !arrow.TypeEqual(w.Type, f.Type) {
			if p.conv[i] = promote(w.Type, f.Type); p.conv[i] == nil {
				return nil, fmt.Errorf("field %q is %s in the writer schema, %s in the pipeline's", f.Name, w.Type, f.Type)
			}
			p.same = false
		}
		if w.Nullable && !f.Nullable {
			return nil, fmt.Errorf("field %q may be null in the writer schema, and the pipeline's column is not nullable", f.Name)
		}
		p.from[i] = idx[0]
		p.same = p.same && idx[0] == i
	}
	return p, nil
}

// apply returns rec's columns as the target's, and releases rec.
func (p *projection) apply(rec arrow.RecordBatch, mem memory.Allocator) arrow.RecordBatch {
	if p.same {
		if rec.Schema().Equal(p.target) {
			return rec
		}
		out := array.NewRecordBatch(p.target, rec.Columns(), rec.NumRows())
		rec.Release()
		return out
	}
	defer rec.Release()
	n := int(rec.NumRows())
	cols := make([]arrow.Array, len(p.from))
	for i, c := range p.from {
		if c < 0 {
			cols[i] = array.MakeArrayOfNull(mem, p.target.Field(i).Type, n)
			continue
		}
		if p.conv[i] != nil {
			cols[i] = p.conv[i](rec.Column(c), mem)
			continue
		}
		cols[i] = rec.Column(c)
		cols[i].Retain()
	}
	out := array.NewRecordBatch(p.target, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return out
}
