package parquet

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// Dictionary encoding of string and binary columns, computed here.
//
// arrow-go's dictionary encoder looks every value up in its BinaryMemoTable
// (an xxh3 hash, a probe, and a compare against the value read back from a
// BinaryBuilder) and then updates the page's min/max statistics with two
// byte comparisons per value: together 46% of the writer's CPU on the
// orders table, and the writer is about half of a Parquet → Parquet run
// (BENCHMARKS.md, issue 16). dictWriter finds each value's dictionary
// index with a Go map (the runtime's AES hash on a string view of the
// Arrow buffer, no copy), hands the column writer the finished dictionary
// (PutDictionary: one memo-table insert per distinct value) and the
// indices (WriteDictIndices), and updates each page's statistics from the
// page's distinct values only.
//
// The file is byte for byte what the dense path writes
// (TestDictWriterSameBytes): the dictionary is in first-seen order as the
// memo table would have it, pages are cut after the same write batches
// (the dense path checks the page size after each batch of
// WriteBatchSize rows of each record, against the raw bytes of the values,
// 4 + len each), and statistics come from arrow-go's own comparator. Where
// the dense path would leave the dictionary (it outgrows the dictionary
// page limit, or the codec is none and the cost check is on), dictWriter
// declines and the column goes the dense way.

// dictWriter holds one worker's scratch, reused across columns and row
// groups.
type dictWriter struct {
	ids      map[string]int32
	idx      []int32 // one index per row of the column chunk; 0 for nulls
	mark     []int32 // page number + 1 in which each dictionary entry was last seen
	distinct []pq.ByteArray
}

// byteArrayLeaf reports whether a column of type dt can take the
// dictWriter path: 32-bit offsets string or binary.
func byteArrayLeaf(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.STRING, arrow.BINARY:
		return true
	}
	return false
}

// write encodes the column chunk ccw from arrs (the column's arrays of the
// row group's records, levels the worker's definition level buffer). It
// returns false, having written nothing, when the column should go the
// dense way: the encoder is not a fresh dictionary encoder, the dense path
// would drop the dictionary, or a bloom filter wants every value.
// Statistics are updated per page before the page is flushed, as the
// dense path's per-value updates would have left them.
func (d *dictWriter) write(ccw file.ColumnChunkWriter, arrs []arrow.Array, nullable bool, levels *[]int16, mem memory.Allocator) (bool, error) {
	props := ccw.Properties()
	path := ccw.Descr().Path()
	enc := ccw.CurrentEncoder()
	de, ok := enc.(interface {
		PutDictionary(arrow.Array) error
		NumEntries() int
	})
	flusher, canFlush := ccw.(interface{ FlushCurrentPage() error })
	if !ok || !canFlush || (enc.Encoding() != pq.Encodings.PlainDict && enc.Encoding() != pq.Encodings.RLEDict) ||
		de.NumEntries() != 0 || props.DictionaryCostFallbackEnabledFor(path) ||
		props.BloomFilterEnabledFor(path) {
		return false, nil
	}
	rows := 0
	for _, a := range arrs {
		if !nullable && a.NullN() > 0 {
			return false, nil // the dense path reports what it makes of this
		}
		rows += a.Len()
	}
	dict, ok := d.build(arrs, rows, props.DictionaryPageSizeLimit(), mem)
	if !ok {
		return false, nil
	}
	defer dict.Release()
	if err := de.PutDictionary(dict); err != nil {
		return false, err
	}

	dictOffs, dictBytes := binaryParts(dict)
	value := func(k int32) pq.ByteArray { return dictBytes[dictOffs[k]:dictOffs[k+1]:dictOffs[k+1]] }
	stats, _ := ccw.PageStatistics().(*metadata.ByteArrayStatistics)
	if cap(d.mark) < dict.Len() {
		d.mark = make([]int32, dict.Len())
	}
	mark := d.mark[:dict.Len()]
	clear(mark)

	batch := int(props.WriteBatchSize())
	pageLimit := props.DataPageSize()
	page := int32(1)
	var raw int64 // raw bytes of the values in the current page, as the dense path counts them
	var pageNulls int64
	d.distinct = d.distinct[:0]
	pageStart := 0 // first row of the current page, across arrs
	flushStats := func(end int) {
		if stats == nil {
			return
		}
		nonNull := int64(end-pageStart) - pageNulls
		stats.Update(d.distinct, pageNulls)
		stats.IncNumValues(nonNull - int64(len(d.distinct)))
	}
	indices := int32Array(d.idx[:rows], arrs, mem)
	defer indices.Release()
	// writeRows hands rows [from, to) of the chunk to the column writer.
	writeRows := func(from, to int) error {
		if from == to {
			return nil
		}
		sl := array.NewSlice(indices, int64(from), int64(to))
		defer sl.Release()
		var def []int16
		if nullable {
			def, _ = leafLevels(sl, *levels)
			*levels = def
		}
		return ccw.WriteDictIndices(sl, def, nil)
	}

	row := 0
	written := 0 // rows handed to the column writer
	for _, a := range arrs {
		n := a.Len()
		hasNulls := a.NullN() > 0
		valid, voff := a.NullBitmapBytes(), a.Data().Offset()
		for b := 0; b < n; b += batch {
			end := min(b+batch, n)
			// The page's raw size as the dense path counts it, and its
			// distinct values for the statistics.
			for i := b; i < end; i++ {
				if hasNulls && !bitutil.BitIsSet(valid, voff+i) {
					pageNulls++
					continue
				}
				k := d.idx[row+i]
				raw += int64(dictOffs[k+1]-dictOffs[k]) + 4
				if mark[k] != page {
					mark[k] = page
					d.distinct = append(d.distinct, value(k))
				}
			}
			if raw >= pageLimit {
				if err := writeRows(written, row+end); err != nil {
					return false, err
				}
				written = row + end
				flushStats(written)
				if err := flusher.FlushCurrentPage(); err != nil {
					return false, err
				}
				raw, pageNulls, pageStart = 0, 0, written
				d.distinct = d.distinct[:0]
				page++
			}
		}
		row += n
	}
	if err := writeRows(written, rows); err != nil {
		return false, err
	}
	flushStats(rows)
	return true, nil
}

