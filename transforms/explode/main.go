// Command explode is an ABI v2 Wasm stage that turns a list column into
// rows: one output row per item, the item in place of the list.
//
//	stages:
//	  - wasm: build/explode.wasm
//	    config: {column: tags}
//
// Each output row's origin is the input row its item came from, so every
// other column is handed on with it and a rejected row's dead letter
// names the input row. A null or empty list gives no row (SQL's UNNEST,
// Spark's explode); a null item gives a row with a null value. `as`
// names the output column (default: the list column's own name, which
// the item replaces in place). The items may be of any v1 type.
package main

import (
	"errors"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

type config struct{ Column, As string }

func main() {}

func init() { guest.StageV2(setup) }

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	var c config
	if err := s.ConfigKeys(guest.ConfString("column", &c.Column), guest.ConfString("as", &c.As)); err != nil {
		return nil, err
	}
	if c.Column == "" {
		return nil, errors.New("config: column is required")
	}
	if c.As == "" {
		c.As = c.Column
	}
	list := guest.ReadList(s, c.Column)
	if err := s.Err(); err != nil {
		return nil, err
	}
	if c.As != c.Column {
		s.DropColumn(c.Column)
	}
	switch typ := list.Elem(); typ {
	case "bool":
		out := guest.WriteBool(s, c.As)
		return func(b *guest.Batch) error {
			v := list.View(b)
			items := v.Bools()
			each(b, v, func(k int) {
				if items.Valid(k) {
					out.Put(b, items.Value(k))
				} else {
					out.PutNull(b)
				}
			})
			return nil
		}, nil
	case "utf8", "large_utf8", "binary", "large_binary":
		write := guest.WriteString
		if typ == "binary" || typ == "large_binary" {
			write = guest.WriteBinary
		}
		out := write(s, c.As)
		return func(b *guest.Batch) error {
			v := list.View(b)
			items := v.Strings()
			each(b, v, func(k int) {
				if items.Valid(k) {
					out.Put(b, items.Value(k))
				} else {
					out.PutNull(b)
				}
			})
			return nil
		}, nil
	case "int8":
		return fixed[int8](s, list, c.As, typ), nil
	case "int16":
		return fixed[int16](s, list, c.As, typ), nil
	case "uint8":
		return fixed[uint8](s, list, c.As, typ), nil
	case "uint16":
		return fixed[uint16](s, list, c.As, typ), nil
	case "uint32":
		return fixed[uint32](s, list, c.As, typ), nil
	case "uint64":
		return fixed[uint64](s, list, c.As, typ), nil
	case "float32":
		return fixed[float32](s, list, c.As, typ), nil
	case "float64":
		return fixed[float64](s, list, c.As, typ), nil
	}
	switch w := width(list.Elem()); w {
	case 4: // int32, date32
		return fixed[int32](s, list, c.As, list.Elem()), nil
	case 8: // int64, timestamps
		return fixed[int64](s, list, c.As, list.Elem()), nil
	case 16:
		return fixed[guest.Decimal128](s, list, c.As, list.Elem()), nil
	}
	return nil, errors.New("column \"" + c.Column + "\": items of type " + list.Elem() + " are not supported")
}

func width(typ string) int {
	switch {
	case typ == "int32" || typ == "date32":
		return 4
	case typ == "int64" || len(typ) > 10 && typ[:10] == "timestamp[":
		return 8
	case len(typ) > 11 && typ[:11] == "decimal128(":
		return 16
	}
	return 0
}

// fixed explodes a list of fixed-width items, written as typ.
func fixed[T guest.Fixed](s *guest.Setup, list guest.ListCol, as, typ string) guest.ProcessFunc {
	out := guest.Write[T](s, as, typ)
	return func(b *guest.Batch) error {
		v := list.View(b)
		items := guest.ItemsOf[T](v)
		each(b, v, func(k int) {
			if items.Valid(k) {
				out.Put(b, items.Values[k])
			} else {
				out.PutNull(b)
			}
		})
		return nil
	}
}

// each emits one row per item of every non-null row of v, in order, and
// calls put with the item's index to give it its value.
func each(b *guest.Batch, v guest.ListView, put func(k int)) {
	for i := range b.Len() {
		if !v.Valid(i) {
			continue
		}
		lo, hi := v.Range(i)
		for k := lo; k < hi; k++ {
			b.Emit(i)
			put(k)
		}
	}
}
