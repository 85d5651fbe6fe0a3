package generate

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// column makes rows start..start+n-1 of one column of a declared schema.
type column func(mem memory.Allocator, k uint64, start, n int) arrow.Array

var words = strings.Fields(`amber basil cedar delta ember fjord grove harbor iris juniper kestrel lumen
	maple nectar onyx pepper quartz raven sable thistle umber violet willow xenon yarrow zephyr
	atlas birch comet dune echo flint glade heron indigo jade kelp lotus meadow north opal pine`)

// wordPool holds every two-word combination, so generated strings are
// varied but still come from a pool. Built on first use, not at every
// weave start.
var wordPool = sync.OnceValue(func() *pool {
	var s []string
	for _, a := range words {
		for _, b := range words {
			s = append(s, a+" "+b)
		}
	}
	return newPool(s)
})

// columnFor returns the generator for field number col of a declared
// schema, or an error naming the type when it has none. Values are spread
// over ranges a reader recognises (amounts, recent dates, short words)
// rather than over the type's full range.
func columnFor(f arrow.Field, col int, nullFraction float64) (column, error) {
	nullable := f.Nullable && nullFraction > 0
	// A value is null when its cell hash, read as a fraction, falls under
	// nullFraction; a different column salt keeps it independent of the value.
	threshold := uint64(nullFraction * float64(math.MaxUint64))
	isNull := func(k uint64, row int) bool { return nullable && cell(k, col+1<<20, row) < threshold }
	valid := func(mem memory.Allocator, k uint64, start, n int) *validity {
		if !nullable {
			return nil
		}
		v := newValidity(mem, n)
		for i := range n {
			v.set(i, !isNull(k, start+i))
		}
		return v
	}
	dt := f.Type
	switch t := dt.(type) {
	case *arrow.Int8Type:
		return ints[int8](dt, col, valid, 100), nil
	case *arrow.Int16Type:
		return ints[int16](dt, col, valid, 10_000), nil
	case *arrow.Int32Type:
		return ints[int32](dt, col, valid, 1_000_000), nil
	case *arrow.Int64Type:
		return ints[int64](dt, col, valid, 1_000_000_000), nil
	case *arrow.Uint8Type:
		return uints[uint8](dt, col, valid, 200), nil
	case *arrow.Uint16Type:
		return uints[uint16](dt, col, valid, 20_000), nil
	case *arrow.Uint32Type:
		return uints[uint32](dt, col, valid, 1_000_000), nil
	case *arrow.Uint64Type:
		return uints[uint64](dt, col, valid, 1_000_000_000), nil
	case *arrow.Float32Type:
		return floats[float32](dt, col, valid), nil
	case *arrow.Float64Type:
		return floats[float64](dt, col, valid), nil
	case *arrow.BooleanType:
		return func(mem memory.Allocator, k uint64, start, n int) arrow.Array {
			buf := buffer(mem, int(bitutil.BytesForBits(int64(n))))
			bits := buf.Bytes()
			for i := range n {
				if cell(k, col, start+i)&1 == 1 {
					bitutil.SetBit(bits, i)
				}
			}
			return makeArray(dt, n, valid(mem, k, start, n), buf)
		}, nil
	case *arrow.StringType, *arrow.BinaryType:
		return func(mem memory.Allocator, k uint64, start, n int) arrow.Array {
			wp := wordPool()
			idx := make([]int32, n)
			for i := range n {
				idx[i] = int32(bounded(cell(k, col, start+i), wp.len()))
				if isNull(k, start+i) {
					idx[i] = -1
				}
			}
			return wp.strings(mem, dt, idx)
		}, nil
	case *arrow.Date32Type:
		// 2020-01-01 plus up to five years.
		return temporal[arrow.Date32](dt, col, valid, func(h uint64, _ int) arrow.Date32 { return arrow.Date32(18262 + h%1827) }), nil
	case *arrow.Date64Type:
		return temporal[arrow.Date64](dt, col, valid, func(h uint64, _ int) arrow.Date64 { return arrow.Date64((18262 + int64(h%1827)) * 86_400_000) }), nil
	case *arrow.TimestampType:
		// Starting 2024-01-01, one second apart with up to a second of jitter.
		per := perSecond(t.Unit)
		return temporal[arrow.Timestamp](dt, col, valid, func(h uint64, row int) arrow.Timestamp {
			return arrow.Timestamp((1_704_067_200+int64(row))*per + int64(h%uint64(per)))
		}), nil
	case *arrow.Time32Type:
		per := perSecond(t.Unit)
		return temporal[arrow.Time32](dt, col, valid, func(h uint64, _ int) arrow.Time32 { return arrow.Time32(int64(h % uint64(86_400*per))) }), nil
	case *arrow.Time64Type:
		per := perSecond(t.Unit)
		return temporal[arrow.Time64](dt, col, valid, func(h uint64, _ int) arrow.Time64 { return arrow.Time64(int64(h % uint64(86_400*per))) }), nil
	case *arrow.DurationType:
		per := perSecond(t.Unit)
		return temporal[arrow.Duration](dt, col, valid, func(h uint64, _ int) arrow.Duration { return arrow.Duration(int64(h % uint64(3_600*per))) }), nil
	case *arrow.Decimal128Type:
		mod := pow10(min(t.Precision, 18))
		return func(mem memory.Allocator, k uint64, start, n int) arrow.Array {
			return fixed(mem, dt, n, valid(mem, k, start, n), func(v []decimal128.Num) {
				for i := range v {
					h := cell(k, col, start+i)
					x := int64(h>>1) % mod
					if h&1 == 1 {
						x = -x
					}
					v[i] = decimal128.FromI64(x)
				}
			})
		}, nil
	case *arrow.Decimal256Type:
		mod := pow10(min(t.Precision, 18))
		return func(mem memory.Allocator, k uint64, start, n int) arrow.Array {
			return fixed(mem, dt, n, valid(mem, k, start, n), func(v []decimal256.Num) {
				for i := range v {
					h := cell(k, col, start+i)
					x := int64(h>>1) % mod
					if h&1 == 1 {
						x = -x
					}
					v[i] = decimal256.FromI64(x)
				}
			})
		}, nil
	}
	return nil, fmt.Errorf("column %q: generate cannot make values of type %s", f.Name, dt)
}

