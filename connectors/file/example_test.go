package file_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/dataweaver/dataweaver/connectors/columns"
	"github.com/dataweaver/dataweaver/connectors/file"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// A headerless, semicolon-separated file read with a given schema (an
// ordered list of column → type, as in a pipeline file), two of its
// columns kept, written as CSV without a header. Header is a *bool: its
// default is true, and nil leaves it at that.
func ExampleSourceConfig() {
	dir, err := os.MkdirTemp("", "weave-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "orders.txt"), filepath.Join(dir, "amounts.csv")
	if err := os.WriteFile(in, []byte("1;SE;195.64\n2;US;31.43\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	src, err := file.SourceConfig{
		Path:   in,
		Format: "csv",
		Schema: []spec.KV{{Key: "id", Value: "int64"}, {Key: "country", Value: "utf8"}, {Key: "amount", Value: "float64"}},
		CSV:    &file.SourceCSVConfig{Delimiter: ";", Header: new(false)},
	}.Build(engine.Build{})
	if err != nil {
		log.Fatal(err)
	}
	keep, err := columns.SelectConfig{Columns: []string{"id", "amount"}}.Build(engine.Build{})
	if err != nil {
		log.Fatal(err)
	}
	sink, err := file.SinkConfig{Path: out, CSV: &file.SinkCSVConfig{Header: new(false)}}.Build(engine.Build{})
	if err != nil {
		log.Fatal(err)
	}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "orders", Source: src},
		Stages: []engine.StageStep{{Name: "keep", Stage: keep}},
		Sinks:  []engine.SinkStep{{Name: "amounts", Sink: sink}},
	}
	if _, err := p.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(written))

	// A wrong value fails as it would in a pipeline file.
	_, err = file.SourceConfig{Path: in, Compression: "xz"}.Build(engine.Build{Name: "orders"})
	fmt.Println(err)
	// Output:
	// 1,195.64
	// 2,31.43
	// orders.compression: "xz" is not one of: auto, none, gzip, zstd
}
