package http

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/engine"
)

// assembled is one batch's worth of rows taken from requests.
type assembled struct {
	pieces  []arrow.RecordBatch
	rejects []engine.RowError
	bytes   int64
	batch   int64
	// traceParent is the first traced request's: a batch has one parent
	// span, so the other requests in it are not linked to it.
	traceParent string
}

// assemble takes rows from the current request and then from queued ones
// until the batch is full or the queue empty; sv.mu is held. A request
// whose last rows are in the batch is answered when the batch is acked.
func (sv *server) assemble() assembled {
	var a assembled
	var done []*request
	room := int64(sv.cfg.batchRows)
	for {
		r := sv.cur
		if r == nil {
			if room == 0 || len(sv.queue) == 0 {
				break
			}
			r = sv.queue[0]
			sv.queue[0] = nil
			sv.queue = sv.queue[1:]
			sv.take(r)
			a.rejects = append(a.rejects, r.rejects...)
			r.rejects = nil
			a.bytes += r.bytes
			sv.cur = r
		}
		if a.traceParent == "" {
			a.traceParent = r.traceParent
		}
		for room > 0 && !r.exhausted() {
			rec := r.recs[r.next]
			left := rec.NumRows() - r.off
			n := min(left, room)
			if r.off == 0 && n == left {
				a.pieces = append(a.pieces, rec) // the whole record changes hands
				r.recs[r.next] = nil
			} else {
				a.pieces = append(a.pieces, rec.NewSlice(r.off, r.off+n))
			}
			r.off += n
			room -= n
			if r.off == rec.NumRows() {
				if r.recs[r.next] != nil {
					rec.Release()
					r.recs[r.next] = nil
				}
				r.next++
				r.off = 0
			}
		}
		if !r.exhausted() {
			break
		}
		done = append(done, r)
		sv.cur = nil
	}
	a.batch = sv.batch
	sv.batch++
	sv.unacked = append(sv.unacked, unacked{batch: a.batch, done: done})
	return a
}

// batchOf joins a batch's pieces into one record.
func (sv *server) batchOf(a assembled) (*engine.Batch, error) {
	b := &engine.Batch{Rejects: a.rejects, Checkpoint: checkpoint{Run: sv.run, Batch: a.batch}, Bytes: a.bytes, TraceParent: a.traceParent}
	switch len(a.pieces) {
	case 0:
	case 1:
		b.Record = a.pieces[0]
	default:
		rec, err := concat(sv.cfg, a.pieces)
		if err != nil {
			return nil, err
		}
		b.Record = rec
	}
	return b, nil
}

// concat joins records of the source's schema and releases them.
func concat(cfg serverConfig, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	cols := make([]arrow.Array, cfg.schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(recs))
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for c := range cols {
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		a, err := array.Concatenate(parts, cfg.mem)
		if err != nil {
			return nil, fmt.Errorf("http source: join requests into a batch: %w", err)
		}
		cols[c] = a
	}
	return array.NewRecordBatch(cfg.schema, cols, rows), nil
}
