package jsonl

import (
	"bytes"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// node collects what the sampled values at one place in the document (a
// top-level key, a nested key, the elements of an array) looked like.
type node struct {
	bools, ints, negs, bigUints, floats, times, timesNs, strs, objs, arrs bool

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
		n.bools = true
		return end, ok
	case c == '"':
		s, end, sc, ok := scanString(b, i, in.scratch)
		in.scratch = sc
		if !ok {
			return 0, false
		}
		switch {
		case n.strs:
		case isTime(s, arrow.Microsecond):
			n.times = true
		case isTime(s, arrow.Nanosecond):
			n.times, n.timesNs = true, true
		default:
			n.strs = true
		}
		return end, true
	case (c == '{' || c == '[') && depth >= inferDepth:
		n.strs = true
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
		switch {
		case !isInt:
			n.floats = true
		default:
			if v, ok := rowcodec.ParseInt(b[i:end]); ok {
				n.ints, n.negs = true, n.negs || v < 0
			} else if _, ok := rowcodec.ParseUint(b[i:end]); ok {
				n.bigUints = true
			} else {
				n.floats = true
			}
		}
		return end, true
	}
}

func isTime(s []byte, unit arrow.TimeUnit) bool {
	_, ok := rowcodec.ParseTimestamp(s, unit, true)
	return ok
}

// dataType is the narrowest type holding every sampled value: numbers widen
// int64 → uint64 (big non-negative) → float64; objects become structs with
// keys in first-seen order, arrays lists of their merged element type; any
// other mix, a value seen only as null, or an object with no keys is utf8,
// and the decoder stores non-string values of a utf8 column as JSON text.
func (n *node) dataType() arrow.DataType {
	numeric := n.ints || n.bigUints || n.floats
	scalar := numeric || n.bools || n.times || n.strs
	kinds := 0
	for _, k := range []bool{numeric, n.bools, n.times, n.strs, n.objs, n.arrs} {
		if k {
			kinds++
		}
	}
	switch {
	case kinds != 1:
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
	case !scalar:
		return arrow.BinaryTypes.String
	case n.bools:
		return arrow.FixedWidthTypes.Boolean
	case n.times && n.timesNs:
		return &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
	case n.times:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case n.floats || (n.bigUints && n.negs):
		return arrow.PrimitiveTypes.Float64
	case n.bigUints:
		return arrow.PrimitiveTypes.Uint64
	case n.ints:
		return arrow.PrimitiveTypes.Int64
	}
	return arrow.BinaryTypes.String
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
