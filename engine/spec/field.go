package spec

import (
	"fmt"
	"time"
)

// Kind is the type of value a field holds.
type Kind int

const (
	KindString Kind = iota
	KindInt
	KindFloat
	KindBool
	KindDuration   // "100ms", "2s"
	KindStringList // [a, b] (a single scalar is accepted as a one-item list)
	KindMap        // ordered string → string mapping
	KindObject     // nested fields
	KindAny        // any YAML value, kept as a decoded Go value
	KindByteSize   // "64MiB", "512KB", or a plain number of bytes
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindBool:
		return "bool"
	case KindDuration:
		return "duration"
	case KindStringList:
		return "list of strings"
	case KindMap:
		return "map of strings"
	case KindObject:
		return "object"
	case KindAny:
		return "any"
	case KindByteSize:
		return "byte size"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Field declares one configuration key. Build it with the constructors
// (String, Int, …) and chain the setters; a field is required unless it
// has a default or is marked Optional.
type Field struct {
	name         string
	kind         Kind
	description  string
	defaultValue any // typed as the field's Go value; nil when none
	optional     bool
	enum         []string
	examples     []string
	fields       []*Field // KindObject
	advanced     bool     // hidden from the short listing
	// secretOf, when set, marks the field as holding secrets and returns
	// the secret parts of its value (all of it for a password, only the
	// password of a connection string). See Secret and Parsed.Secrets.
	secretOf func(v string) []string
	// check, when set, validates the decoded value (after defaults); its
	// error is reported at the field's line.
	check func(v any) error
}

// Name is the field's key in a pipeline file.
func (f *Field) Name() string { return f.name }

// Kind is the field's type.
func (f *Field) Kind() Kind { return f.kind }

// Description is the text set by Desc.
func (f *Field) Description() string { return f.description }

// Fields are an object field's own fields (nil for other kinds).
func (f *Field) Fields() []*Field { return f.fields }

// IsSecret reports whether the field holds a secret (see Secret).
func (f *Field) IsSecret() bool { return f.secretOf != nil }

// DefaultValue is the value set by Default, typed as the field's Go value
// (see Default), or nil when the field has none.
func (f *Field) DefaultValue() any { return f.defaultValue }

// IsOptional reports whether the key may be left out: it has a default or
// was marked Optional. An object without either may still be left out when
// none of its own fields is required (Parse fills in their defaults).
func (f *Field) IsOptional() bool { return f.optional }

// Choices are the values set by OneOf (nil when any value goes).
func (f *Field) Choices() []string { return f.enum }

func newField(name string, k Kind) *Field { return &Field{name: name, kind: k} }

// String declares a string field.
func String(name string) *Field { return newField(name, KindString) }

// Int declares an integer field.
func Int(name string) *Field { return newField(name, KindInt) }

// Float declares a floating-point field.
func Float(name string) *Field { return newField(name, KindFloat) }

// Bool declares a boolean field.
func Bool(name string) *Field { return newField(name, KindBool) }

// Duration declares a duration field written like "250ms" or "1m30s".
func Duration(name string) *Field { return newField(name, KindDuration) }

// ByteSize declares a size field written like "64MiB" or 1048576.
func ByteSize(name string) *Field { return newField(name, KindByteSize) }

// StringList declares a list-of-strings field.
func StringList(name string) *Field { return newField(name, KindStringList) }

// Map declares an ordered string → string mapping.
func Map(name string) *Field { return newField(name, KindMap) }

// Any declares a field whose value is passed through undecoded.
func Any(name string) *Field { return newField(name, KindAny) }

// Object declares a nested group of fields.
func Object(name string, fields ...*Field) *Field {
	f := newField(name, KindObject)
	f.fields = fields
	return f
}

// Desc sets the description shown in docs.
func (f *Field) Desc(s string) *Field { f.description = s; return f }

// Default sets the value used when the key is absent; it makes the field optional.
// Pass the Go value of the field's kind (string, int, float64, bool,
// time.Duration, []string, int64 for byte sizes).
func (f *Field) Default(v any) *Field {
	if d, ok := v.(time.Duration); ok && f.kind == KindDuration {
		v = d
	}
	f.defaultValue = v
	f.optional = true
	return f
}

// Optional marks the field as not required and without default.
func (f *Field) Optional() *Field { f.optional = true; return f }

// OneOf restricts a string (or each list item) to the given values.
func (f *Field) OneOf(values ...string) *Field { f.enum = values; return f }

// Example adds an example value (YAML text) to the docs.
func (f *Field) Example(v string) *Field { f.examples = append(f.examples, v); return f }

// Advance hides the field from the short listing.
func (f *Field) Advance() *Field { f.advanced = true; return f }

// Secret marks a string, list or map field as a secret (a password, a
// token, a key): its value never appears in spec errors, docs show it as
// secret, and Parsed.Secrets returns it so the program can redact it from
// everything it prints. For a map, every value is a secret.
func (f *Field) Secret() *Field {
	f.secretOf = func(v string) []string { return []string{v} }
	return f
}

// SecretIn marks a string field as holding a secret inside it, such as the
// password of a connection string: extract returns the secret parts.
func (f *Field) SecretIn(extract func(v string) []string) *Field { f.secretOf = extract; return f }

// Validate sets a check run on the decoded value.
func (f *Field) Validate(check func(v any) error) *Field { f.check = check; return f }
