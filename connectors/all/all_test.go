package all_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"gopkg.in/yaml.v3"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

// TestRegistered pins the standard set, so dropping an import (or a
// package's init) fails here rather than in a user's pipeline.
func TestRegistered(t *testing.T) {
	env := engine.DefaultEnvironment()
	want := map[string][]string{
		engine.KindSource: {"file", "generate", "memory"},
		engine.KindStage:  {"rename", "select"},
		engine.KindSink:   {"discard", "file", "memory"},
	}
	for kind, names := range want {
		for _, n := range names {
			if env.Lookup(kind, n) == nil {
				t.Errorf("%s %q is not registered", kind, n)
			}
		}
	}
	if got := strings.Join(format.Names(), ","); got != "arrow,avro,csv,jsonl,parquet" {
		t.Errorf("formats %s", got)
	}
}

// TestSpecsDocumented: every field of every connector has a description,
// since `weave connectors describe` prints nothing else about it.
func TestSpecsDocumented(t *testing.T) {
	for _, p := range engine.DefaultEnvironment().Plugins("") {
		if p.Spec.SummaryText == "" {
			t.Errorf("%s %s: no summary", p.Kind, p.Spec.Name)
		}
		if len(p.Spec.Examples) == 0 {
			t.Errorf("%s %s: no example", p.Kind, p.Spec.Name)
		}
		var walk func(prefix string, fs []*spec.Field)
		walk = func(prefix string, fs []*spec.Field) {
			for _, f := range fs {
				if f.Description == "" {
					t.Errorf("%s %s: field %s%s has no description", p.Kind, p.Spec.Name, prefix, f.Name)
				}
				walk(prefix+f.Name+".", f.Fields)
			}
		}
		walk("", p.Spec.Fields)
	}
}

// loadsAtBuild lists the steps whose constructor reads a file on purpose:
// the wasm stage compiles its module when the pipeline is built, so a
// missing or invalid module is reported at its line in the pipeline file.
var loadsAtBuild = map[string]bool{engine.KindStage + "/wasm": true}

// TestSpecExamples parses every documented example with its connector's
// spec and builds the connector from it. The paths in the examples do not
// exist, so this also proves constructors do no I/O (weave validate).
func TestSpecExamples(t *testing.T) {
	for _, p := range engine.DefaultEnvironment().Plugins("") {
		for _, ex := range p.Spec.Examples {
			t.Run(p.Kind+"/"+p.Spec.Name+"/"+ex.Title, func(t *testing.T) {
				var doc yaml.Node
				if err := yaml.Unmarshal([]byte(ex.YAML), &doc); err != nil {
					t.Fatalf("example is not YAML: %v\n%s", err, ex.YAML)
				}
				node := find(t, doc.Content[0], p.Kind, p.Spec.Name)
				conf, errs := p.Spec.Parse(node, "example.yaml", p.Spec.Name)
				if len(errs) > 0 {
					t.Fatalf("example does not parse: %v\n%s", errs, ex.YAML)
				}
				b := engine.Build{Mem: memory.NewGoAllocator(), BatchRows: 1024, Name: p.Spec.Name}
				var err error
				switch p.Kind {
				case engine.KindSource:
					_, err = p.NewSource(conf, b)
				case engine.KindStage:
					_, err = p.NewStage(conf, b)
				case engine.KindSink:
					_, err = p.NewSink(conf, b)
				}
				if err != nil && loadsAtBuild[p.Kind+"/"+p.Spec.Name] && errors.Is(err, fs.ErrNotExist) {
					return // parsed; building needs the module file the example names
				}
				if err != nil {
					t.Fatalf("example does not build: %v\n%s", err, ex.YAML)
				}
			})
		}
	}
}

// find returns the configuration node of connector name in a pipeline
// snippet: source.<name>, or the first stages[]/sinks[] item with that key.
func find(t *testing.T, root *yaml.Node, kind, name string) *yaml.Node {
	t.Helper()
	section := map[string]string{engine.KindSource: "source", engine.KindStage: "stages", engine.KindSink: "sinks"}[kind]
	get := func(m *yaml.Node, key string) *yaml.Node {
		if m.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		return nil
	}
	sec := get(root, section)
	if sec == nil {
		t.Fatalf("example has no %s section", section)
	}
	if sec.Kind == yaml.SequenceNode {
		for _, item := range sec.Content {
			if n := get(item, name); n != nil {
				return n
			}
		}
	} else if n := get(sec, name); n != nil {
		return n
	}
	t.Fatalf("example has no %s under %s", name, section)
	return nil
}
