package parquet

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Row groups: cutting the gathered batches and encoding them.
//
// Only whole row groups of groupRows rows are cut before Close; the rows
// past the last whole one stay pending for the next. (The writer used to
// encode all it held, so batches that a filter had shortened left a small
// row group behind every full one: W2's 976,824 rows made 7 row groups
// instead of 4.)
//
// A row group is encoded inside the Write call that completes it, on the
// sink's goroutine. Encoding it on a goroutine of its own while the next
// one gathers was tried (RATIONALE: "The Parquet writer: Snappy where it
// pays"): on two idle cores it changed W2's wall and CPU by nothing
// (1.00x, 0.99x; the stages and the reader already keep both cores busy)
// and held one more row group of Arrow data (+16-30 MiB peak RSS), so it
// was taken out.

// cut takes the pending rows as row groups of groupRows rows: all of them
// when final, else the whole row groups only, leaving the rest pending.
// The caller owns (releases) the returned records.
func (w *writer) cut(final bool) [][]arrow.RecordBatch {
	n := w.rows
	if !final {
		n -= w.rows % w.groupRows
	}
	if n == 0 {
		return nil
	}
	var groups [][]arrow.RecordBatch
	for off := int64(0); off < n; off += w.groupRows {
		groups = append(groups, sliceRecords(w.pending, off, min(off+w.groupRows, n)))
	}
	rest := sliceRecords(w.pending, n, w.rows)
	for _, r := range w.pending {
		r.Release()
	}
	w.pending = append(w.pending[:0], rest...)
	w.rows -= n
	return groups
}

// encode encodes groups and writes their pages to the file.
func (w *writer) encode(groups [][]arrow.RecordBatch) error {
	if w.err != nil {
		releaseGroups(groups)
		return w.err
	}
	for i, group := range groups {
		if w.cw == nil {
			tbl := array.NewTableFromRecords(w.schema, group)
			err := guard(func() error { return w.fw.WriteTable(tbl, w.groupRows) })
			tbl.Release()
			if err != nil {
				return w.fail(err, groups[i:])
			}
			releaseGroups(groups[i : i+1])
			continue
		}
		rgw, err := w.cw.wr.AppendBufferedRowGroupChecked()
		if err != nil {
			return w.fail(err, groups[i:])
		}
		err = guard(func() error { return w.cw.encodeColumns(rgw, group) })
		if err == nil {
			err = guard(rgw.Close)
		}
		if err != nil {
			return w.fail(err, groups[i:])
		}
		releaseGroups(groups[i : i+1])
	}
	return nil
}

// fail records err as the writer's error (the first one stays) and
// releases groups.
func (w *writer) fail(err error, groups [][]arrow.RecordBatch) error {
	releaseGroups(groups)
	if w.err == nil {
		w.err = fmt.Errorf("%s: write parquet row group: %w", w.name, err)
	}
	return w.err
}

func releaseGroups(groups [][]arrow.RecordBatch) {
	for _, g := range groups {
		for _, r := range g {
			r.Release()
		}
	}
}
