package parquet

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Row groups: cutting the gathered batches and encoding them in the
// background.
//
// The writer used to encode a row group inside the Write call that
// completed it, so the sink stopped taking batches for as long as that
// took; the engine's queues in front of it filled within a few batches and
// the source and stages stopped too. With two cores the run alternated
// between reading alone (gathering a row group) and encoding alone. Now,
// on the parallel path (colwriter.go), Write starts encoding the columns
// of the row group it completed on a goroutine and returns; the next
// Write that completes a row group, and Close, wait for it and then write
// its pages to the file. Only the encoding runs in the background: the
// pages stay in memory (arrow-go's buffered row group) until the sink's
// own goroutine writes them, because the sink writes to the same
// io.Writer (it flushes its buffer at every Flush). The file is the same
// bytes as before. The cost is memory: up to two row groups of Arrow
// data (one gathering, one encoding) and one row group's pages. Nested
// schemas (pqarrow's FileWriter, which writes as it encodes) stay in the
// foreground.
//
// Only whole row groups of groupRows rows are cut before Close; the rows
// past the last whole one stay pending for the next. (The writer used to
// encode all it held, so batches that a filter had shortened left a small
// row group behind every full one: W2's 976,824 rows made 7 row groups
// instead of 4.)

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

// encode finishes the row group being encoded in the background, then
// encodes groups, the last of them in the background when allowed.
func (w *writer) encode(groups [][]arrow.RecordBatch, background bool) error {
	if err := w.finish(); err != nil {
		releaseGroups(groups)
		return err
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
		if background && i == len(groups)-1 {
			done := make(chan error, 1)
			w.encoding, w.rgw = done, rgw
			go func() {
				defer releaseGroups(groups[i:])
				done <- guard(func() error { return w.cw.encodeColumns(rgw, group) })
			}()
			return nil
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

// finish waits for the row group being encoded in the background, if
// any, and writes its pages to the file. It returns the first error of
// the writer's row groups.
func (w *writer) finish() error {
	if w.encoding == nil {
		return w.err
	}
	err := <-w.encoding
	if err == nil {
		err = guard(w.rgw.Close)
	}
	w.encoding, w.rgw = nil, nil
	if err != nil {
		return w.fail(err, nil)
	}
	return w.err
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
