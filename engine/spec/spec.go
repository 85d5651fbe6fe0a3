package spec

// Spec declares one connector or stage: its name, what it does, and its fields.
type Spec struct {
	name        string
	summary     string
	description string
	fields      []*Field
	// scalar, when set, lets a pipeline write the connector as a plain
	// value ("- wasm: x.wasm") meaning {scalar: value}.
	scalar   string
	examples []Example
}

// Name is the connector's or stage's name, its key in a pipeline file.
func (s *Spec) Name() string { return s.name }

// SummaryLine is the one-line summary set by Summary.
func (s *Spec) SummaryLine() string { return s.summary }

// Examples are the titled examples added by WithExample.
func (s *Spec) Examples() []Example { return s.examples }

// Fields are the top-level fields, in the order docs list them.
func (s *Spec) Fields() []*Field { return s.fields }

// Example is a titled YAML snippet for the docs.
type Example struct {
	Title string
	YAML  string
}

// New starts a spec for the connector or stage called name.
func New(name string) *Spec { return &Spec{name: name} }

// Summary sets the one-line summary.
func (s *Spec) Summary(text string) *Spec { s.summary = text; return s }

// Description sets the longer description (plain text, paragraphs separated by blank lines).
func (s *Spec) Description(text string) *Spec { s.description = text; return s }

// Field adds fields, in the order docs list them.
func (s *Spec) Field(fs ...*Field) *Spec { s.fields = append(s.fields, fs...); return s }

// Scalar names the field a plain scalar value stands for.
func (s *Spec) Scalar(field string) *Spec { s.scalar = field; return s }

// WithExample adds a titled YAML example.
func (s *Spec) WithExample(title, yaml string) *Spec {
	s.examples = append(s.examples, Example{Title: title, YAML: yaml})
	return s
}

// Lookup returns the top-level field called name, or nil.
func (s *Spec) Lookup(name string) *Field {
	for _, f := range s.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}
