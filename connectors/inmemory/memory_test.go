package inmemory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// TestSourceConformance feeds the input as records of irregular sizes, so
// the source must both pass records through and cut them at BatchRows.
func TestSourceConformance(t *testing.T) {
	conformance.RunSource(t, conformance.SourceHarness{
		// A new source over the same records reads them all again.
		AtLeastOnce: true,
		New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
			return func(b engine.Build) engine.Source {
				var parts []arrow.RecordBatch
				for off, step := int64(0), int64(1); off < in.NumRows(); off, step = off+step, step*3 {
					parts = append(parts, in.NewSlice(off, min(off+step, in.NumRows())))
				}
				s := NewSource(in.Schema(), parts...)
				t.Cleanup(s.Release) // runs before the leak check, registered first
				s.batchRows = b.BatchRows
				conformance.Release(parts)
				return s
			}
		}),
	})
}

// TestInlineRowsConformance goes through the pipeline-file path: the known
// rows are written out as YAML and decoded by the source.
func TestInlineRowsConformance(t *testing.T) {
	conformance.RunSource(t, conformance.SourceHarness{
		AtLeastOnce: true,
		New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
			var y strings.Builder
			y.WriteString("schema:\n")
			for _, f := range in.Schema().Fields() {
				fmt.Fprintf(&y, "  %s: %q\n", f.Name, f.Type.String())
			}
			y.WriteString("rows:\n")
			var js bytes.Buffer
			if err := array.RecordToJSON(in, &js); err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSpace(js.String()), "\n") {
				if line != "" {
					fmt.Fprintf(&y, "  - %s\n", line)
				}
			}
			return conformance.SourceFromConfig(t, "memory", y.String())
		}),
	})
}

func TestSinkConformance(t *testing.T) {
	conformance.RunSink(t, conformance.SinkHarness{
		New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
			s := NewSink()
			return s, func(t *testing.T, _ memory.Allocator) []arrow.RecordBatch {
				recs := s.Records()
				for _, r := range recs {
					r.Retain()
				}
				s.Release()
				return recs
			}
		},
	})
}

func buildSource(t testing.TB, text string, b engine.Build) engine.Source {
	t.Helper()
	return conformance.SourceFromConfig(t, "memory", text)(b)
}

func TestInlineRowsRejects(t *testing.T) {
	mem := conformance.Checked(t)
	src := buildSource(t, `schema: {id: int64 not null, name: utf8, ts: "timestamp[ms, UTC]"}
rows:
  - {id: 1, name: ada, ts: "2024-05-01T10:00:00Z"}
  - {id: one, name: bad}
  - {id: 3, nmae: typo}
  - {name: no id}
  - {id: 5, ts: "yesterday"}
  - {id: 6}
`, conformance.Build(mem, 100, "source"))
	got := conformance.ReadAll(&rejectsOK{T: t}, src, 100, true)
	defer conformance.Release(got)
	if len(got) != 1 || got[0].NumRows() != 2 {
		t.Fatalf("want one batch of the 2 good rows, got %d batches", len(got))
	}
	ids := got[0].Column(0).(*array.Int64)
	if ids.Value(0) != 1 || ids.Value(1) != 6 || !got[0].Column(1).IsNull(1) {
		t.Errorf("good rows wrong: %v", got[0])
	}
	if want := int64(1714557600000); got[0].Column(2).(*array.Timestamp).Value(0) != arrow.Timestamp(want) {
		t.Errorf("ts = %v, want %d", got[0].Column(2).(*array.Timestamp).Value(0), want)
	}
}

func TestInlineRowsRejectDetails(t *testing.T) {
	mem := conformance.Checked(t)
	src := buildSource(t, `schema: {id: int64 not null, name: utf8}
rows:
  - {id: 1}
  - {id: 2.5}
  - {id: 3, nmae: typo}
  - {name: x}
`, conformance.Build(mem, 100, "source"))
	if _, err := src.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, err := src.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Record.Release()
	want := []struct {
		line   int64
		column string
		msg    string
	}{
		{4, "id", "does not fit int64: not an integer"},
		{5, "nmae", "no such column in the schema (columns: id, name)"},
		{6, "id", "no value for non-nullable column"},
	}
	if len(b.Rejects) != len(want) {
		t.Fatalf("got %d rejects, want %d: %v", len(b.Rejects), len(want), b.Rejects)
	}
	for i, w := range want {
		r := b.Rejects[i]
		if r.Line != w.line || r.Column != w.column || !strings.Contains(r.Err.Error(), w.msg) || len(r.Raw) == 0 {
			t.Errorf("reject %d = line %d column %q err %q raw %q; want line %d column %q containing %q", i, r.Line, r.Column, r.Err, r.Raw, w.line, w.column, w.msg)
		}
	}
}

func TestSourceSchemaMismatch(t *testing.T) {
	mem := conformance.Checked(t)
	rec := conformance.Sample(mem, conformance.SampleSchema, 0, 2)
	defer rec.Release()
	other := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int8}}, nil)
	s := NewSource(other, rec)
	defer s.Release()
	if _, err := s.Open(context.Background()); !errors.Is(err, engine.ErrSchema) {
		t.Fatalf("Open = %v, want ErrSchema", err)
	}
}

func TestNamedSink(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("name: results-test"), &doc); err != nil {
		t.Fatal(err)
	}
	p := engine.DefaultEnvironment().Lookup(engine.KindSink, "memory")
	conf, errs := p.Spec.Parse(doc.Content[0], "", "")
	if errs != nil {
		t.Fatal(errs)
	}
	s, err := p.NewSink(conf, engine.Build{})
	if err != nil {
		t.Fatal(err)
	}
	if Lookup("results-test") != s {
		t.Fatal("Lookup does not return the sink built with that name")
	}
}

// rejectsOK lets ReadAll's "unexpected reject" checks pass for the one
// test that wants rejects, while every other failure still fails.
type rejectsOK struct{ *testing.T }

func (r *rejectsOK) Errorf(format string, args ...any) {
	if strings.Contains(format, "unexpected reject") {
		return
	}
	r.T.Helper()
	r.T.Errorf(format, args...)
}

// TestInlineRowsYAMLTypes: unquoted YAML timestamps and dates (which YAML
// decodes as times), decimals, lists.
func TestInlineRowsYAMLTypes(t *testing.T) {
	mem := conformance.Checked(t)
	src := buildSource(t, `schema: {ts: "timestamp[ms, UTC]", d: date32, dec: "decimal128(6,2)", l: list<int64>}
rows:
  - {ts: 2024-05-01T10:00:00Z, d: 2024-05-02, dec: 12.34, l: [1, 2]}
  - {ts: "2024-05-01 10:00:01", d: "2024-05-03", dec: "5.5"}
`, conformance.Build(mem, 100, "source"))
	got := conformance.ReadAll(t, src, 100, true)
	defer conformance.Release(got)
	if len(got) != 1 || got[0].NumRows() != 2 {
		t.Fatalf("got %v", got)
	}
	r := got[0]
	for c, want := range []string{"2024-05-01T10:00:00Z", "2024-05-02", "12.34", "[1,2]"} {
		if s := r.Column(c).ValueStr(0); s != want {
			t.Errorf("column %s row 0 = %s, want %s", r.ColumnName(c), s, want)
		}
	}
	if s := r.Column(2).ValueStr(1); s != "5.5" && s != "5.50" {
		t.Errorf("dec row 1 = %s", s)
	}
	if !r.Column(3).IsNull(1) {
		t.Error("missing list should be null")
	}
}
