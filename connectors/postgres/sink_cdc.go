package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/engine"
)

// modeCDC applies the rows of a postgres_cdc source: upserts for
// snapshot, insert and update rows, deletes by key for delete rows.
const modeCDC = "cdc"

// cdcApply is the sink's state in mode cdc: where the metadata columns
// are in the batches, and the statements, built once per schema (and per
// set of unchanged columns).
type cdcApply struct {
	data      []int // batch columns written to the table
	op, unch  int   // the _op and _unchanged columns; unch is -1 when absent
	keyIdx    []int // the key's columns
	beforeKey []int // their before-images; nil when absent
	upserts   map[string]string
	del       string
	moveKey   string // deletes the row under an update's old key, when the key changed
}

// isCDCMeta reports whether a batch column is the CDC source's own.
func isCDCMeta(name string) bool {
	switch name {
	case opCol, lsnCol, commitTSCol, unchangedCol:
		return true
	}
	return strings.HasPrefix(name, beforePrefix)
}

// openCDC works out, from the batches' schema, what mode cdc writes, and
// returns the schema of the table's columns (what create_table declares).
func (s *Sink) openCDC(schema *arrow.Schema) (*arrow.Schema, error) {
	a := &cdcApply{op: -1, unch: -1, upserts: map[string]string{}}
	var fields []arrow.Field
	for i, f := range schema.Fields() {
		switch {
		case f.Name == opCol:
			a.op = i
		case f.Name == unchangedCol:
			a.unch = i
		case !isCDCMeta(f.Name):
			a.data = append(a.data, i)
			fields = append(fields, f)
		}
	}
	if a.op < 0 {
		return nil, fmt.Errorf("%w: postgres table %s: mode cdc needs the %s column of a postgres_cdc source", engine.ErrSchema, s.table, opCol)
	}
	for _, k := range s.key {
		idx := schema.FieldIndices(k)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%w: postgres table %s: key column %q is not in the batches", engine.ErrSchema, s.table, k)
		}
		a.keyIdx = append(a.keyIdx, idx[0])
		if b := schema.FieldIndices(beforePrefix + k); len(b) > 0 {
			a.beforeKey = append(a.beforeKey, b[0])
		}
	}
	if len(a.beforeKey) != len(a.keyIdx) {
		a.beforeKey = nil
	}
	t := tableIdent(s.table).Sanitize()
	a.del = fmt.Sprintf("DELETE FROM %s WHERE %s", t, keyMatch(s.key, 1))
	if a.beforeKey != nil {
		params := make([]string, len(s.key))
		for i := range s.key {
			params[i] = fmt.Sprintf("$%d", len(s.key)+i+1)
		}
		a.moveKey = fmt.Sprintf("DELETE FROM %s WHERE %s AND (%s) IS DISTINCT FROM (%s)",
			t, keyMatch(s.key, 1), quoteAll(s.key), strings.Join(params, ", "))
	}
	s.cdc = a
	return arrow.NewSchema(fields, nil), nil
}

// keyMatch is "k1 = $from AND k2 = $from+1 …".
func keyMatch(key []string, from int) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = fmt.Sprintf("%s = $%d", quote(k), from+i)
	}
	return strings.Join(parts, " AND ")
}

// upsert is the statement for a row whose unchanged columns (TOAST values
// the change did not carry) are skip: they are left out of both the
// insert and the update, so the table keeps its value.
func (s *Sink) upsertSQL(skip string) string {
	a := s.cdc
	if q, ok := a.upserts[skip]; ok {
		return q
	}
	omit := strings.Split(skip, ",")
	var cols, params, set []string
	for _, c := range s.cols {
		if skip != "" && slices.Contains(omit, c) {
			continue
		}
		cols = append(cols, quote(c))
		params = append(params, fmt.Sprintf("$%d", len(params)+1))
		if !slices.Contains(s.key, c) {
			set = append(set, quote(c)+" = EXCLUDED."+quote(c))
		}
	}
	action := "DO NOTHING"
	if len(set) > 0 {
		action = "DO UPDATE SET " + strings.Join(set, ", ")
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) %s",
		tableIdent(s.table).Sanitize(), strings.Join(cols, ", "), strings.Join(params, ", "), quoteAll(s.key), action)
	a.upserts[skip] = q
	return q
}

// applyCDC queues rec's rows in order, one statement each, and sends
// them in one round trip within tx: an insert, delete and insert again of
// one key in a batch end as the source's table did.
func (s *Sink) applyCDC(ctx context.Context, tx pgx.Tx, rec arrow.RecordBatch) error {
	a := s.cdc
	ops, ok := rec.Column(a.op).(*array.String)
	if !ok {
		return engine.Permanent(fmt.Errorf("postgres: table %s: column %s is %s, not utf8", s.table, opCol, rec.Column(a.op).DataType()))
	}
	var unch *array.String
	if a.unch >= 0 {
		unch, _ = rec.Column(a.unch).(*array.String)
	}
	var b pgx.Batch
	for row := 0; row < int(rec.NumRows()); row++ {
		switch op := ops.Value(row); op {
		case opDelete:
			b.Queue(a.del, s.keyArgs(rec, a.keyIdx, row)...)
		case opSnapshot, opInsert, opUpdate:
			if op == opUpdate && a.beforeKey != nil && !rec.Column(a.beforeKey[0]).IsNull(row) {
				b.Queue(a.moveKey, append(s.keyArgs(rec, a.beforeKey, row), s.keyArgs(rec, a.keyIdx, row)...)...)
			}
			skip, omit := "", []string(nil)
			if unch != nil && unch.IsValid(row) {
				skip = unch.Value(row)
				omit = strings.Split(skip, ",")
			}
			args := make([]any, 0, len(a.data))
			for j, i := range a.data {
				if slices.Contains(omit, s.cols[j]) {
					continue
				}
				args = append(args, value(rec.Column(i), row))
			}
			b.Queue(s.upsertSQL(skip), args...)
		default:
			return engine.Permanent(fmt.Errorf("postgres: table %s: row %d: %s is %q, not one of snapshot, insert, update, delete", s.table, row, opCol, op))
		}
	}
	br := tx.SendBatch(ctx, &b)
	for i := 0; i < b.Len(); i++ {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return tableErr(s.table, "apply changes", err)
		}
	}
	if err := br.Close(); err != nil {
		return tableErr(s.table, "apply changes", err)
	}
	return nil
}

func (s *Sink) keyArgs(rec arrow.RecordBatch, idx []int, row int) []any {
	args := make([]any, len(idx))
	for i, c := range idx {
		args[i] = value(rec.Column(c), row)
	}
	return args
}
