package arrowtype

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/internal/suggest"
)

// simple maps every parameterless name (and alias) to its type.
var simple = map[string]arrow.DataType{
	"null":         arrow.Null,
	"bool":         arrow.FixedWidthTypes.Boolean,
	"boolean":      arrow.FixedWidthTypes.Boolean,
	"int8":         arrow.PrimitiveTypes.Int8,
	"int16":        arrow.PrimitiveTypes.Int16,
	"int32":        arrow.PrimitiveTypes.Int32,
	"int64":        arrow.PrimitiveTypes.Int64,
	"uint8":        arrow.PrimitiveTypes.Uint8,
	"uint16":       arrow.PrimitiveTypes.Uint16,
	"uint32":       arrow.PrimitiveTypes.Uint32,
	"uint64":       arrow.PrimitiveTypes.Uint64,
	"float16":      arrow.FixedWidthTypes.Float16,
	"float32":      arrow.PrimitiveTypes.Float32,
	"float64":      arrow.PrimitiveTypes.Float64,
	"double":       arrow.PrimitiveTypes.Float64,
	"utf8":         arrow.BinaryTypes.String,
	"string":       arrow.BinaryTypes.String,
	"large_utf8":   arrow.BinaryTypes.LargeString,
	"large_string": arrow.BinaryTypes.LargeString,
	"binary":       arrow.BinaryTypes.Binary,
	"large_binary": arrow.BinaryTypes.LargeBinary,
	"date32":       arrow.FixedWidthTypes.Date32,
	"date":         arrow.FixedWidthTypes.Date32,
	"date64":       arrow.FixedWidthTypes.Date64,
}

// parameterised lists the names that need parameters, with the form they take.
var parameterised = map[string]string{
	"timestamp":  "timestamp[unit] or timestamp[unit, tz]",
	"time32":     "time32[s] or time32[ms]",
	"time64":     "time64[us] or time64[ns]",
	"duration":   "duration[unit]",
	"decimal":    "decimal(precision,scale)",
	"decimal128": "decimal128(precision,scale)",
	"decimal256": "decimal256(precision,scale)",
	"list":       "list<type>",
	"struct":     "struct<name: type, …>",
	"map":        "map<key type, value type>",
}

// Names lists every accepted type name, sorted, for docs and error hints.
func Names() []string {
	out := make([]string, 0, len(simple)+len(parameterised))
	for n := range simple {
		out = append(out, n)
	}
	for _, form := range parameterised {
		out = append(out, form)
	}
	sort.Strings(out)
	return out
}

// ErrType is wrapped by every error Parse returns.
var ErrType = errors.New("invalid type")

