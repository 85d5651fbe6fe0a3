package parquet

import (
	"io"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/s2"
)

// arrow-go v18 compresses Snappy pages with klauspost/compress's
// snappy.Encode, which is s2.EncodeSnappyBetter: its slower, denser mode.
// On the orders table that was 13-15% of a Parquet → Parquet run's CPU
// (BENCHMARKS.md, issue 16). s2.EncodeSnappy is the fast mode of the same
// encoder and writes the same Snappy block format, so every reader reads
// it. arrow-go looks codecs up in a process-wide registry, so this choice
// applies to every Parquet file the process writes with Snappy, through
// this package or arrow-go directly; decoding is unchanged.
func init() {
	orig, err := compress.GetCodec(compress.Codecs.Snappy)
	if err != nil {
		return // arrow-go always registers Snappy; keep its codec if not
	}
	compress.RegisterCodec(compress.Codecs.Snappy, fastSnappy{orig: orig})
}

type fastSnappy struct{ orig compress.Codec }

func (fastSnappy) Encode(dst, src []byte) []byte { return s2.EncodeSnappy(dst, src) }

func (fastSnappy) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

func (f fastSnappy) CompressBound(n int64) int64 { return f.orig.CompressBound(n) }

func (f fastSnappy) Decode(dst, src []byte) []byte { return f.orig.Decode(dst, src) }

func (f fastSnappy) DecodeWithError(dst, src []byte) ([]byte, error) {
	return compress.Decode(f.orig, dst, src)
}

func (f fastSnappy) NewReader(r io.Reader) io.ReadCloser {
	return f.orig.(compress.StreamingCodec).NewReader(r)
}

func (f fastSnappy) NewWriter(w io.Writer) io.WriteCloser {
	return f.orig.(compress.StreamingCodec).NewWriter(w)
}

func (f fastSnappy) NewWriterLevel(w io.Writer, level int) (io.WriteCloser, error) {
	return f.orig.(compress.StreamingCodec).NewWriterLevel(w, level)
}
