package spec

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/internal/suggest"
)

func join(path, name string) string {
	if path == "" {
		return name
	}
	if name == "" {
		return path
	}
	return path + "." + name
}

// Parse validates node against the spec and returns the parsed values. It
// reports every problem it finds, not just the first. node may be nil or a
// YAML null (no configuration); path is the dotted location of node in the
// file, used in messages.
func (s *Spec) Parse(node *yaml.Node, file, path string) (*Parsed, Errors) {
	if node != nil && node.Kind == yaml.ScalarNode && node.Tag != "!!null" && s.scalar != "" {
		node = &yaml.Node{Kind: yaml.MappingNode, Line: node.Line, Column: node.Column, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: s.scalar, Line: node.Line, Column: node.Column}, node,
		}}
	}
	return parseFields(s.fields, node, file, path)
}

func parseFields(fields []*Field, node *yaml.Node, file, path string) (*Parsed, Errors) {
	p := &Parsed{values: map[string]any{}, nodes: map[string]*yaml.Node{}, file: file, path: path}
	var errs Errors
	errAt := func(n *yaml.Node, key, format string, args ...any) {
		e := &Error{File: file, Path: join(path, key), Msg: fmt.Sprintf(format, args...)}
		if n != nil {
			e.Line, e.Column = n.Line, n.Column
		}
		errs = append(errs, e)
	}
	byName := map[string]*Field{}
	for _, f := range fields {
		byName[f.name] = f
	}
	if node != nil {
		p.nodes[""] = node
		switch {
		case node.Kind == yaml.ScalarNode && node.Tag == "!!null":
			// "discard:" with nothing after it: no keys given.
		case node.Kind != yaml.MappingNode:
			errAt(node, "", "expected a mapping of fields, got %s", describe(node))
		default:
			for i := 0; i+1 < len(node.Content); i += 2 {
				k, v := node.Content[i], node.Content[i+1]
				f := byName[k.Value]
				if f == nil {
					errAt(k, k.Value, "unknown field%s", fieldHint(k.Value, fields))
					continue
				}
				if _, dup := p.nodes[k.Value]; dup {
					errAt(k, k.Value, "field given twice")
					continue
				}
				p.nodes[k.Value] = v
				val, ferrs := decode(f, v, file, join(path, k.Value))
				errs = append(errs, ferrs...)
				if len(ferrs) == 0 {
					p.values[k.Value] = val
				}
			}
		}
	}
	for _, f := range fields {
		if _, given := p.nodes[f.name]; given {
			continue
		}
		switch {
		case f.defaultValue != nil:
			p.values[f.name] = f.defaultValue
		case f.kind == KindObject:
			// An absent object still carries its fields' defaults, and
			// reports its own required fields when it has any.
			sub, serrs := parseFields(f.fields, nil, file, join(path, f.name))
			if f.optional {
				if len(serrs) == 0 {
					p.values[f.name] = sub
				}
				continue
			}
			if len(serrs) > 0 {
				errAt(node, f.name, "missing required field")
				continue
			}
			p.values[f.name] = sub
		case !f.optional:
			errAt(node, f.name, "missing required field (%s)", f.kind)
		}
	}
	for _, f := range fields {
		if v, ok := p.values[f.name]; ok && f.secretOf != nil {
			p.secrets = append(p.secrets, secretParts(f, v)...)
		}
	}
	for _, f := range fields {
		v, ok := p.values[f.name]
		if !ok || f.check == nil {
			continue
		}
		if err := f.check(v); err != nil {
			if f.secretOf != nil {
				// A check's message may quote the value it refused.
				errAt(p.nodes[f.name], f.name, "%s", redactAll(err.Error(), p.secrets))
				continue
			}
			errAt(p.nodes[f.name], f.name, "%v", err)
		}
	}
	return p, errs
}

// secretParts returns the secrets a secret field's value holds.
func secretParts(f *Field, v any) []string {
	var out []string
	add := func(s string) {
		for _, part := range f.secretOf(s) {
			if part != "" {
				out = append(out, part)
			}
		}
	}
	switch v := v.(type) {
	case string:
		add(v)
	case []string:
		for _, s := range v {
			add(s)
		}
	case []KV:
		for _, kv := range v {
			add(kv.Value)
		}
	}
	return out
}

