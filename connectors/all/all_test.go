package all_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"gopkg.in/yaml.v3"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

// TestRegistered pins the standard set, so dropping an import (or a
// package's init) fails here rather than in a user's pipeline, and a
// plugin registered but missing here (and from the package doc) fails too.
func TestRegistered(t *testing.T) {
	want := map[string][]string{
		engine.KindSource: {"file", "generate", "http", "kafka", "memory", "nats_jetstream", "postgres", "postgres_cdc", "s3"},
		engine.KindStage:  {"rename", "select", "wasm"},
		engine.KindSink:   {"discard", "file", "http", "kafka", "memory", "nats", "postgres", "s3"},
	}
	got := map[string][]string{}
	for _, p := range engine.DefaultEnvironment().Plugins("") {
		got[p.Kind] = append(got[p.Kind], p.Spec.Name())
	}
	for kind, names := range want {
		slices.Sort(got[kind])
		if !slices.Equal(got[kind], names) {
			t.Errorf("%s plugins registered: %v, want %v", kind, got[kind], names)
		}
	}
	if got := strings.Join(format.Names(), ","); got != "arrow,avro,csv,jsonl,parquet" {
		t.Errorf("formats %s", got)
	}
}

// notConnectors are the directories under connectors/ that register no
// plugin: the standard set itself, the suite connectors are tested with,
// the schema: field connectors share, helpers, and the scale-out
// coordinator (a pipeline file's coordinator: section, not a step).
var notConnectors = map[string]bool{"all": true, "arrowtype": true, "conformance": true, "internal": true, "coordinator": true}

// TestEveryConnectorImported derives the connector packages from the
// directory listing, so a new connectors/<name> cannot be left out of
// the standard set: every directory beside this one is either imported by
// all.go or listed in notConnectors, and the packages imported are exactly
// the ones whose code registers a plugin.
func TestEveryConnectorImported(t *testing.T) {
	const prefix = "github.com/dataweaver/dataweaver/connectors/"
	f, err := parser.ParseFile(token.NewFileSet(), "all.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	imported := map[string]bool{}
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, prefix) {
			imported[strings.TrimPrefix(p, prefix)] = true
		}
	}
	dirs, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, d := range dirs {
		if !d.IsDir() || notConnectors[d.Name()] {
			continue
		}
		seen++
		if !imported[d.Name()] {
			t.Errorf("connectors/%s is not imported by all.go (or listed in notConnectors)", d.Name())
		}
		if !registers(t, filepath.Join("..", d.Name())) {
			t.Errorf("connectors/%s registers no plugin (engine.Register*) in its init", d.Name())
		}
		delete(imported, d.Name())
	}
	for name := range imported {
		t.Errorf("all.go imports connectors/%s, which is not a directory beside it", name)
	}
	if seen == 0 {
		t.Fatal("no connector directories found beside connectors/all")
	}
}

// registers reports whether the non-test Go files of dir call one of
// engine's Register functions.
func registers(t *testing.T, dir string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "engine" && strings.HasPrefix(sel.Sel.Name, "Register") {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// TestSpecsDocumented: every field of every connector has a description,
// since `weave connectors describe` prints nothing else about it.
func TestSpecsDocumented(t *testing.T) {
	for _, p := range engine.DefaultEnvironment().Plugins("") {
		if p.Spec.SummaryLine() == "" {
			t.Errorf("%s %s: no summary", p.Kind, p.Spec.Name())
		}
		if len(p.Spec.Examples()) == 0 {
			t.Errorf("%s %s: no example", p.Kind, p.Spec.Name())
		}
		var walk func(prefix string, fs []*spec.Field)
		walk = func(prefix string, fs []*spec.Field) {
			for _, f := range fs {
				if f.Description() == "" {
					t.Errorf("%s %s: field %s%s has no description", p.Kind, p.Spec.Name(), prefix, f.Name())
				}
				walk(prefix+f.Name()+".", f.Fields())
			}
		}
		walk("", p.Spec.Fields())
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
		for _, ex := range p.Spec.Examples() {
			t.Run(p.Kind+"/"+p.Spec.Name()+"/"+ex.Title, func(t *testing.T) {
				var doc yaml.Node
				if err := yaml.Unmarshal([]byte(ex.YAML), &doc); err != nil {
					t.Fatalf("example is not YAML: %v\n%s", err, ex.YAML)
				}
				node := find(t, doc.Content[0], p.Kind, p.Spec.Name())
				conf, errs := p.Spec.Parse(node, "example.yaml", p.Spec.Name())
				if len(errs) > 0 {
					t.Fatalf("example does not parse: %v\n%s", errs, ex.YAML)
				}
				b := engine.Build{Mem: memory.NewGoAllocator(), BatchRows: 1024, Name: p.Spec.Name(),
					DeadLetter: strings.HasPrefix(strings.TrimSpace(ex.YAML), "dead_letter:")}
				var err error
				switch p.Kind {
				case engine.KindSource:
					_, err = p.NewSource(conf, b)
				case engine.KindStage:
					_, err = p.NewStage(conf, b)
				case engine.KindSink:
					_, err = p.NewSink(conf, b)
				}
				if err != nil && loadsAtBuild[p.Kind+"/"+p.Spec.Name()] && errors.Is(err, fs.ErrNotExist) {
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
	if sec == nil && kind == engine.KindSink {
		// A sink example may show the sink as the pipeline's dead_letter.
		sec = get(root, "dead_letter")
	}
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
