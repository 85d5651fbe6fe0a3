package wasmabi

import (
	"fmt"

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

// nullKey is what a null key value hashes as: nulls form one key.
const nullKey = 0x6e756c6c6b6579

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

// hashKey folds column a's key values into h: h[k] for row rows[k] of a
// (rows nil: row k).
func hashKey(a arrow.Array, rows []int, h []uint64) error {
	d := a.Data()
	off := d.Offset()
	var valid []byte
	if a.NullN() > 0 {
		valid = a.NullBitmapBytes()
	}
	put := func(k, i int, v uint64) {
		if valid != nil && !bitutil.BitIsSet(valid, off+i) {
			v = nullKey
		}
		h[k] = mix64(h[k] ^ v)
	}
	switch c := a.(type) {
	case *array.Dictionary:
		// Hash the dictionary once; rows look their value's hash up.
		dict := make([]uint64, c.Dictionary().Len())
		if err := hashKey(c.Dictionary(), nil, dict); err != nil {
			return err
		}
		for k := range h {
			i := rowOf(rows, k)
			put(k, i, dict[c.GetValueIndex(i)])
		}
	case *array.String:
		for k := range h {
			i := rowOf(rows, k)
			put(k, i, xxhash.Sum64String(c.Value(i)))
		}
	case *array.LargeString:
		for k := range h {
			i := rowOf(rows, k)
			put(k, i, xxhash.Sum64String(c.Value(i)))
		}
	case *array.Binary:
		for k := range h {
			i := rowOf(rows, k)
			put(k, i, xxhash.Sum64(c.Value(i)))
		}
	case *array.LargeBinary:
		for k := range h {
			i := rowOf(rows, k)
			put(k, i, xxhash.Sum64(c.Value(i)))
		}
	case *array.Boolean:
		vals := d.Buffers()[1].Bytes()
		for k := range h {
			i := rowOf(rows, k)
			var v uint64
			if bitutil.BitIsSet(vals, off+i) {
				v = 1
			}
			put(k, i, v)
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
		for k := range h {
			i := rowOf(rows, k)
			b := vals[(off+i)*w : (off+i+1)*w]
			var v uint64
			switch w {
			case 1:
				v = uint64(b[0])
			case 2:
				v = uint64(le.Uint16(b))
			case 4:
				v = uint64(le.Uint32(b))
			case 8:
				v = le.Uint64(b)
			default:
				v = xxhash.Sum64(b)
			}
			put(k, i, v)
		}
	}
	return nil
}

// partitions splits the rows of rec (rows nil: all) over n partitions by
// the hash of the key columns: into[p] lists partition p's rows of rec in
// their input order. hashes and into are reused scratch.
func partitions(rec arrow.RecordBatch, keys []int, rows []int, n int, hashes *[]uint64, into [][]int) error {
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
	h := (*hashes)[:0]
	for range m {
		h = append(h, 0)
	}
	*hashes = h
	for _, c := range keys {
		if err := hashKey(rec.Column(c), rows, h); err != nil {
			return err
		}
	}
	for k, v := range h {
		p := v % uint64(n)
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
