// Package specgen writes the typed Go configurations of the built-in
// connectors and stages (connectors/<pkg>/config_gen.go) from the specs
// they register: one struct per plugin, one field per spec field, so the
// Go API and the pipeline-file syntax come from one declaration and cannot
// drift. `make docs` runs cmd/specgen; `make check-docs` fails when a
// generated file is stale.
//
// # The Go types
//
// A field's Go type follows its spec kind: string, int, float64, bool,
// time.Duration, int64 (byte size), []string, []spec.KV (maps keep their
// order), any, and a pointer to a generated struct for an object (nil: not
// written; &T{}: written empty, which for tls: means "use TLS"). A bool or
// number whose default is not its Go zero value, when the zero value is
// itself allowed, is a pointer, so that false or 0 can be asked for (nil
// takes the default). Everything else left at its zero value is not
// written: its default applies (see spec.Encode).
package specgen

import (
	"bytes"
	"fmt"
	"go/format"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Target names the Go type generated for one registered plugin.
type Target struct {
	Kind string // engine.KindSource, KindStage or KindSink
	Name string // the plugin's registered name
	Dir  string // the package directory, relative to the module root
	Type string // the generated struct's name
}

// Targets are the built-in plugins, in the order their types appear in
// each package's file. A plugin registered without a target here fails the
// generator, so a new connector cannot be left without its Go type.
var Targets = []Target{
	{engine.KindStage, "select", "connectors/columns", "SelectConfig"},
	{engine.KindStage, "rename", "connectors/columns", "RenameConfig"},
	{engine.KindSink, "discard", "connectors/discard", "SinkConfig"},
	{engine.KindSource, "file", "connectors/file", "SourceConfig"},
	{engine.KindSink, "file", "connectors/file", "SinkConfig"},
	{engine.KindSource, "generate", "connectors/generate", "SourceConfig"},
	{engine.KindSource, "http", "connectors/http", "SourceConfig"},
	{engine.KindSink, "http", "connectors/http", "SinkConfig"},
	{engine.KindSource, "memory", "connectors/inmemory", "SourceConfig"},
	{engine.KindSink, "memory", "connectors/inmemory", "SinkConfig"},
	{engine.KindSource, "kafka", "connectors/kafka", "SourceConfig"},
	{engine.KindSink, "kafka", "connectors/kafka", "SinkConfig"},
	{engine.KindSource, "nats_jetstream", "connectors/nats", "SourceConfig"},
	{engine.KindSink, "nats", "connectors/nats", "SinkConfig"},
	{engine.KindSource, "postgres", "connectors/postgres", "SourceConfig"},
	{engine.KindSource, "postgres_cdc", "connectors/postgres", "CDCConfig"},
	{engine.KindSink, "postgres", "connectors/postgres", "SinkConfig"},
	{engine.KindSource, "s3", "connectors/s3", "SourceConfig"},
	{engine.KindSink, "s3", "connectors/s3", "SinkConfig"},
	{engine.KindStage, "wasm", "connectors/wasm", "StageConfig"},
}

// FileName is the generated file in each package directory.
const FileName = "config_gen.go"

// Generate returns the generated file of every package the targets name,
// keyed by its path relative to the module root. It fails when env holds a
// plugin no target names or a target names a plugin env lacks.
func Generate(env *engine.Environment, targets []Target) (map[string][]byte, error) {
	named := map[string]bool{}
	var dirs []string
	byDir := map[string][]plugin{}
	for _, t := range targets {
		key := t.Kind + " " + t.Name
		named[key] = true
		p := env.Lookup(t.Kind, t.Name)
		if p == nil {
			return nil, fmt.Errorf("specgen: %s %q has a target but is not registered", t.Kind, t.Name)
		}
		if _, seen := byDir[t.Dir]; !seen {
			dirs = append(dirs, t.Dir)
		}
		byDir[t.Dir] = append(byDir[t.Dir], plugin{Target: t, spec: p.Spec})
	}
	for _, p := range env.Plugins("") {
		if !named[p.Kind+" "+p.Spec.Name()] {
			return nil, fmt.Errorf("specgen: %s %q is registered but has no target: add it to specgen.Targets", p.Kind, p.Spec.Name())
		}
	}
	out := map[string][]byte{}
	for _, dir := range dirs {
		src, err := generatePackage(path.Base(dir), byDir[dir])
		if err != nil {
			return nil, fmt.Errorf("specgen: %s: %w", dir, err)
		}
		out[path.Join(dir, FileName)] = src
	}
	return out, nil
}

type plugin struct {
	Target
	spec *spec.Spec
}

// object is one nested object field, found at path in a plugin.
type object struct {
	owner *plugin
	path  []string // field names from the plugin's top level
	field *spec.Field
	shape string
	name  string // the Go type, once decided
}

func generatePackage(pkg string, plugins []plugin) ([]byte, error) {
	var objs []*object
	for i := range plugins {
		collect(&plugins[i], nil, plugins[i].spec.Fields(), &objs)
	}
	if err := nameObjects(plugins, objs); err != nil {
		return nil, err
	}
	g := &gen{objects: objs}
	for i := range plugins {
		p := &plugins[i]
		what := fmt.Sprintf("%s %s", p.spec.Name(), p.Kind)
		doc := fmt.Sprintf("%s configures the %s", p.Type, what)
		if s := strings.TrimSuffix(p.spec.SummaryLine(), "."); s != "" {
			doc += ": " + lowerFirst(s)
		}
		doc += ". Its fields are the spec's (`weave connectors describe " + p.spec.Name() + "`); Build makes the " + p.Kind +
			" through the same parsing, defaults and checks as a pipeline file, so a wrong value fails with the same message."
		if err := g.writeStruct(p.Type, doc, p, nil, p.spec.Fields()); err != nil {
			return nil, err
		}
		ret := map[string]string{engine.KindSource: "Source", engine.KindStage: "Stage", engine.KindSink: "Sink"}[p.Kind]
		fmt.Fprintf(&g.body, "// Build makes the %s c describes; b's unset fields take defaults (see\n// engine.Environment.Build%s).\n", what, ret)
		fmt.Fprintf(&g.body, "func (c %s) Build(b engine.Build) (engine.%s, error) {\n\treturn engine.DefaultEnvironment().Build%s(%q, c, b)\n}\n\n", p.Type, ret, ret, p.spec.Name())
		fmt.Fprintf(&g.body, "// Recipe describes the %s c makes with b, for a step's Recipe field: a\n// runner that makes steps again elsewhere (engine.Runner) needs it.\n", what)
		fmt.Fprintf(&g.body, "func (c %s) Recipe(b engine.Build) *engine.Recipe {\n\treturn &engine.Recipe{Connector: %q, Config: c, BatchRows: b.BatchRows, Linger: b.Linger}\n}\n\n", p.Type, p.spec.Name())
	}
	done := map[string]bool{}
	for _, o := range objs {
		if done[o.name] {
			continue
		}
		done[o.name] = true
		doc := fmt.Sprintf("%s is the %s object of %s.", o.name, strings.Join(o.path, "."), owners(objs, o.name))
		if d := o.field.Description(); d != "" {
			doc += " " + d
		}
		if err := g.writeStruct(o.name, doc, o.owner, o.path, o.field.Fields()); err != nil {
			return nil, err
		}
	}
	var file bytes.Buffer
	file.WriteString("// Code generated by specgen from the registered specs; DO NOT EDIT.\n// Run `make docs` after changing a spec.\n\n")
	fmt.Fprintf(&file, "package %s\n\nimport (\n", pkg)
	if g.usesTime {
		file.WriteString("\t\"time\"\n\n")
	}
	file.WriteString("\t\"github.com/dataweaver/dataweaver/engine\"\n")
	if g.usesSpec {
		file.WriteString("\t\"github.com/dataweaver/dataweaver/engine/spec\"\n")
	}
	file.WriteString(")\n\n")
	file.Write(g.body.Bytes())
	src, err := format.Source(file.Bytes())
	if err != nil {
		return nil, fmt.Errorf("generated code does not parse: %w\n%s", err, file.Bytes())
	}
	return src, nil
}

// owners lists the plugins whose objects share the type name.
func owners(objs []*object, name string) string {
	var names []string
	seen := map[string]bool{}
	for _, o := range objs {
		if o.name != name {
			continue
		}
		n := o.owner.Type
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return strings.Join(names, " and ")
}

func collect(p *plugin, path []string, fields []*spec.Field, objs *[]*object) {
	for _, f := range fields {
		if f.Kind() != spec.KindObject {
			continue
		}
		fp := append(append([]string(nil), path...), f.Name())
		*objs = append(*objs, &object{owner: p, path: fp, field: f, shape: shape(f.Fields())})
		collect(p, fp, f.Fields(), objs)
	}
}

// shape identifies what an object's generated struct would hold: objects
// of one name and shape share a type (kafka's tls of source and sink).
func shape(fields []*spec.Field) string {
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "%s|%v|%q|%#v|%v|%v|%v|%v", f.Name(), f.Kind(), f.Description(), f.DefaultValue(), f.IsOptional(), f.Choices(), f.IsSecret(), pointer(f))
		if f.Kind() == spec.KindObject {
			b.WriteString("{" + shape(f.Fields()) + "}")
		}
		b.WriteString(";")
	}
	return b.String()
}

