package spec

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Tag is the struct tag that names a typed configuration's field after its
// key in a pipeline file: `weave:"max_record_bytes"`.
const Tag = "weave"

var (
	durationType = reflect.TypeFor[time.Duration]()
	kvsType      = reflect.TypeFor[[]KV]()
)

// Encode turns a typed configuration (a struct whose fields carry `weave`
// tags, such as a connector's generated SourceConfig) into the YAML node a
// pipeline file would give for the same settings, so that Parse validates
// it, fills in its defaults and reports its errors exactly as for a file.
//
// A field left at its zero value (nil pointer, slice or interface, empty
// string, 0, false) is left out, as if the key were not written: its
// default applies. A pointer to a zero value is written, which is how a
// bool that defaults to true is set to false. A non-nil empty slice is
// written as an empty list. Fields without a tag are ignored.
//
// Encode checks only that values are of a type it can write; whether they
// suit the spec is Parse's business. It uses reflection and is meant for
// building steps, not for hot paths.
func Encode(v any) (*yaml.Node, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, fmt.Errorf("spec.Encode: nil %s", rv.Type())
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("spec.Encode: %T is not a struct", v)
	}
	return encodeStruct(rv, "")
}

func encodeStruct(rv reflect.Value, path string) (*yaml.Node, error) {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	t := rv.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name := sf.Tag.Get(Tag)
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		fv := rv.Field(i)
		if fv.IsZero() {
			continue
		}
		val, err := encodeValue(fv, join(path, name))
		if err != nil {
			return nil, err
		}
		out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}, val)
	}
	return out, nil
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

func encodeValue(v reflect.Value, path string) (*yaml.Node, error) {
	// The typed values first: a Duration is an int64 underneath, and []KV
	// a slice of structs.
	switch v.Type() {
	case durationType:
		return scalar("!!str", time.Duration(v.Int()).String()), nil
	case kvsType:
		out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, kv := range v.Interface().([]KV) {
			out.Content = append(out.Content, scalar("!!str", kv.Key), scalar("!!str", kv.Value))
		}
		return out, nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		return encodeValue(v.Elem(), path)
	case reflect.String:
		return scalar("!!str", v.String()), nil
	case reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(v.Bool())), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar("!!int", strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		return scalar("!!float", strconv.FormatFloat(v.Float(), 'g', -1, 64)), nil
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			break
		}
		out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := range v.Len() {
			out.Content = append(out.Content, scalar("!!str", v.Index(i).String()))
		}
		return out, nil
	case reflect.Struct:
		return encodeStruct(v, path)
	case reflect.Interface:
		// An Any field: YAML's own encoding of the Go value, which Parse
		// decodes back into the same kind of value.
		var n yaml.Node
		if err := n.Encode(v.Interface()); err != nil {
			return nil, fmt.Errorf("spec.Encode: %s: %w", path, err)
		}
		return &n, nil
	}
	return nil, fmt.Errorf("spec.Encode: %s: cannot write a %s", path, v.Type())
}