// Parse reads one type, with an optional trailing "not null" (nullable is
// then false).
func Parse(s string) (dt arrow.DataType, nullable bool, err error) {
	text := strings.TrimSpace(s)
	nullable = true
	if rest, ok := cutSuffixFold(text, "not null"); ok {
		text, nullable = strings.TrimSpace(rest), false
	}
	dt, err = parseType(text)
	if err != nil {
		return nil, false, fmt.Errorf("%w %q: %w", ErrType, s, err)
	}
	return dt, nullable, nil
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

func parseType(s string) (arrow.DataType, error) {
	if s == "" {
		return nil, errors.New("empty type name")
	}
	name, args, err := splitArgs(s)
	if err != nil {
		return nil, err
	}
	name = strings.ToLower(name)
	if dt, ok := simple[name]; ok {
		if args != nil {
			return nil, fmt.Errorf("%s takes no parameters", name)
		}
		return dt, nil
	}
	form, ok := parameterised[name]
	if !ok {
		return nil, unknown(name)
	}
	if args == nil {
		return nil, fmt.Errorf("%s needs parameters: write %s", name, form)
	}
	switch name {
	case "timestamp":
		if len(args) < 1 || len(args) > 2 {
			return nil, fmt.Errorf("write %s", form)
		}
		unit, err := parseUnit(args[0], "s", "ms", "us", "ns")
		if err != nil {
			return nil, err
		}
		tz := ""
		if len(args) == 2 {
			tz = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(args[1]), "tz="))
			if err := checkZone(tz); err != nil {
				return nil, err
			}
		}
		return &arrow.TimestampType{Unit: unit, TimeZone: tz}, nil
	case "time32", "time64", "duration":
		if len(args) != 1 {
			return nil, fmt.Errorf("write %s", form)
		}
		switch name {
		case "time32":
			unit, err := parseUnit(args[0], "s", "ms")
			if err != nil {
				return nil, err
			}
			return &arrow.Time32Type{Unit: unit}, nil
		case "time64":
			unit, err := parseUnit(args[0], "us", "ns")
			if err != nil {
				return nil, err
			}
			return &arrow.Time64Type{Unit: unit}, nil
		}
		unit, err := parseUnit(args[0], "s", "ms", "us", "ns")
		if err != nil {
			return nil, err
		}
		return &arrow.DurationType{Unit: unit}, nil
	case "decimal", "decimal128", "decimal256":
		if len(args) != 2 {
			return nil, fmt.Errorf("write %s", form)
		}
		p, perr := strconv.Atoi(strings.TrimSpace(args[0]))
		sc, serr := strconv.Atoi(strings.TrimSpace(args[1]))
		if perr != nil || serr != nil {
			return nil, fmt.Errorf("precision and scale must be integers: write %s", form)
		}
		maxP := 38
		if name == "decimal256" {
			maxP = 76
		}
		if p < 1 || p > maxP {
			return nil, fmt.Errorf("precision %d is outside 1..%d", p, maxP)
		}
		if sc < 0 || sc > p {
			return nil, fmt.Errorf("scale %d is outside 0..precision (%d)", sc, p)
		}
		if name == "decimal256" {
			return &arrow.Decimal256Type{Precision: int32(p), Scale: int32(sc)}, nil
		}
		return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(sc)}, nil
	case "list":
		if len(args) != 1 {
			return nil, fmt.Errorf("write %s", form)
		}
		elem, err := parseType(strings.TrimSpace(args[0]))
		if err != nil {
			return nil, fmt.Errorf("list element: %w", err)
		}
		return arrow.ListOf(elem), nil
	case "struct":
		return parseStruct(args)
	case "map":
		if len(args) != 2 {
			return nil, fmt.Errorf("write %s", form)
		}
		key, err := parseType(strings.TrimSpace(args[0]))
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		switch key.(type) {
		case *arrow.ListType, *arrow.StructType, *arrow.MapType:
			return nil, fmt.Errorf("map key: %s cannot be a key (keys are plain values)", key)
		}
		item, err := parseType(strings.TrimSpace(args[1]))
		if err != nil {
			return nil, fmt.Errorf("map value: %w", err)
		}
		return arrow.MapOf(key, item), nil
	}
	return nil, unknown(name)
}

// parseStruct reads struct<name: type, …>; a field's type may end in
// "not null" like a column's.
func parseStruct(args []string) (arrow.DataType, error) {
	fields := make([]arrow.Field, len(args))
	seen := map[string]bool{}
	for i, a := range args {
		name, typ, ok := strings.Cut(a, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("struct field %d: write name: type", i+1)
		}
		if seen[name] {
			return nil, fmt.Errorf("struct field %q appears twice", name)
		}
		seen[name] = true
		dt, nullable, err := Parse(typ)
		if err != nil {
			return nil, fmt.Errorf("struct field %q: %w", name, err)
		}
		fields[i] = arrow.Field{Name: name, Type: dt, Nullable: nullable}
	}
	return arrow.StructOf(fields...), nil
}

