package blob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Position is the checkpoint of the file and s3 sources: which file or
// object of the path it was reading and how far. The engine saves it (JSON) when the rows before it
// are written, and hands it back through Resume on the next run.
type Position struct {
	// Path is the path or glob the source was configured with.
	Path string `json:"path"`
	// Stdin marks a position in standard input, which cannot be resumed:
	// a new run reads a new stream.
	Stdin bool `json:"stdin,omitempty"`
	// File is the file being read, Index its place in the sorted list of
	// files the path matched (0-based), Size and MtimeNs what the file
	// looked like when it was opened: a resume refuses a file that changed.
	File    string `json:"file"`
	Index   int    `json:"index"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	// ETag is the object's entity tag where the store has one (S3), checked
	// like Size and MtimeNs.
	ETag string `json:"etag,omitempty"`
	// Row counts the input records of File accounted for: rows delivered
	// plus rows rejected (a rejected row is handled, by on_error, once).
	// A reader batch whose rows are served in several slices has its
	// rejects counted with the first: of the batch that began at
	// BatchStart, Row-BatchStart covers the rejects, then rows in order.
	Row int64 `json:"row"`
	// Done is set when File was read to its end: a resume starts at the
	// first file sorting after it, and File itself is not checked again.
	Done bool `json:"done,omitempty"`
	// BatchStart is Row where the format reader's current batch began and
	// BatchRows the batch size that reader was opened with. Text readers
	// return a batch's rejected rows apart from its good rows, so a
	// position inside a batch with rejects is only exact when the resumed
	// reader cuts the same batches: it is opened with the same BatchRows
	// and checks that a batch starts at BatchStart.
	BatchStart int64 `json:"batch_start,omitempty"`
	BatchRows  int   `json:"batch_rows,omitempty"`
	// Unit, UnitIndex and UnitRow say where Row lies in a binary format's
	// storage: "row group" (Parquet), "record batch" (Arrow IPC) or
	// "block" (Avro), its 0-based index and the row within it. Shown to
	// the user; Resume needs only Row.
	Unit      string `json:"unit,omitempty"`
	UnitIndex int64  `json:"unit_index,omitempty"`
	UnitRow   int64  `json:"unit_row,omitempty"`
}

// String is the position as weave positions and the run summary show it.
func (p Position) String() string {
	if p.Stdin {
		return fmt.Sprintf("stdin row %d", p.Row)
	}
	where := p.File
	if p.File != p.Path {
		where = fmt.Sprintf("%s (file %d of %s)", p.File, p.Index+1, p.Path)
	}
	if p.Done {
		return where + " read to its end"
	}
	s := fmt.Sprintf("%s row %d", where, p.Row)
	if p.Unit != "" {
		s += fmt.Sprintf(" (%s %d, row %d)", p.Unit, p.UnitIndex, p.UnitRow)
	}
	return s
}

// ErrResume is wrapped by every refusal of a saved position.
var ErrResume = errors.New("cannot resume from the saved position")

// resumeHint tells the user the two ways out of a position that cannot be
// honoured.
const resumeHint = "run with --from-start (weave run --from-start) to read everything again, " +
	"or forget the position with weave positions FILE --reset"

// CanResume is false for stdin (engine.MaybeResumer): each run reads a
// new stream, so a pipeline reading it keeps no positions at all and a
// second `cat x | weave run p.yaml` reads everything like the first.
func (s *Source) CanResume() bool { return !s.stream }

// Resume makes the next Open continue after pos, a Position saved by an
// earlier run (engine.Resumer). Open checks it against the files.
func (s *Source) Resume(pos []byte) error {
	if len(pos) == 0 || string(pos) == "null" {
		s.resume = nil
		return nil
	}
	var p Position
	if err := json.Unmarshal(pos, &p); err != nil {
		return fmt.Errorf("%s: %w: the position is not one this source saved (%v); %s", s.kind, ErrResume, err, resumeHint)
	}
	if s.stream || p.Stdin {
		return fmt.Errorf("%s: %w (%s): standard input cannot be resumed, a new run reads a new stream; %s", s.kind, ErrResume, p, resumeHint)
	}
	if p.Path != s.path {
		return fmt.Errorf("%s: %w (%s): it was saved for path %s, the source now reads %s; %s", s.kind, ErrResume, p, p.Path, s.path, resumeHint)
	}
	if p.Row < 0 || p.BatchStart < 0 || p.BatchStart > p.Row {
		return fmt.Errorf("%s: %w (%s): row %d, batch start %d do not make a position; %s", s.kind, ErrResume, p, p.Row, p.BatchStart, resumeHint)
	}
	s.resume = &p
	return nil
}

// resumeAt is where Open continues: the file at index, of which the first
// row records are accounted for.
type resumeAt struct {
	index      int
	row        int64
	batchStart int64
	batchRows  int
}

// planResume checks the saved position against the files Open found and
// returns where reading continues (nil: from the start). Files sorting
// before the position's file were read whole by earlier runs and are
// skipped; files sorting after it (new ones in a growing directory
// included) are read. The position's file itself must be exactly as it was
// (size and modification time), or rows would be skipped or read twice.
func (s *Source) planResume(listErr error) (*resumeAt, error) {
	p := s.resume
	if p == nil {
		if listErr != nil {
			return nil, fmt.Errorf("%s: %w", s.kind, listErr)
		}
		return nil, nil
	}
	if p.Done {
		if listErr != nil {
			return nil, fmt.Errorf("%s: %w", s.kind, listErr)
		}
		i := 0
		for i < len(s.objs) && s.objs[i].Name <= p.File {
			if o := s.objs[i]; o.Name == p.File && (o.Size != p.Size || o.MtimeNs != p.MtimeNs || o.ETag != p.ETag) {
				// Not an error: the file was read whole, and a growing
				// directory is ingested by new files. But rows appended
				// to a finished file would otherwise vanish unnoticed.
				s.log.Warn(s.kind+": a file read to its end by an earlier run has changed since; what was added to it is not read",
					"file", p.File, "size_then", p.Size, "size_now", s.objs[i].Size,
					"hint", "write new files instead, or run with --from-start to read everything again")
			}
			i++
		}
		return &resumeAt{index: i}, nil
	}
	i := -1
	for j, o := range s.objs {
		if o.Name == p.File {
			i = j
		}
	}
	if i < 0 {
		why := "no longer exists"
		if listErr != nil {
			why = listErr.Error()
		}
		return nil, fmt.Errorf("%s: %w (%s): %s %s; %s", s.kind, ErrResume, p, p.File, why, resumeHint)
	}
	size, mtime, etag := s.objs[i].Size, s.objs[i].MtimeNs, s.objs[i].ETag
	if size != p.Size || mtime != p.MtimeNs || etag != p.ETag {
		var what []string
		if size != p.Size {
			what = append(what, fmt.Sprintf("size %d → %d bytes", p.Size, size))
		}
		if mtime != p.MtimeNs {
			what = append(what, fmt.Sprintf("modified %s → %s", stamp(p.MtimeNs), stamp(mtime)))
		}
		if etag != p.ETag {
			what = append(what, fmt.Sprintf("ETag %s → %s", p.ETag, etag))
		}
		return nil, fmt.Errorf("%s: %w (%s): %s changed since the position was saved (%s), so row %d may no longer be where reading stopped; %s", s.kind,
			ErrResume, p, p.File, strings.Join(what, ", "), p.Row, resumeHint)
	}
	return &resumeAt{index: i, row: p.Row, batchStart: p.BatchStart, batchRows: p.BatchRows}, nil
}

func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// skipFiles moves past the first n files, which earlier runs read whole:
// their bytes count as done. The first file is still opened (and closed)
// for its schema, which applies to the whole glob as it did in the run
// that read it; with a declared schema that costs a header.
func (s *Source) skipFiles(ctx context.Context, n int) error {
	if err := s.openNext(ctx); err != nil {
		return err
	}
	o := s.cur
	s.cur = nil
	if err := s.closeOpen(o); err != nil {
		return fmt.Errorf("%s: %s: %w", s.kind, o.name, err)
	}
	var done int64
	for _, o := range s.objs[:n] {
		done += o.Size
	}
	s.read.Store(done)
	s.reported = done
	s.next = n
	return nil
}
