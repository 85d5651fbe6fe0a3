package jsonl_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/jsonl"
)

func ExampleNewReader() {
	in := `{"id":1,"user":{"name":"Ada","tags":["admin"]},"amount":12.5}
{"id":2,"user":{"name":"Bob","tags":[]},"amount":-3,"note":"only here"}
{"id":"three"}
not json
`
	r, err := jsonl.NewReader(format.Input{R: strings.NewReader(in), Name: "events.jsonl"}, format.ReadOptions{})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for _, f := range r.Schema().Fields() {
		fmt.Printf("%s: %s\n", f.Name, f.Type)
	}
	rec, rejects, err := r.Next()
	if err != nil {
		panic(err)
	}
	defer rec.Release()
	for _, e := range rejects {
		fmt.Println("rejected:", e.Error())
	}
	w, err := jsonl.NewWriter(os.Stdout, rec.Schema(), format.WriteOptions{})
	if err != nil {
		panic(err)
	}
	if err := w.Write(rec); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	// Output:
	// id: utf8
	// user: struct<name: utf8 nullable, tags: list<item: utf8, nullable> nullable>
	// amount: float64
	// note: utf8
	// rejected: events.jsonl:4: malformed input: line is not a JSON object
	// {"id":"1","user":{"name":"Ada","tags":["admin"]},"amount":12.5,"note":null}
	// {"id":"2","user":{"name":"Bob","tags":[]},"amount":-3.0,"note":"only here"}
	// {"id":"three","user":null,"amount":null,"note":null}
}
