package spec_test

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// A connector declares its settings once; Parse checks a step's YAML
// against them, fills in defaults and reports every problem with its
// place. weave validate, the connector docs and the generated Go config
// types all come from the same declaration.
func ExampleSpec_Parse() {
	s := spec.New("greeter").
		Summary("Says hello.").
		Field(
			spec.String("name").Desc("Who to greet."),
			spec.Int("times").Default(1).Desc("How often."),
			spec.Duration("pause").Optional().Desc("Wait between greetings."),
		)

	var good yaml.Node
	_ = yaml.Unmarshal([]byte("{name: Ada, pause: 2s}"), &good)
	conf, errs := s.Parse(good.Content[0], "pipeline.yaml", "source.greeter")
	fmt.Println(conf.String("name"), conf.Int("times"), conf.Duration("pause"), len(errs))

	var bad yaml.Node
	_ = yaml.Unmarshal([]byte("{times: often, colour: red}"), &bad)
	_, errs = s.Parse(bad.Content[0], "pipeline.yaml", "source.greeter")
	for _, e := range errs { // each a *spec.Error with File, Line, Column, Path
		fmt.Println(e)
	}
	// Output:
	// Ada 1 2s 0
	// pipeline.yaml:1:9: source.greeter.times: expected an integer, got "often"
	// pipeline.yaml:1:16: source.greeter.colour: unknown field (known: name, pause, times)
	// pipeline.yaml:1:1: source.greeter.name: missing required field (string)
}