// build finds the dictionary index of every value of arrs, in first-seen
// order, into d.idx, and returns the dictionary. ok is false when the
// dictionary's plain encoding (4 + len per value) reaches limit: the dense
// path would fall back to plain pages there.
func (d *dictWriter) build(arrs []arrow.Array, rows int, limit int64, mem memory.Allocator) (arrow.Array, bool) {
	if d.ids == nil {
		d.ids = make(map[string]int32)
	}
	// The map's keys point into the records' buffers, alive for this
	// call only.
	defer clear(d.ids)
	if cap(d.idx) < rows {
		d.idx = make([]int32, rows)
	}
	idx := d.idx[:rows]
	offs := []int32{0}
	var vals []byte
	var size int64
	row := 0
	for _, a := range arrs {
		ao, ab := binaryParts(a)
		hasNulls := a.NullN() > 0
		valid, voff := a.NullBitmapBytes(), a.Data().Offset()
		for i := 0; i < a.Len(); i++ {
			if hasNulls && !bitutil.BitIsSet(valid, voff+i) {
				idx[row+i] = 0
				continue
			}
			v := ab[ao[i]:ao[i+1]]
			key := unsafe.String(unsafe.SliceData(v), len(v))
			k, found := d.ids[key]
			if !found {
				k = int32(len(offs) - 1)
				size += int64(len(v)) + 4
				if size >= limit {
					return nil, false
				}
				d.ids[key] = k
				vals = append(vals, v...)
				offs = append(offs, int32(len(vals)))
			}
			idx[row+i] = k
		}
		row += a.Len()
	}
	dt := arrs[0].DataType()
	data := array.NewData(dt, len(offs)-1, []*memory.Buffer{nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs)), memory.NewBufferBytes(vals)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data), true
}

// binaryParts returns a string or binary array's offsets (its own window,
// len+1 entries, indexing values from its start) and values buffer.
func binaryParts(a arrow.Array) ([]int32, []byte) {
	d := a.Data()
	var offs []int32
	if b := d.Buffers()[1]; b != nil {
		offs = arrow.Int32Traits.CastFromBytes(b.Bytes())[d.Offset() : d.Offset()+d.Len()+1]
	} else {
		offs = make([]int32, d.Len()+1)
	}
	var vals []byte
	if b := d.Buffers()[2]; b != nil {
		vals = b.Bytes()
	}
	return offs, vals
}

// int32Array returns idx as an Int32 array whose validity is arrs'
// concatenated validity.
func int32Array(idx []int32, arrs []arrow.Array, mem memory.Allocator) arrow.Array {
	nulls := 0
	for _, a := range arrs {
		nulls += a.NullN()
	}
	var valid *memory.Buffer
	if nulls > 0 {
		valid = memory.NewResizableBuffer(mem)
		defer valid.Release()
		valid.Resize(int(bitutil.BytesForBits(int64(len(idx)))))
		bits := valid.Bytes()
		row := 0
		for _, a := range arrs {
			if a.NullN() == 0 {
				bitutil.SetBitsTo(bits, int64(row), int64(a.Len()), true)
			} else {
				bitutil.CopyBitmap(a.NullBitmapBytes(), a.Data().Offset(), a.Len(), bits, row)
			}
			row += a.Len()
		}
	}
	data := array.NewData(arrow.PrimitiveTypes.Int32, len(idx),
		[]*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(idx))}, nil, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}
