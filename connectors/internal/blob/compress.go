package blob

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/dataweaver/dataweaver/format"
)

// Compression names as pipeline files write them (the compression field of
// the file and s3 connectors).
const (
	CompAuto = "auto"
	CompNone = "none"
	CompGzip = "gzip"
	CompZstd = "zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// BySuffix returns the compression a path's suffix announces, or "".
func BySuffix(path string) string {
	switch {
	case strings.HasSuffix(path, ".gz"), strings.HasSuffix(path, ".gzip"):
		return CompGzip
	case strings.HasSuffix(path, ".zst"), strings.HasSuffix(path, ".zstd"):
		return CompZstd
	}
	return ""
}

// ByMagic looks at the first bytes of br without consuming them.
func ByMagic(br *bufio.Reader) (string, error) {
	head, err := br.Peek(len(zstdMagic))
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return "", err
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return CompGzip, nil
	case bytes.HasPrefix(head, zstdMagic):
		return CompZstd, nil
	}
	return CompNone, nil
}

// Decompress wraps r in the decompressor kind names (CompNone: r itself); the returned closer stops any goroutine the
// decompressor started (zstd decodes ahead concurrently).
func Decompress(kind string, r io.Reader) (io.Reader, func() error, error) {
	switch kind {
	case CompGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w: %w", format.ErrMalformed, err)
		}
		return &streamErrors{r: zr, kind: kind}, zr.Close, nil
	case CompZstd:
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return &streamErrors{r: zr, kind: kind}, func() error { zr.Close(); return nil }, nil
	}
	return r, func() error { return nil }, nil
}

// streamErrors hides io.ErrUnexpectedEOF from a truncated compressed
// stream behind an error of its own. Readers that fill buffers with
// io.ReadFull take io.ErrUnexpectedEOF for a short last read, that is, for
// a clean end: a cut .zst would then lose its tail without a word.
type streamErrors struct {
	r    io.Reader
	kind string
}

func (s *streamErrors) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s stream is truncated or corrupt: %w: %v", s.kind, format.ErrMalformed, err)
	}
	return n, err
}

// Compressor is the writing side: Flush pushes a complete compressed block
// downstream, so what was flushed can be decompressed even if the process
// dies before Close.
type Compressor interface {
	io.Writer
	Flush() error
	Close() error
}

type nopCompressor struct{ io.Writer }

func (nopCompressor) Flush() error { return nil }
func (nopCompressor) Close() error { return nil }

// Compress wraps w in the compressor kind names (CompNone: none).
func Compress(kind string, w io.Writer) (Compressor, error) {
	switch kind {
	case CompGzip:
		return gzip.NewWriter(w), nil
	case CompZstd:
		zw, err := zstd.NewWriter(w)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zw, nil
	}
	return nopCompressor{w}, nil
}