// nameObjects names each object's type after its field ("tls" → TLSConfig)
// when every object of that field name in the package has one shape;
// otherwise after the plugin and the path (SourceCSVConfig, SinkCSVConfig).
func nameObjects(plugins []plugin, objs []*object) error {
	shapes := map[string]map[string]bool{}
	for _, o := range objs {
		base := camel(o.field.Name())
		if shapes[base] == nil {
			shapes[base] = map[string]bool{}
		}
		shapes[base][o.shape] = true
	}
	taken := map[string]string{} // type name → shape
	for _, p := range plugins {
		taken[p.Type] = "plugin " + p.Name
	}
	for _, o := range objs {
		base := camel(o.field.Name())
		if len(shapes[base]) == 1 {
			o.name = base + "Config"
		} else {
			o.name = strings.TrimSuffix(o.owner.Type, "Config")
			for _, n := range o.path {
				o.name += camel(n)
			}
			o.name += "Config"
		}
		if s, ok := taken[o.name]; ok && s != o.shape {
			return fmt.Errorf("two different types would be named %s; rename a field or extend nameObjects", o.name)
		}
		taken[o.name] = o.shape
	}
	return nil
}

type gen struct {
	body     bytes.Buffer
	objects  []*object
	usesTime bool
	usesSpec bool
}

