package arrowtype_test

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/connectors/arrowtype"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// A connector of your own takes a `schema:` field spelled as the built-in
// ones take it: declare it with Field, and build the Arrow schema from the
// parsed mapping with Schema. A wrong type is reported at validate time,
// at its line.
func ExampleField() {
	s := spec.New("my_source").Field(arrowtype.Field("schema"))
	var doc yaml.Node
	_ = yaml.Unmarshal([]byte(`schema: {id: int64 not null, name: utf8, ts: "timestamp[us, UTC]"}`), &doc)
	conf, errs := s.Parse(doc.Content[0], "p.yaml", "source.my_source")
	if len(errs) > 0 {
		fmt.Println(errs)
		return
	}
	schema, err := arrowtype.Schema(conf.Map("schema"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(schema)

	_ = yaml.Unmarshal([]byte("schema: {id: int46}"), &doc)
	_, errs = s.Parse(doc.Content[0], "p.yaml", "source.my_source")
	fmt.Println(errs)
	// Output:
	// schema:
	//   fields: 3
	//     - id: type=int64
	//     - name: type=utf8, nullable
	//     - ts: type=timestamp[us, tz=UTC], nullable
	// p.yaml:1:9: source.my_source.schema: line 1: column "id": invalid type "int46": unknown type "int46" (did you mean "int16"?)
}
