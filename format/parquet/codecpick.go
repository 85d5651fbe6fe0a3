package parquet

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// Snappy only where it pays. A plain-encoded column of timestamps, ids or
// measurements that snappy hardly shrinks still costs the full snappy
// pass when written and again when read: on W2's output (1M orders) the
// ts column compressed to 95% of its size, for about a fifth of the
// writer's snappy time, and the reader spent ~7% of its CPU undoing it
// (BENCH_NOTES.md). Parquet records the codec per column chunk, and every
// reader takes a mix of codecs in one file, so such columns are stored
// uncompressed.
//
// The decision is made once, when the file opens, from the first batch,
// as wantDictionary decides the dictionary: the column's raw little-endian
// values (what PLAIN writes for 4- and 8-byte types), at most
// codecSampleBytes of them, are compressed with the codec the file will
// use; the column stays compressed when that saves at least 1/8. Only
// Snappy is second-guessed: zstd and gzip are asked for by name, to make
// files small. Null slots are in the sample (PLAIN skips them); they are
// zeros in practice, which compress, so a column with many nulls keeps
// its codec: the check errs towards what the writer did before.

// codecSampleBytes bounds the sample: 64 KiB is one snappy block, about
// 30 µs to compress, once per column per file.
const codecSampleBytes = 64 << 10

// compressPays reports whether compressing column col (the first batch's)
// with codec saves at least eighths/8 of a sample of its values (the
// writer asks for 1/8: tuning.codecSaveEighths). ok is false when the
// check does not apply (not Snappy, or not a column of 4- or 8-byte
// values): the column keeps the file's codec.
func compressPays(codec compress.Compression, col arrow.Array, eighths int) (pays, ok bool) {
	if codec != compress.Codecs.Snappy {
		return false, false
	}
	sample := fixedWidthBytes(col)
	if len(sample) < 1024 {
		return false, false // too few values to judge
	}
	c, err := compress.GetCodec(codec)
	if err != nil {
		return false, false
	}
	out := c.Encode(nil, sample)
	return 8*(len(sample)-len(out)) >= eighths*len(sample), true
}

// fixedWidthBytes returns up to codecSampleBytes of col's values as stored
// by Arrow, for the types whose Arrow layout is their Parquet PLAIN
// encoding (4- or 8-byte little-endian values), else nil.
func fixedWidthBytes(col arrow.Array) []byte {
	fw, ok := col.DataType().(arrow.FixedWidthDataType)
	if !ok {
		return nil
	}
	switch col.DataType().ID() {
	case arrow.INT32, arrow.INT64, arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DATE32, arrow.TIME32, arrow.TIME64, arrow.TIMESTAMP:
	default:
		return nil
	}
	width := fw.BitWidth() / 8
	d := col.Data()
	if len(d.Buffers()) < 2 || d.Buffers()[1] == nil {
		return nil
	}
	vals := d.Buffers()[1].Bytes()
	from := d.Offset() * width
	to := min(from+d.Len()*width, from+codecSampleBytes, len(vals))
	if from >= to {
		return nil
	}
	return vals[from:to]
}
