package inmemory

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/connectors/arrowtype"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// The two functions below expose the source's `schema:` and `rows:`
// decoding to other files written in the same YAML (weave test files), so
// rows in a test decode, and fail, exactly as they would in a pipeline.

// ParseSchema reads an ordered mapping of column name to Arrow type, as the
// source's `schema:` field takes it. node is the mapping; file and path
// (where the mapping's parent sits) place errors, as in
// "orders.test.yaml:12:9: tests[0].expect[1].schema: ...".
// The error wraps engine.ErrInvalidConfig.
func ParseSchema(node *yaml.Node, file, path string) (*arrow.Schema, error) {
	conf, errs := parseOne(arrowtype.Field("schema"), node, file, path)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, errs)
	}
	schema, err := arrowtype.Schema(conf.Map("schema"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, conf.Errorf("schema", "%w", err))
	}
	return schema, nil
}

// DecodeRows decodes a YAML list of mappings, as the source's `rows:` field
// takes it, into one record of schema allocated from mem (nil: the Go
// allocator); path is where the list's parent sits, for errors. A row
// that does not fit the schema is left out of the record
// and reported as a RowError whose Line is its line in file and whose Row
// is its index in the list. The caller releases the record. The error,
// wrapping engine.ErrInvalidConfig, is for a node that is not a list of
// mappings.
func DecodeRows(mem memory.Allocator, schema *arrow.Schema, node *yaml.Node, file, path string) (arrow.RecordBatch, []engine.RowError, error) {
	conf, errs := parseOne(spec.Any("rows"), node, file, path)
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, errs)
	}
	rows, err := newInlineRows(conf, schema, engine.Build{Mem: mem})
	if err != nil {
		return nil, nil, err
	}
	defer rows.releaseScratch()
	b, err := rows.read(max(len(rows.rows), 1))
	if errors.Is(err, engine.ErrEndOfInput) {
		rb := array.NewRecordBuilder(rows.mem, schema)
		defer rb.Release()
		return rb.NewRecordBatch(), nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return b.Record, b.Rejects, nil
}

// parseOne parses node as the value of the one field f, through the same
// spec parser as a pipeline file, so errors carry the file, line and path
// (path is where node's parent sits; f's name is appended).
func parseOne(f *spec.Field, node *yaml.Node, file, path string) (*spec.Parsed, spec.Errors) {
	if node == nil {
		node = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	wrap := &yaml.Node{Kind: yaml.MappingNode, Line: node.Line, Column: node.Column, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: f.Name(), Line: node.Line, Column: node.Column}, node,
	}}
	return spec.New(f.Name()).Field(f).Parse(wrap, file, path)
}
