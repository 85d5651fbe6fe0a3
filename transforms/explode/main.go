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
//
// A list of structs gives one row per item with the struct's fields as
// columns of their own names (DuckDB's unnest(recursive := true)), in the
// list's place: a field named like an input column replaces it; a null
// struct gives a row of nulls. The fields may be int64, timestamps,
// int32, date32, float64, bool, utf8 or binary (large_ ones written as
// utf8 or binary), as in the C and Rust explode; `as` does not apply. A
// struct column is unnested the same way, one row per input row (a null
// struct, a row of nulls).
package main

import (
	"errors"
	"strings"

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
	if f, ok := s.Field(c.Column); ok && (strings.HasPrefix(f.Type, "list<struct<") || strings.HasPrefix(f.Type, "struct<")) {
		return setupStructs(s, c, strings.HasPrefix(f.Type, "struct<"))
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

// setupStructs explodes a list of structs into its fields' columns.
// whole is a struct column (one row per input row), not a list of them.
func setupStructs(s *guest.Setup, c config, whole bool) (guest.ProcessFunc, error) {
	if c.As != "" {
		return nil, errors.New("config: as names the item's column; a list of structs gives its fields as columns")
	}
	var list guest.ListCol
	var col guest.StructCol
	var fields []guest.Field
	if whole {
		col = guest.ReadStruct(s, c.Column)
		fields = col.Fields()
	} else {
		list = guest.ReadListOfStructs(s, c.Column)
		fields = guest.StructFields(list.Elem())
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	// Per field, once per batch: a putter giving the emitted row item k's
	// value (the views made once, not per row).
	var preps []func(v guest.StructView) func(b *guest.Batch, k int)
	replaced := false
	for f, field := range fields {
		replaced = replaced || field.Name == c.Column
		switch typ := field.Type; {
		case typ == "int64" || strings.HasPrefix(typ, "timestamp["):
			preps = append(preps, fieldPut(guest.Write[int64](s, field.Name, typ), f))
		case typ == "int32" || typ == "date32":
			preps = append(preps, fieldPut(guest.Write[int32](s, field.Name, typ), f))
		case typ == "float64":
			preps = append(preps, fieldPut(guest.Write[float64](s, field.Name, typ), f))
		case typ == "bool":
			out := guest.WriteBool(s, field.Name)
			preps = append(preps, func(v guest.StructView) func(b *guest.Batch, k int) {
				items := v.Bools(f)
				return func(b *guest.Batch, k int) {
					if v.Valid(k) && items.Valid(k) {
						out.Put(b, items.Value(k))
					} else {
						out.PutNull(b)
					}
				}
			})
		case typ == "utf8" || typ == "large_utf8" || typ == "binary" || typ == "large_binary":
			write := guest.WriteString
			if strings.HasSuffix(typ, "binary") {
				write = guest.WriteBinary
			}
			out := write(s, field.Name)
			preps = append(preps, func(v guest.StructView) func(b *guest.Batch, k int) {
				items := v.Strings(f)
				return func(b *guest.Batch, k int) {
					if v.Valid(k) && items.Valid(k) {
						out.Put(b, items.Value(k))
					} else {
						out.PutNull(b)
					}
				}
			})
		default:
			return nil, errors.New("column \"" + c.Column + "\": field \"" + field.Name + "\" of type " + typ + " is not supported")
		}
	}
	// A field of the list's name takes its place; else the list goes.
	if !replaced {
		s.DropColumn(c.Column)
	}
	puts := make([]func(b *guest.Batch, k int), len(preps))
	return func(b *guest.Batch) error {
		if whole {
			v := col.View(b)
			for f, prep := range preps {
				puts[f] = prep(v)
			}
			for i := range v.Len() {
				b.Emit(i)
				for _, put := range puts {
					put(b, i)
				}
			}
			return nil
		}
		v := list.View(b)
		items := v.Structs()
		for f, prep := range preps {
			puts[f] = prep(items)
		}
		each(b, v, func(k int) {
			for _, put := range puts {
				put(b, k)
			}
		})
		return nil
	}, nil
}

// fieldPut prepares the putter of fixed-width field f.
func fieldPut[T guest.Fixed](out guest.Out[T], f int) func(v guest.StructView) func(b *guest.Batch, k int) {
	return func(v guest.StructView) func(b *guest.Batch, k int) {
		items := guest.FieldOf[T](v, f)
		return func(b *guest.Batch, k int) {
			if v.Valid(k) && items.Valid(k) {
				out.Put(b, items.Values[k])
			} else {
				out.PutNull(b)
			}
		}
	}
}
