package parquet

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// checkPages checks that every row group has the schema's columns and walks
// the page headers of every column chunk before pqarrow
// reads them. pqarrow v15 decodes struct children in goroutines it starts
// itself, where a panic cannot be recovered and ends the process; a page
// whose type says "dictionary" but which lacks the dictionary header is
// one such panic (a nil dereference). The walk reads only headers, so it
// costs a few small reads per page, no decompression.
func checkPages(pf *file.Reader, ra io.ReaderAt, size int64) error {
	md := pf.MetaData()
	old := md.WriterVersion().LessThan(metadata.Parquet816FixedVersion)
	for g := 0; g < pf.NumRowGroups(); g++ {
		rg := md.RowGroup(g)
		if rg.NumColumns() != md.Schema.NumColumns() {
			// pqarrow asks for every schema column, in goroutines.
			return fmt.Errorf("row group %d has %d columns, the schema %d", g, rg.NumColumns(), md.Schema.NumColumns())
		}
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				return err
			}
			start, end, err := chunkSpan(cc, old, size)
			if err != nil {
				return fmt.Errorf("row group %d column %d: %w", g, c, err)
			}
			if err := checkChunk(ra, start, min(end, size), cc.NumValues()); err != nil {
				return fmt.Errorf("row group %d column %d: %w", g, c, err)
			}
		}
	}
	return nil
}

// maxPageBytes bounds a page's stated uncompressed size, which arrow-go
// allocates before decompressing. Writers default to 1 MiB pages.
const maxPageBytes = 1 << 30

// Page types (parquet.thrift PageType).
const (
	pageData       = 0
	pageIndex      = 1
	pageDictionary = 2
	pageDataV2     = 3
)

// pageSub checks the sizes and type of the page whose header h (n bytes)
// stands at pos in a column chunk ending at end, and returns the header
// of its kind (data, dictionary or data V2), or nil for an index page,
// which readers skip. Both the header check (checkChunk) and the direct
// reader (colReader.nextPage) take a page through it.
func pageSub(h *thriftStruct, pos, n, end int64) (*thriftStruct, error) {
	typ, compressed, uncompressed := h.i32(1), h.i32(3), h.i32(2)
	if compressed < 0 || uncompressed < 0 || uncompressed > maxPageBytes {
		return nil, fmt.Errorf("page at %d: sizes %d/%d out of range", pos, compressed, uncompressed)
	}
	if pos+n+compressed > end {
		return nil, fmt.Errorf("page at %d of %d bytes overruns its column chunk", pos, n+compressed)
	}
	var sub *thriftStruct
	switch typ {
	case pageData:
		sub = h.structs[5]
	case pageDictionary:
		sub = h.structs[7]
	case pageDataV2:
		sub = h.structs[8]
		if sub != nil && (sub.i32(5) < 0 || sub.i32(6) < 0 || int64(sub.i32(5))+int64(sub.i32(6)) > compressed) {
			return nil, fmt.Errorf("page at %d: level lengths do not fit the page", pos)
		}
	case pageIndex:
		return nil, nil
	default:
		return nil, fmt.Errorf("page at %d: unknown page type %d", pos, typ)
	}
	if sub == nil {
		return nil, fmt.Errorf("page at %d: type %d without its header", pos, typ)
	}
	return sub, nil
}

func checkChunk(ra io.ReaderAt, pos, end, numValues int64) error {
	var seen int64
	for seen < numValues && pos < end {
		h, n, err := readPageHeader(ra, pos, end)
		if err != nil {
			return fmt.Errorf("page header at %d: %w", pos, err)
		}
		typ, compressed, uncompressed := h.i32(1), h.i32(3), h.i32(2)
		sub, err := pageSub(h, pos, n, end)
		if err != nil {
			return err
		}
		if sub == nil { // an index page
			pos += n + compressed
			continue
		}
		nv := sub.i32(1)
		if nv < 0 {
			return fmt.Errorf("page at %d: negative value count", pos)
		}
		// arrow-go allocates per declared value before decoding; a corrupt
		// count must not ask for gigabytes. A dictionary value takes at
		// least a byte; data values can be nulls packed 8 to a byte
		// (RLE runs pack more, hence the slack).
		if typ == pageDictionary && nv > uncompressed {
			return fmt.Errorf("page at %d: %d dictionary values in %d bytes", pos, nv, uncompressed)
		}
		if nv > 8*uncompressed+1<<24 {
			return fmt.Errorf("page at %d: %d values in %d bytes", pos, nv, uncompressed)
		}
		if typ != pageDictionary {
			seen += nv
		}
		pos += n + compressed
	}
	return nil
}

