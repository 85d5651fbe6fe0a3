package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/klauspost/compress/snappy"
)

// colReader decodes one flat column of the row groups read, batch by
// batch, straight from its pages into Arrow buffers (direct.go says which
// columns qualify). Its page buffers are its own and never handed out:
// every array it returns is a copy in fresh buffers from the allocator, so
// reusing them cannot expose a batch's bytes to another.
type colReader struct {
	name     string
	col      int
	dt       arrow.DataType
	width    int  // bytes per value in the page; 0 for strings and binary
	outWidth int  // bytes per value in the array (INT32 read as int8, int16)
	boolean  bool // bit-packed values, into a bitmap
	optional bool // maximum definition level 1, else 0

	src    io.ReaderAt
	size   int64
	md     *metadata.FileMetaData
	groups []int
	gi     int  // next entry of groups to open
	old    bool // PARQUET-816: chunk sizes may leave out the dictionary page

	// The column chunk being read.
	group    int
	snappy   bool
	pos, end int64
	rowsLeft int64 // rows of the row group not yet in a data page read
	// Its dictionary: width-byte values, or for strings the values
	// concatenated with copyWidth bytes of slack and dictN+1 offsets.
	dict     []byte
	dictOffs []int32
	dictN    int
	hasDict  bool

	// The data page being read.
	pageRows int
	def      rleDecoder
	indexed  bool // values are dictionary indices in idx
	idx      rleDecoder
	plain    []byte // plain values not yet read
	plainAt  int    // strings: offset of plain in plainSrc
	plainSrc []byte // strings: the page's values, a buffer of its own
	plainBit int    // booleans: the next value's bit in plain

	comp, page []byte  // reused except for pages of plain strings
	ids        []int32 // dictionary indices of one page's run
	tmp        []byte  // values of a page's run before spacing
	from, to   []int32 // strings: each non-null value of the batch
	segs       []strSeg
}

// strSeg is a run of one page's rows within a string batch: its values
// are src[from[j]:to[j]] for j from lo, one per non-null row.
type strSeg struct {
	src          []byte
	rowLo, rowHi int
	lo           int
	dense        bool
}

// maxSnappyRatio bounds the size a Snappy block may claim: its densest
// element, a 3-byte copy, produces 64 bytes. A page header claiming more
// than that is refused before anything is allocated.
const maxSnappyRatio = 22

