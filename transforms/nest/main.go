// Command nest is an ABI v2 Wasm stage that packs columns into one struct
// column, the inverse of explode on a struct (the C transforms/c/nest's
// and Rust transforms/rust/nest's output, byte for byte).
//
//	stages:
//	  - wasm: build/nest.wasm
//	    config: {columns: [sku, qty], as: item}
//
// Each input row gives one row (its origin, so the other columns are
// handed on) whose column `as` is struct<sku:…,qty:…>, the values of the
// columns in that order, nulls kept; the packed columns are dropped. `as`
// is appended, or takes the place of a packed column of its name. Columns
// may be int64 or timestamps, int32 or date32, float64, bool, utf8 or
// binary (large_ ones written as utf8 or binary).
package main

import (
	"errors"
	"strings"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() { guest.StageV2(setup) }

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	var columns []string
	var as string
	if err := s.ConfigKeys(guest.ConfStrings("columns", &columns), guest.ConfString("as", &as)); err != nil {
		return nil, err
	}
	if len(columns) == 0 || as == "" {
		return nil, errors.New("config: columns (a list) and as are required")
	}
	// Per column, once per batch: a putter giving the emitted row input
	// row i's value (the views made once, not per row).
	var preps []func(b *guest.Batch, node guest.Node) func(i int)
	typ := "struct<"
	for f, name := range columns {
		field, _ := s.Field(name)
		t := field.Type
		switch {
		case t == "int64" || strings.HasPrefix(t, "timestamp["):
			preps = append(preps, fixedPut(guest.Read[int64](s, name)))
		case t == "int32" || t == "date32":
			preps = append(preps, fixedPut(guest.Read[int32](s, name)))
		case t == "float64":
			preps = append(preps, fixedPut(guest.Read[float64](s, name)))
		case t == "bool":
			col := guest.ReadBool(s, name)
			preps = append(preps, func(b *guest.Batch, node guest.Node) func(i int) {
				v := col.View(b)
				return func(i int) {
					if v.Valid(i) {
						node.PutBool(b, v.Value(i))
					} else {
						node.PutNull(b)
					}
				}
			})
		case t == "utf8" || t == "large_utf8" || t == "binary" || t == "large_binary":
			t = strings.TrimPrefix(t, "large_")
			col := guest.ReadString(s, name)
			preps = append(preps, func(b *guest.Batch, node guest.Node) func(i int) {
				v := col.View(b)
				return func(i int) {
					if v.Valid(i) {
						node.PutString(b, v.Value(i))
					} else {
						node.PutNull(b)
					}
				}
			})
		case t == "":
			guest.Read[int64](s, name) // says there is no such column
		default:
			return nil, errors.New("column \"" + name + "\" of type " + t + " cannot be nested")
		}
		if f > 0 {
			typ += ","
		}
		typ += name + ":" + t
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	for _, name := range columns {
		if name != as {
			s.DropColumn(name)
		}
	}
	st := guest.WriteNested(s, as, typ+">")
	nodes := make([]guest.Node, len(columns))
	for f := range columns {
		nodes[f] = st.Child(s, f)
	}
	puts := make([]func(i int), len(columns))
	return func(b *guest.Batch) error {
		for f, prep := range preps {
			puts[f] = prep(b, nodes[f])
		}
		for i := range b.Len() {
			b.Emit(i)
			st.Begin(b)
			for _, put := range puts {
				put(i)
			}
			st.End(b)
		}
		return nil
	}, nil
}

// fixedPut prepares the putter of a fixed-width column.
func fixedPut[T guest.Fixed](col guest.Col[T]) func(b *guest.Batch, node guest.Node) func(i int) {
	return func(b *guest.Batch, node guest.Node) func(i int) {
		v := col.View(b)
		return func(i int) {
			if v.Valid(i) {
				guest.PutValue(b, node, v.Values[i])
			} else {
				node.PutNull(b)
			}
		}
	}
}
