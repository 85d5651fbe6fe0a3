package inmemory

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

func node(t *testing.T, text string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// TestDecodeRows: rows that fit come back in one record; the others as
// rejects with their line in the file and their index in the list.
func TestDecodeRows(t *testing.T) {
	mem := conformance.Checked(t)
	schema, err := ParseSchema(node(t, "{id: int64 not null, name: utf8}"), "t.yaml", "x")
	if err != nil {
		t.Fatal(err)
	}
	rec, rejects, err := DecodeRows(mem, schema, node(t, "- {id: 1, name: ada}\n- {id: two}\n- {id: 3}\n- {name: x}\n"), "t.yaml", "x")
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if rec.NumRows() != 2 || rec.Column(0).ValueStr(1) != "3" || !rec.Column(1).IsNull(1) {
		t.Errorf("record = %v", rec)
	}
	if len(rejects) != 2 || rejects[0].Line != 2 || rejects[0].Row != 1 || rejects[0].Column != "id" ||
		rejects[1].Line != 4 || rejects[1].Row != 3 || !strings.Contains(rejects[1].Err.Error(), "no value for non-nullable column") {
		t.Errorf("rejects = %+v", rejects)
	}
	empty, rejects, err := DecodeRows(mem, schema, node(t, "[]"), "t.yaml", "x")
	if err != nil || len(rejects) != 0 || empty.NumRows() != 0 || !empty.Schema().Equal(schema) {
		t.Errorf("no rows: %v, %v, %v", empty, rejects, err)
	}
	empty.Release()
}

func TestDecodeErrors(t *testing.T) {
	schema, err := ParseSchema(node(t, "{id: int64}"), "t.yaml", "x")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, err string }{
		{"schema", parseErr(t, "\n  {id: int65}")},
		{"rows", rowsErr(t, schema, "\n  {id: 1}")},
		{"row", rowsErr(t, schema, "\n  - 5")},
	}
	want := map[string]string{
		"schema": `t.yaml:2:3: x.schema: line 2: column "id": invalid type "int65": unknown type "int65" (did you mean "int64"?)`,
		"rows":   "t.yaml:2:3: x.rows: expected a list of mappings",
		"row":    "t.yaml:2:3: x.rows: row 1 is not a mapping of column to value",
	}
	for _, tt := range tests {
		if !strings.HasSuffix(tt.err, want[tt.name]) {
			t.Errorf("%s: error %q, want it to end in %q", tt.name, tt.err, want[tt.name])
		}
	}
}

func parseErr(t *testing.T, text string) string {
	t.Helper()
	_, err := ParseSchema(node(t, text), "t.yaml", "x")
	if !errors.Is(err, engine.ErrInvalidConfig) {
		t.Errorf("%v does not wrap ErrInvalidConfig", err)
	}
	return err.Error()
}

func rowsErr(t *testing.T, schema *arrow.Schema, text string) string {
	t.Helper()
	_, _, err := DecodeRows(nil, schema, node(t, text), "t.yaml", "x")
	if !errors.Is(err, engine.ErrInvalidConfig) {
		t.Errorf("%v does not wrap ErrInvalidConfig", err)
	}
	return err.Error()
}