// splitArgs separates "name[a, b]", "name(a,b)" or "name<t>" into the name
// and its comma-separated arguments (nil when there are no brackets). Only
// top-level commas split, so list<decimal(10,2)> works.
func splitArgs(s string) (string, []string, error) {
	open := strings.IndexAny(s, "[(<")
	if open < 0 {
		if strings.ContainsAny(s, "])> ,") {
			return "", nil, fmt.Errorf("unexpected %q", s[strings.IndexAny(s, "])> ,"):])
		}
		return s, nil, nil
	}
	closer := map[byte]byte{'[': ']', '(': ')', '<': '>'}[s[open]]
	if s[len(s)-1] != closer {
		return "", nil, fmt.Errorf("missing closing %q", closer)
	}
	name := strings.TrimSpace(s[:open])
	inner := s[open+1 : len(s)-1]
	var args []string
	depth, start := 0, 0
	for i := 0; i < len(inner); i++ {
		switch inner[i] {
		case '[', '(', '<':
			depth++
		case ']', ')', '>':
			depth--
			if depth < 0 {
				return "", nil, fmt.Errorf("unbalanced %q", inner[i])
			}
		case ',':
			if depth == 0 {
				args = append(args, inner[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return "", nil, errors.New("unbalanced brackets")
	}
	args = append(args, inner[start:])
	for i, a := range args {
		if strings.TrimSpace(a) == "" {
			return "", nil, fmt.Errorf("parameter %d of %s is empty", i+1, name)
		}
	}
	return name, args, nil
}

func parseUnit(s string, allowed ...string) (arrow.TimeUnit, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, a := range allowed {
		if s == a {
			switch s {
			case "s":
				return arrow.Second, nil
			case "ms":
				return arrow.Millisecond, nil
			case "us":
				return arrow.Microsecond, nil
			case "ns":
				return arrow.Nanosecond, nil
			}
		}
	}
	return 0, fmt.Errorf("time unit %q is not one of %s", s, strings.Join(allowed, ", "))
}

// checkZone accepts what Arrow accepts: an IANA name or a fixed offset
// like +05:30. Looking the name up reads the system zoneinfo, which is
// cheap and catches typos at `weave validate` rather than mid-run.
func checkZone(tz string) error {
	if tz == "" {
		return errors.New("empty time zone")
	}
	if tz[0] == '+' || tz[0] == '-' {
		if _, err := time.Parse("-07:00", tz); err != nil {
			return fmt.Errorf("time zone offset %q must look like +05:30", tz)
		}
		return nil
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("unknown time zone %q (use an IANA name like UTC or Europe/Paris, or an offset like +02:00)", tz)
	}
	return nil
}

func unknown(name string) error {
	// Names() spells parameterised types with their parameters
	// ("timestamp[unit, tz]"); a typo is in the base name, so compare that.
	var bases []string
	for _, n := range Names() {
		n, _, _ = strings.Cut(n, "[")
		n, _, _ = strings.Cut(n, "(")
		n, _, _ = strings.Cut(n, "<")
		bases = append(bases, n)
	}
	if best := suggest.Closest(name, bases); best != "" {
		return fmt.Errorf("unknown type %q (did you mean %q?)", name, best)
	}
	return fmt.Errorf("unknown type %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Schema builds a schema from an ordered column → type mapping, naming the
// column and its line in every error.
func Schema(cols []spec.KV) (*arrow.Schema, error) {
	if len(cols) == 0 {
		return nil, errors.New("schema has no columns")
	}
	fields := make([]arrow.Field, 0, len(cols))
	seen := make(map[string]bool, len(cols))
	var errs []error
	for _, kv := range cols {
		where := fmt.Sprintf("column %q", kv.Key)
		if kv.Line > 0 {
			where = fmt.Sprintf("line %d: %s", kv.Line, where)
		}
		if seen[kv.Key] {
			errs = append(errs, fmt.Errorf("%s is declared twice", where))
			continue
		}
		seen[kv.Key] = true
		dt, nullable, err := Parse(kv.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		fields = append(fields, arrow.Field{Name: kv.Key, Type: dt, Nullable: nullable})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return arrow.NewSchema(fields, nil), nil
}

// Field declares the `schema` map field with its docs and a check that
// parses every type at validate time, so a typo is reported before any
// data is read.
func Field(name string) *spec.Field {
	return spec.Map(name).
		Desc("Ordered mapping of column name to Arrow type. Types: int8..int64, uint8..uint64, " +
			"float32, float64, bool, utf8 (string), large_utf8, binary, date32, date64, " +
			"time32[s|ms], time64[us|ns], timestamp[unit] or timestamp[unit, TZ] (unit s, ms, us, ns), " +
			"duration[unit], decimal128(precision,scale), decimal256(p,s), list<type>. " +
			"Append \"not null\" to declare a column non-nullable. In a {…} flow mapping, quote types " +
			"that contain a comma (\"decimal128(10,2)\", \"timestamp[us, UTC]\"): YAML splits on it.").
		Example("{id: int64, name: utf8, amount: \"decimal128(10,2)\", ts: \"timestamp[us, UTC]\"}").
		Validate(func(v any) error {
			kvs, _ := v.([]spec.KV)
			_, err := Schema(kvs)
			return err
		})
}
