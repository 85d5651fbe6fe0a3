package avro

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

// Limits that keep corrupt or hostile files from exhausting memory; real
// files stay far below them (writers use blocks of kilobytes to megabytes).
const (
	maxBlockBytes  = 256 << 20 // compressed or decompressed block
	maxHeaderBytes = 64 << 20  // one header metadata value
)

var magic = []byte{'O', 'b', 'j', 1}

// header is an object container file header.
type header struct {
	meta map[string][]byte
	sync [16]byte
}

func readHeader(br *bufio.Reader) (*header, error) {
	m := make([]byte, 4)
	if _, err := io.ReadFull(br, m); err != nil || !bytes.Equal(m, magic) {
		return nil, errors.New("not an Avro object container file (bad magic)")
	}
	h := &header{meta: map[string][]byte{}}
	for {
		n, err := binary.ReadVarint(br)
		if err != nil {
			return nil, fmt.Errorf("header metadata: %w", err)
		}
		if n == 0 {
			break
		}
		if n < 0 {
			n = -n
			if _, err := binary.ReadVarint(br); err != nil {
				return nil, fmt.Errorf("header metadata: %w", err)
			}
		}
		for ; n > 0; n-- {
			k, err := readSized(br, maxHeaderBytes)
			if err != nil {
				return nil, fmt.Errorf("header metadata key: %w", err)
			}
			v, err := readSized(br, maxHeaderBytes)
			if err != nil {
				return nil, fmt.Errorf("header metadata %q: %w", k, err)
			}
			h.meta[string(k)] = v
		}
	}
	if _, err := io.ReadFull(br, h.sync[:]); err != nil {
		return nil, fmt.Errorf("header sync marker: %w", err)
	}
	return h, nil
}

// readSized reads a length-prefixed byte string, growing the buffer as
// bytes arrive rather than trusting the length up front.
func readSized(br *bufio.Reader, limit int64) ([]byte, error) {
	n, err := binary.ReadVarint(br)
	if err != nil {
		return nil, err
	}
	return readN(br, n, limit)
}

func readN(r io.Reader, n, limit int64) ([]byte, error) {
	if n < 0 || n > limit {
		return nil, fmt.Errorf("length %d is outside 0..%d", n, limit)
	}
	var b bytes.Buffer
	if _, err := io.CopyN(&b, r, n); err != nil {
		return nil, fmt.Errorf("truncated: %w", io.ErrUnexpectedEOF)
	}
	return b.Bytes(), nil
}

// decompressor undoes one block's codec.
type decompressor func([]byte) ([]byte, error)

func newDecompressor(codec string) (decompressor, func(), error) {
	switch codec {
	case "", "null":
		return func(b []byte) ([]byte, error) { return b, nil }, func() {}, nil
	case "deflate":
		return func(b []byte) ([]byte, error) {
			fr := flate.NewReader(bytes.NewReader(b))
			defer fr.Close()
			out, err := io.ReadAll(io.LimitReader(fr, maxBlockBytes+1))
			if err != nil {
				return nil, fmt.Errorf("deflate: %w", err)
			}
			if len(out) > maxBlockBytes {
				return nil, fmt.Errorf("deflate block inflates past %d bytes", maxBlockBytes)
			}
			return out, nil
		}, func() {}, nil
	case "snappy":
		return func(b []byte) ([]byte, error) {
			if len(b) < 4 {
				return nil, errors.New("snappy block without checksum")
			}
			body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
			n, err := snappy.DecodedLen(body)
			if err != nil || n > maxBlockBytes {
				return nil, fmt.Errorf("snappy: bad length %d: %v", n, err)
			}
			out, err := snappy.Decode(nil, body)
			if err != nil {
				return nil, fmt.Errorf("snappy: %w", err)
			}
			if crc32.ChecksumIEEE(out) != sum {
				return nil, errors.New("snappy: checksum mismatch")
			}
			return out, nil
		}, func() {}, nil
	case "zstandard":
		dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxBlockBytes), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return func(b []byte) ([]byte, error) {
			out, err := dec.DecodeAll(b, nil)
			if err != nil {
				return nil, fmt.Errorf("zstandard: %w", err)
			}
			return out, nil
		}, dec.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown codec %q (known: null, deflate, snappy, zstandard)", codec)
}
