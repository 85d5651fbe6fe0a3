package guest

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ConfKey is one key of a stage's configuration and the variable it
// goes into, for Setup.ConfigKeys.
type ConfKey struct {
	key string
	// set stores v (not null) in the variable, or says what is wrong.
	set func(v any) (problem string)
	// null, when set, is what null does to the variable: encoding/json
	// sets a slice, map or interface to nil and leaves the others alone.
	null func()
}

// ConfigKeys decodes the stage's `config:` mapping into the variables of
// keys: a key that is absent or null leaves its variable as it is (so
// set defaults first), a key the list does not name is an error, as is a
// value of the wrong kind. Names match exactly or else case-insensitively
// as encoding/json folds them, as in Config. It sets every key it can and returns
// the first problem in the mapping's order. It does what Config does for a struct of
// those fields, without reflect: a guest that uses only ConfigKeys is
// about 0.4 MB smaller and starts that much faster (BENCHMARKS.md, "Go
// guests' size and start").
func (s *Setup) ConfigKeys(keys ...ConfKey) error {
	if len(s.config) == 0 || string(s.config) == "null" {
		return nil
	}
	tree, err := parseJSON(s.config)
	if err != nil {
		return errors.New("config: " + err.Error())
	}
	obj, ok := tree.(jsonObject)
	if !ok {
		return errors.New("config: " + wrong("a mapping", tree))
	}
	var first error
	for _, m := range obj {
		k := keyFor(keys, m.key)
		if k == nil {
			if first == nil {
				first = errors.New("config: json: unknown field " + quote(m.key))
			}
			continue
		}
		if m.val == nil {
			if k.null != nil {
				k.null()
			}
			continue
		}
		if problem := k.set(m.val); problem != "" && first == nil {
			first = errors.New("config: " + m.key + ": " + problem)
		}
	}
	return first
}

// keyFor is the key of keys that name matches: exactly, else
// case-insensitively, as Config (and encoding/json) match a struct's
// fields; nil if none.
func keyFor(keys []ConfKey, name string) *ConfKey {
	var fold *ConfKey
	for i := range keys {
		if keys[i].key == name {
			return &keys[i]
		}
		if fold == nil && equalFold(keys[i].key, name) {
			fold = &keys[i]
		}
	}
	return fold
}

// wrong says that v is not what was wanted.
func wrong(want string, v any) string {
	kind := jsonKind(v)
	switch kind {
	case "array", "object":
		kind = "an " + kind
	default:
		kind = "a " + kind
	}
	return "want " + want + ", not " + kind
}

// ConfString is a string key.
func ConfString(key string, p *string) ConfKey {
	return ConfKey{key, func(v any) string {
		s, ok := v.(string)
		if !ok {
			return wrong("a string", v)
		}
		*p = s
		return ""
	}, nil}
}

// ConfNumber is a number key.
func ConfNumber(key string, p *float64) ConfKey {
	return ConfKey{key, func(v any) string {
		n, ok := v.(jsonNumber)
		if !ok {
			return wrong("a number", v)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return "number " + string(n) + " is out of range"
		}
		*p = f
		return ""
	}, nil}
}

// ConfInt is an integer key (a number with no fraction or exponent that
// fits in int64).
func ConfInt(key string, p *int64) ConfKey {
	return ConfKey{key, func(v any) string {
		n, ok := v.(jsonNumber)
		if !ok {
			return wrong("an integer", v)
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return "want an integer in int64's range, not " + string(n)
		}
		*p = i
		return ""
	}, nil}
}

// ConfBool is a true/false key.
func ConfBool(key string, p *bool) ConfKey {
	return ConfKey{key, func(v any) string {
		b, ok := v.(bool)
		if !ok {
			return wrong("true or false", v)
		}
		*p = b
		return ""
	}, nil}
}

// ConfStrings is a key holding a list of strings.
func ConfStrings(key string, p *[]string) ConfKey {
	return ConfKey{key, func(v any) string {
		list, ok := v.([]any)
		if !ok {
			return wrong("a list of strings", v)
		}
		out := make([]string, len(list))
		for i, e := range list {
			if out[i], ok = e.(string); !ok {
				return "entry " + strconv.Itoa(i) + ": " + wrong("a string", e)
			}
		}
		*p = out
		return ""
	}, func() { *p = nil }}
}

// ConfStringMap is a key holding a mapping of strings to strings.
func ConfStringMap(key string, p *map[string]string) ConfKey {
	return ConfKey{key, func(v any) string {
		obj, ok := v.(jsonObject)
		if !ok {
			return wrong("a mapping", v)
		}
		out := make(map[string]string, len(obj))
		for _, m := range obj {
			s, ok := m.val.(string)
			if !ok {
				return m.key + ": " + wrong("a string", m.val)
			}
			out[m.key] = s
		}
		*p = out
		return ""
	}, func() { *p = nil }}
}

// ConfAny is a key of any kind, decoded as encoding/json decodes into an
// any: float64, string, bool, []any or map[string]any.
func ConfAny(key string, p *any) ConfKey {
	return ConfKey{key, func(v any) string {
		*p = plain(v)
		return ""
	}, func() { *p = nil }}
}