func (g *gen) objectType(owner *plugin, path []string) string {
	for _, o := range g.objects {
		if o.owner == owner && slicesEqual(o.path, path) {
			return o.name
		}
	}
	panic("specgen: object not collected: " + strings.Join(path, "."))
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func (g *gen) writeStruct(name, doc string, owner *plugin, path []string, fields []*spec.Field) error {
	comment(&g.body, "", doc)
	fmt.Fprintf(&g.body, "type %s struct {\n", name)
	seen := map[string]string{"Build": "the Build method"}
	for i, f := range fields {
		goName := camel(f.Name())
		if other, dup := seen[goName]; dup {
			return fmt.Errorf("%s: fields %q and %s both become %s", name, f.Name(), other, goName)
		}
		seen[goName] = fmt.Sprintf("%q", f.Name())
		typ, err := g.goType(f, owner, append(append([]string(nil), path...), f.Name()))
		if err != nil {
			return fmt.Errorf("%s.%s: %w", name, goName, err)
		}
		if i > 0 {
			g.body.WriteString("\n")
		}
		comment(&g.body, "\t", fieldDoc(f))
		fmt.Fprintf(&g.body, "\t%s %s `%s:%q`\n", goName, typ, spec.Tag, f.Name())
	}
	g.body.WriteString("}\n\n")
	return nil
}

func (g *gen) goType(f *spec.Field, owner *plugin, path []string) (string, error) {
	var t string
	switch f.Kind() {
	case spec.KindString:
		t = "string"
	case spec.KindInt:
		t = "int"
	case spec.KindFloat:
		t = "float64"
	case spec.KindBool:
		t = "bool"
	case spec.KindDuration:
		t, g.usesTime = "time.Duration", true
	case spec.KindByteSize:
		t = "int64"
	case spec.KindStringList:
		t = "[]string"
	case spec.KindMap:
		t, g.usesSpec = "[]spec.KV", true
	case spec.KindAny:
		t = "any"
	case spec.KindObject:
		return "*" + g.objectType(owner, path), nil
	default:
		return "", fmt.Errorf("no Go type for kind %v", f.Kind())
	}
	if pointer(f) {
		t = "*" + t
	}
	return t, nil
}

// zeroText is how a kind's Go zero value is written in a file, for the
// kinds that may become pointers.
var zeroText = map[spec.Kind]string{
	spec.KindBool: "false", spec.KindInt: "0", spec.KindFloat: "0",
	spec.KindDuration: "0s", spec.KindByteSize: "0",
}

// pointer reports whether the field's Go type is a pointer: a bool or
// number whose default is not the Go zero value, when the spec accepts the
// zero value (checked by parsing it), so that setting it means something.
// A string is never one: an empty string is taken as not given.
func pointer(f *spec.Field) bool {
	zero, ok := zeroText[f.Kind()]
	d := f.DefaultValue()
	if !ok || d == nil || spec.FormatValue(d) == zero || fmt.Sprint(d) == "0" {
		return false
	}
	node := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: f.Name()},
		{Kind: yaml.ScalarNode, Value: zero},
	}}
	_, errs := spec.New("probe").Field(f).Parse(node, "", "")
	return len(errs) == 0
}

