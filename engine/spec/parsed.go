package spec

import (
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Parsed is a validated configuration with defaults applied. Accessors
// return the zero value for absent optional fields; use Has to tell.
type Parsed struct {
	values map[string]any
	nodes  map[string]*yaml.Node
	file   string
	path   string
	// secrets are the values of this level's secret fields.
	secrets []string
}

// Redacted stands in for a secret in anything printed.
const Redacted = "[redacted]"

// Secrets returns the secret values given to this configuration's secret
// fields and those of its nested objects, for the program to redact from
// what it prints. The list may repeat a value.
func (p *Parsed) Secrets() []string {
	if p == nil {
		return nil
	}
	out := append([]string(nil), p.secrets...)
	for _, v := range p.values {
		if sub, ok := v.(*Parsed); ok {
			out = append(out, sub.Secrets()...)
		}
	}
	return out
}

// KV is one entry of an ordered map field.
type KV struct {
	Key, Value string
	Line       int
}

// Has reports whether the key was given in the file or has a default.
func (p *Parsed) Has(name string) bool { _, ok := p.values[name]; return ok }

// Given reports whether the key was written in the file (not defaulted).
func (p *Parsed) Given(name string) bool { _, ok := p.nodes[name]; return ok }

// String returns a string field.
func (p *Parsed) String(name string) string { s, _ := p.values[name].(string); return s }

// Int returns an int field.
func (p *Parsed) Int(name string) int { i, _ := p.values[name].(int); return i }

// ByteSize returns a byte-size field.
func (p *Parsed) ByteSize(name string) int64 { i, _ := p.values[name].(int64); return i }

// Float returns a float field.
func (p *Parsed) Float(name string) float64 { f, _ := p.values[name].(float64); return f }

// Bool returns a bool field.
func (p *Parsed) Bool(name string) bool { b, _ := p.values[name].(bool); return b }

// Duration returns a duration field.
func (p *Parsed) Duration(name string) time.Duration {
	d, _ := p.values[name].(time.Duration)
	return d
}

// Strings returns a list-of-strings field.
func (p *Parsed) Strings(name string) []string { l, _ := p.values[name].([]string); return l }

// Map returns an ordered map field.
func (p *Parsed) Map(name string) []KV { m, _ := p.values[name].([]KV); return m }

// Object returns a nested object field, or nil when absent.
func (p *Parsed) Object(name string) *Parsed { o, _ := p.values[name].(*Parsed); return o }

// Any returns the decoded value of an Any field.
func (p *Parsed) Any(name string) any { return p.values[name] }

// Node returns the YAML node a key was read from (nil when defaulted).
func (p *Parsed) Node(name string) *yaml.Node { return p.nodes[name] }

// Errorf builds an Error positioned at the field name (or at the object
// when the field was not written), for checks a constructor makes after
// parsing; a %w verb in format makes the Error wrap that cause.
func (p *Parsed) Errorf(name, format string, args ...any) *Error {
	cause := fmt.Errorf(format, args...)
	e := &Error{File: p.file, Path: join(p.path, name), Msg: cause.Error(), Err: errors.Unwrap(cause)}
	if n := p.nodes[name]; n != nil {
		e.Line, e.Column = n.Line, n.Column
	} else if n := p.nodes[""]; n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// Values returns every value given or defaulted, by key, with a nested
// object's values as a map of their own and the positions of map entries
// (KV.Line) cleared: two configurations read from different places, a
// file and a Go value say, hold the same settings when their Values are
// reflect.DeepEqual. Secret values are included: never print the result.
func (p *Parsed) Values() map[string]any {
	if p == nil {
		return nil
	}
	out := make(map[string]any, len(p.values))
	for k, v := range p.values {
		switch v := v.(type) {
		case *Parsed:
			out[k] = v.Values()
		case []KV:
			kvs := make([]KV, len(v))
			for i, kv := range v {
				kvs[i] = KV{Key: kv.Key, Value: kv.Value}
			}
			out[k] = kvs
		default:
			out[k] = v
		}
	}
	return out
}