// read returns the column's next n rows.
func (c *colReader) read(n int, mem memory.Allocator) (arrow.Array, error) {
	var valid *memory.Buffer
	var vb []byte
	if c.optional {
		valid = memory.NewResizableBuffer(mem)
		defer valid.Release()
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		vb = valid.Bytes()
	}
	var bufs []*memory.Buffer
	var nonNull int
	var err error
	if c.width > 0 {
		bufs, nonNull, err = c.readFixed(n, mem, vb)
	} else {
		bufs, nonNull, err = c.readStrings(n, mem, vb)
	}
	for _, b := range bufs {
		defer b.Release()
	}
	if err != nil {
		return nil, err
	}
	if nonNull == n {
		valid = nil
	}
	data := array.NewData(c.dt, n, append([]*memory.Buffer{valid}, bufs...), nil, n-nonNull, 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}

// rows reads the next run of at most n rows of the current page, setting
// their validity bits from bit row on, and returns the run's rows and
// non-null values.
func (c *colReader) rows(n, row int, vb []byte) (m, k int, err error) {
	if c.pageRows == 0 {
		if err := c.nextPage(); err != nil {
			return 0, 0, err
		}
	}
	m = min(n, c.pageRows)
	k = m
	if c.optional {
		if k, err = c.def.bitmap(vb, int64(row), m); err != nil {
			return 0, 0, fmt.Errorf("definition levels: %w", err)
		}
	}
	c.pageRows -= m
	return m, k, nil
}

func (c *colReader) readFixed(n int, mem memory.Allocator, vb []byte) ([]*memory.Buffer, int, error) {
	w, ow := c.width, c.outWidth
	vals := memory.NewResizableBuffer(mem)
	bufs := []*memory.Buffer{vals}
	if c.boolean {
		vals.Resize(int(bitutil.BytesForBits(int64(n))))
	} else {
		vals.Resize(n * ow)
	}
	out := vals.Bytes()
	nonNull := 0
	for row := 0; row < n; {
		m, k, err := c.rows(n-row, row, vb)
		if err != nil {
			return bufs, 0, err
		}
		switch {
		case c.boolean:
			err = c.boolValues(out, vb, row, m, k)
		case k == m && w == ow:
			err = c.fixedValues(out[row*w:(row+m)*w], k)
		default:
			if cap(c.tmp) < k*w {
				c.tmp = make([]byte, k*w)
			}
			tmp := c.tmp[:k*w]
			if err = c.fixedValues(tmp, k); err == nil {
				c.spread(out, vb, tmp, row, m, k == m)
			}
		}
		if err != nil {
			return bufs, 0, err
		}
		nonNull += k
		row += m
	}
	return bufs, nonNull, nil
}

// spread moves the values in tmp to the non-null rows of row..row+m of
// out, keeping the low outWidth bytes of each: pqarrow narrows INT32 to
// int8 and int16 by the same truncation (both little-endian).
func (c *colReader) spread(out, vb, tmp []byte, row, m int, dense bool) {
	w, ow := c.width, c.outWidth
	j := 0
	for r := row; r < row+m; r++ {
		if dense || bitutil.BitIsSet(vb, r) {
			copy(out[r*ow:(r+1)*ow], tmp[j:j+ow])
			j += w
		}
	}
}

// boolValues sets the bits of the non-null rows of row..row+m of out from
// the page's next k plain (bit-packed) booleans.
func (c *colReader) boolValues(out, vb []byte, row, m, k int) error {
	if c.indexed {
		return errors.New("dictionary-encoded booleans")
	}
	if need := (c.plainBit + k + 7) / 8; need > len(c.plain) {
		return fmt.Errorf("page holds %d bytes of booleans, %d needed", len(c.plain), need)
	}
	if k == m {
		bitutil.CopyBitmap(c.plain, c.plainBit, k, out, row)
	} else {
		j := c.plainBit
		for r := row; r < row+m; r++ {
			if bitutil.BitIsSet(vb, r) {
				bitutil.SetBitTo(out, r, bitutil.BitIsSet(c.plain, j))
				j++
			}
		}
	}
	c.plainBit += k
	return nil
}

// fixedValues fills dst with the page's next len(dst)/width values.
func (c *colReader) fixedValues(dst []byte, k int) error {
	w := c.width
	if !c.indexed {
		if len(c.plain) < k*w {
			return fmt.Errorf("page holds %d bytes of values, %d needed", len(c.plain), k*w)
		}
		copy(dst, c.plain[:k*w])
		c.plain = c.plain[k*w:]
		return nil
	}
	ids, err := c.indices(k)
	if err != nil {
		return err
	}
	switch w {
	case 8:
		d := arrow.Uint64Traits.CastFromBytes(c.dict)
		o := arrow.Uint64Traits.CastFromBytes(dst)
		for i, id := range ids {
			o[i] = d[id]
		}
	case 4:
		d := arrow.Uint32Traits.CastFromBytes(c.dict)
		o := arrow.Uint32Traits.CastFromBytes(dst)
		for i, id := range ids {
			o[i] = d[id]
		}
	}
	return nil
}

// indices reads the page's next k dictionary indices and checks them.
func (c *colReader) indices(k int) ([]int32, error) {
	if cap(c.ids) < k {
		c.ids = make([]int32, k)
	}
	ids := c.ids[:k]
	if err := c.idx.int32s(ids); err != nil {
		return nil, fmt.Errorf("dictionary indices: %w", err)
	}
	for i, id := range ids {
		if uint32(id) >= uint32(c.dictN) {
			return nil, fmt.Errorf("value %d: dictionary index %d out of range [0, %d)", i, id, c.dictN)
		}
	}
	return ids, nil
}

func (c *colReader) readStrings(n int, mem memory.Allocator, vb []byte) ([]*memory.Buffer, int, error) {
	offBuf := memory.NewResizableBuffer(mem)
	bufs := []*memory.Buffer{offBuf}
	offBuf.Resize(arrow.Int32Traits.BytesRequired(n + 1))
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	if cap(c.from) < n {
		c.from, c.to = make([]int32, n), make([]int32, n)
	}
	// The segments hold pages and dictionaries only until the copy below.
	defer func() { clear(c.segs); c.segs = c.segs[:0] }()
	var total int64
	nonNull := 0
	for row := 0; row < n; {
		m, k, err := c.rows(n-row, row, vb)
		if err != nil {
			return bufs, 0, err
		}
		from, to := c.from[nonNull:nonNull+k], c.to[nonNull:nonNull+k]
		var src []byte
		if c.indexed {
			ids, err := c.indices(k)
			if err != nil {
				return bufs, 0, err
			}
			for i, id := range ids {
				from[i], to[i] = c.dictOffs[id], c.dictOffs[id+1]
				total += int64(to[i] - from[i])
			}
			src = c.dict
		} else {
			p, at := c.plain, c.plainAt
			for i := range from {
				if len(p) < 4 {
					return bufs, 0, fmt.Errorf("value %d: page ends inside a length", i)
				}
				l := binary.LittleEndian.Uint32(p)
				if uint64(l) > uint64(len(p)-4) {
					return bufs, 0, fmt.Errorf("value %d: length %d overruns the page", i, l)
				}
				from[i], to[i] = int32(at+4), int32(at+4+int(l))
				total += int64(l)
				p, at = p[4+l:], at+4+int(l)
			}
			c.plain, c.plainAt = p, at
			src = c.plainSrc
		}
		c.segs = append(c.segs, strSeg{src: src, rowLo: row, rowHi: row + m, lo: nonNull, dense: k == m})
		nonNull += k
		row += m
	}
	if total > math.MaxInt32 {
		return bufs, 0, fmt.Errorf("a batch of %d rows holds %d bytes of values, more than a %s array can", n, total, c.dt)
	}
	valBuf := memory.NewResizableBuffer(mem)
	bufs = append(bufs, valBuf)
	valBuf.Resize(int(total) + copyWidth)
	vals := valBuf.Bytes()
	var pos int32
	offs[0] = 0
	for _, s := range c.segs {
		j := s.lo
		for r := s.rowLo; r < s.rowHi; r++ {
			if s.dense || bitutil.BitIsSet(vb, r) {
				pos = copyValue(vals, pos, s.src, c.from[j], c.to[j])
				j++
			}
			offs[r+1] = pos
		}
	}
	clear(vals[total:])
	valBuf.ResizeNoShrink(int(total))
	return bufs, nonNull, nil
}

// copyValue copies src[from:to] to dst[pos:] and returns the end. Values
// of up to copyWidth bytes move as one block through a local (two vector
// moves; a direct block assignment between the slices compiles to a call
// of memmove, half of the time for short strings), so dst has copyWidth
// bytes of slack.
func copyValue(dst []byte, pos int32, src []byte, from, to int32) int32 {
	if to-from <= copyWidth && int(from)+copyWidth <= len(src) {
		v := *(*[copyWidth]byte)(src[from:])
		*(*[copyWidth]byte)(dst[pos:]) = v
		return pos + to - from
	}
	return pos + int32(copy(dst[pos:], src[from:to]))
}

var errNoRows = errors.New("the column has no rows left")

// nextChunk opens the column's chunk in the next row group.
func (c *colReader) nextChunk() error {
	if c.rowsLeft > 0 {
		return fmt.Errorf("the column chunk ends %d rows short of its row group", c.rowsLeft)
	}
	if c.gi >= len(c.groups) {
		return errNoRows
	}
	c.group = c.groups[c.gi]
	c.gi++
	rg := c.md.RowGroup(c.group)
	cc, err := rg.ColumnChunk(c.col)
	if err != nil {
		return err
	}
	start, end, err := chunkSpan(cc, c.old, c.size)
	if err != nil {
		return err
	}
	c.pos, c.end = start, min(end, c.size)
	c.snappy = cc.Compression() == compress.Codecs.Snappy
	c.rowsLeft = rg.NumRows()
	c.dict, c.dictOffs, c.dictN, c.hasDict = nil, nil, 0, false
	return nil
}

// nextPage reads pages until a data page with rows, opening the next
// row group's chunk when this one's rows are all read.
func (c *colReader) nextPage() error {
	for {
		if c.rowsLeft == 0 || c.pos >= c.end {
			if err := c.nextChunk(); err != nil {
				return err
			}
			continue
		}
		h, hn, err := readPageHeader(c.src, c.pos, c.end)
		if err != nil {
			return fmt.Errorf("page header at %d: %w", c.pos, err)
		}
		at := c.pos
		typ, comp, uncomp := h.i32(1), h.i32(3), h.i32(2)
		sub, err := pageSub(h, at, hn, c.end)
		if err != nil {
			return err
		}
		c.pos = at + hn + comp
		if sub == nil { // an index page
			continue
		}
		plainStrings := c.width == 0 && (typ == pageData || typ == pageDataV2) && sub.i32(encodingField(typ)) == int64(pq.Encodings.Plain)
		body, err := c.body(at+hn, comp, plainStrings)
		if err != nil {
			return fmt.Errorf("page at %d: %w", at, err)
		}
		switch typ {
		case pageDictionary:
			err = c.loadDict(sub, body, uncomp)
		case pageData:
			err = c.dataV1(sub, body, uncomp, plainStrings)
		case pageDataV2:
			err = c.dataV2(sub, body, uncomp, plainStrings)
		}
		if err != nil {
			return fmt.Errorf("page at %d: %w", at, err)
		}
		if c.pageRows > 0 {
			return nil
		}
	}
}

func encodingField(typ int64) int16 {
	if typ == pageDataV2 {
		return 4
	}
	return 2
}

// body reads a page's bytes. A page of plain strings gets a buffer of its
// own, because the batch's values point into it until they are copied.
func (c *colReader) body(at, n int64, fresh bool) ([]byte, error) {
	var b []byte
	if fresh || int64(cap(c.comp)) < n {
		b = make([]byte, n)
		if !fresh {
			c.comp = b
		}
	} else {
		b = c.comp[:n]
	}
	got, err := c.src.ReadAt(b, at)
	if got < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// decompress returns src decompressed to want bytes, in the page buffer
// or, when fresh, in a buffer of its own.
func (c *colReader) decompress(src []byte, want int64, fresh bool) ([]byte, error) {
	if !c.snappy {
		if int64(len(src)) != want {
			return nil, fmt.Errorf("uncompressed page of %d bytes declares %d", len(src), want)
		}
		return src, nil
	}
	if want > maxSnappyRatio*int64(len(src))+64 {
		return nil, fmt.Errorf("%d bytes of Snappy data cannot hold %d", len(src), want)
	}
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if int64(n) != want {
		return nil, fmt.Errorf("snappy block of %d bytes, the page header says %d", n, want)
	}
	var dst []byte
	if fresh || cap(c.page) < n {
		dst = make([]byte, n)
		if !fresh {
			c.page = dst
		}
	} else {
		dst = c.page[:n]
	}
	out, err := snappy.Decode(dst, src)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return out, nil
}

func (c *colReader) loadDict(h *thriftStruct, body []byte, uncomp int64) error {
	if e := h.i32(2); e != int64(pq.Encodings.Plain) && e != int64(pq.Encodings.PlainDict) {
		return fmt.Errorf("dictionary page encoded %s", pq.Encoding(e))
	}
	data, err := c.decompress(body, uncomp, false)
	if err != nil {
		return err
	}
	nv := h.i32(1)
	if nv < 0 || nv > int64(len(data)) {
		return fmt.Errorf("%d dictionary values in %d bytes", nv, len(data))
	}
	if c.width > 0 {
		if int64(len(data)) < nv*int64(c.width) {
			return fmt.Errorf("%d dictionary values of %d bytes in %d bytes", nv, c.width, len(data))
		}
		c.dict = append([]byte(nil), data[:nv*int64(c.width)]...)
		c.dictN, c.hasDict = int(nv), true
		return nil
	}
	// Fresh buffers: the previous dictionary may still be referenced by
	// this batch's values, which are copied at the end of the batch.
	offs := make([]int32, nv+1)
	vals := make([]byte, 0, len(data)+copyWidth)
	p := data
	for i := range nv {
		if len(p) < 4 {
			return fmt.Errorf("dictionary value %d: page ends inside a length", i)
		}
		l := binary.LittleEndian.Uint32(p)
		if uint64(l) > uint64(len(p)-4) {
			return fmt.Errorf("dictionary value %d: length %d overruns the page", i, l)
		}
		vals = append(vals, p[4:4+l]...)
		offs[i+1] = int32(len(vals))
		p = p[4+l:]
	}
	c.dictOffs, c.dictN, c.hasDict = offs, int(nv), true
	c.dict = vals[:len(vals)+copyWidth]
	return nil
}

func (c *colReader) dataV1(h *thriftStruct, body []byte, uncomp int64, fresh bool) error {
	data, err := c.decompress(body, uncomp, fresh)
	if err != nil {
		return err
	}
	nv := h.i32(1)
	if c.optional {
		if e := h.i32(3); e != int64(pq.Encodings.RLE) {
			return fmt.Errorf("definition levels encoded %s", pq.Encoding(e))
		}
		if len(data) < 4 {
			return errors.New("page ends inside the definition levels' length")
		}
		l := binary.LittleEndian.Uint32(data)
		if uint64(l) > uint64(len(data)-4) {
			return fmt.Errorf("definition levels of %d bytes overrun the page", l)
		}
		c.def = newRLE(data[4:4+l], 1)
		return c.values(nv, h.i32(2), data, 4+int(l))
	}
	return c.values(nv, h.i32(2), data, 0)
}

func (c *colReader) dataV2(h *thriftStruct, body []byte, uncomp int64, fresh bool) error {
	defLen, repLen := h.i32(5), h.i32(6)
	if repLen != 0 {
		return fmt.Errorf("repetition levels in a flat column")
	}
	if defLen < 0 || defLen > int64(len(body)) || defLen > uncomp {
		return fmt.Errorf("definition levels of %d bytes overrun the page", defLen)
	}
	if c.optional {
		c.def = newRLE(body[:defLen], 1)
	}
	vals := body[defLen:]
	if !h.falses[7] { // is_compressed, true unless stated
		var err error
		if vals, err = c.decompress(vals, uncomp-defLen, fresh); err != nil {
			return err
		}
	} else if int64(len(vals)) != uncomp-defLen {
		return fmt.Errorf("uncompressed values of %d bytes, the page header says %d", len(vals), uncomp-defLen)
	}
	nv := h.i32(3) // num_rows
	if h.i32(1) != nv {
		return fmt.Errorf("%d values in %d rows of a flat column", h.i32(1), nv)
	}
	return c.values(nv, h.i32(4), vals, 0)
}

// values starts reading a data page of nv rows whose values, encoded
// enc, begin at data[at:].
func (c *colReader) values(nv, enc int64, data []byte, at int) error {
	if nv < 0 || nv > c.rowsLeft {
		return fmt.Errorf("%d rows, %d left in the row group", nv, c.rowsLeft)
	}
	switch pq.Encoding(enc) {
	case pq.Encodings.Plain:
		c.indexed = false
		// For strings data is this page's own buffer (body and decompress
		// with fresh): the batch's values point into it until copied.
		c.plain, c.plainAt, c.plainSrc, c.plainBit = data[at:], at, data, 0
	case pq.Encodings.RLEDict, pq.Encodings.PlainDict:
		if !c.hasDict {
			return errors.New("dictionary-encoded page without a dictionary page")
		}
		if len(data) <= at {
			return errors.New("dictionary-encoded page without its bit width")
		}
		w := uint(data[at])
		if w > 32 {
			return fmt.Errorf("dictionary indices %d bits wide", w)
		}
		c.indexed = true
		c.idx = newRLE(data[at+1:], w)
	default:
		return fmt.Errorf("data page encoded %s", pq.Encoding(enc))
	}
	c.pageRows = int(nv)
	c.rowsLeft -= nv
	return nil
}
