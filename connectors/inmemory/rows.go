package inmemory

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

const defaultBatchRows = 65536

// inlineRows decodes the `rows:` of a pipeline file batch by batch.
type inlineRows struct {
	mem    memory.Allocator
	schema *arrow.Schema
	rows   []map[string]any
	lines  []int // YAML line of each row, for rejects
	next   int
	// scratch holds one builder per column, used to try a value before it
	// is appended for real, so a row that fails half-way leaves the batch's
	// columns aligned.
	scratch []array.Builder
}

func newInlineRows(conf *spec.Parsed, schema *arrow.Schema, b engine.Build) (*inlineRows, error) {
	r := &inlineRows{mem: allocator(b), schema: schema}
	raw := conf.Any("rows")
	if raw == nil {
		return r, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("rows", "expected a list of mappings"))
	}
	var items []*yaml.Node
	if n := conf.Node("rows"); n != nil && n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for i, v := range list {
		m, ok := v.(map[string]any)
		if v == nil {
			m, ok = map[string]any{}, true
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s", engine.ErrInvalidConfig, conf.Errorf("rows", "row %d is not a mapping of column to value", i+1))
		}
		line := i + 1
		if i < len(items) {
			line = items[i].Line
		}
		r.rows = append(r.rows, m)
		r.lines = append(r.lines, line)
	}
	return r, nil
}

func (r *inlineRows) read(batchRows int) (*engine.Batch, error) {
	if r.next >= len(r.rows) {
		r.releaseScratch()
		return nil, engine.ErrEndOfInput
	}
	if batchRows <= 0 {
		batchRows = defaultBatchRows
	}
	if r.scratch == nil {
		for _, f := range r.schema.Fields() {
			r.scratch = append(r.scratch, array.NewBuilder(r.mem, f.Type))
		}
	}
	b := array.NewRecordBuilder(r.mem, r.schema)
	defer b.Release()
	end := min(r.next+batchRows, len(r.rows))
	var rejects []engine.RowError
	for i := r.next; i < end; i++ {
		vals, rej := r.check(i)
		if rej != nil {
			rej.Row = i - r.next
			rejects = append(rejects, *rej)
			continue
		}
		for c, v := range vals {
			if v == nil {
				b.Field(c).AppendNull()
				continue
			}
			if err := b.Field(c).UnmarshalJSON(v); err != nil {
				// check decoded the same bytes with the same type a moment ago.
				panic(fmt.Sprintf("memory: value accepted by check failed to append: %v", err))
			}
		}
	}
	first := r.next
	r.next = end
	return &engine.Batch{Record: b.NewRecordBatch(), Rejects: rejects, Checkpoint: first}, nil
}

// check turns row i into one JSON array per column ("[value]", nil for
// null), trying each on a scratch builder.
func (r *inlineRows) check(i int) ([][]byte, *engine.RowError) {
	row := r.rows[i]
	raw, _ := json.Marshal(row)
	reject := func(col, format string, args ...any) *engine.RowError {
		return &engine.RowError{Line: int64(r.lines[i]), Column: col, Raw: raw, Err: fmt.Errorf(format, args...)}
	}
	for k := range row {
		if len(r.schema.FieldIndices(k)) == 0 {
			return nil, reject(k, "no such column in the schema (columns: %s)", columnList(r.schema))
		}
	}
	vals := make([][]byte, r.schema.NumFields())
	for c, f := range r.schema.Fields() {
		v, given := row[f.Name]
		if !given || v == nil {
			if !f.Nullable {
				return nil, reject(f.Name, "no value for non-nullable column")
			}
			continue
		}
		if x, ok := v.(float64); ok && arrow.IsInteger(f.Type.ID()) && x != math.Trunc(x) {
			// arrow-go truncates 2.5 into an integer column; silently
			// changing a value is worse than rejecting the row.
			return nil, reject(f.Name, "value %v does not fit %s: not an integer", v, f.Type)
		}
		if tm, ok := v.(time.Time); ok {
			// YAML reads an unquoted 2024-05-02 as a time; Arrow's JSON
			// reader wants a date column's value without a clock.
			v = tm.Format(time.RFC3339Nano)
			if id := f.Type.ID(); id == arrow.DATE32 || id == arrow.DATE64 {
				v = tm.Format(time.DateOnly)
			}
		}
		if str, ok := v.(string); ok && f.Type.ID() == arrow.TIMESTAMP {
			// arrow-go v18's JSON reader rejects a value whose zone
			// presence differs from the column type's ("2024-05-01
			// 10:00:00" into timestamp[ms, UTC], or "...Z" into a type
			// without a zone). Such values were accepted before and the
			// clock read as UTC, so parse here and hand over the number.
			ts, _, err := arrow.TimestampFromStringInLocation(str, f.Type.(*arrow.TimestampType).Unit, time.UTC)
			if err != nil {
				return nil, reject(f.Name, "value %q does not fit %s: %w", str, f.Type, err)
			}
			v = json.Number(strconv.FormatInt(int64(ts), 10))
		}
		js, err := json.Marshal([]any{v})
		if err != nil {
			return nil, reject(f.Name, "cannot encode %v: %w", v, err)
		}
		sb := r.scratch[c]
		err = sb.UnmarshalJSON(js)
		sb.NewArray().Release()
		if err != nil {
			return nil, reject(f.Name, "value %s does not fit %s: %w", strings.Trim(string(js), "[]"), f.Type, err)
		}
		vals[c] = js
	}
	return vals, nil
}

func (r *inlineRows) releaseScratch() {
	for _, b := range r.scratch {
		b.Release()
	}
	r.scratch = nil
}

func columnList(s *arrow.Schema) string {
	names := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		names[i] = f.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
