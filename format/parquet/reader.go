package parquet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/arrowcheck"
)

const defaultBatchRows = 65536

// NewReader opens a Parquet file. Parquet keeps its metadata in a footer,
// so the reader needs random access: in.RA when the input is a regular file,
// otherwise the whole input is read into memory first.
func NewReader(in format.Input, opts format.ReadOptions) (format.Reader, error) {
	mem := opts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	batch := opts.BatchRows
	if batch <= 0 {
		batch = defaultBatchRows
	}

	var src pq.ReaderAtSeeker
	srcSize := in.Size
	if in.RA != nil {
		src = io.NewSectionReader(in.RA, 0, in.Size)
	} else {
		data, err := io.ReadAll(in.R)
		if err != nil {
			return nil, fmt.Errorf("%s: read parquet input: %w", in.Name, err)
		}
		src = bytes.NewReader(data)
		srcSize = int64(len(data))
	}

	r := &reader{name: in.Name, mem: mem, batch: int64(batch)}
	err := guard(func() error {
		// The file's metadata is read once to decide how to read it.
		meta, err := file.NewParquetReader(src)
		if err != nil {
			return err
		}
		libMem, libBatch := mem, int64(batch)
		if rows, ok := deltaEncoded(meta); ok {
			// arrow-go v15's DELTA_* decoders fail when a batch ends in
			// the middle of a page and never free their scratch buffer.
			// Read such files a whole row group at a time from the garbage
			// collected allocator, then copy and slice into mem.
			libMem, libBatch = memory.NewGoAllocator(), max(rows, 1)
			r.copyTo = true
		}
		// pqarrow decodes the stored Arrow schema without checks; a
		// corrupt one can make it loop forever.
		if err := checkStoredSchema(meta.MetaData().KeyValueMetadata()); err != nil {
			_ = meta.Close()
			return err
		}
		if err := checkPages(meta, src, srcSize); err != nil {
			_ = meta.Close()
			return err
		}
		_ = meta.Close()

		// Pages are decompressed into buffers from the reader properties'
		// allocator, records are built from pqarrow's. arrow-go v15 never
		// releases V2 data page buffers, so pages come from the garbage
		// collected allocator while records still use mem.
		props := pq.NewReaderProperties(memory.NewGoAllocator())
		// Read column chunks page by page instead of whole, so a batch
		// costs memory in proportion to the batch, not to the row group.
		props.BufferedStreamEnabled = true
		pf, err := file.NewParquetReader(src, file.WithReadProps(props))
		if err != nil {
			return err
		}
		r.pf = pf
		groups, err := r.skipGroups(opts.SkipRows)
		if err != nil {
			return err
		}
		if directRead && !r.copyTo {
			if r.direct, err = newDirect(pf, src, srcSize, groups, int64(batch), mem); err != nil {
				return err
			}
			if r.direct != nil {
				r.restore = newRestorer(r.direct.schema, pf.MetaData().KeyValueMetadata(), mem)
				return nil
			}
		}
		arrowProps := pqarrow.ArrowReadProperties{BatchSize: libBatch, Parallel: false}
		if !r.copyTo {
			// Dictionary-encoded string columns are read as dictionaries
			// and expanded by the reader (dictread.go).
			manifest, err := pqarrow.NewSchemaManifest(pf.MetaData().Schema, pf.MetaData().KeyValueMetadata(), &arrowProps)
			if err != nil {
				return err
			}
			for _, c := range dictColumns(pf, manifest, groups) {
				arrowProps.SetReadDict(c, true)
			}
		}
		fr, err := pqarrow.NewFileReader(pf, arrowProps, libMem)
		if err != nil {
			return err
		}
		r.rr, err = fr.GetRecordReader(context.Background(), nil, groups)
		if err != nil {
			return err
		}
		read := r.rr.Schema()
		for i, f := range read.Fields() {
			if _, ok := f.Type.(*arrow.DictionaryType); ok && arrowProps.ReadDict(fr.Manifest.Fields[i].ColIndex) {
				r.expand = append(r.expand, i)
			}
		}
		if len(r.expand) > 0 {
			read = plainSchema(read, r.expand)
			r.plain = read
		}
		r.restore = newRestorer(read, pf.MetaData().KeyValueMetadata(), mem)
		if schemaNested(r.rr.Schema()) {
			return predecode(pf, fr.Manifest, libMem)
		}
		return nil
	})
	if err != nil {
		r.Close()
		return nil, r.malformed("open parquet file", err)
	}
	return r, nil
}

type reader struct {
	name  string
	mem   memory.Allocator
	batch int64
	// copyTo: records come from a private allocator in batches of a whole
	// row group and are copied to mem and sliced to batch rows (see NewReader).
	copyTo bool
	cur    arrow.RecordBatch // copied record being sliced
	off    int64
	// gotRows and wantRows catch silent truncation: when a page header is
	// corrupt, pqarrow ends the column early with io.EOF instead of an error.
	gotRows, wantRows int64
	pf                *file.Reader
	rr                pqarrow.RecordReader
	// direct decodes the file instead of rr when it can (direct.go).
	direct *directReader
	// expand lists the columns read as dictionaries to expand into plain
	// ones of plain's types (dictread.go).
	expand []int
	plain  *arrow.Schema
	// restore gives columns the types of the stored Arrow schema.
	restore *restorer
	// groupRows is each row group's row count; drop is how many rows of
	// the first row group read are still to be skipped (ReadOptions.SkipRows).
	groupRows []int64
	drop      int64
	skipped   int64 // compressed bytes of the row groups left out
}

