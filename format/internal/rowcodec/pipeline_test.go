package rowcodec

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/format"
)

// lines splits on "\n" only; enough for these tests.
func lines(buf []byte, pos int, _ bool) (int, int, Status) {
	if k := bytes.IndexByte(buf[pos:], '\n'); k >= 0 {
		return pos + k + 1, 1, Complete
	}
	return 0, 0, NeedMore
}

// rowSource yields n rows of width bytes (newline included) without
// holding them all.
type rowSource struct {
	row  []byte
	left int
	off  int
}

func (r *rowSource) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) && r.left > 0 {
		m := copy(b[n:], r.row[r.off:])
		n, r.off = n+m, r.off+m
		if r.off == len(r.row) {
			r.off, r.left = 0, r.left-1
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// sizeDecoder records, for every chunk, its length and the capacity of the
// buffer it arrived in, and returns a record of no columns.
type sizeDecoder struct {
	seen chan<- [2]int
}

func (d sizeDecoder) Decode(c *Chunk) (arrow.RecordBatch, []format.RowError, error) {
	d.seen <- [2]int{len(c.Data), cap(*c.buf)}
	return array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, int64(CountNL(c.Data))), nil, nil
}

// TestChunkBuffersFitChunks reads many chunks and checks that each arrives
// in a buffer sized from the chunks before it, not the power of two the
// first chunk's buffer grew to: that excess, read ahead only to be copied
// on, was 6 MiB of every 16 MiB buffer at the default 65,536 rows of 150
// bytes, and a reader holds several buffers at once.
func TestChunkBuffersFitChunks(t *testing.T) {
	const width, batchRows, chunks = 100, 42_000, 12 // 4.2 MB chunks: doubling from 256 KiB ends at 8 MiB
	src := &rowSource{row: append(bytes.Repeat([]byte{'x'}, width-1), '\n'), left: batchRows * chunks}
	p := NewPipeline(src, "rows", Records{Split: lines}, format.ReadOptions{BatchRows: batchRows, MaxRecordBytes: format.DefaultMaxRecordBytes})
	seen := make(chan [2]int, chunks+1)
	p.Start(2, func() ChunkDecoder { return sizeDecoder{seen} })
	rows := 0
	for {
		res, ok := p.next()
		if !ok {
			break
		}
		if res.err != nil {
			t.Fatal(res.err)
		}
		rows += int(res.rec.NumRows())
		res.rec.Release()
	}
	p.close()
	close(seen)
	if rows != batchRows*chunks {
		t.Fatalf("read %d rows, want %d", rows, batchRows*chunks)
	}
	n := 0
	for s := range seen {
		n++
		if n == 1 {
			continue // no chunk size is known before the first chunk
		}
		if limit := chunkBuf(s[0]) + chunkBuf(s[0])/2; s[1] > limit {
			t.Errorf("chunk %d: %d bytes in a buffer of %d, want at most %d", n, s[0], s[1], limit)
		}
	}
	if n != chunks {
		t.Fatalf("decoded %d chunks, want %d", n, chunks)
	}
	if peak, most := p.peak.Load(), int64(2*2+2)*int64(chunkBuf(width*batchRows))+16<<20; peak > most {
		t.Errorf("chunk buffers peaked at %d bytes, want at most %d (6 chunk buffers and the first chunk's growth)", peak, most)
	}
}
