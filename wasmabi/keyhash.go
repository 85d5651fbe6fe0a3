package wasmabi

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/cespare/xxhash/v2"
)

// The partition function of a keyed stage (keyed.go). It is part of the
// saved state's meaning: a resumed run must send each key to the instance
// whose state holds it, so it depends on nothing but the key's bytes (no
// per-process seed, as hash/maphash has) and must never change without
// changing keyedMagic. Columnar: one type switch per key column, then a
// loop over its buffers; no call through an interface per row.

// nullKey is a null key value's: nulls form one key. golden (2^64/φ)
// is added before each mix so that 0 does not stay 0.
const (
	nullKey = 0x6e756c6c6b6579
	golden  = 0x9e3779b97f4a7c15
)

// mix64 is SplitMix64's finalizer: every input bit reaches every output
// bit, so the low bits taken by the modulo are as good as the high ones.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// keyHashable reports why a column cannot be a key, or nil.
func keyHashable(dt arrow.DataType) error {
	switch t := dt.(type) {
	case *arrow.DictionaryType:
		return keyHashable(t.ValueType)
	case *arrow.StringType, *arrow.LargeStringType, *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BooleanType:
		return nil
	case arrow.FixedWidthDataType:
		if w := t.BitWidth(); w%8 == 0 && w > 0 {
			return nil
		}
	}
	return fmt.Errorf("%s cannot be a key (a key is strings, binary, booleans, numbers, dates, times or timestamps)", dt)
}

// keyValues writes column a's key value for each row into v: v[k] for
// row rows[k] of a (rows nil: row k); a string's is its xxhash, a
// number's its bits, a null's nullKey.
func keyValues(a arrow.Array, rows []int, v []uint64) error {
	d := a.Data()
	off := d.Offset()
	switch c := a.(type) {
	case *array.Dictionary:
		// The dictionary's values once; rows look theirs up.
		dict := make([]uint64, c.Dictionary().Len())
		if err := keyValues(c.Dictionary(), nil, dict); err != nil {
			return err
		}
		for k := range v {
			v[k] = dict[c.GetValueIndex(rowOf(rows, k))]
		}
	case *array.String:
		for k := range v {
			v[k] = xxhash.Sum64String(c.Value(rowOf(rows, k)))
		}
	case *array.LargeString:
		for k := range v {
			v[k] = xxhash.Sum64String(c.Value(rowOf(rows, k)))
		}
	case *array.Binary:
		for k := range v {
			v[k] = xxhash.Sum64(c.Value(rowOf(rows, k)))
		}
	case *array.LargeBinary:
		for k := range v {
			v[k] = xxhash.Sum64(c.Value(rowOf(rows, k)))
		}
	case *array.Boolean:
		vals := d.Buffers()[1].Bytes()
		for k := range v {
			v[k] = 0
			if bitutil.BitIsSet(vals, off+rowOf(rows, k)) {
				v[k] = 1
			}
		}
	default:
		fw, ok := a.DataType().(arrow.FixedWidthDataType)
		if !ok || fw.BitWidth()%8 != 0 || fw.BitWidth() == 0 {
			return keyHashable(a.DataType())
		}
		w := fw.BitWidth() / 8
		var vals []byte
		if b := d.Buffers()[1]; b != nil {
			vals = b.Bytes()
		}
		for k := range v {
			i := off + rowOf(rows, k)
			b := vals[i*w : (i+1)*w]
			switch w {
			case 1:
				v[k] = uint64(b[0])
			case 2:
				v[k] = uint64(le.Uint16(b))
			case 4:
				v[k] = uint64(le.Uint32(b))
			case 8:
				v[k] = le.Uint64(b)
			default:
				v[k] = xxhash.Sum64(b)
			}
		}
	}
	if a.NullN() > 0 {
		valid := a.NullBitmapBytes()
		for k := range v {
			if !bitutil.BitIsSet(valid, off+rowOf(rows, k)) {
				v[k] = nullKey
			}
		}
	}
	return nil
}

// partitions splits the rows of rec (rows nil: all) over n partitions by
// the hash of the key columns: into[p] lists partition p's rows of rec in
// their input order. scratch and into are reused.
func partitions(rec arrow.RecordBatch, keys []int, rows []int, n int, scratch *[]uint64, into [][]int) error {
	m := int(rec.NumRows())
	if rows != nil {
		m = len(rows)
	}
	for p := range into {
		into[p] = into[p][:0]
	}
	if n == 1 {
		// One instance owns every key: no hashing.
		for k := range m {
			into[0] = append(into[0], rowOf(rows, k))
		}
		return nil
	}
	buf := slices.Grow((*scratch)[:0], 2*m)[:2*m]
	*scratch = buf
	h, v := buf[:m], buf[m:]
	clear(h)
	for _, c := range keys {
		if err := keyValues(rec.Column(c), rows, v); err != nil {
			return err
		}
		for k := range h {
			h[k] = mix64(h[k] ^ v[k] + golden)
		}
	}
	for k := range h {
		// The high bits of h × n (Lemire's reduction): mix64's low bits
		// are poor for small inputs, its high ones are not.
		p, _ := bits.Mul64(h[k], uint64(n))
		into[p] = append(into[p], rowOf(rows, k))
	}
	return nil
}

func rowOf(rows []int, k int) int {
	if rows == nil {
		return k
	}
	return rows[k]
}
