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
	"fmt"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

type config struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	Value  any    `json:"value"`
}

func main() {}

func init() { guest.Stage(setup) }

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	var c config
	if err := s.Config(&c); err != nil {
		return nil, err
	}
	if c.Column == "" {
		return nil, fmt.Errorf("config: column is required")
	}
	if c.Op == "" {
		c.Op = "=="
	}
	f, ok := s.Field(c.Column)
	if !ok {
		return nil, fmt.Errorf("no column %q in the input", c.Column)
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
	return nil, fmt.Errorf("column %q is %s; filter takes float64, int64, int32 or string columns", c.Column, f.Type)
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
				return nil, fmt.Errorf("config: value: %v is not a string", x)
			}
			set[str] = true
		}
	default:
		return nil, fmt.Errorf("config: value must be a string or a list of strings for column %q", c.Column)
	}
	var keep bool
	switch c.Op {
	case "==":
		keep = true
	case "!=":
	default:
		return nil, fmt.Errorf("config: op %q does not apply to strings (use == or !=)", c.Op)
	}
	col := guest.ReadString(s, c.Column)
	return func(b *guest.Batch) error {
		v := col.View(b)
		for i := range b.Len() {
			if !v.Valid(i) || set[v.Value(i)] != keep {
				b.Drop(i)
			}
		}
		return nil
	}, nil
}

type number interface{ ~int32 | ~int64 | ~float64 }

func numberFilter[T number](s *guest.Setup, c config, col guest.Col[T]) (guest.ProcessFunc, error) {
	x, ok := c.Value.(float64)
	if !ok {
		return nil, fmt.Errorf("config: value must be a number for column %q", c.Column)
	}
	var pred func(v float64) bool
	switch c.Op {
	case "==":
		pred = func(v float64) bool { return v == x }
	case "!=":
		pred = func(v float64) bool { return v != x }
	case "<":
		pred = func(v float64) bool { return v < x }
	case "<=":
		pred = func(v float64) bool { return v <= x }
	case ">":
		pred = func(v float64) bool { return v > x }
	case ">=":
		pred = func(v float64) bool { return v >= x }
	default:
		return nil, fmt.Errorf("config: unknown op %q (==, !=, <, <=, >, >=)", c.Op)
	}
	return func(b *guest.Batch) error {
		v := col.View(b)
		for i, val := range v.Values {
			if !v.Valid(i) || !pred(float64(val)) {
				b.Drop(i)
			}
		}
		return nil
	}, nil
}