// decodeConfig stores the parsed JSON value v in the value rv points to,
// as encoding/json's Decoder with DisallowUnknownFields would for the
// types a stage's configuration uses: strings, bools, numbers, pointers,
// slices, string-keyed maps, structs (json tags, exact or case-insensitive
// key match as encoding/json folds) and interfaces (as map[string]any, []any,
// float64, string, bool, nil). It is written on the few reflect calls it
// needs so that a guest links no encoding/json (see json.go).
func decodeConfig(v any, rv reflect.Value, path string) error {
	if v == nil {
		switch rv.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			rv.SetZero()
		}
		return nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		return decodeConfig(v, rv.Elem(), path)
	case reflect.Interface:
		if rv.NumMethod() != 0 {
			return typeError(v, rv, path)
		}
		rv.Set(reflect.ValueOf(plain(v)))
		return nil
	}
	switch x := v.(type) {
	case bool:
		if rv.Kind() != reflect.Bool {
			return typeError(v, rv, path)
		}
		rv.SetBool(x)
	case string:
		if rv.Kind() != reflect.String {
			return typeError(v, rv, path)
		}
		rv.SetString(x)
	case jsonNumber:
		return decodeNumber(x, rv, path)
	case []any:
		if rv.Kind() != reflect.Slice {
			return typeError(v, rv, path)
		}
		s := reflect.MakeSlice(rv.Type(), len(x), len(x))
		for i, e := range x {
			if err := decodeConfig(e, s.Index(i), path); err != nil {
				return err
			}
		}
		rv.Set(s)
	case jsonObject:
		switch rv.Kind() {
		case reflect.Struct:
			return decodeStruct(x, rv, path)
		case reflect.Map:
			if rv.Type().Key().Kind() != reflect.String {
				return typeError(v, rv, path)
			}
			if rv.IsNil() {
				rv.Set(reflect.MakeMap(rv.Type()))
			}
			et := rv.Type().Elem()
			for _, m := range x {
				e := reflect.New(et).Elem()
				if err := decodeConfig(m.val, e, join(path, m.key)); err != nil {
					return err
				}
				rv.SetMapIndex(reflect.ValueOf(m.key).Convert(rv.Type().Key()), e)
			}
		default:
			return typeError(v, rv, path)
		}
	}
	return nil
}

func decodeStruct(obj jsonObject, rv reflect.Value, path string) error {
	t := rv.Type()
	for _, m := range obj {
		i := fieldIndex(t, m.key)
		if i < 0 {
			return errors.New("json: unknown field " + quote(m.key))
		}
		if err := decodeConfig(m.val, rv.Field(i), join(path, jsonName(t.Field(i)))); err != nil {
			return err
		}
	}
	return nil
}

// fieldIndex is the exported field of t that key names (its json tag, or
// its Go name untagged): an exact match first, else an ASCII
// case-insensitive one, as encoding/json matches; -1 if none.
func fieldIndex(t reflect.Type, key string) int {
	fold := -1
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == key {
			return i
		}
		if fold < 0 && equalFold(name, key) {
			fold = i
		}
	}
	return fold
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "-"
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name
	}
	return f.Name
}

// equalFold says whether two names match as encoding/json matches a key
// to a field: equal once folded (appendFolded).
func equalFold(a, b string) bool {
	if len(a) == len(b) && a == b {
		return true
	}
	return string(appendFolded(nil, a)) == string(appendFolded(nil, b))
}

// appendFolded is encoding/json's folding of a name (its fold.go): ASCII
// upper-cased, every other rune as unicode.ToUpper(unicode.ToLower(r)),
// so "ſ" (U+017F) matches "s" and the Kelvin sign "K" matches "k".
func appendFolded(out []byte, in string) []byte {
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(in[i:])
		out = utf8.AppendRune(out, unicode.ToUpper(unicode.ToLower(r)))
		i += n
	}
	return out
}

func decodeNumber(n jsonNumber, rv reflect.Value, path string) error {
	s := string(n)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, rv.Type().Bits())
		if err != nil {
			return numberError(n, rv, path)
		}
		rv.SetFloat(f)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil || rv.OverflowInt(i) {
			return numberError(n, rv, path)
		}
		rv.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil || rv.OverflowUint(u) {
			return numberError(n, rv, path)
		}
		rv.SetUint(u)
	default:
		return typeError(n, rv, path)
	}
	return nil
}

// plain converts a parsed value to what encoding/json puts in an any.
func plain(v any) any {
	switch x := v.(type) {
	case jsonNumber:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case jsonObject:
		out := make(map[string]any, len(x))
		for _, m := range x {
			out[m.key] = plain(m.val)
		}
		return out
	}
	return v
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "bool"
	case string:
		return "string"
	case jsonNumber:
		return "number"
	case []any:
		return "array"
	case jsonObject:
		return "object"
	}
	return "null"
}

// typeError is encoding/json's UnmarshalTypeError message.
func typeError(v any, rv reflect.Value, path string) error {
	return errors.New("json: cannot unmarshal " + jsonKind(v) + " into Go struct field " + path + " of type " + rv.Type().String())
}

func numberError(n jsonNumber, rv reflect.Value, path string) error {
	return errors.New("json: cannot unmarshal number " + string(n) + " into Go struct field " + path + " of type " + rv.Type().String())
}
