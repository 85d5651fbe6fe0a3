package jsonl

import (
	"bytes"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// node collects what the sampled values at one place in the document (a
// top-level key, a nested key, the elements of an array) looked like.
type node struct {
	rowcodec.Guess // scalar values
	objs, arrs     bool

	keys   []string // first-seen order
	fields map[string]*node
	elem   *node
}

// inferDepth is how deep nesting becomes struct/list; deeper values are
// kept as JSON text in a utf8 column.
const inferDepth = 16

type inferrer struct{ scratch []byte }

// observe reads the value at b[i:] into n and returns its end.
func (in *inferrer) observe(n *node, b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == 'n':
		return literal(b, i, "null")
	case c == 't' || c == 'f':
		end, ok := skipValue(b, i, 0)
		n.Bools = true
		return end, ok
	case c == '"':
		s, end, sc, ok := scanString(b, i, in.scratch)
		in.scratch = sc
		if !ok {
			return 0, false
		}
		if !n.Strs && !n.Timestamp(s) {
			n.Strs = true
		}
		return end, true
	case (c == '{' || c == '[') && depth >= inferDepth:
		n.Strs = true
		return skipValue(b, i, 0)
	case c == '{':
		n.objs = true
		if n.fields == nil {
			n.fields = map[string]*node{}
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			key, j, sc, ok := scanString(b, i, in.scratch)
			in.scratch = sc
			if !ok {
				return 0, false
			}
			j = skipWS(b, j)
			if j >= len(b) || b[j] != ':' {
				return 0, false
			}
			ch := n.fields[string(key)]
			if ch == nil {
				ch = &node{}
				n.fields[string(key)] = ch
				n.keys = append(n.keys, string(key))
			}
			if j, ok = in.observe(ch, b, skipWS(b, j+1), depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, j)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				return i + 1, true
			}
			return 0, false
		}
	case c == '[':
		n.arrs = true
		if n.elem == nil {
			n.elem = &node{}
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = in.observe(n.elem, b, i, depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				return i + 1, true
			}
			return 0, false
		}
	default:
		end, isInt, ok := scanNumber(b, i)
		if !ok {
			return 0, false
		}
		if !isInt || !n.Integer(b[i:end]) {
			n.Floats = true // Integer takes every JSON integer, of any size
		}
		return end, true
	}
}

// dataType is the narrowest type holding every sampled value: objects
// become structs with keys in first-seen order, arrays lists of their merged
// element type, and scalars are typed as in CSV (rowcodec.Guess); a mix of
// objects, arrays and scalars, a value seen only as null, or an object with
// no keys is utf8, and the decoder stores non-string values of a utf8
// column as JSON text.
func (n *node) dataType() arrow.DataType {
	switch {
	case n.objs && (n.arrs || n.Scalar()), n.arrs && n.Scalar():
		return arrow.BinaryTypes.String
	case n.objs:
		if len(n.keys) == 0 {
			return arrow.BinaryTypes.String
		}
		fields := make([]arrow.Field, len(n.keys))
		for i, k := range n.keys {
			fields[i] = arrow.Field{Name: k, Type: n.fields[k].dataType(), Nullable: true}
		}
		return arrow.StructOf(fields...)
	case n.arrs:
		return arrow.ListOf(n.elem.dataType())
	}
	return n.Guess.Type()
}

// infer builds a schema from the sampled lines. Lines that are not JSON
// objects are skipped here; decoding rejects them with their line number.
func infer(sample []byte) *arrow.Schema {
	var (
		in   inferrer
		root = &node{fields: map[string]*node{}}
	)
	for len(sample) > 0 {
		line := sample
		if nl := bytes.IndexByte(sample, '\n'); nl >= 0 {
			line, sample = sample[:nl], sample[nl+1:]
		} else {
			sample = nil
		}
		i := skipWS(line, 0)
		if i == len(line) || line[i] != '{' {
			continue
		}
		// Validate first so a line broken half-way does not add half its
		// keys to the schema.
		if _, ok := skipValue(line, i, 0); !ok {
			continue
		}
		in.observe(root, line, i, 0)
	}
	fields := make([]arrow.Field, len(root.keys))
	for i, k := range root.keys {
		fields[i] = arrow.Field{Name: k, Type: root.fields[k].dataType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}
