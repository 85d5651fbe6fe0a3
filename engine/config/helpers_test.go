package config_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testEnv registers small stand-ins for the real connectors, so the
// parser's tests depend on nothing but the spec package.
func testEnv(t testing.TB) *engine.Environment {
	t.Helper()
	env := engine.NewEnvironment()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	fileFields := func() []*spec.Field {
		return []*spec.Field{
			spec.String("path").Desc("File path."),
			spec.String("format").OneOf("csv", "jsonl", "parquet").Optional(),
		}
	}
	must(env.RegisterSource(spec.New("file").Summary("Reads files.").Field(fileFields()...).Scalar("path"),
		func(c *spec.Parsed, b engine.Build) (engine.Source, error) { return &nopSource{}, nil }))
	must(env.RegisterSource(spec.New("generate").Summary("Makes rows.").Field(spec.Int("rows").Default(10)),
		func(c *spec.Parsed, b engine.Build) (engine.Source, error) { return &nopSource{}, nil }))
	must(env.RegisterStage(spec.New("select").Field(spec.StringList("columns")),
		func(c *spec.Parsed, b engine.Build) (engine.Stage, error) { return &nopStage{}, nil }))
	must(env.RegisterStage(spec.New("rename").Field(spec.Map("columns")),
		func(c *spec.Parsed, b engine.Build) (engine.Stage, error) { return &nopStage{}, nil }))
	// config is decoded whole, as the real wasm stage's is: what an
	// alias bomb would be expanded into.
	must(env.RegisterStage(spec.New("wasm").Field(spec.String("module"), spec.Any("config").Optional()).Scalar("module"),
		func(c *spec.Parsed, b engine.Build) (engine.Stage, error) { return &nopStage{}, nil }))
	// broken fails in its constructor: with a positioned error when told
	// which field is wrong, with a plain one otherwise.
	must(env.RegisterStage(spec.New("broken").Field(spec.String("field").Optional()),
		func(c *spec.Parsed, b engine.Build) (engine.Stage, error) {
			if c.Has("field") {
				return nil, c.Errorf(c.String("field"), "rejected by the constructor")
			}
			return nil, fmt.Errorf("%w: cannot work today", engine.ErrInvalidConfig)
		}))
	must(env.RegisterSink(spec.New("file").Field(fileFields()...),
		func(c *spec.Parsed, b engine.Build) (engine.Sink, error) { return &nopSink{}, nil }))
	must(env.RegisterSink(spec.New("discard"),
		func(c *spec.Parsed, b engine.Build) (engine.Sink, error) { return &nopSink{}, nil }))
	return env
}

type nopSource struct{ engine.NoAck }

func (*nopSource) Open(context.Context) (*arrow.Schema, error) {
	return nil, errors.New("not for running")
}
func (*nopSource) Read(context.Context) (*engine.Batch, error) { return nil, engine.ErrEndOfInput }
func (*nopSource) Close() error                                { return nil }

type boundedStage struct {
	nopStage
	max int64
}

func (s *boundedStage) MaxMemory() int64 { return s.max }

type nopStage struct{}

func (*nopStage) Bind(_ context.Context, in *arrow.Schema) (*arrow.Schema, error) { return in, nil }
func (*nopStage) Process(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	rec.Retain()
	return rec, nil, nil
}
func (*nopStage) Close() error { return nil }

type nopSink struct{}

func (*nopSink) Open(context.Context, *arrow.Schema) error      { return nil }
func (*nopSink) Write(context.Context, arrow.RecordBatch) error { return nil }
func (*nopSink) Flush(context.Context) error                    { return nil }
func (*nopSink) Close() error                                   { return nil }

func testLookup(name string) (string, bool) {
	v, ok := map[string]string{
		"DATA":  "testdata",
		"ROWS":  "1000",
		"EMPTY": "",
		"FMT":   "jsonl",
	}[name]
	return v, ok
}

// dump renders a parsed File, connector configuration included, so a
// golden file shows exactly what the parser made of a pipeline.
func dump(f *config.File, env *engine.Environment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nbatch: rows=%d linger=%s\nbuffer: %d\non_error: %s\n", f.Name, f.Batch.Rows, f.Batch.Linger, f.Buffer, f.OnError)
	step := func(st *config.Step) {
		fmt.Fprintf(&b, "%s %s (%s %s) line %d:%d on_error=%s", st.Path, st.Name, st.Kind, st.Connector, st.Line, st.Column, st.OnError)
		if st.Kind == engine.KindStage {
			fmt.Fprintf(&b, " workers=%d unordered=%t", st.Workers, st.Unordered)
		}
		if st.Kind == engine.KindSink && st.Retry != (engine.Retry{}) {
			fmt.Fprintf(&b, " retry=%d/%s/%s", st.Retry.Attempts, st.Retry.Initial, st.Retry.Max)
		}
		b.WriteString("\n")
		for _, fl := range env.Lookup(st.Kind, st.Connector).Spec.Fields() {
			if st.Config.Has(fl.Name()) {
				fmt.Fprintf(&b, "  %s: %s\n", fl.Name(), valueOf(st.Config, fl))
			}
		}
	}
	for _, st := range f.Steps() {
		step(st)
	}
	return b.String()
}

func valueOf(p *spec.Parsed, f *spec.Field) string {
	switch f.Kind() {
	case spec.KindString:
		return fmt.Sprintf("%q", p.String(f.Name()))
	case spec.KindInt:
		return fmt.Sprint(p.Int(f.Name()))
	case spec.KindStringList:
		return fmt.Sprintf("%q", p.Strings(f.Name()))
	case spec.KindMap:
		var parts []string
		for _, kv := range p.Map(f.Name()) {
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(p.Any(f.Name()))
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got ---\n%s--- want ---\n%s", path, got, want)
	}
}