func fieldDoc(f *spec.Field) string {
	doc := strings.TrimSpace(f.Description())
	if doc != "" && !strings.HasSuffix(doc, ".") {
		doc += "."
	}
	var facts []string
	switch d := f.DefaultValue(); {
	case d != nil && pointer(f):
		facts = append(facts, fmt.Sprintf("Default %s when nil (a pointer, so that %s can be set).", spec.FormatValue(d), zeroText[f.Kind()]))
	case d != nil:
		facts = append(facts, fmt.Sprintf("Default %s.", spec.FormatValue(d)))
	case f.IsOptional() || f.Kind() == spec.KindObject:
		facts = append(facts, "Optional.")
	default:
		facts = append(facts, "Required.")
	}
	if c := f.Choices(); len(c) > 0 {
		facts = append(facts, "One of: "+strings.Join(c, ", ")+".")
	}
	if f.IsSecret() {
		facts = append(facts, "Secret: never printed.")
	}
	return strings.TrimSpace(doc + "\n\n" + strings.Join(facts, " "))
}

// comment writes text as a // comment, wrapped at 80 columns; blank lines
// in text separate paragraphs.
func comment(b *bytes.Buffer, indent, text string) {
	width := 77 - len(indent)*4
	for i, para := range strings.Split(text, "\n\n") {
		if i > 0 {
			fmt.Fprintf(b, "%s//\n", indent)
		}
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len(line)+1+len(w) > width {
				fmt.Fprintf(b, "%s// %s\n", indent, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		if line != "" {
			fmt.Fprintf(b, "%s// %s\n", indent, line)
		}
	}
}

// initialisms are written in capitals in Go names, as golint wants.
var initialisms = map[string]string{
	"id": "ID", "url": "URL", "urls": "URLs", "tls": "TLS", "sasl": "SASL", "csv": "CSV",
	"ca": "CA", "dsn": "DSN", "http": "HTTP", "json": "JSON", "sql": "SQL", "cdc": "CDC",
	"ttl": "TTL", "uri": "URI", "ip": "IP", "api": "API",
}

// camel turns a field name into a Go name: max_record_bytes → MaxRecordBytes.
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		if up, ok := initialisms[part]; ok {
			b.WriteString(up)
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func lowerFirst(s string) string {
	if len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
		return s // an initialism: "CSV files …"
	}
	return strings.ToLower(s[:1]) + s[1:]
}
