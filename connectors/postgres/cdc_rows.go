package postgres

import (
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgtype"
)

// rowBuilder builds the CDC source's batches: the table's columns, the
// metadata columns and the before-image, from snapshot rows (a query
// result) or change messages (pgoutput tuples, in text format).
type rowBuilder struct {
	b     *array.RecordBuilder
	cols  []*column
	text  []decoder // each column's text-format decoder, for tuples
	op    *array.StringBuilder
	lsn   *array.Int64Builder
	ts    *array.TimestampBuilder
	unch  *array.StringBuilder
	n     int // rows in the batch being built
	ncols int

	// Per-row scratch, reused: each table column's value and its tuple
	// kind (0: not sent, 'n' null, 'u' unchanged TOAST, 't' text).
	after, before   [][]byte
	afterK, beforeK []byte
	unchanged       []string
}

func newRowBuilder(mem memory.Allocator, schema *arrow.Schema, cols []*column, m *pgtype.Map) *rowBuilder {
	b := array.NewRecordBuilder(mem, schema)
	n := len(cols)
	r := &rowBuilder{b: b, cols: cols, ncols: n,
		op: b.Field(n).(*array.StringBuilder), lsn: b.Field(n + 1).(*array.Int64Builder),
		ts: b.Field(n + 2).(*array.TimestampBuilder), unch: b.Field(n + 3).(*array.StringBuilder),
		after: make([][]byte, n), before: make([][]byte, n), afterK: make([]byte, n), beforeK: make([]byte, n),
	}
	for _, c := range cols {
		r.text = append(r.text, c.decoder(m, pgtype.TextFormatCode))
	}
	return r
}

func (r *rowBuilder) release() { r.b.Release() }

// finish returns the rows built so far as a record and starts a new one.
func (r *rowBuilder) finish() arrow.RecordBatch {
	r.n = 0
	return r.b.NewRecordBatch()
}

// appendSnapshot appends a row of the snapshot's query result.
func (r *rowBuilder) appendSnapshot(decs []decoder, vals [][]byte, at pglogrepl.LSN) error {
	for i := range decs {
		if err := decs[i].append(r.b.Field(i), vals[i]); err != nil {
			return err
		}
	}
	r.op.Append(opSnapshot)
	r.lsn.Append(int64(at))
	r.ts.AppendNull()
	r.unch.AppendNull()
	for i := range r.cols {
		r.b.Field(r.ncols + 4 + i).AppendNull()
	}
	r.n++
	return nil
}

// relation maps a relation message's columns to the table's.
type relation struct {
	col []int // relation column j is table column col[j]
}

// appendChange appends one change: newT is the new row (nil for a
// delete), oldT the old one or its key, as REPLICA IDENTITY gives it (nil
// when the message has none).
func (r *rowBuilder) appendChange(op string, lsn pglogrepl.LSN, at time.Time, rel *relation, newT, oldT *pglogrepl.TupleData) error {
	fill(r.after, r.afterK, rel, newT)
	fill(r.before, r.beforeK, rel, oldT)
	if newT == nil { // a delete: the table's columns hold what is known of the old row
		copy(r.after, r.before)
		copy(r.afterK, r.beforeK)
	}
	r.unchanged = r.unchanged[:0]
	for i := range r.cols {
		if r.afterK[i] == pglogrepl.TupleDataTypeToast {
			if r.beforeK[i] == pglogrepl.TupleDataTypeText { // REPLICA IDENTITY FULL sent the old value
				r.after[i], r.afterK[i] = r.before[i], r.beforeK[i]
			} else {
				r.unchanged = append(r.unchanged, r.cols[i].field.Name)
			}
		}
	}
	if err := r.appendValues(0, r.after, r.afterK); err != nil {
		return err
	}
	r.op.Append(op)
	r.lsn.Append(int64(lsn))
	r.ts.Append(arrow.Timestamp(at.UnixMicro()))
	if len(r.unchanged) == 0 {
		r.unch.AppendNull()
	} else {
		r.unch.Append(strings.Join(r.unchanged, ","))
	}
	if err := r.appendValues(r.ncols+4, r.before, r.beforeK); err != nil {
		return err
	}
	r.n++
	return nil
}

// fill spreads a tuple over the table's columns (kind 0 for those it
// does not carry).
func fill(vals [][]byte, kinds []byte, rel *relation, t *pglogrepl.TupleData) {
	clear(kinds)
	if t == nil {
		return
	}
	for j, c := range t.Columns {
		if j >= len(rel.col) {
			break
		}
		i := rel.col[j]
		vals[i], kinds[i] = c.Data, c.DataType
	}
}

// appendValues appends a row's values to the builders from field off on.
func (r *rowBuilder) appendValues(off int, vals [][]byte, kinds []byte) error {
	for i := range r.cols {
		fb := r.b.Field(off + i)
		if kinds[i] != pglogrepl.TupleDataTypeText {
			fb.AppendNull()
			continue
		}
		if err := r.text[i].append(fb, vals[i]); err != nil {
			return err // it names the column
		}
	}
	return nil
}
