package config_test

import (
	"errors"
	"fmt"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// exampleEnv is an environment with one source and one sink, enough for
// the examples.
func exampleEnv() *engine.Environment {
	env := engine.NewEnvironment()
	_ = env.RegisterSource(spec.New("generate").Field(spec.Int("rows").Default(10)),
		func(*spec.Parsed, engine.Build) (engine.Source, error) { return &nopSource{}, nil })
	_ = env.RegisterSink(spec.New("discard"),
		func(*spec.Parsed, engine.Build) (engine.Sink, error) { return &nopSink{}, nil })
	return env
}

func ExampleParse() {
	file := []byte(`
source:
  generate: {rows: "${ROWS:-100}"}
sinks: [discard]
`)
	f, err := config.Parse(file, "pipeline.yaml", config.Options{
		Env:    exampleEnv(),
		Lookup: func(string) (string, bool) { return "", false },
		Set:    []string{"batch.rows=50"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Source.Name, f.Source.Config.Int("rows"), f.Sinks[0].Name, f.Batch.Rows)
	// Output: source.generate 100 sinks[0].discard 50
}

// Every problem in the file comes back at once, each with its place.
func ExampleParse_errors() {
	file := []byte(`
source:
  generate: {rows: lots}
sinks:
  - discard:
    workers: 2
on_eror: skip
`)
	_, err := config.Parse(file, "pipeline.yaml", config.Options{Env: exampleEnv()})
	fmt.Println(err)
	fmt.Println(errors.Is(err, engine.ErrInvalidConfig))
	// Output:
	// pipeline.yaml:3:20: source.generate.rows: expected an integer, got "lots"
	// pipeline.yaml:6:5: sinks[0].workers: workers applies only to stage steps
	// pipeline.yaml:7:1: on_eror: unknown key "on_eror" (did you mean "on_error"?)
	// true
}
