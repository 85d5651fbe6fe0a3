package spec_test

import (
	"reflect"
	"testing"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// TestFieldAccessors: what the builders set reads back, for tools that
// work from a spec (the typed-config generator).
func TestFieldAccessors(t *testing.T) {
	for _, tt := range []struct {
		f        *spec.Field
		def      any
		optional bool
		choices  []string
	}{
		{spec.String("a"), nil, false, nil},
		{spec.String("b").Optional(), nil, true, nil},
		{spec.Int("c").Default(3), 3, true, nil},
		{spec.String("d").OneOf("x", "y").Default("x"), "x", true, []string{"x", "y"}},
	} {
		if got := tt.f.DefaultValue(); !reflect.DeepEqual(got, tt.def) {
			t.Errorf("%s: DefaultValue %v, want %v", tt.f.Name(), got, tt.def)
		}
		if got := tt.f.IsOptional(); got != tt.optional {
			t.Errorf("%s: IsOptional %v, want %v", tt.f.Name(), got, tt.optional)
		}
		if got := tt.f.Choices(); !reflect.DeepEqual(got, tt.choices) {
			t.Errorf("%s: Choices %v, want %v", tt.f.Name(), got, tt.choices)
		}
	}
}
