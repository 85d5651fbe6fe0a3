package blob

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
)

// fetched is one result of a format reader's Next, kept for later.
type fetched struct {
	rec     arrow.RecordBatch
	rejects []format.RowError
	err     error
}

// fetch returns the reader's next batch, the one atEnd looked ahead at
// first.
func (o *open) fetch() (arrow.RecordBatch, []format.RowError, error) {
	if a := o.ahead; a != nil {
		o.ahead = nil
		return a.rec, a.rejects, a.err
	}
	if o.eof {
		return nil, nil, io.EOF
	}
	return o.reader.Next()
}

// atEnd reports whether the reader has nothing after what was served, by
// reading its next batch ahead. A batch that ends its file then carries a
// position pointing past the file, so a resume neither reopens nor checks
// a file that was read whole (a log rotated away, a finished file
// appended to). It costs one batch held in memory, which a text reader's
// pipeline decodes ahead anyway; stdin is never looked ahead on, as that
// would hold a batch back until the next one arrives.
func (o *open) atEnd() bool {
	for o.ahead == nil && !o.eof {
		rec, rejects, err := o.reader.Next()
		switch {
		case errors.Is(err, io.EOF) && len(rejects) == 0:
			if rec != nil {
				rec.Release()
			}
			o.eof = true
		case err == nil && (rec == nil || rec.NumRows() == 0) && len(rejects) == 0:
			if rec != nil {
				rec.Release()
			}
		default:
			o.ahead = &fetched{rec: rec, rejects: rejects, err: err}
		}
	}
	return o.ahead == nil && o.eof
}

// discard drops, from a batch of a resumed text file, the records earlier
// runs accounted for. Text rows carry no index a reader could seek to, so
// they are decoded and dropped: simple, and exact by construction, at the
// cost of decoding what is skipped (byte offsets would need the format
// readers to report where each batch ends in the input, and gzip or zstd
// input cannot be entered in the middle anyway).
//
// A batch's rejects come apart from its rows, so which of its records a
// position inside it covers is only known for the batch the position was
// counted in: there the rejects were counted first (they go out with the
// first slice). The file is reopened with the saved batch size, which
// cuts the same batches again; a position inside some other batch with
// rejects is refused rather than guessed.
func (s *Source) discard(rec arrow.RecordBatch, out []engine.RowError) (arrow.RecordBatch, []engine.RowError, error) {
	o := s.cur
	var rows int64
	if rec != nil {
		rows = rec.NumRows()
	}
	if n := rows + int64(len(out)); n <= o.skip {
		o.row += n
		o.skip -= n
		if rec != nil {
			rec.Release()
		}
		return nil, nil, nil
	}
	off := o.skip
	if len(out) > 0 {
		if o.row != o.skipStart || off < int64(len(out)) {
			if rec != nil {
				rec.Release()
			}
			return nil, nil, fmt.Errorf("%s: %w: row %d of %s lies inside a batch with rejected rows that is cut differently from the run that saved it (did max_record_bytes change?); %s", s.kind,
				ErrResume, o.row+o.skip, o.name, resumeHint)
		}
		off -= int64(len(out))
		out = nil
	}
	o.row += o.skip
	o.skip = 0
	if off > 0 {
		cut := rec.NewSlice(off, rows)
		rec.Release()
		rec = cut
	}
	return rec, out, nil
}

// position is the checkpoint of the batch just served from the current
// file.
func (s *Source) position() Position {
	o := s.cur
	p := Position{Path: s.path, File: o.name, Index: o.index, Size: o.size, MtimeNs: o.mtime, ETag: o.etag, Row: o.row}
	if s.stream {
		p.Stdin, p.Size = true, 0
		return p
	}
	if s.format.Text {
		p.BatchStart, p.BatchRows = o.batchStart, o.batchRows
	}
	// Before atEnd: looking ahead moves the reader on.
	p.Unit, p.UnitIndex, p.UnitRow = s.unit()
	if s.pending == nil && o.atEnd() {
		p.Done = true
		p.Unit, p.UnitIndex, p.UnitRow = "", 0, 0
	}
	return p
}

// unit says where the next row of the current file lies in a binary
// format's storage, when its reader tells ("" otherwise).
func (s *Source) unit() (string, int64, int64) {
	switch r := s.cur.reader.(type) {
	case interface{ RowGroupRows() []int64 }:
		row := s.cur.row
		for g, n := range r.RowGroupRows() {
			if row < n {
				return "row group", int64(g), row
			}
			row -= n
		}
	case interface{ RecordBatchStart() (int64, int64) }:
		b, off := r.RecordBatchStart()
		if s.pending != nil {
			return "record batch", b, off + s.pendingOff
		}
		return "record batch", b + 1, 0
	case interface{ BlockPosition() (int64, int64) }:
		if s.pending == nil {
			b, row := r.BlockPosition()
			return "block", b, row
		}
	}
	return "", 0, 0
}
