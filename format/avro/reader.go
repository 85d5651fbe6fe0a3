package avro

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	hamba "github.com/hamba/avro/v2"
)

const defaultBatchRows = 65536

// NewReader reads an Avro object container file as a stream (no random
// access needed). A record schema's fields become columns; any other
// top-level schema becomes one column named "value". Rows are decoded
// straight into Arrow builders.
func NewReader(in format.Input, opts format.ReadOptions) (format.Reader, error) {
	mem := opts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	batch := opts.BatchRows
	if batch <= 0 {
		batch = defaultBatchRows
	}
	r := &reader{name: in.Name, br: bufio.NewReaderSize(in.R, 256<<10), batch: batch, skip: max(opts.SkipRows, 0)}
	h, err := readHeader(r.br)
	if err != nil {
		return nil, r.malformed(err)
	}
	r.sync = h.sync
	// A private cache: named types of one file must not leak into, or
	// clash with, another file's schema.
	schema, err := hamba.ParseBytesWithCache(h.meta["avro.schema"], "", &hamba.SchemaCache{})
	if err != nil {
		return nil, r.malformed(fmt.Errorf("avro.schema: %w", err))
	}
	if r.schema, err = arrowSchema(schema); err != nil {
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	if r.decompress, r.closeCodec, err = newDecompressor(string(h.meta["avro.codec"])); err != nil {
		return nil, r.malformed(err)
	}
	r.rb = array.NewRecordBuilder(mem, r.schema)
	if r.decode, err = rowDecoder(schema, r.rb); err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	return r, nil
}

// arrowSchema maps the file's schema to the Arrow schema of the batches.
func arrowSchema(s hamba.Schema) (*arrow.Schema, error) {
	if rs, ok := s.(*hamba.RecordSchema); ok {
		dt, _, err := toArrowType(rs, map[string]bool{})
		if err != nil {
			return nil, err
		}
		return arrow.NewSchema(dt.(*arrow.StructType).Fields(), nil), nil
	}
	f, err := toArrowField("value", s, map[string]bool{})
	if err != nil {
		return nil, err
	}
	return arrow.NewSchema([]arrow.Field{f}, nil), nil
}

func rowDecoder(s hamba.Schema, rb *array.RecordBuilder) (decodeFn, error) {
	rs, ok := s.(*hamba.RecordSchema)
	if !ok {
		return newDecoder(s, rb.Field(0))
	}
	fields := make([]decodeFn, len(rs.Fields()))
	for i, f := range rs.Fields() {
		d, err := newDecoder(f.Type(), rb.Field(i))
		if err != nil {
			return nil, err
		}
		fields[i] = d
	}
	return func(c *cursor) {
		for _, d := range fields {
			d(c)
		}
	}, nil
}

type reader struct {
	name       string
	br         *bufio.Reader
	sync       [16]byte
	schema     *arrow.Schema
	decompress decompressor
	closeCodec func()
	rb         *array.RecordBuilder
	decode     decodeFn
	batch      int

	block  cursor // current decompressed block
	left   int64  // records left in block
	count  int64  // records in the current block
	blocks int64  // blocks started
	record int64  // records read or skipped so far, for error messages
	skip   int64  // records still to skip (ReadOptions.SkipRows)
	err    error  // sticky: the input is unreadable past this point
}

// BlockPosition returns where the next record lies: the 0-based index of
// its block and how many records of that block come before it.
func (r *reader) BlockPosition() (block, row int64) {
	if r.left == 0 {
		return r.blocks, 0
	}
	return r.blocks - 1, r.count - r.left
}

func (r *reader) Schema() *arrow.Schema { return r.schema }

func (r *reader) Next() (arrow.RecordBatch, []format.RowError, error) {
	if r.err != nil {
		return nil, nil, r.err
	}
	if r.skip > 0 {
		if err := r.skipRecords(); err != nil {
			r.err = r.malformed(err)
			r.dropRows()
			return nil, nil, r.err
		}
	}
	rows := 0
	for rows < r.batch {
		if r.left == 0 {
			more, err := r.nextBlock(false)
			if err != nil {
				r.err = r.malformed(err)
				r.dropRows()
				return nil, nil, r.err
			}
			if !more {
				break
			}
			continue
		}
		r.decode(&r.block)
		if r.block.err != nil {
			r.err = r.malformed(fmt.Errorf("record %d: %w", r.record+1, r.block.err))
			r.dropRows()
			return nil, nil, r.err
		}
		r.left--
		r.record++
		rows++
		if r.left == 0 && r.block.off != len(r.block.b) {
			r.err = r.malformed(fmt.Errorf("block ending at record %d has %d bytes left over", r.record, len(r.block.b)-r.block.off))
			r.dropRows()
			return nil, nil, r.err
		}
	}
	if rows == 0 {
		r.err = io.EOF
		return nil, nil, io.EOF
	}
	return r.rb.NewRecordBatch(), nil, nil
}

// skipRecords passes over the first SkipRows records: whole blocks
// without decompressing or decoding them, then the records before the
// position in its block decoded and dropped (a block's records have no
// index; each must be decoded to find where the next begins).
func (r *reader) skipRecords() error {
	for r.skip > 0 {
		if r.left == 0 {
			more, err := r.nextBlock(true)
			if err != nil {
				return err
			}
			if !more {
				return fmt.Errorf("cannot skip %d records: the file ends after %d", r.record+r.skip, r.record)
			}
			continue
		}
		n := min(r.skip, r.left)
		for range n {
			r.decode(&r.block)
			if r.block.err != nil {
				return fmt.Errorf("record %d: %w", r.record+1, r.block.err)
			}
			r.record++
		}
		r.left -= n
		r.skip -= n
		r.rb.NewRecordBatch().Release()
	}
	return nil
}

// nextBlock reads and decompresses the next block; false at a clean end.
// With skip, a block of no more records than are left to skip is passed
// over unread instead (its data is not decompressed, only its sync marker
// checked) and the next one is read.
func (r *reader) nextBlock(skip bool) (bool, error) {
	count, err := binary.ReadVarint(r.br)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("block header: %w", err)
	}
	size, err := binary.ReadVarint(r.br)
	if err != nil {
		return false, fmt.Errorf("block header: %w", err)
	}
	if skip && count >= 0 && count <= r.skip {
		if size < 0 || size > maxBlockBytes {
			return false, fmt.Errorf("block after record %d: length %d is outside 0..%d", r.record, size, maxBlockBytes)
		}
		if _, err := io.CopyN(io.Discard, r.br, size); err != nil {
			return false, fmt.Errorf("block after record %d: truncated: %w", r.record, io.ErrUnexpectedEOF)
		}
		var sync [16]byte
		if _, err := io.ReadFull(r.br, sync[:]); err != nil || sync != r.sync {
			return false, fmt.Errorf("block after record %d: sync marker missing or wrong", r.record)
		}
		r.blocks++
		r.record += count
		r.skip -= count
		return true, nil
	}
	data, err := readN(r.br, size, maxBlockBytes)
	if err != nil {
		return false, fmt.Errorf("block after record %d: %w", r.record, err)
	}
	var sync [16]byte
	if _, err := io.ReadFull(r.br, sync[:]); err != nil || sync != r.sync {
		return false, fmt.Errorf("block after record %d: sync marker missing or wrong", r.record)
	}
	if data, err = r.decompress(data); err != nil {
		return false, fmt.Errorf("block after record %d: %w", r.record, err)
	}
	// Records take at least a byte unless the schema is all nulls; the
	// slack lets such files through while a corrupt count still fails.
	if count < 0 || count > int64(len(data))+1<<20 {
		return false, fmt.Errorf("block after record %d claims %d records in %d bytes", r.record, count, len(data))
	}
	r.block = newCursor(data)
	r.left, r.count = count, count
	r.blocks++
	return true, nil
}

// dropRows frees the builders after a fatal error; no record can be built
// from them because a row may be half decoded (Next returns the sticky
// error from now on).
func (r *reader) dropRows() {
	r.rb.Release()
	r.rb = nil
}

func (r *reader) Close() error {
	if r.rb != nil {
		r.rb.Release()
		r.rb = nil
	}
	if r.closeCodec != nil {
		r.closeCodec()
		r.closeCodec = nil
	}
	return nil
}

func (r *reader) malformed(err error) error {
	return fmt.Errorf("%s: %w: avro: %w", r.name, format.ErrMalformed, err)
}
