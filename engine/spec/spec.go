package spec

// Spec declares one connector or stage: its name, what it does, and its fields.
type Spec struct {
	Name        string
	SummaryText string
	DescText    string
	Fields      []*Field
	// ScalarField, when set, lets a pipeline write the connector as a plain
	// value ("- wasm: x.wasm") meaning {ScalarField: value}.
	ScalarField string
	Examples    []Example
}

// Example is a titled YAML snippet for the docs.
type Example struct {
	Title string
	YAML  string
}

// New starts a spec for the connector or stage called name.
func New(name string) *Spec { return &Spec{Name: name} }

// Summary sets the one-line summary.
func (s *Spec) Summary(text string) *Spec { s.SummaryText = text; return s }

// Description sets the longer description (plain text, paragraphs separated by blank lines).
func (s *Spec) Description(text string) *Spec { s.DescText = text; return s }

// Field adds fields, in the order docs list them.
func (s *Spec) Field(fs ...*Field) *Spec { s.Fields = append(s.Fields, fs...); return s }

// Scalar names the field a plain scalar value stands for.
func (s *Spec) Scalar(field string) *Spec { s.ScalarField = field; return s }

// WithExample adds a titled YAML example.
func (s *Spec) WithExample(title, yaml string) *Spec {
	s.Examples = append(s.Examples, Example{Title: title, YAML: yaml})
	return s
}

// Lookup returns the top-level field called name, or nil.
func (s *Spec) Lookup(name string) *Field {
	for _, f := range s.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}