// skipGroups returns the row groups to read so that the first skip rows
// are not decoded: whole row groups are left out using the footer's row
// counts (nil: all of them), and the rows of the group the position falls
// in are left for Next to drop. It sets wantRows to what remains.
func (r *reader) skipGroups(skip int64) ([]int, error) {
	md := r.pf.MetaData()
	r.groupRows = make([]int64, r.pf.NumRowGroups())
	for g := range r.groupRows {
		r.groupRows[g] = md.RowGroup(g).NumRows()
	}
	r.wantRows = r.pf.NumRows()
	if skip <= 0 {
		return nil, nil
	}
	if skip > r.wantRows {
		return nil, fmt.Errorf("cannot skip %d rows: the file holds %d", skip, r.wantRows)
	}
	groups := []int{} // empty, not nil: every row is skipped
	var start int64
	for g, n := range r.groupRows {
		switch {
		case start+n <= skip:
			r.wantRows -= n
			rg := md.RowGroup(g)
			for c := 0; c < rg.NumColumns(); c++ {
				if cc, err := rg.ColumnChunk(c); err == nil {
					r.skipped += cc.TotalCompressedSize()
				}
			}
		case len(groups) == 0:
			groups = append(groups, g)
			r.drop = skip - start
		default:
			groups = append(groups, g)
		}
		start += n
	}
	return groups, nil
}

// RowGroupRows returns the row count of each row group, for a caller that
// describes a position as a row group and a row within it.
func (r *reader) RowGroupRows() []int64 { return r.groupRows }

// SkippedBytes returns the size of the row groups SkipRows left out
// unread, for a caller that counts them as done in its progress.
func (r *reader) SkippedBytes() int64 { return r.skipped }

func (r *reader) Schema() *arrow.Schema { return r.restore.schema }

func (r *reader) Next() (arrow.RecordBatch, []format.RowError, error) {
	for {
		if r.cur != nil && r.off < r.cur.NumRows() {
			end := min(r.off+r.batch, r.cur.NumRows())
			out := r.cur.NewSlice(r.off, end)
			r.off = end
			return out, nil, nil
		}
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		rec, rejects, err := r.next()
		if err != nil {
			return rec, rejects, err
		}
		off := int64(0)
		if r.drop > 0 {
			// Rows before the resume position in its row group.
			n := rec.NumRows()
			if n <= r.drop {
				r.drop -= n
				rec.Release()
				continue
			}
			off, r.drop = r.drop, 0
			if !r.copyTo {
				out := rec.NewSlice(off, n)
				rec.Release()
				return out, nil, nil
			}
		}
		if !r.copyTo {
			return rec, rejects, nil
		}
		r.cur, r.off = rec, off
	}
}

// next returns the next record as pqarrow reads it, restored and copied.
func (r *reader) next() (rec arrow.RecordBatch, _ []format.RowError, err error) {
	err = guard(func() error {
		var err error
		if r.direct != nil {
			if rec, err = r.direct.next(); err != nil {
				return err
			}
		} else {
			if !r.rr.Next() {
				if err := r.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				return io.EOF
			}
			rec = r.rr.RecordBatch()
			rec.Retain() // the record reader releases it on the next call
		}
		if len(r.expand) > 0 {
			if rec, err = expandColumns(rec, r.expand, r.plain, r.mem); err != nil {
				return err
			}
		}
		if rec, err = r.restore.apply(rec); err != nil {
			return err
		}
		if err := arrowcheck.Record(rec); err != nil {
			return err
		}
		if !r.copyTo {
			return nil
		}
		rec, err = copyRecord(rec, r.mem)
		return err
	})
	if errors.Is(err, io.EOF) {
		if r.gotRows != r.wantRows {
			return nil, nil, r.malformed("read parquet batch", fmt.Errorf("the footer declares %d rows but only %d could be read", r.wantRows, r.gotRows))
		}
		return nil, nil, io.EOF
	}
	if err != nil {
		if rec != nil {
			rec.Release()
		}
		return nil, nil, r.malformed("read parquet batch", err)
	}
	r.gotRows += rec.NumRows()
	return rec, nil, nil
}

func (r *reader) Close() error {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.rr != nil {
		r.rr.Release()
		r.rr = nil
	}
	if r.pf != nil {
		err := r.pf.Close()
		r.pf = nil
		if err != nil {
			return fmt.Errorf("%s: close parquet file: %w", r.name, err)
		}
	}
	return nil
}

// guard turns a panic inside the parquet library (which it raises on some
// corrupt pages, e.g. a dictionary index out of range) into an error, so a
// bad file never takes the process down.
func guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet library panicked: %v", p)
		}
	}()
	return fn()
}

func (r *reader) malformed(what string, err error) error {
	return fmt.Errorf("%s: %s: %w: %w", r.name, what, format.ErrMalformed, err)
}

// deltaEncoded reports whether any column chunk uses a DELTA_* encoding,
// and the largest row group's row count.
func deltaEncoded(pf *file.Reader) (maxRows int64, found bool) {
	md := pf.MetaData()
	for i := 0; i < pf.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		maxRows = max(maxRows, rg.NumRows())
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				continue
			}
			for _, e := range cc.Encodings() {
				switch e {
				case pq.Encodings.DeltaBinaryPacked, pq.Encodings.DeltaLengthByteArray, pq.Encodings.DeltaByteArray:
					found = true
				}
			}
		}
	}
	return maxRows, found
}

// copyRecord copies rec's columns into mem and releases rec.
func copyRecord(rec arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	defer rec.Release()
	cols := make([]arrow.Array, 0, rec.NumCols())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, c := range rec.Columns() {
		cp, err := array.Concatenate([]arrow.Array{c}, mem)
		if err != nil {
			return nil, err
		}
		cols = append(cols, cp)
	}
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows()), nil
}
