package wasmabi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Nested type codes (ABI.md, "Nested types"): ABI v2 only. A nested
// column's descriptor points at its children's descriptors instead of at
// values.
const (
	codeList   = 19
	codeStruct = 20
	codeMap    = 21

	// maxNestDepth bounds how deep nested types go (list<list<…>> counts
	// two): the validator recurses once per level, and the types our
	// sources produce stay far below.
	maxNestDepth = 4
)

func isNested(code uint8) bool { return code >= codeList && code <= codeMap }

// ntype is a nested column's type as the validator walks it: its code,
// children (list: 1, map: key and value, struct: its fields) and the
// Arrow type the host builds. Primitive children have no kids.
type ntype struct {
	code uint8
	name string // the child's name in messages ("item", "key", a field)
	dt   arrow.DataType
	kids []*ntype
}

// newNType builds the tree of dt, whose ABI code is code.
func newNType(dt arrow.DataType, code uint8, name string) *ntype {
	t := &ntype{code: code, name: name, dt: dt}
	add := func(dt arrow.DataType, name string) {
		_, c, _ := typeName(dt)
		t.kids = append(t.kids, newNType(dt, c, name))
	}
	switch d := dt.(type) {
	case *arrow.ListType:
		add(d.Elem(), "item")
	case *arrow.MapType:
		add(d.KeyType(), "key")
		add(d.ItemType(), "value")
	case *arrow.StructType:
		for _, f := range d.Fields() {
			add(f.Type, f.Name)
		}
	}
	return t
}

// nestedTypeName is typeName for list, struct and map types, depth
// levels down. Their children are the v1 types or nested ones; a
// dictionary child, a large_list and names the type syntax cannot carry
// are refused (the guest cannot read such a column; it may ignore it).
func nestedTypeName(dt arrow.DataType, depth int) (string, uint8, error) {
	if depth >= maxNestDepth {
		return "", 0, fmt.Errorf("type %s nests deeper than %d levels", dt, maxNestDepth)
	}
	child := func(dt arrow.DataType) (string, error) {
		if _, ok := dt.(*arrow.DictionaryType); ok {
			return "", fmt.Errorf("type %s: a dictionary inside a nested type is not in the ABI", dt)
		}
		if isNestedType(dt) {
			s, _, err := nestedTypeName(dt, depth+1)
			return s, err
		}
		s, _, err := typeName(dt)
		return s, err
	}
	switch t := dt.(type) {
	case *arrow.MapType: // before ListType: a map is a list underneath
		if isNestedType(t.KeyType()) {
			return "", 0, fmt.Errorf("type %s: map keys are of a v1 type in the ABI", dt)
		}
		k, err := child(t.KeyType())
		if err != nil {
			return "", 0, err
		}
		v, err := child(t.ItemType())
		if err != nil {
			return "", 0, err
		}
		return "map<" + k + "," + v + ">", codeMap, nil
	case *arrow.ListType:
		e, err := child(t.Elem())
		if err != nil {
			return "", 0, err
		}
		return "list<" + e + ">", codeList, nil
	case *arrow.StructType:
		if t.NumFields() == 0 {
			return "", 0, errors.New("a struct without fields is not in the ABI")
		}
		parts := make([]string, t.NumFields())
		for i, f := range t.Fields() {
			if !fieldNameOK(f.Name) {
				return "", 0, fmt.Errorf("struct field %q: names with <>,: or surrounding spaces cannot be written in an ABI type", f.Name)
			}
			c, err := child(f.Type)
			if err != nil {
				return "", 0, err
			}
			parts[i] = f.Name + ":" + c
		}
		return "struct<" + strings.Join(parts, ",") + ">", codeStruct, nil
	}
	return "", 0, fmt.Errorf("type %s is not in the ABI", dt)
}

func isNestedType(dt arrow.DataType) bool {
	switch dt.(type) {
	case *arrow.ListType, *arrow.StructType, *arrow.MapType:
		return true
	}
	return false
}

func fieldNameOK(s string) bool {
	return s != "" && s == strings.TrimSpace(s) && !strings.ContainsAny(s, "<>,:")
}

// parseNested is parseType for "list<T>", "struct<a:T,…>" and
// "map<K,V>", depth levels down; ok is false for other names.
func parseNested(name string, depth int) (dt arrow.DataType, code uint8, ok bool, err error) {
	name = strings.TrimSpace(name)
	kind, rest, found := strings.Cut(name, "<")
	if !found || !strings.HasSuffix(rest, ">") || (kind != "list" && kind != "struct" && kind != "map") {
		return nil, 0, false, nil
	}
	if depth >= maxNestDepth {
		return nil, 0, true, fmt.Errorf("type %q nests deeper than %d levels", name, maxNestDepth)
	}
	parts, err := splitTop(rest[:len(rest)-1])
	if err != nil {
		return nil, 0, true, fmt.Errorf("type %q: %w", name, err)
	}
	elem := func(s string) (arrow.DataType, error) {
		if dt, _, ok, err := parseNested(s, depth+1); ok {
			return dt, err
		}
		dt, _, err := parseType(strings.TrimSpace(s))
		return dt, err
	}
	switch kind {
	case "list":
		if len(parts) != 1 {
			return nil, 0, true, fmt.Errorf("type %q: a list has one element type", name)
		}
		e, err := elem(parts[0])
		if err != nil {
			return nil, 0, true, err
		}
		return arrow.ListOf(e), codeList, true, nil
	case "map":
		if len(parts) != 2 {
			return nil, 0, true, fmt.Errorf("type %q: a map has a key and a value type", name)
		}
		k, err := elem(parts[0])
		if err != nil {
			return nil, 0, true, err
		}
		if isNestedType(k) {
			return nil, 0, true, fmt.Errorf("type %q: map keys are of a v1 type", name)
		}
		v, err := elem(parts[1])
		if err != nil {
			return nil, 0, true, err
		}
		return arrow.MapOf(k, v), codeMap, true, nil
	}
	fields := make([]arrow.Field, len(parts))
	seen := map[string]bool{}
	for i, p := range parts {
		fname, ftype, ok := strings.Cut(p, ":")
		fname = strings.TrimSpace(fname)
		if !ok || !fieldNameOK(fname) || seen[fname] {
			return nil, 0, true, fmt.Errorf("type %q: field %d is not a distinct name:type", name, i)
		}
		seen[fname] = true
		t, err := elem(ftype)
		if err != nil {
			return nil, 0, true, err
		}
		fields[i] = arrow.Field{Name: fname, Type: t, Nullable: true}
	}
	return arrow.StructOf(fields...), codeStruct, true, nil
}

// splitTop splits s at the commas outside <>, [] and () (a timestamp's
// time zone and a decimal's scale have commas of their own).
func splitTop(s string) ([]string, error) {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '[', '(':
			depth++
		case '>', ']', ')':
			depth--
			if depth < 0 {
				return nil, errors.New("unbalanced brackets")
			}
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced brackets")
	}
	parts = append(parts, s[start:])
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return nil, errors.New("an empty type")
		}
	}
	return parts, nil
}
