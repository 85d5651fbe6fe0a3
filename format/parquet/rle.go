package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// rleDecoder reads Parquet's RLE/bit-packed hybrid encoding (definition
// levels and dictionary indices) for the direct reader. Every length comes
// from the page, so each is checked against the bytes that are left: a
// corrupt run is an error, never a read past the page or an allocation.
type rleDecoder struct {
	b     []byte
	width uint // bits per value, 0..32
	// The current run: rleLeft values of rleVal, or packLeft values
	// bit-packed in pack starting at value packPos.
	rleLeft  int
	rleVal   uint32
	pack     []byte
	packPos  int
	packLeft int
}

var errRLEShort = errors.New("RLE data ends before its values")

func newRLE(b []byte, width uint) rleDecoder { return rleDecoder{b: b, width: width} }

// run loads the next run header.
func (d *rleDecoder) run() error {
	h, n := binary.Uvarint(d.b)
	if n <= 0 {
		return errRLEShort
	}
	d.b = d.b[n:]
	if h&1 == 0 {
		if h>>1 > 1<<31 {
			return fmt.Errorf("RLE run of %d values", h>>1)
		}
		vb := int(d.width+7) / 8
		if len(d.b) < vb {
			return errRLEShort
		}
		var v uint32
		for i := vb - 1; i >= 0; i-- {
			v = v<<8 | uint32(d.b[i])
		}
		d.b = d.b[vb:]
		if d.width < 32 && v>>d.width != 0 {
			return fmt.Errorf("RLE value %d wider than %d bits", v, d.width)
		}
		d.rleLeft, d.rleVal = int(h>>1), v
		return nil
	}
	groups := h >> 1
	if groups > uint64(len(d.b)) || groups*uint64(d.width) > uint64(len(d.b)) {
		return errRLEShort
	}
	nb := int(groups) * int(d.width)
	d.pack, d.packPos, d.packLeft = d.b[:nb], 0, int(groups)*8
	d.b = d.b[nb:]
	return nil
}

// int32s fills out with the next len(out) values.
func (d *rleDecoder) int32s(out []int32) error {
	for len(out) > 0 {
		switch {
		case d.rleLeft > 0:
			n := min(d.rleLeft, len(out))
			v := int32(d.rleVal)
			for i := range out[:n] {
				out[i] = v
			}
			d.rleLeft -= n
			out = out[n:]
		case d.packLeft > 0:
			n := min(d.packLeft, len(out))
			unpack(d.pack, d.width, d.packPos, out[:n])
			d.packPos += n
			d.packLeft -= n
			out = out[n:]
		default:
			if err := d.run(); err != nil {
				return err
			}
		}
	}
	return nil
}

// bitmap reads n one-bit values (definition levels of a column whose
// maximum level is 1) into dst from bit off on, and returns how many are
// set. A bit-packed run of width 1 is already an Arrow bitmap.
func (d *rleDecoder) bitmap(dst []byte, off int64, n int) (int, error) {
	if d.width != 1 {
		return 0, fmt.Errorf("definition levels %d bits wide, want 1", d.width)
	}
	start, end := off, off+int64(n)
	for off < end {
		switch {
		case d.rleLeft > 0:
			k := min(d.rleLeft, int(end-off))
			bitutil.SetBitsTo(dst, off, int64(k), d.rleVal == 1)
			d.rleLeft -= k
			off += int64(k)
		case d.packLeft > 0:
			k := min(d.packLeft, int(end-off))
			bitutil.CopyBitmap(d.pack, d.packPos, k, dst, int(off))
			d.packPos += k
			d.packLeft -= k
			off += int64(k)
		default:
			if err := d.run(); err != nil {
				return 0, err
			}
		}
	}
	return bitutil.CountSetBits(dst, int(start), n), nil
}

// unpack writes the values first.. of a bit-packed run into out. Most
// values are read with one 8-byte load; the last few bytes of the run,
// where such a load would overrun it, go through a padded copy.
func unpack(pack []byte, width uint, first int, out []int32) {
	if width == 0 {
		clear(out)
		return
	}
	mask := uint64(1)<<width - 1
	bit := uint(first) * width
	i := 0
	for ; i < len(out); i++ {
		by := bit / 8
		if int(by)+8 > len(pack) {
			break
		}
		out[i] = int32(binary.LittleEndian.Uint64(pack[by:]) >> (bit % 8) & mask)
		bit += width
	}
	if i == len(out) {
		return
	}
	var tail [16]byte
	base := bit / 8
	copy(tail[:], pack[base:])
	bit -= base * 8
	for ; i < len(out); i++ {
		by := bit / 8
		out[i] = int32(binary.LittleEndian.Uint64(tail[by:]) >> (bit % 8) & mask)
		bit += width
	}
}