// redactAll replaces every secret in s with Redacted.
func redactAll(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, Redacted)
	}
	return s
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return describe(n.Alias)
	}
	return "an unexpected value"
}

func fieldHint(name string, fields []*Field) string {
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		names = append(names, f.name)
	}
	if best := suggest.Closest(name, names); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(names) == 0 {
		return " (this takes no fields)"
	}
	sort.Strings(names)
	return " (known: " + strings.Join(names, ", ") + ")"
}

func decode(f *Field, v *yaml.Node, file, path string) (any, Errors) {
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	fail := func(format string, args ...any) (any, Errors) {
		return nil, Errors{{File: file, Line: v.Line, Column: v.Column, Path: path, Msg: fmt.Sprintf(format, args...)}}
	}
	scalar := func() (string, bool) {
		return v.Value, v.Kind == yaml.ScalarNode && v.Tag != "!!null"
	}
	switch f.kind {
	case KindString:
		s, ok := scalar()
		if !ok {
			return fail("expected a string, got %s", describe(v))
		}
		if len(f.enum) > 0 && !slices.Contains(f.enum, s) {
			return fail("%q is not one of: %s", s, strings.Join(f.enum, ", "))
		}
		return s, nil
	case KindInt:
		s, ok := scalar()
		n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
		if !ok || err != nil || n > math.MaxInt || n < math.MinInt {
			return fail("expected an integer, got %s", describe(v))
		}
		return int(n), nil
	case KindFloat:
		s, ok := scalar()
		n, err := strconv.ParseFloat(s, 64)
		if !ok || err != nil {
			return fail("expected a number, got %s", describe(v))
		}
		return n, nil
	case KindBool:
		s, ok := scalar()
		var b bool
		if err := v.Decode(&b); !ok || err != nil {
			return fail("expected true or false, got %q", s)
		}
		return b, nil
	case KindDuration:
		s, ok := scalar()
		d, err := time.ParseDuration(s)
		if !ok || err != nil {
			return fail("expected a duration like 250ms or 1m30s, got %s", describe(v))
		}
		if d < 0 {
			return fail("duration must not be negative")
		}
		return d, nil
	case KindByteSize:
		s, ok := scalar()
		n, err := ParseByteSize(s)
		if !ok || err != nil {
			return fail("expected a size like 64MiB or 1048576, got %s", describe(v))
		}
		return n, nil
	case KindStringList:
		var items []*yaml.Node
		switch {
		case v.Kind == yaml.SequenceNode:
			items = v.Content
		case v.Kind == yaml.ScalarNode && v.Tag != "!!null":
			items = []*yaml.Node{v}
		default:
			return fail("expected a list of strings, got %s", describe(v))
		}
		out := make([]string, 0, len(items))
		var errs Errors
		for i, it := range items {
			ip := fmt.Sprintf("%s[%d]", path, i)
			if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
				errs = append(errs, &Error{File: file, Line: it.Line, Column: it.Column, Path: ip, Msg: "expected a string, got " + describe(it)})
				continue
			}
			if len(f.enum) > 0 && !slices.Contains(f.enum, it.Value) {
				errs = append(errs, &Error{File: file, Line: it.Line, Column: it.Column, Path: ip, Msg: fmt.Sprintf("%q is not one of: %s", it.Value, strings.Join(f.enum, ", "))})
				continue
			}
			out = append(out, it.Value)
		}
		return out, errs
	case KindMap:
		if v.Kind != yaml.MappingNode {
			return fail("expected a mapping of strings, got %s", describe(v))
		}
		out := make([]KV, 0, len(v.Content)/2)
		var errs Errors
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := v.Content[i], v.Content[i+1]
			if val.Kind != yaml.ScalarNode || val.Tag == "!!null" {
				errs = append(errs, &Error{File: file, Line: val.Line, Column: val.Column, Path: join(path, k.Value), Msg: "expected a string, got " + describe(val)})
				continue
			}
			out = append(out, KV{Key: k.Value, Value: val.Value, Line: k.Line})
		}
		return out, errs
	case KindObject:
		return parseFields(f.fields, v, file, path)
	case KindAny:
		var out any
		if err := v.Decode(&out); err != nil {
			return fail("%v", err)
		}
		return out, nil
	}
	return fail("field kind %v not supported", f.kind)
}

// ParseByteSize reads "64MiB", "512KB", "1.5GB" or a plain byte count.
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*mult > math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(f * mult), nil
}
