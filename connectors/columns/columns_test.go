package columns

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// input is the sample schema: id, name, score, ok, note, ts.
var input = conformance.SampleSchema

func names(s *arrow.Schema) string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return strings.Join(out, ",")
}

func build(t *testing.T, kind, text string) (engine.Stage, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	p := engine.DefaultEnvironment().Lookup(engine.KindStage, kind)
	conf, errs := p.Spec.Parse(doc.Content[0], "p.yaml", "stages[0]."+kind)
	if len(errs) > 0 {
		return nil, errs
	}
	return p.NewStage(conf, engine.Build{Name: "stages[0]." + kind})
}

func TestStages(t *testing.T) {
	tests := []struct {
		name, kind, conf string
		want             string // output column names, or
		wantErr          string // a substring of the error (Bind errors wrap ErrSchema)
		schemaErr        bool
	}{
		{name: "select keeps order", kind: "select", conf: "columns: [ts, id]", want: "ts,id"},
		{name: "select scalar", kind: "select", conf: "note", want: "note"},
		{name: "select all reordered", kind: "select", conf: "columns: [note, ok, score, name, id, ts]", want: "note,ok,score,name,id,ts"},
		{name: "drop", kind: "select", conf: "drop: [name, note]", want: "id,score,ok,ts"},
		{name: "select unknown", kind: "select", conf: "columns: [id, emial, amount]", schemaErr: true,
			wantErr: `no column "emial", "amount" in the input (columns: id, name, score, ok, note, ts)`},
		{name: "drop unknown", kind: "select", conf: "drop: [nope]", schemaErr: true, wantErr: `no column "nope"`},
		{name: "drop everything", kind: "select", conf: "drop: [id, name, score, ok, note, ts]", schemaErr: true, wantErr: "leaves no columns"},
		{name: "select both", kind: "select", conf: "{columns: [id], drop: [name]}", wantErr: "not both"},
		{name: "select neither", kind: "select", conf: "{}", wantErr: "give columns (to keep) or drop"},
		{name: "select twice", kind: "select", conf: "columns: [id, id]", wantErr: `"id" is listed twice`},
		{name: "select empty", kind: "select", conf: "columns: []", wantErr: "the list is empty"},
		{name: "rename", kind: "rename", conf: "columns: {id: order_id, ts: created_at}", want: "order_id,name,score,ok,note,created_at"},
		{name: "rename swap", kind: "rename", conf: "columns: {id: name, name: id}", want: "name,id,score,ok,note,ts"},
		{name: "rename chain", kind: "rename", conf: "columns: {id: key, name: id}", want: "key,id,score,ok,note,ts"},
		{name: "rename unknown", kind: "rename", conf: "columns: {idd: x}", schemaErr: true, wantErr: `no column "idd" in the input (columns: id, name`},
		{name: "rename clash existing", kind: "rename", conf: "columns: {id: name}", schemaErr: true,
			wantErr: `renamed column "id" and existing column "name" would both be called "name"`},
		{name: "rename clash two", kind: "rename", conf: "columns: {id: x, name: x}", schemaErr: true,
			wantErr: `renamed column "id" and renamed column "name" would both be called "x"`},
		{name: "rename empty", kind: "rename", conf: "columns: {}", wantErr: "no columns to rename"},
		{name: "rename to empty", kind: "rename", conf: `columns: {id: ""}`, wantErr: `new name for "id" is empty`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := build(t, tc.kind, tc.conf)
			var out *arrow.Schema
			if err == nil {
				defer st.Close()
				out, err = st.Bind(context.Background(), input)
			}
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("got schema %s, want error containing %q", names(out), tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tc.wantErr)
				}
				if tc.schemaErr != errors.Is(err, engine.ErrSchema) {
					t.Fatalf("errors.Is(err, ErrSchema) = %v, want %v (%v)", !tc.schemaErr, tc.schemaErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(out); got != tc.want {
				t.Fatalf("columns %s, want %s", got, tc.want)
			}
			// Validate and Run both bind: a second Bind must agree.
			if again, err := st.Bind(context.Background(), input); err != nil || !again.Equal(out) {
				t.Fatalf("second Bind: %v, %v", again, err)
			}
			checkProcess(t, st, out)
		})
	}
}

// checkProcess proves the output is the input's own arrays under the new
// names: same data pointers, nothing copied, nothing leaked.
func checkProcess(t *testing.T, st engine.Stage, out *arrow.Schema) {
	t.Helper()
	mem := conformance.Checked(t)
	rec := conformance.Sample(mem, input, 0, 20)
	defer rec.Release()
	before := mem.CurrentAlloc()
	got, rejects, err := st.Process(context.Background(), rec)
	if err != nil || len(rejects) > 0 {
		t.Fatalf("Process: %v %v", err, rejects)
	}
	defer got.Release()
	if mem.CurrentAlloc() != before {
		t.Errorf("Process allocated %d bytes of Arrow memory; it must not copy data", mem.CurrentAlloc()-before)
	}
	if !got.Schema().Equal(out) || got.NumRows() != rec.NumRows() {
		t.Fatalf("output %s with %d rows, want schema %s and %d rows", got.Schema(), got.NumRows(), out, rec.NumRows())
	}
	for j := range out.NumFields() {
		src := srcIndex(t, st, out.Field(j).Name, j)
		if got.Column(j).Data() != rec.Column(src).Data() {
			t.Errorf("column %d (%s) is not input column %d's array", j, out.Field(j).Name, src)
		}
	}
}

// srcIndex maps an output column back to the input column it must be.
func srcIndex(t *testing.T, st engine.Stage, name string, pos int) int {
	switch s := st.(type) {
	case *Select:
		return input.FieldIndices(name)[0]
	case *Rename:
		return pos
	default:
		t.Fatalf("unexpected stage %T", s)
	}
	return 0
}

func TestProcessRejectsOtherSchema(t *testing.T) {
	mem := conformance.Checked(t)
	st := NewSelect("id")
	if _, err := st.Bind(context.Background(), input); err != nil {
		t.Fatal(err)
	}
	other := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}}, nil)
	rec := conformance.Sample(mem, other, 0, 2)
	defer rec.Release()
	if _, _, err := st.Process(context.Background(), rec); !errors.Is(err, engine.ErrSchema) {
		t.Fatalf("Process with a different schema = %v, want ErrSchema", err)
	}
}

func TestDuplicateInputColumn(t *testing.T) {
	in := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int8}, {Name: "a", Type: arrow.PrimitiveTypes.Int8}}, nil)
	for _, st := range []engine.Stage{NewSelect("a"), NewDrop("a"), NewRename(Pair{"a", "b"})} {
		if _, err := st.Bind(context.Background(), in); !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), `2 columns called "a"`) {
			t.Errorf("%T.Bind with a duplicated column = %v, want ErrSchema naming it", st, err)
		}
	}
}

// TestConcurrentProcess runs many workers on one bound stage; with -race it
// proves Process shares no mutable state.
func TestConcurrentProcess(t *testing.T) {
	mem := conformance.Checked(t)
	rec := conformance.Sample(mem, input, 0, 100)
	defer rec.Release()
	for _, st := range []engine.Stage{NewSelect("ts", "id"), NewRename(Pair{"id", "key"})} {
		if _, err := st.Bind(context.Background(), input); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 200 {
					out, _, err := st.Process(context.Background(), rec)
					if err != nil {
						t.Error(err)
						return
					}
					out.Release()
				}
			}()
		}
		wg.Wait()
	}
}
