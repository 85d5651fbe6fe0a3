package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"

	_ "github.com/dataweaver/dataweaver/connectors/columns"
	"github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
)

// splitRunner is a Runner outside the engine: it runs a pipeline as n
// copies side by side, each on its share of the input and writing its own
// part of the output, which is what the scale-out coordinator does with
// worker processes and the Beam adapter with bundles. Like them it cannot
// run the objects the pipeline was built with: it makes every step again
// from its recipe (Pipeline.Remake), after editing the settings that say
// which share a copy gets. It knows one splittable source, the memory
// source's inline rows (a real runner would split files, row groups or
// partitions), and one sink it can give parts, the memory sink's name.
type splitRunner struct{ n int }

func (r splitRunner) Run(ctx context.Context, p *engine.Pipeline) (*engine.Metrics, error) {
	// The runner owns p: its own steps never run, only the copies do.
	defer p.Close()
	if p.Positions != nil {
		defer p.Positions.Close()
	}
	m := p.Metrics
	if m == nil {
		m = p.NewMetrics()
	}
	copies := make([]*engine.Pipeline, 0, r.n)
	for i := 0; i < r.n; i++ {
		q := *p
		var err error
		if q.Source.Recipe, err = edit(p.Source.Recipe, "rows", func(rows *yaml.Node) { share(rows, i, r.n) }); err != nil {
			return m, err
		}
		q.Sinks = append([]engine.SinkStep(nil), p.Sinks...)
		for j := range q.Sinks {
			if q.Sinks[j].Recipe, err = edit(p.Sinks[j].Recipe, "name", func(name *yaml.Node) { name.Value += fmt.Sprint("-", i) }); err != nil {
				return m, err
			}
		}
		c, err := q.Remake(engine.Build{Mem: p.Mem, Logger: p.Logger})
		if err != nil {
			return m, err
		}
		copies = append(copies, c)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(copies))
	runs := make([]*engine.Metrics, len(copies))
	for i, c := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = engine.Local{}.Run(ctx, c)
		}()
	}
	wg.Wait()
	// The caller gets one account in p's shape: the copies' counters added.
	for _, run := range runs {
		for k, s := range run.Steps {
			m.Steps[k].RowsIn.Add(s.RowsIn.Load())
			m.Steps[k].RowsOut.Add(s.RowsOut.Load())
			m.Steps[k].Batches.Add(s.Batches.Load())
		}
	}
	return m, errors.Join(errs...)
}

// edit returns a copy of recipe r whose setting key was changed by f.
func edit(r *engine.Recipe, key string, f func(*yaml.Node)) (*engine.Recipe, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: splitRunner makes every step again", engine.ErrNoRecipe)
	}
	settings, err := r.Settings()
	if err != nil {
		return nil, err
	}
	n := *settings
	n.Content = append([]*yaml.Node(nil), settings.Content...)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := *n.Content[i+1]
			f(&v)
			n.Content[i+1] = &v
		}
	}
	c := *r
	c.Config = &n
	return &c, nil
}

// share keeps every n-th item of a list, starting at i.
func share(list *yaml.Node, i, n int) {
	var mine []*yaml.Node
	for k := i; k < len(list.Content); k += n {
		mine = append(mine, list.Content[k])
	}
	list.Content = mine
}

// A pipeline file's pipeline, run by a Runner from outside the engine: two
// copies, each on half of the rows, each writing its own part.
func ExampleRunner() {
	p, err := config.Build(mustParse(`
name: cities
source:
  memory:
    schema: {city: utf8, people: int64}
    rows: [{city: Lyon, people: 522}, {city: Oslo, people: 709}, {city: Kyiv, people: 2952}]
stages:
  - select: {columns: [city]}
sinks:
  - memory: {name: cities}
`), config.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var runner engine.Runner = splitRunner{n: 2}
	m, err := runner.Run(context.Background(), p)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, part := range []string{"cities-0", "cities-1"} {
		tbl := inmemory.Lookup(part).Table()
		fmt.Println(part, tbl.Column(0).Data().Chunk(0))
		tbl.Release()
	}
	fmt.Println(m.Step("sinks[0].memory").RowsIn.Load(), "rows written")
	// Output:
	// cities-0 ["Lyon" "Kyiv"]
	// cities-1 ["Oslo"]
	// 3 rows written
}

func mustParse(file string) *config.File {
	f, err := config.Parse([]byte(file), "pipeline.yaml", config.Options{})
	if err != nil {
		panic(err)
	}
	return f
}