// readPageHeader parses the thrift-compact PageHeader at pos, reading more
// bytes while it needs them (statistics can make headers large).
func readPageHeader(ra io.ReaderAt, pos, end int64) (*thriftStruct, int64, error) {
	for want := int64(256); ; want *= 4 {
		n := min(want, end-pos)
		if n <= 0 {
			return nil, 0, errors.New("no bytes left in the column chunk")
		}
		buf := make([]byte, n)
		got, err := ra.ReadAt(buf, pos)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, err
		}
		p := &thriftParser{b: buf[:got]}
		s := p.structure(0)
		if p.err == nil {
			return s, int64(p.off), nil
		}
		if !errors.Is(p.err, errShortThrift) || n < want || want > 64<<20 {
			return nil, 0, p.err
		}
	}
}

var errShortThrift = errors.New("truncated thrift")

// thriftStruct keeps the integer fields and nested structs of a struct;
// everything else is skipped.
type thriftStruct struct {
	ints    map[int16]int64
	structs map[int16]*thriftStruct
	falses  map[int16]bool // boolean fields set to false
}

func (s *thriftStruct) i32(id int16) int64 { return s.ints[id] }

// thriftParser reads Thrift's compact protocol.
type thriftParser struct {
	b   []byte
	off int
	err error
}

func (p *thriftParser) byte() byte {
	if p.off >= len(p.b) {
		p.err = errShortThrift
		return 0
	}
	v := p.b[p.off]
	p.off++
	return v
}

func (p *thriftParser) varint() uint64 {
	var v uint64
	for shift := 0; shift < 64 && p.err == nil; shift += 7 {
		b := p.byte()
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	if p.err == nil {
		p.err = errors.New("thrift varint too long")
	}
	return 0
}

func (p *thriftParser) zigzag() int64 {
	v := p.varint()
	return int64(v>>1) ^ -int64(v&1)
}

func (p *thriftParser) structure(depth int) *thriftStruct {
	s := &thriftStruct{ints: map[int16]int64{}, structs: map[int16]*thriftStruct{}, falses: map[int16]bool{}}
	if depth > 16 {
		p.err = errors.New("thrift structs nested too deep")
		return s
	}
	var id int16
	for p.err == nil {
		h := p.byte()
		if h == 0 {
			return s
		}
		if delta := int16(h >> 4); delta != 0 {
			id += delta
		} else {
			id = int16(p.zigzag())
		}
		switch typ := h & 0x0f; typ {
		case 4, 5, 6: // i16, i32, i64
			s.ints[id] = p.zigzag()
		case 12:
			s.structs[id] = p.structure(depth + 1)
		case 2: // a boolean false, in the field header
			s.falses[id] = true
		default:
			p.skip(typ, depth)
		}
	}
	return s
}

func (p *thriftParser) skip(typ byte, depth int) {
	switch typ {
	case 1, 2: // bool in the field header
	case 3:
		p.byte()
	case 4, 5, 6:
		p.varint()
	case 7:
		p.off += 8
	case 8:
		n := p.varint()
		if n > uint64(len(p.b)-p.off) {
			p.err = errShortThrift
			return
		}
		p.off += int(n)
	case 9, 10: // list, set
		h := p.byte()
		n := uint64(h >> 4)
		if n == 15 {
			n = p.varint()
		}
		for i := uint64(0); i < n && p.err == nil; i++ {
			p.skipValue(h&0x0f, depth)
		}
	case 11: // map
		n := p.varint()
		if n == 0 {
			return
		}
		kv := p.byte()
		for i := uint64(0); i < n && p.err == nil; i++ {
			p.skipValue(kv>>4, depth)
			p.skipValue(kv&0x0f, depth)
		}
	case 12:
		p.structure(depth + 1)
	default:
		p.err = fmt.Errorf("unknown thrift type %d", typ)
	}
	if p.off > len(p.b) {
		p.err = errShortThrift
	}
}

// skipValue skips a list, set or map element; booleans take a byte there.
func (p *thriftParser) skipValue(typ byte, depth int) {
	if typ == 1 || typ == 2 {
		p.byte()
		return
	}
	p.skip(typ, depth)
}

// chunkSpan is the byte range [start, end) of a column chunk in a file of
// size bytes, as arrow-go reads it: from the dictionary page when it comes
// first, with PARQUET-816's 100 bytes of padding for a file of an old
// writer (old), end not clamped to the file. A chunk starting outside the
// file is an error.
func chunkSpan(cc *metadata.ColumnChunkMetaData, old bool, size int64) (start, end int64, err error) {
	start = cc.DataPageOffset()
	if d := cc.DictionaryPageOffset(); d > 0 && d < start {
		start = d
	}
	end = start + cc.TotalCompressedSize()
	if old {
		end += 100 // PARQUET-816 padding, as arrow-go applies it
	}
	if start < 0 || cc.TotalCompressedSize() < 0 || start > size {
		return 0, 0, fmt.Errorf("chunk at %d of %d bytes lies outside the file", start, cc.TotalCompressedSize())
	}
	return start, end, nil
}