func perSecond(u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Second:
		return 1
	case arrow.Millisecond:
		return 1_000
	case arrow.Microsecond:
		return 1_000_000
	}
	return 1_000_000_000
}

func pow10(p int32) int64 {
	x := int64(1)
	for range p {
		x *= 10
	}
	return x
}

type validFn func(mem memory.Allocator, k uint64, start, n int) *validity

// ints spreads values over (-limit, limit).
func ints[T int8 | int16 | int32 | int64](dt arrow.DataType, col int, valid validFn, limit int64) column {
	return func(mem memory.Allocator, k uint64, start, n int) arrow.Array {
		return fixed(mem, dt, n, valid(mem, k, start, n), func(v []T) {
			for i := range v {
				h := cell(k, col, start+i)
				x := int64(h>>1) % limit
				if h&1 == 1 {
					x = -x
				}
				v[i] = T(x)
			}
		})
	}
}

// uints spreads values over [0, limit).
func uints[T uint8 | uint16 | uint32 | uint64](dt arrow.DataType, col int, valid validFn, limit uint64) column {
	return func(mem memory.Allocator, k uint64, start, n int) arrow.Array {
		return fixed(mem, dt, n, valid(mem, k, start, n), func(v []T) {
			for i := range v {
				v[i] = T(cell(k, col, start+i) % limit)
			}
		})
	}
}

// floats gives amounts with two decimals in [-1000, 1000).
func floats[T float32 | float64](dt arrow.DataType, col int, valid validFn) column {
	return func(mem memory.Allocator, k uint64, start, n int) arrow.Array {
		return fixed(mem, dt, n, valid(mem, k, start, n), func(v []T) {
			for i := range v {
				v[i] = T(float64(int64(cell(k, col, start+i)%200_000)-100_000) / 100)
			}
		})
	}
}

func temporal[T arrow.Date32 | arrow.Date64 | arrow.Timestamp | arrow.Time32 | arrow.Time64 | arrow.Duration](dt arrow.DataType, col int, valid validFn, f func(h uint64, row int) T) column {
	return func(mem memory.Allocator, k uint64, start, n int) arrow.Array {
		return fixed(mem, dt, n, valid(mem, k, start, n), func(v []T) {
			for i := range v {
				v[i] = f(cell(k, col, start+i), start+i)
			}
		})
	}
}
