// Command filter is a Wasm stage that keeps the rows matching a predicate
// on one numeric or string column.
//
//	stages:
//	  - wasm: transforms/filter/filter.wasm
//	    config: {column: amount, op: ">=", value: 0}
//
// Ops: ==, !=, <, <=, >, >= (numbers), ==, != (strings; value is a string
// or a list of strings, meaning "any of"). Null rows never match.
package main

import (
	"errors"
	"strconv"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

type config struct {
	Column string
	Op     string
	Value  any
}

func main() {}

func init() { guest.Stage(setup) }

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	var c config
	// ConfigKeys rather than Config(&c): no reflect in the module.
	if err := s.ConfigKeys(guest.ConfString("column", &c.Column), guest.ConfString("op", &c.Op),
		guest.ConfAny("value", &c.Value)); err != nil {
		return nil, err
	}
	if c.Column == "" {
		return nil, errors.New("config: column is required")
	}
	if c.Op == "" {
		c.Op = "=="
	}
	f, ok := s.Field(c.Column)
	if !ok {
		return nil, errors.New("no column " + quote(c.Column) + " in the input")
	}
	s.Filter()
	switch f.Type {
	case "utf8", "large_utf8", "binary", "large_binary":
		return stringFilter(s, c)
	case "float64":
		return numberFilter(s, c, guest.Read[float64](s, c.Column))
	case "int64":
		return numberFilter(s, c, guest.Read[int64](s, c.Column))
	case "int32":
		return numberFilter(s, c, guest.Read[int32](s, c.Column))
	}
	return nil, errors.New("column " + quote(c.Column) + " is " + f.Type + "; filter takes float64, int64, int32 or string columns")
}

func stringFilter(s *guest.Setup, c config) (guest.ProcessFunc, error) {
	set := map[string]bool{}
	switch v := c.Value.(type) {
	case string:
		set[v] = true
	case []any:
		for _, x := range v {
			str, ok := x.(string)
			if !ok {
				return nil, errors.New("config: value: " + describe(x) + " is not a string")
			}
			set[str] = true
		}
	default:
		return nil, errors.New("config: value must be a string or a list of strings for column " + quote(c.Column))
	}
	var keep bool
	switch c.Op {
	case "==":
		keep = true
	case "!=":
	default:
		return nil, errors.New("config: op " + quote(c.Op) + " does not apply to strings (use == or !=)")
	}
	col := guest.ReadString(s, c.Column)
	if len(set) == 1 {
		var want string
		for k := range set {
			want = k
		}
		inv := byte(0xff) // != : keep the rows that differ
		if keep {
			inv = 0
		}
		return func(b *guest.Batch) error {
			v := col.View(b)
			sel := b.KeepBits()
			o32, o64, data := v.Raw()
			if o32 != nil {
				strEq(sel, o32, data, want, inv)
			} else {
				strEq(sel, o64, data, want, inv)
			}
			andValid(sel, v.Validity())
			return nil
		}, nil
	}
	return func(b *guest.Batch) error {
		v := col.View(b)
		sel := b.KeepBits()
		n := b.Len()
		for j := 0; j < n; j += 8 {
			var m byte
			for k := range min(8, n-j) {
				if set[v.Value(j+k)] == keep {
					m |= 1 << k
				}
			}
			sel[j>>3] = m
		}
		andValid(sel, v.Validity())
		return nil
	}, nil
}

type number interface{ ~int32 | ~int64 | ~float64 }

// numberFilter specialises the comparison at setup: < and <= are > and >=
// on negated operands (exact in float64, NaN still never matches) and != is
// the complement of ==, so three kernels cover the six ops, each filling
// the selection 64 rows per loop iteration with no call in the loop.
func numberFilter[T number](s *guest.Setup, c config, col guest.Col[T]) (guest.ProcessFunc, error) {
	x, ok := c.Value.(float64)
	if !ok {
		return nil, errors.New("config: value must be a number for column " + quote(c.Column))
	}
	var kernel func(sel []byte, vals []T, sign, x float64, inv byte)
	sign, inv := 1.0, byte(0)
	switch c.Op {
	case "==":
		kernel = fillEQ[T]
	case "!=":
		kernel, inv = fillEQ[T], 0xff
	case "<":
		kernel, sign = fillGT[T], -1
	case "<=":
		kernel, sign = fillGE[T], -1
	case ">":
		kernel = fillGT[T]
	case ">=":
		kernel = fillGE[T]
	default:
		return nil, errors.New("config: unknown op " + quote(c.Op) + " (==, !=, <, <=, >, >=)")
	}
	sx := sign * x
	return func(b *guest.Batch) error {
		v := col.View(b)
		sel := b.KeepBits()
		kernel(sel, v.Values, sign, sx, inv)
		andValid(sel, v.Validity())
		return nil
	}, nil
}

// quote is a name in double quotes, as %q prints a plain one (the
// transforms build messages without fmt, which would add about 0.3 MB to
// the module: BENCHMARKS.md, "Go guests' size and start").
func quote(s string) string { return `"` + s + `"` }

// describe is %v of a configuration value that should have been a string.
func describe(x any) string {
	switch v := x.(type) {
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "<nil>"
	case []any:
		return "a list"
	}
	return "a mapping"
}
