package all_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/connectors/columns"
	"github.com/dataweaver/dataweaver/connectors/discard"
	"github.com/dataweaver/dataweaver/connectors/file"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/connectors/http"
	"github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/connectors/kafka"
	"github.com/dataweaver/dataweaver/connectors/nats"
	"github.com/dataweaver/dataweaver/connectors/postgres"
	"github.com/dataweaver/dataweaver/connectors/s3"
	"github.com/dataweaver/dataweaver/connectors/wasm"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// typedConfigs maps every registered plugin to its generated Go type,
// written out here by hand rather than taken from the generator, so that
// a plugin the generator skipped, or a type it got wrong, fails below.
var typedConfigs = map[string]any{
	"source file":           file.SourceConfig{},
	"sink file":             file.SinkConfig{},
	"source generate":       generate.SourceConfig{},
	"source http":           http.SourceConfig{},
	"sink http":             http.SinkConfig{},
	"source kafka":          kafka.SourceConfig{},
	"sink kafka":            kafka.SinkConfig{},
	"source memory":         inmemory.SourceConfig{},
	"sink memory":           inmemory.SinkConfig{},
	"source nats_jetstream": nats.SourceConfig{},
	"sink nats":             nats.SinkConfig{},
	"source postgres":       postgres.SourceConfig{},
	"source postgres_cdc":   postgres.CDCConfig{},
	"sink postgres":         postgres.SinkConfig{},
	"source s3":             s3.SourceConfig{},
	"sink s3":               s3.SinkConfig{},
	"stage select":          columns.SelectConfig{},
	"stage rename":          columns.RenameConfig{},
	"stage wasm":            wasm.StageConfig{},
	"sink discard":          discard.SinkConfig{},
}

// TestTypedConfigsCoverSpecs is the check that the Go configuration and the
// pipeline-file syntax cannot drift: for every registered plugin, its Go
// type has exactly one field per spec field, at every depth, tagged with
// the field's name and of the Go type its kind calls for.
func TestTypedConfigsCoverSpecs(t *testing.T) {
	plugins := engine.DefaultEnvironment().Plugins("")
	if len(plugins) != len(typedConfigs) {
		t.Errorf("%d plugins registered, %d typed configs listed", len(plugins), len(typedConfigs))
	}
	for _, p := range plugins {
		key := p.Kind + " " + p.Spec.Name()
		conf, ok := typedConfigs[key]
		if !ok {
			t.Errorf("%s: no typed config (run make docs and list it in typedConfigs)", key)
			continue
		}
		for _, problem := range coverage(reflect.TypeOf(conf), p.Spec.Fields()) {
			t.Errorf("%s (%T): %s", key, conf, problem)
		}
	}
}

// kindTypes is the Go type of each kind's field.
var kindTypes = map[spec.Kind]reflect.Type{
	spec.KindString:     reflect.TypeFor[string](),
	spec.KindInt:        reflect.TypeFor[int](),
	spec.KindFloat:      reflect.TypeFor[float64](),
	spec.KindBool:       reflect.TypeFor[bool](),
	spec.KindDuration:   reflect.TypeFor[time.Duration](),
	spec.KindByteSize:   reflect.TypeFor[int64](),
	spec.KindStringList: reflect.TypeFor[[]string](),
	spec.KindMap:        reflect.TypeFor[[]spec.KV](),
	spec.KindAny:        reflect.TypeFor[any](),
}

// coverage lists how struct type st differs from fields.
func coverage(st reflect.Type, fields []*spec.Field) []string {
	var problems []string
	byTag := map[string]reflect.StructField{}
	for i := range st.NumField() {
		sf := st.Field(i)
		tag := sf.Tag.Get(spec.Tag)
		if tag == "" {
			problems = append(problems, fmt.Sprintf("field %s has no %s tag", sf.Name, spec.Tag))
			continue
		}
		byTag[tag] = sf
	}
	for _, f := range fields {
		sf, ok := byTag[f.Name()]
		if !ok {
			problems = append(problems, fmt.Sprintf("no field for %q", f.Name()))
			continue
		}
		delete(byTag, f.Name())
		if f.Kind() == spec.KindObject {
			if sf.Type.Kind() != reflect.Pointer || sf.Type.Elem().Kind() != reflect.Struct {
				problems = append(problems, fmt.Sprintf("%s: object %q needs a pointer to a struct, not %s", sf.Name, f.Name(), sf.Type))
				continue
			}
			for _, p := range coverage(sf.Type.Elem(), f.Fields()) {
				problems = append(problems, f.Name()+"."+p)
			}
			continue
		}
		want := kindTypes[f.Kind()]
		got := sf.Type
		if got.Kind() == reflect.Pointer && want.Kind() != reflect.Slice && want.Kind() != reflect.Interface {
			// A pointer is there so that the zero value can be asked for:
			// only where that differs from the default.
			if d := f.DefaultValue(); d == nil || reflect.ValueOf(d).IsZero() {
				problems = append(problems, fmt.Sprintf("%s is a pointer, but %q has no default other than the zero value", sf.Name, f.Name()))
			}
			got = got.Elem()
		} else if d := f.DefaultValue(); d != nil && !reflect.ValueOf(d).IsZero() && zeroAllowed(f) && f.Kind() != spec.KindString && want.Kind() != reflect.Slice {
			problems = append(problems, fmt.Sprintf("%s: %q defaults to %v and allows the zero value, which a plain %s cannot ask for", sf.Name, f.Name(), d, got))
		}
		if got != want {
			problems = append(problems, fmt.Sprintf("%s: %q is a %s field, Go type %s, want %s", sf.Name, f.Name(), f.Kind(), sf.Type, want))
		}
	}
	for tag, sf := range byTag {
		problems = append(problems, fmt.Sprintf("field %s (%q) is not in the spec", sf.Name, tag))
	}
	return problems
}

// zeroAllowed reports whether the spec accepts the Go zero value of a bool
// or number field.
func zeroAllowed(f *spec.Field) bool {
	zero := map[spec.Kind]string{spec.KindBool: "false", spec.KindInt: "0", spec.KindFloat: "0", spec.KindDuration: "0s", spec.KindByteSize: "0"}[f.Kind()]
	if zero == "" {
		return false
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(f.Name()+": "+zero), &doc); err != nil {
		panic(err)
	}
	_, errs := spec.New("probe").Field(f).Parse(doc.Content[0], "", "")
	return len(errs) == 0
}
